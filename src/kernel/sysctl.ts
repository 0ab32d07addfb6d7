// The host's vm sysctls around a native run whose script writes some
// (`sysctl KEY VALUE`): every value the script may change is saved before the
// run and written back after it, whatever happens, so that a failing or
// crashing run never leaves the machine changed. Runs that write sysctls are
// serialised across processes by a lock file, so that one run never saves
// another's temporary value as the host's.

import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseScript, type SysctlKey } from "../scenario/parse.js";

const VM = "/proc/sys/vm/";
const LOCK = path.join(os.tmpdir(), "vmasim-host-sysctl.lock");
const LOCK_WAIT_MS = 600_000;

/** The vm sysctls a script writes, with those a write changes as a side effect. */
export function sysctlsWritten(script: string): SysctlKey[] {
  const keys = new Set<SysctlKey>();
  for (const e of parseScript(script)) {
    if (e.op !== "sysctl") continue;
    keys.add(e.key);
    // writing one of these clears the other (overcommit_*_handler, mm/util.c)
    if (e.key === "overcommit_ratio") keys.add("overcommit_kbytes");
    if (e.key === "overcommit_kbytes") keys.add("overcommit_ratio");
  }
  return [...keys];
}

function readSysctl(key: string): string {
  return readFileSync(VM + key, "utf8").trim();
}

function writeSysctl(key: string, value: string): void {
  writeFileSync(VM + key, `${value}\n`);
}

/**
 * The order that puts saved values back: overcommit_memory first (leaving a
 * strict mode at once), and of overcommit_ratio / overcommit_kbytes the
 * non-zero one last, since each write zeroes the other.
 */
function restoreOrder(saved: Map<string, string>): string[] {
  const rank = (k: string): number => {
    if (k === "overcommit_memory") return 0;
    if (k === "overcommit_ratio" || k === "overcommit_kbytes") return saved.get(k) === "0" ? 1 : 2;
    return 1;
  };
  return [...saved.keys()].sort((a, b) => rank(a) - rank(b));
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** How many withHostSysctls() calls of this process hold the lock (they nest). */
let held = 0;

/** Take the cross-process lock (a file holding the owner's pid; a dead owner's lock is taken over). */
function lock(): void {
  if (held++ > 0) return;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(LOCK, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        held--;
        throw e;
      }
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(LOCK, "utf8"));
    } catch {
      continue; // released meanwhile
    }
    if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) {
      rmSync(LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      held--;
      throw new Error(`waited ${LOCK_WAIT_MS} ms for ${LOCK} (held by pid ${owner})`);
    }
    sleepMs(50);
  }
}

function unlock(): void {
  if (--held === 0) rmSync(LOCK, { force: true });
}

/**
 * Run fn with the listed host sysctls saved before and restored after (in a
 * finally). Restoring writes every saved value even when one write fails; the
 * first failure is thrown after all were tried.
 */
export function withHostSysctls<T>(keys: readonly string[], fn: () => T): T {
  if (keys.length === 0) return fn();
  lock();
  try {
    const saved = new Map<string, string>();
    for (const k of keys) saved.set(k, readSysctl(k));
    try {
      return fn();
    } finally {
      let failure: unknown = null;
      for (const k of restoreOrder(saved)) {
        try {
          writeSysctl(k, saved.get(k)!);
        } catch (e) {
          failure ??= e;
        }
      }
      if (failure) throw new Error(`restoring the host's vm sysctls failed: ${(failure as Error).message}`);
    }
  } finally {
    unlock();
  }
}
