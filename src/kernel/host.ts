// The host probe: the profile (src/kernel/profile.ts) of the running machine,
// every KernelConfig knob found where the kernel exposes it:
//   zero_page            by experiment: the native runner read-faults one private
//                        anonymous page and `dump full` shows rss=0 (the zero page
//                        is mapped, do_anonymous_page() in mm/memory.c) or rss=1;
//                        /proc/cmdline's pvm_no_zero_page=1 is reported beside it
//   stack_guard_gap      stack_guard_gap= on /proc/cmdline (pages; mm/mmap.c), else 256
//   ignore_rlimit_data   /sys/module/kernel/parameters/ignore_rlimit_data (a core_param
//                        of mm/mmap.c), else the boot option on /proc/cmdline
//   sysctls              /proc/sys/vm/{max_map_count, mmap_min_addr, overcommit_*,
//                        admin_reserve_kbytes, user_reserve_kbytes}
//   RAM and swap         /proc/meminfo MemTotal and SwapTotal (kB / 4: totalram_pages,
//                        total_swap_pages with 4 KiB pages)
//   rlimits              /proc/self/limits, soft values (the runner inherits them)
//   caps                 /proc/self/status CapEff, bits CAP_IPC_LOCK (14), CAP_SYS_ADMIN (21),
//                        CAP_SYS_RESOURCE (24)
// The text parsers are pure functions (tested on captured /proc text); the
// probe reads through a HostReader so that tests can stand in for the machine.

import { readFileSync } from "node:fs";
import os from "node:os";
import { CONFIG_KEYS, KNOBS, type ConfigKey } from "../config/config.js";
import { POLICIES, POLICY_RELEASE, type Policy } from "../types.js";
import { canRunNative, hiddenStateAvailable, runOnKernel } from "./native.js";
import { checkedKnob, type HostProfile, type KnobValue, type ProfileKnobs } from "./profile.js";

const PAGE_KB = 4;

// ---------------------------------------------------------------- parsers

/** The boot options of /proc/cmdline that vmasim models. */
export interface CmdlineOptions {
  /** pvm_no_zero_page=1 (this project's hosts: read faults allocate pages) */
  noZeroPage: boolean;
  /** stack_guard_gap=N, pages; null when absent or not a plain decimal (the kernel ignores it then) */
  stackGuardGapPages: number | null;
  /** ignore_rlimit_data (bare, or =1/y/on) */
  ignoreRlimitData: boolean;
}

/** A kernel boolean parameter value (kstrtobool: 1/y/on true; 0/n/off false; bare = true). */
function paramBool(v: string | undefined): boolean {
  if (v === undefined) return true;
  return /^(1|y|on)/i.test(v);
}

/** Parses /proc/cmdline (options after a bare `--` go to init, not the kernel). */
export function parseCmdline(text: string): CmdlineOptions {
  const out: CmdlineOptions = { noZeroPage: false, stackGuardGapPages: null, ignoreRlimitData: false };
  for (const word of text.trim().split(/\s+/)) {
    if (word === "--") break;
    const eq = word.indexOf("=");
    const key = eq < 0 ? word : word.slice(0, eq);
    const val = eq < 0 ? undefined : word.slice(eq + 1);
    if (key === "pvm_no_zero_page") out.noZeroPage = paramBool(val);
    else if (key === "ignore_rlimit_data") out.ignoreRlimitData = paramBool(val);
    // cmdline_parse_stack_guard_gap() (mm/mmap.c) takes a decimal that must end the value
    else if (key === "stack_guard_gap" && val !== undefined && /^\d+$/.test(val)) out.stackGuardGapPages = Number(val);
  }
  return out;
}

export interface Rlimits {
  rlimit_as: number;
  rlimit_data: number;
  rlimit_stack: number;
  rlimit_memlock: number;
}

const LIMIT_ROWS: Record<string, keyof Rlimits> = {
  "Max address space": "rlimit_as",
  "Max data size": "rlimit_data",
  "Max stack size": "rlimit_stack",
  "Max locked memory": "rlimit_memlock",
};

