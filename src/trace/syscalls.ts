// From a decoded system call (name, arguments as printed, result) to an event.
// perf trace names its arguments (and omits those equal to 0); strace prints
// them by position: STRACE_ARGS names strace's positions with perf's names,
// so both importers share this decoder. Values may be in either notation
// ("READ|WRITE" or "PROT_READ|PROT_WRITE", "NULL", "3</path>").

import type { CloneEvent, SyscallBase, SyscallEvent } from "./events.js";
import {
  CLONE_NAMES, CLONE_VFORK, CLONE_VM, CSIGNAL, MADV_NAMES, MAP_NAMES, MCL_NAMES, MLOCK_NAMES, MREMAP_NAMES,
  PROT_NAMES, SIGNALS, parseFlags, parseInteger, type FlagTable,
} from "./flags.js";
import { O_CLOEXEC, type TaskTable } from "./tasks.js";

/** strace's positional arguments, named as perf names them. */
export const STRACE_ARGS: Readonly<Record<string, readonly string[]>> = {
  mmap: ["addr", "len", "prot", "flags", "fd", "off"],
  munmap: ["addr", "len"],
  mprotect: ["start", "len", "prot"],
  mremap: ["addr", "old_len", "new_len", "flags", "new_addr"],
  brk: ["brk"],
  madvise: ["start", "len_in", "behavior"],
  mlock: ["start", "len"],
  mlock2: ["start", "len", "flags"],
  munlock: ["start", "len"],
  mlockall: ["flags"],
  mseal: ["start", "len", "flags"],
  prctl: ["option", "arg2", "arg3", "arg4", "arg5"],
  execve: ["filename", "argv", "envp"],
  exit: ["error_code"],
  exit_group: ["error_code"],
  open: ["filename", "flags", "mode"],
  openat: ["dfd", "filename", "flags", "mode"],
  creat: ["pathname", "mode"],
  memfd_create: ["uname", "flags"],
  dup: ["fildes"],
  dup2: ["oldfd", "newfd"],
  dup3: ["oldfd", "newfd", "flags"],
  close: ["fd"],
  close_range: ["fd", "max_fd", "flags"],
};

const O_NAMES: FlagTable = {
  RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0o100, EXCL: 0o200, NOCTTY: 0o400, TRUNC: 0o1000, APPEND: 0o2000,
  NONBLOCK: 0o4000, DSYNC: 0o10000, ASYNC: 0o20000, DIRECT: 0o40000, LARGEFILE: 0o100000, DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000, NOATIME: 0o1000000, CLOEXEC: O_CLOEXEC, SYNC: 0o4010000, PATH: 0o10000000, TMPFILE: 0o20200000,
};
const MFD_CLOEXEC = 1;
const PR_SET_VMA = 0x53564d41;
const PR_SET_VMA_ANON_NAME = 0;

/** The result of a call: "0x7f..", "5", "-1 ENOMEM (Cannot allocate memory)", "3530 (comm)", "?", "". */
export function parseRet(s: string): { ret: number | null; errno: string | null } {
  const t = s.trim();
  if (t === "?") return { ret: null, errno: null };
  if (t === "") return { ret: 0, errno: null }; // perf prints clone's 0 in the child as nothing
  const m = /^(-?(?:0x[0-9a-fA-F]+|\d+))(?:\s+(E[A-Z0-9]+)\b.*|\s+\(.*\)|\s+<[\d.]+>)?$/.exec(t);
  if (!m) throw new Error(`bad return value '${t}'`);
  return { ret: parseInteger(m[1]), errno: m[2] ?? null };
}

/** A numeric argument: NULL, decimal, hex, or an fd with its -y path ("3</lib/x.so>"). */
export function argInt(v: string | undefined): number {
  if (v === undefined) return 0; // perf omits arguments equal to 0
  const t = v.trim();
  if (t === "NULL") return 0;
  const fd = /^(-?\d+)<.*>$/s.exec(t);
  const n = parseInteger(fd ? fd[1] : t);
  if (Number.isNaN(n)) throw new Error(`bad number '${t}'`);
  return n;
}

function argFlags(v: string | undefined, table: FlagTable, prefix: string): number {
  if (v === undefined) return 0;
  return parseFlags(v.trim(), table, prefix);
}

/** The path of an strace -y fd ("3</usr/lib/x.so>"), or null. */
function fdPath(v: string | undefined): string | null {
  const m = v === undefined ? null : /^-?\d+<(.*)>$/s.exec(v.trim());
  return m ? m[1] : null;
}

/** A C string argument ("..." with escapes), or null when it is a pointer. */
export function argString(v: string | undefined): string | null {
  if (v === undefined) return null;
  const t = v.trim();
  const m = /^"((?:[^"\\]|\\.)*)"(\.\.\.)?$/s.exec(t);
  if (!m) return null;
  return m[1].replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_all, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: "\n", t: "\t", r: "\r", v: "\v", f: "\f" } as Record<string, string>)[e] ?? e;
  });
}

/** Clone flags as printed ("VM|VFORK|0x11", "CLONE_VM|CLONE_VFORK|SIGCHLD"), without the exit signal. */
export function cloneFlags(v: string): number {
  let out = 0;
  for (const raw of v.split("|")) {
    const tok = raw.trim();
    if (tok === "" || SIGNALS[tok] !== undefined) continue;
    out = (out | parseFlags(tok, CLONE_NAMES, "CLONE_")) >>> 0;
  }
  return (out & ~CSIGNAL) >>> 0;
}

const CLONE_CALLS = new Set(["clone", "clone3", "fork", "vfork"]);

