// The native scenario runner: native/scenario-runner.c executes a scenario
// script with real system calls on the running kernel (the oracle the engine is
// checked against). This module builds it on demand with the system C compiler
// and runs it.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sysctlsWritten, withHostSysctls } from "./sysctl.js";

const SOURCE = path.join("native", "scenario-runner.c");
const BINARY = path.join("build", "native", "scenario-runner");

/** Status the runner exits with when it failed itself (see native/scenario-runner.c). */
export const RUNNER_FAILED_STATUS = 125;

/** The repository root: the nearest folder above this module holding native/scenario-runner.c. */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, SOURCE))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find ${SOURCE} above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The C compiler command ($CC, which may carry arguments, or `cc`) split into argv. */
function compilerCommand(): string[] {
  const cc = (process.env.CC ?? "").trim();
  return cc === "" ? ["cc"] : cc.split(/\s+/);
}

function compilerAvailable(cmd: string[]): boolean {
  const r = spawnSync(cmd[0]!, [...cmd.slice(1), "--version"], { stdio: "ignore" });
  return r.error === undefined && r.status === 0;
}

/**
 * Path of the runner binary, building build/native/scenario-runner from
 * native/scenario-runner.c when it is missing or older than its source.
 * Throws `no C compiler found: install gcc or set CC` without a compiler, and
 * the compiler's messages when the build fails.
 */
export function nativeRunnerPath(): string {
  const root = repoRoot();
  const src = path.join(root, SOURCE);
  return buildNativeRunner(src, runnerBinaryPath(root, src));
}

/**
 * Where the runner binary of the checkout or package at `root` goes:
 * build/native/ inside it, or, when that cannot be written (a package
 * installed globally for another user, a read-only file system), the user's
 * cache folder, under a name holding a hash of the source so that versions
 * do not share a binary. `writable` is injectable for tests.
 */
export function runnerBinaryPath(root: string, src: string, writable: (dir: string) => boolean = canWrite): string {
  const inTree = path.join(root, BINARY);
  let dir = path.dirname(inTree);
  while (!existsSync(dir)) dir = path.dirname(dir);
  if (writable(dir)) return inTree;
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  const hash = createHash("sha256").update(readFileSync(src)).digest("hex").slice(0, 16);
  return path.join(cache, "vmasim", `scenario-runner-${hash}`);
}