/** The soft limits of /proc/PID/limits that vmasim models, bytes (Infinity = unlimited). */
export function parseLimits(text: string): Partial<Rlimits> {
  const out: Partial<Rlimits> = {};
  for (const line of text.split("\n")) {
    for (const [row, key] of Object.entries(LIMIT_ROWS)) {
      if (!line.startsWith(row + " ")) continue;
      const soft = line.slice(row.length).trim().split(/\s+/)[0];
      if (soft === "unlimited") out[key] = Infinity;
      else if (soft !== undefined && /^\d+$/.test(soft)) out[key] = Number(soft);
    }
  }
  return out;
}

export interface Caps {
  cap_ipc_lock: boolean;
  cap_sys_admin: boolean;
  cap_sys_resource: boolean;
}

/** The capability bits of include/uapi/linux/capability.h that vmasim models. */
export const CAP_BITS: Readonly<Record<keyof Caps, bigint>> = { cap_ipc_lock: 14n, cap_sys_admin: 21n, cap_sys_resource: 24n };

/** CAP_IPC_LOCK, CAP_SYS_ADMIN and CAP_SYS_RESOURCE in CapEff of /proc/PID/status. */
export function parseCapEff(text: string): Caps | null {
  const m = /^CapEff:\s*([0-9a-f]+)\s*$/im.exec(text);
  if (!m) return null;
  const eff = BigInt(`0x${m[1]}`);
  const has = (bit: bigint) => ((eff >> bit) & 1n) === 1n;
  return { cap_ipc_lock: has(CAP_BITS.cap_ipc_lock), cap_sys_admin: has(CAP_BITS.cap_sys_admin), cap_sys_resource: has(CAP_BITS.cap_sys_resource) };
}

export interface Meminfo {
  /** MemTotal, SwapTotal, Committed_AS, CommitLimit in pages (kB / 4) */
  totalram_pages?: number;
  total_swap_pages?: number;
  committed_as_pages?: number;
  commit_limit_pages?: number;
}

/** The /proc/meminfo lines vmasim uses, in 4 KiB pages. */
export function parseMeminfo(text: string): Meminfo {
  const rows: Record<string, keyof Meminfo> = {
    MemTotal: "totalram_pages", SwapTotal: "total_swap_pages", Committed_AS: "committed_as_pages", CommitLimit: "commit_limit_pages",
  };
  const out: Meminfo = {};
  for (const line of text.split("\n")) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line.trim());
    if (m && rows[m[1]!]) out[rows[m[1]!]!] = Math.floor(Number(m[2]) / PAGE_KB);
  }
  return out;
}

/** The bracketed choice of a sysfs choice file (`always [madvise] never` -> madvise). */
export function parseChoice(text: string): string | null {
  return /\[([^\]]+)\]/.exec(text)?.[1] ?? null;
}

/**
 * The zero page as `dump full` shows it after `mmap 0 1 rw` and `touch 0 read`:
 * rss=0, the read fault mapped the zero page; rss=1, it allocated a page; null
 * when the output has no such line.
 */
export function zeroPageFromDump(output: string): boolean | null {
  const m = /^ {2}0 1 rw-p anon \S+(?: av=\S+)? rss=(\d+) /m.exec(output);
  if (!m) return null;
  return m[1] === "0" ? true : m[1] === "1" ? false : null;
}

/** The script of the zero-page experiment. */
export const ZERO_PAGE_SCRIPT = "mmap 0 1 rw\ntouch 0 read\ndump full\n";

/**
 * The policy nearest to a release, counting releases between them (5.19 is
 * followed by 6.0), among the mainline kernel policies (a tie goes to the older).
 */