/** Everything the decoder needs besides the call itself. */
export interface CallContext {
  tasks: TaskTable;
  /** The flags and child of the parent's task_newtask (perf) or decoded args (strace). */
  clone?: { flags: number | null; child: number | null; inChild: boolean };
}

/**
 * The event of one system call. `args` are named (see STRACE_ARGS); `base`
 * holds the common fields. Keeps the fd table up to date. Throws an Error
 * (the reason) when an argument cannot be decoded.
 */
export function makeSyscall(name: string, args: Record<string, string>, rawArgs: string, base: SyscallBase, ctx: CallContext): SyscallEvent {
  const ok = base.ret !== null && base.errno === null && !base.unfinished;
  const tasks = ctx.tasks;
  switch (name) {
    case "mmap": {
      const flags = argFlags(args.flags, MAP_NAMES, "MAP_");
      const anon = (flags & 0x20) !== 0;
      const fd = anon && args.fd === undefined ? -1 : argInt(args.fd);
      return {
        ...base, kind: "mmap", addr: argInt(args.addr), len: argInt(args.len), prot: argFlags(args.prot, PROT_NAMES, "PROT_"),
        flags, fd, off: argInt(args.off), open: anon || fd < 0 ? null : tasks.openOf(base.tid, fd),
        path: anon ? null : fdPath(args.fd),
      };
    }
    case "munmap":
      return { ...base, kind: "munmap", addr: argInt(args.addr), len: argInt(args.len) };
    case "mprotect":
      return { ...base, kind: "mprotect", start: argInt(args.start), len: argInt(args.len), prot: argFlags(args.prot, PROT_NAMES, "PROT_") };
    case "mremap":
      return {
        ...base, kind: "mremap", addr: argInt(args.addr), oldLen: argInt(args.old_len), newLen: argInt(args.new_len),
        flags: argFlags(args.flags, MREMAP_NAMES, "MREMAP_"), newAddr: argInt(args.new_addr),
      };
    case "brk":
      return { ...base, kind: "brk", brk: argInt(args.brk) };
    case "madvise":
      return { ...base, kind: "madvise", start: argInt(args.start), len: argInt(args.len_in), behavior: argFlags(args.behavior, MADV_NAMES, "MADV_") };
    case "mlock": case "munlock":
      return { ...base, kind: name, start: argInt(args.start), len: argInt(args.len) };
    case "mlock2":
      return { ...base, kind: "mlock2", start: argInt(args.start), len: argInt(args.len), flags: argFlags(args.flags, MLOCK_NAMES, "MLOCK_") };
    case "mlockall":
      return { ...base, kind: "mlockall", flags: argFlags(args.flags, MCL_NAMES, "MCL_") };
    case "munlockall":
      return { ...base, kind: "munlockall" };
    case "mseal":
      return { ...base, kind: "mseal", start: argInt(args.start), len: argInt(args.len), flags: argInt(args.flags) };
    case "prctl": {
      const opt = (args.option ?? "0").trim();
      const option = opt === "SET_VMA" || opt === "PR_SET_VMA" ? PR_SET_VMA : parseInteger(opt);
      const sub = (args.arg2 ?? "0").trim();
      if (option === PR_SET_VMA && (sub === "PR_SET_VMA_ANON_NAME" || argInt(sub) === PR_SET_VMA_ANON_NAME)) {
        const name = argString(args.arg5);
        return {
          ...base, kind: "set_vma_anon_name", start: argInt(args.arg3), len: argInt(args.arg4),
          nameAddr: name !== null ? null : argInt(args.arg5), name,
        };
      }
      return { ...base, kind: "unmodelled", name, args: rawArgs };
    }
    case "execve":
      return { ...base, kind: "execve", filename: argString(args.filename) };
    case "exit": case "exit_group":
      return { ...base, kind: name, status: argInt(args.error_code) };
    default:
      break;
  }
  if (CLONE_CALLS.has(name)) {
    const c = ctx.clone ?? { flags: null, child: null, inChild: false };
    const ev: CloneEvent = {
      ...base, kind: "clone", call: name as CloneEvent["call"], inChild: c.inChild, child: c.child,
      flags: c.inChild ? null : c.flags ?? (name === "vfork" ? CLONE_VM | CLONE_VFORK : name === "fork" ? 0 : null),
    };
    return ev;
  }
  // the fd table: calls that make or drop fds (their events stay unmodelled)
  if (ok) {
    const ret = base.ret!;
    const tid = base.tid;
    switch (name) {
      case "open": case "openat": case "creat":
        tasks.opened(tid, ret, base.line, name === "creat" ? 0 : argFlags(args.flags, O_NAMES, "O_"));
        break;
      case "memfd_create":
        tasks.opened(tid, ret, base.line, argInt(args.flags) & MFD_CLOEXEC ? O_CLOEXEC : 0);
        break;
      case "dup":
        tasks.dup(tid, argInt(args.fildes), ret, false);
        break;
      case "dup2":
        if (argInt(args.oldfd) !== ret) tasks.dup(tid, argInt(args.oldfd), ret, false);
        break;
      case "dup3":
        tasks.dup(tid, argInt(args.oldfd), ret, (argFlags(args.flags, O_NAMES, "O_") & O_CLOEXEC) !== 0);
        break;
      case "close":
        tasks.closed(tid, argInt(args.fd));
        break;
      case "close_range":
        tasks.closeRange(tid, argInt(args.fd), argInt(args.max_fd), argInt(args.flags));
        break;
      default:
        break;
    }
  }
  return { ...base, kind: "unmodelled", name, args: rawArgs };
}
