// Symbolic flag words of perf trace and strace ("READ|WRITE", "PROT_READ|PROT_WRITE",
// "VM|VFORK|0x11") to numbers. Values: include/uapi/asm-generic/mman*.h,
// include/uapi/linux/sched.h, include/uapi/linux/mman.h (x86_64).

import {
  MADV, MAP_32BIT, MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN,
  MAP_HUGETLB, MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE,
  MAP_STACK, MAP_SYNC, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT, MREMAP_DONTUNMAP, MREMAP_FIXED,
  MREMAP_MAYMOVE, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_NONE, PROT_READ, PROT_SEM, PROT_WRITE,
} from "../abi/constants.js";

export type FlagTable = Readonly<Record<string, number>>;

export const PROT_NAMES: FlagTable = {
  NONE: PROT_NONE, READ: PROT_READ, WRITE: PROT_WRITE, EXEC: PROT_EXEC, SEM: PROT_SEM,
  GROWSDOWN: PROT_GROWSDOWN, GROWSUP: PROT_GROWSUP,
};

export const MAP_NAMES: FlagTable = {
  SHARED: MAP_SHARED, PRIVATE: MAP_PRIVATE, SHARED_VALIDATE: MAP_SHARED_VALIDATE, FIXED: MAP_FIXED,
  ANONYMOUS: MAP_ANONYMOUS, ANON: MAP_ANONYMOUS, "32BIT": MAP_32BIT, GROWSDOWN: MAP_GROWSDOWN,
  DENYWRITE: MAP_DENYWRITE, EXECUTABLE: MAP_EXECUTABLE, LOCKED: MAP_LOCKED, NORESERVE: MAP_NORESERVE,
  POPULATE: MAP_POPULATE, NONBLOCK: MAP_NONBLOCK, STACK: MAP_STACK, HUGETLB: MAP_HUGETLB, SYNC: MAP_SYNC,
  FIXED_NOREPLACE: MAP_FIXED_NOREPLACE, UNINITIALIZED: 0x4000000,
};

export const MREMAP_NAMES: FlagTable = { MAYMOVE: MREMAP_MAYMOVE, FIXED: MREMAP_FIXED, DONTUNMAP: MREMAP_DONTUNMAP };
export const MLOCK_NAMES: FlagTable = { ONFAULT: MLOCK_ONFAULT };
export const MCL_NAMES: FlagTable = { CURRENT: MCL_CURRENT, FUTURE: MCL_FUTURE, ONFAULT: MCL_ONFAULT };
export const MADV_NAMES: FlagTable = Object.fromEntries(Object.entries(MADV).map(([k, v]) => [k.toUpperCase(), v]));

// clone flags (include/uapi/linux/sched.h); the low byte is the exit signal
export const CLONE_VM = 0x100;
export const CLONE_FS = 0x200;
export const CLONE_FILES = 0x400;
export const CLONE_SIGHAND = 0x800;
export const CLONE_PIDFD = 0x1000;
export const CLONE_PTRACE = 0x2000;
export const CLONE_VFORK = 0x4000;
export const CLONE_PARENT = 0x8000;
export const CLONE_THREAD = 0x10000;
export const CLONE_NEWNS = 0x20000;
export const CLONE_SYSVSEM = 0x40000;
export const CLONE_SETTLS = 0x80000;
export const CLONE_PARENT_SETTID = 0x100000;
export const CLONE_CHILD_CLEARTID = 0x200000;
export const CLONE_DETACHED = 0x400000;
export const CLONE_UNTRACED = 0x800000;
export const CLONE_CHILD_SETTID = 0x1000000;
export const CSIGNAL = 0xff;

export const CLONE_NAMES: FlagTable = {
  VM: CLONE_VM, FS: CLONE_FS, FILES: CLONE_FILES, SIGHAND: CLONE_SIGHAND, PIDFD: CLONE_PIDFD, PTRACE: CLONE_PTRACE,
  VFORK: CLONE_VFORK, PARENT: CLONE_PARENT, THREAD: CLONE_THREAD, NEWNS: CLONE_NEWNS, SYSVSEM: CLONE_SYSVSEM,
  SETTLS: CLONE_SETTLS, PARENT_SETTID: CLONE_PARENT_SETTID, CHILD_CLEARTID: CLONE_CHILD_CLEARTID,
  DETACHED: CLONE_DETACHED, UNTRACED: CLONE_UNTRACED, CHILD_SETTID: CLONE_CHILD_SETTID,
  NEWCGROUP: 0x2000000, NEWUTS: 0x4000000, NEWIPC: 0x8000000, NEWUSER: 0x10000000, NEWPID: 0x20000000,
  NEWNET: 0x40000000, IO: 0x80000000,
};

// signal numbers (x86_64), for clone's exit signal and `+++ killed by` lines
export const SIGNALS: FlagTable = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17,
  SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25,
  SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};

/** An integer in C notation: decimal, 0x hex, optionally negative; NaN if not one, or not exact in a double (beyond 2^53). */
export function parseInteger(s: string): number {
  let v = NaN;
  if (/^-?0x[0-9a-fA-F]+$/.test(s)) v = s[0] === "-" ? -parseInt(s.slice(3), 16) : parseInt(s.slice(2), 16);
  else if (/^-?\d+$/.test(s)) v = parseInt(s, 10);
  // beyond 2^53 a double is not the number written: not a number rather than a wrong one
  return Number.isSafeInteger(v) ? v : NaN;
}

/**
 * "A|B|0x11" → number, using `table` (names with or without `prefix`, e.g.
 * "PROT_"); numbers are taken as they are. Throws on an unknown name.
 * Flag words are 32 bits (combined unsigned).
 */
export function parseFlags(s: string, table: FlagTable, prefix = ""): number {
  let v = 0;
  for (const raw of s.split("|")) {
    const tok = raw.trim();
    if (tok === "") continue;
    const n = parseInteger(tok);
    const bit = !Number.isNaN(n) ? n : table[prefix && tok.startsWith(prefix) ? tok.slice(prefix.length) : tok];
    if (bit === undefined) throw new Error(`unknown ${prefix || "flag "}name '${tok}'`);
    v = (v | bit) >>> 0;
  }
  return v;
}