export function nearestPolicy(release: string): Policy | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return null;
  // index of MAJOR.MINOR in the sequence of releases since 3.0 (3.19, 4.20 and 5.19 were the last of their majors)
  const LAST: Record<number, number> = { 3: 19, 4: 20, 5: 19 };
  const index = (major: number, minor: number): number => {
    let i = 0;
    for (let k = 3; k < major; k++) i += (LAST[k] ?? 0) + 1;
    return i + minor;
  };
  const r = index(Number(m[1]), Number(m[2]));
  const candidates: [Policy, number][] = POLICIES
    .filter((p) => p.startsWith("linux-"))
    .map((p): [Policy, number] => [p, index(Math.floor(POLICY_RELEASE[p] / 100), POLICY_RELEASE[p] % 100)]);
  candidates.sort((a, b) => Math.abs(a[1] - r) - Math.abs(b[1] - r));
  return candidates[0]![0];
}

// ---------------------------------------------------------------- the probe

/** What the probe reads the machine through (tests stand in for it). */
export interface HostReader {
  /** A file's text, or null when it cannot be read. */
  readFile(path: string): string | null;
  /** Runs a script on the kernel (the native runner); throws when it cannot. */
  runScript(script: string): string;
  /** Whether the native runner can run, and why not. */
  runnerAvailable(): { ok: boolean; reason?: string };
  /** Whether the runner's BPF reader of the hidden anon state works. */
  bpfAvailable(): boolean;
  release(): string;
  uid(): number | null;
}

/** The running machine. */
export const THIS_HOST: HostReader = {
  readFile(p) {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return null;
    }
  },
  runScript: (s) => runOnKernel(s, { hiddenState: false }).output,
  runnerAvailable: () => canRunNative(),
  bpfAvailable: () => hiddenStateAvailable(),
  release: () => os.release(),
  uid: () => (typeof process.getuid === "function" ? process.getuid() : null),
};

const SYSCTLS: Partial<Record<ConfigKey, string>> = {
  max_map_count: "max_map_count",
  mmap_min_addr: "mmap_min_addr",
  overcommit_memory: "overcommit_memory",
  overcommit_ratio: "overcommit_ratio",
  overcommit_kbytes: "overcommit_kbytes",
  admin_reserve_kbytes: "admin_reserve_kbytes",
  user_reserve_kbytes: "user_reserve_kbytes",
};