function canWrite(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Compile the C file `src` into the executable `bin` with $CC (or `cc`) unless
 * `bin` exists and is not older than `src`; returns `bin`. Used by
 * nativeRunnerPath(); exported for tests.
 */
export function buildNativeRunner(src: string, bin: string): string {
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) return bin;
  const cmd = compilerCommand();
  if (!compilerAvailable(cmd)) throw new Error("no C compiler found: install gcc or set CC");
  mkdirSync(path.dirname(bin), { recursive: true });
  // Build under a private name and rename: concurrent builds never expose a partial binary.
  const tmp = `${bin}.${process.pid}.tmp`;
  const args = [...cmd.slice(1), "-std=c11", "-O2", "-Wall", "-Wextra", "-Wl,-z,now", "-o", tmp, src];
  const r = spawnSync(cmd[0]!, args, { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    rmSync(tmp, { force: true });
    const why = r.error !== undefined ? r.error.message : `${r.stderr}${r.stdout}`.trim();
    throw new Error(`building ${src} with ${cmd.join(" ")} failed:\n${why}`);
  }
  renameSync(tmp, bin);
  return bin;
}

export interface NativeRun {
  /** Everything the runner printed on stdout. */
  output: string;
  /** Exit status: 0, 2 after EPARSE, CODE of `exit CODE`, 128+N if killed by signal N. */
  status: number;
}

export interface NativeRunOptions {
  /**
   * Read the hidden anon state (vm_pgoff, anon_vma) with the runner's BPF
   * iterator where the machine allows it (root, kernel BTF, kernel >= 6.1), so
   * that anon lines read `anon X av=A/R` and file/shmem lines end in ` av=A/R`
   * or ` av=-`. Default true; false prints `anon ?` everywhere and no ` av=`
   * (as on a machine without BPF).
   */
  hiddenState?: boolean;
}

/**
 * Run a scenario script on the running kernel and return its output and exit
 * status. Throws when the runner fails itself (arena setup, unreadable script)
 * or cannot be started. The host's vm sysctls the script writes (`sysctl`)
 * are restored afterwards, whatever happens (sysctl.ts).
 */
export function runOnKernel(script: string, options: NativeRunOptions = {}): NativeRun {
  return withHostSysctls(sysctlsWritten(script), () => runNative(script, options));
}

function runNative(script: string, options: NativeRunOptions): NativeRun {
  const bin = nativeRunnerPath();
  const args = options.hiddenState === false ? ["--no-bpf", "-"] : ["-"];
  const r = spawnSync(bin, args, {
    input: script,
    encoding: "utf8",
    maxBuffer: 1 << 30,
    timeout: 600_000,
  });
  if (r.error !== undefined) throw new Error(`running ${bin}: ${r.error.message}`);
  let status: number;
  if (r.status !== null) {
    status = r.status;
  } else {
    const sig = r.signal ?? "SIGKILL";
    status = 128 + (os.constants.signals[sig] ?? 0);
  }
  if (r.stderr.includes("scenario-runner: fatal:")) {
    throw new Error(`native runner failed (status ${status}): ${r.stderr.trim()}`);
  }
  return { output: r.stdout, status };
}

let hiddenStateCache: boolean | undefined;

/** Whether the runner reads the hidden anon state here (see NativeRunOptions.hiddenState). */
export function hiddenStateAvailable(): boolean {
  hiddenStateCache ??= / av=-$/m.test(runOnKernel("mmap 0 1 rw\ndump\n").output);
  return hiddenStateCache;
}

/** Release of the running kernel (`uname -r`), e.g. "6.18.44-...". */
export function kernelRelease(): string {
  return os.release();
}

/** Whether the native runner can run here: Linux on x86_64 and a built or buildable runner. */
export function canRunNative(): { ok: boolean; reason?: string } {
  if (process.platform !== "linux") return { ok: false, reason: `not Linux (platform ${process.platform})` };
  if (process.arch !== "x64") return { ok: false, reason: `not x86_64 (arch ${process.arch})` };
  try {
    nativeRunnerPath();
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
  return { ok: true };
}

// A dump line: two spaces, start, end, perms, kind, pgoff, then optional fields.
const ANON_LINE = /^( {2}-?\d+ -?\d+ \S{4} anon) \S+(?: av=\S+)?/;
// Any other dump line (fileN, shmem, other) with its pgoff, then an optional av=.
const FILE_LINE_AV = /^( {2}-?\d+ -?\d+ \S{4} (?!anon )\S+ -?\d+) av=\S+/;
const COUNT_LINE = /^count(?: total)? => /;

/**
 * Rewrite scenario output so that it no longer depends on the process image:
 * on `count` lines the `process_vmas=` and `other_vmas=` numbers become `*`.
 */
export function imageIndependent(output: string): string {
  return output
    .split("\n")
    .map((line) =>
      COUNT_LINE.test(line)
        ? line.replace(/\bprocess_vmas=\d+/, "process_vmas=*").replace(/\bother_vmas=\d+/, "other_vmas=*")
        : line,
    )
    .join("\n");
}

/**
 * Rewrite scenario output for a layout-only comparison: imageIndependent(),
 * on `anon` dump lines the pgoff and any ` av=...` become `?`
 * (`anon 100 av=1/1` -> `anon ?`), and on file/shmem lines any ` av=...` is
 * dropped (`file0 3 av=2/2` -> `file0 3`), as a runner without the BPF
 * reader prints them.
 */
export function layoutOnly(output: string): string {
  return imageIndependent(output)
    .split("\n")
    .map((line) => line.replace(ANON_LINE, "$1 ?").replace(FILE_LINE_AV, "$1"))
    .join("\n");
}