/** The profile of the machine `reader` reads (default: this one). */
export function probeHost(reader: HostReader = THIS_HOST): HostProfile {
  const knobs = Object.fromEntries(CONFIG_KEYS.map((k) => [k, null])) as ProfileKnobs;
  const found = Object.fromEntries(CONFIG_KEYS.map((k) => [k, "unknown"])) as Record<ConfigKey, string>;
  const set = (k: ConfigKey, v: KnobValue, how: string) => {
    knobs[k] = checkedKnob(k, v, how);
    found[k] = how;
  };
  const unknown = (k: ConfigKey, why: string) => {
    knobs[k] = null;
    found[k] = `unknown: ${why}`;
  };

  const cmdlineText = reader.readFile("/proc/cmdline");
  const cmdline = cmdlineText === null ? null : parseCmdline(cmdlineText);
  const paramNoZp = reader.readFile("/sys/module/kernel/parameters/pvm_no_zero_page");

  // zero page: by experiment, the boot option only reported beside it
  const bootSays = cmdline === null ? "/proc/cmdline unreadable"
    : `/proc/cmdline ${cmdline.noZeroPage ? "has" : "has no"} pvm_no_zero_page=1`;
  const param = paramNoZp === null ? "" : `, /sys/module/kernel/parameters/pvm_no_zero_page=${paramNoZp.trim()}`;
  const runner = reader.runnerAvailable();
  if (!runner.ok) {
    unknown("zero_page", `the native runner cannot run (${runner.reason ?? "no reason given"}); ${bootSays}${param}`);
  } else {
    let output: string | null = null;
    let failure = "";
    try {
      output = reader.runScript(ZERO_PAGE_SCRIPT);
    } catch (e) {
      failure = (e as Error).message.split("\n")[0]!;
    }
    const zp = output === null ? null : zeroPageFromDump(output);
    if (zp === null) {
      unknown("zero_page", `the experiment (${ZERO_PAGE_SCRIPT.trim().split("\n").join("; ")}) gave no rss= (${failure || "unexpected output"}); ${bootSays}${param}`);
    } else {
      set("zero_page", zp, `experiment: a read fault of a private anonymous page left rss=${zp ? 0 : 1}; ${bootSays}${param}`);
    }
  }

  if (cmdline === null) {
    unknown("stack_guard_gap_pages", "/proc/cmdline unreadable");
  } else if (cmdline.stackGuardGapPages !== null) {
    set("stack_guard_gap_pages", cmdline.stackGuardGapPages, "/proc/cmdline stack_guard_gap=");
  } else {
    set("stack_guard_gap_pages", KNOBS.stack_guard_gap_pages.default, "the kernel's default (no stack_guard_gap= on /proc/cmdline)");
  }

  const irdParam = reader.readFile("/sys/module/kernel/parameters/ignore_rlimit_data");
  if (irdParam !== null) set("ignore_rlimit_data", paramBool(irdParam.trim()), "/sys/module/kernel/parameters/ignore_rlimit_data");
  else if (cmdline !== null) set("ignore_rlimit_data", cmdline.ignoreRlimitData, "/proc/cmdline ignore_rlimit_data");
  else unknown("ignore_rlimit_data", "neither /sys/module/kernel/parameters/ignore_rlimit_data nor /proc/cmdline readable");

  for (const [k, name] of Object.entries(SYSCTLS) as [ConfigKey, string][]) {
    const p = `/proc/sys/vm/${name}`;
    const t = reader.readFile(p)?.trim();
    if (t !== undefined && /^\d+$/.test(t)) set(k, Number(t), p);
    else unknown(k, `${p} unreadable`);
  }

  const meminfo = parseMeminfo(reader.readFile("/proc/meminfo") ?? "");
  if (meminfo.totalram_pages !== undefined) set("totalram_pages", meminfo.totalram_pages, "/proc/meminfo MemTotal / 4 KiB");
  else unknown("totalram_pages", "no MemTotal in /proc/meminfo");
  if (meminfo.total_swap_pages !== undefined) set("total_swap_pages", meminfo.total_swap_pages, "/proc/meminfo SwapTotal / 4 KiB");
  else unknown("total_swap_pages", "no SwapTotal in /proc/meminfo");

  const limits = parseLimits(reader.readFile("/proc/self/limits") ?? "");
  for (const k of ["rlimit_as", "rlimit_data", "rlimit_stack", "rlimit_memlock"] as const) {
    const v = limits[k];
    if (v !== undefined) set(k, v, "/proc/self/limits, soft limit (the runner inherits it)");
    else unknown(k, "not in /proc/self/limits");
  }

  const caps = parseCapEff(reader.readFile("/proc/self/status") ?? "");
  for (const k of Object.keys(CAP_BITS) as (keyof Caps)[]) {
    if (caps !== null) set(k, caps[k], `/proc/self/status CapEff bit ${CAP_BITS[k]}`);
    else unknown(k, "no CapEff in /proc/self/status");
  }

  const release = reader.release();
  const thp = reader.readFile("/sys/kernel/mm/transparent_hugepage/enabled");
  let bpf: boolean | null = null;
  if (runner.ok) {
    try {
      bpf = reader.bpfAvailable();
    } catch {
      bpf = null;
    }
  }
  return {
    ...knobs,
    host: {
      release,
      policy: nearestPolicy(release),
      thp: thp === null ? null : parseChoice(thp),
      root: reader.uid() === null ? null : reader.uid() === 0,
      bpf,
      committed_as_pages: meminfo.committed_as_pages ?? null,
      commit_limit_pages: meminfo.commit_limit_pages ?? null,
      found,
    },
  };
}

let cached: HostProfile | undefined;

/** probeHost() of this machine, once per process. */
export function hostProfile(): HostProfile {
  cached ??= probeHost();
  return cached;
}
