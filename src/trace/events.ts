// The event model of an imported trace: one event per effect, in trace order.
// Every importer (perf.ts, strace.ts, sidecar.ts, native.ts) yields these;
// docs/trace-format.md describes how each is written in vmasim's own format.
//
// Conventions
// - `line` is the 1-based line of the source file where the event is complete
//   (for a call split over two lines: the line of its result).
// - `time` is nanoseconds on the trace's clock (perf: perf clock; strace: wall
//   clock since midnight), or null when the trace does not say ("?" in perf).
// - `pid` is the thread group (TGID) as the importer resolved it from
//   task_newtask / clone flags; `tid` the task that did it.
// - Addresses and lengths are JS numbers (user space is below 2^47); every
//   field is always present (null when unknown), so events compare with deep
//   equality and serialise deterministically.

/** Fields of every event but `unparsed`. */
export interface EventBase {
  line: number;
  time: number | null;
  pid: number;
  tid: number;
  /** The task's comm at this event (perf, side-band), null when the trace has none (strace). */
  comm: string | null;
}

/** Fields of every system call. */
export interface SyscallBase extends EventBase {
  /** Line of the call's entry when it was printed apart from its result (`...` / `<unfinished ...>`), else null. */
  entryLine: number | null;
  /** Duration in ns when the trace gives it (perf), else null. */
  duration: number | null;
  /** Return value (-1 with `errno` on error); null when the call does not return (exit, `= ?`) or never finished. */
  ret: number | null;
  /** Error name (ENOMEM ...) when the call failed, else null. */
  errno: string | null;
  /** True when the trace ended (or the task started another call) before the call returned. */
  unfinished: boolean;
}

/** mmap(2) → do_mmap(). `file` identifies the struct file for file mappings. */
export interface MmapEvent extends SyscallBase {
  kind: "mmap";
  addr: number;
  len: number;
  prot: number;
  flags: number;
  /** -1 for MAP_ANONYMOUS. */
  fd: number;
  off: number;
  /**
   * Line of the traced open/openat/dup that created this fd's open file (one
   * struct file: the kernel merges file VMAs only within one), or null when no
   * traced call opened it (anonymous, unknown fd, or strace without open).
   */
  open: number | null;
  /** The file's path when the trace says it (strace -y), else null. */
  path: string | null;
}

export interface MunmapEvent extends SyscallBase { kind: "munmap"; addr: number; len: number }
export interface MprotectEvent extends SyscallBase { kind: "mprotect"; start: number; len: number; prot: number }
export interface MremapEvent extends SyscallBase {
  kind: "mremap"; addr: number; oldLen: number; newLen: number; flags: number; newAddr: number;
}
/** brk(2): `brk` is the requested break (0 = brk(NULL)); `ret` the new break. */
export interface BrkEvent extends SyscallBase { kind: "brk"; brk: number }
export interface MadviseEvent extends SyscallBase { kind: "madvise"; start: number; len: number; behavior: number }
export interface MlockEvent extends SyscallBase { kind: "mlock"; start: number; len: number }
export interface Mlock2Event extends SyscallBase { kind: "mlock2"; start: number; len: number; flags: number }
export interface MunlockEvent extends SyscallBase { kind: "munlock"; start: number; len: number }
export interface MlockallEvent extends SyscallBase { kind: "mlockall"; flags: number }
export interface MunlockallEvent extends SyscallBase { kind: "munlockall" }
export interface MsealEvent extends SyscallBase { kind: "mseal"; start: number; len: number; flags: number }
/** prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, start, len, name) → prctl_set_vma() (kernel/sys.c). */
export interface SetVmaAnonNameEvent extends SyscallBase {
  kind: "set_vma_anon_name";
  start: number;
  len: number;
  /** The user pointer to the name (0 clears the name), null when the trace printed the string instead. */
  nameAddr: number | null;
  /** The name when the trace decoded it (strace), else null. */
  name: string | null;
}
/** execve(2). A successful one is preceded by a sched_process_exec event (the new mm). */
export interface ExecveEvent extends SyscallBase { kind: "execve"; filename: string | null }
/**
 * clone/clone3/fork/vfork. In the parent: `child` and `flags` (from
 * task_newtask in perf, decoded args in strace; exit signal excluded). In the
 * child (`inChild`): the call's return in the new task, child and flags null.
 */
export interface CloneEvent extends SyscallBase {
  kind: "clone";
  call: "clone" | "clone3" | "fork" | "vfork";
  inChild: boolean;
  child: number | null;
  flags: number | null;
}
export interface ExitEvent extends SyscallBase { kind: "exit" | "exit_group"; status: number }

/** Any other system call, or a record vmasim does not model: counted by `name`. */
export interface UnmodelledEvent extends SyscallBase {
  kind: "unmodelled";
  name: string;
  /** The arguments as the trace printed them. */
  args: string;
}

/**
 * exceptions:page_fault_user / page_fault_kernel (arch/x86/mm/fault.c), at
 * fault entry. `errorCode` is the x86 PF error code (X86_PF_* below).
 */
export interface PageFaultEvent extends EventBase {
  kind: "page_fault";
  address: number;
  ip: number;
  errorCode: number;
  /** page_fault_user (true) or page_fault_kernel: a kernel-mode access to a user address. */
  user: boolean;
}

/** task:task_newtask (kernel/fork.c copy_process()), in the parent. */
export interface TaskNewtaskEvent extends EventBase {
  kind: "task_newtask";
  child: number;
  childComm: string | null;
  /** clone flags without the exit signal. */
  cloneFlags: number;
}

/** sched:sched_process_exec: the task now runs a new image in a new mm (exec_binprm()). */
export interface SchedProcessExecEvent extends EventBase {
  kind: "sched_process_exec";
  filename: string | null;
  /** The task's tid before exec (differs from `pid` when a non-leader thread exec'd: de_thread()). */
  oldPid: number;
}

/** sched:sched_process_exit (do_exit()); strace: `+++ exited/killed +++`. */
export interface SchedProcessExitEvent extends EventBase {
  kind: "sched_process_exit";
  /** Last task of its thread group: the mm goes away. */
  groupDead: boolean;
  exitCode: number | null;
  signal: string | null;
}

/** PERF_RECORD_MMAP2 (perf_event_mmap()): the VMA as it stands after the call. */
export interface PerfMmap2Event extends EventBase {
  kind: "perf_mmap2";
  addr: number;
  len: number;
  /** vm_pgoff << PAGE_SHIFT (anonymous VMAs: their original start address). */
  pgoff: number;
  maj: number;
  min: number;
  ino: number;
  inoGeneration: number;
  prot: number;
  shared: boolean;
  filename: string;
}
/** PERF_RECORD_FORK / PERF_RECORD_EXIT: `pid`/`tid` the task, `ppid`/`ptid` its parent. */
export interface PerfTaskEvent extends EventBase { kind: "perf_fork" | "perf_exit"; ppid: number; ptid: number }
/** PERF_RECORD_COMM: `comm` is the new name; `exec` when set by exec. */
export interface PerfCommEvent extends EventBase { kind: "perf_comm"; exec: boolean }
/** perf's `LOST n events!`: the ring buffer dropped events here. */
export interface LostEvent extends EventBase { kind: "lost"; count: number }

/** A line no rule understood. */
export interface UnparsedRecord {
  kind: "unparsed";
  line: number;
  text: string;
  reason: string;
}

export type SyscallEvent =
  | MmapEvent | MunmapEvent | MprotectEvent | MremapEvent | BrkEvent | MadviseEvent | MlockEvent | Mlock2Event
  | MunlockEvent | MlockallEvent | MunlockallEvent | MsealEvent | SetVmaAnonNameEvent | ExecveEvent | CloneEvent
  | ExitEvent | UnmodelledEvent;

export type TraceEvent =
  | SyscallEvent | PageFaultEvent | TaskNewtaskEvent | SchedProcessExecEvent | SchedProcessExitEvent
  | PerfMmap2Event | PerfTaskEvent | PerfCommEvent | LostEvent | UnparsedRecord;

export type EventKind = TraceEvent["kind"];

/** Every kind, in the order summaries print them. */
export const EVENT_KINDS: readonly EventKind[] = [
  "mmap", "munmap", "mprotect", "mremap", "brk", "madvise", "mlock", "mlock2", "munlock", "mlockall", "munlockall",
  "mseal", "set_vma_anon_name", "execve", "clone", "exit", "exit_group", "page_fault", "task_newtask",
  "sched_process_exec", "sched_process_exit", "perf_mmap2", "perf_fork", "perf_exit", "perf_comm", "lost",
  "unmodelled", "unparsed",
];

// x86 page-fault error code bits (arch/x86/include/asm/trap_pf.h)
export const X86_PF_PROT = 1 << 0; // the page was present: a protection fault
export const X86_PF_WRITE = 1 << 1;
export const X86_PF_USER = 1 << 2;
export const X86_PF_RSVD = 1 << 3;
export const X86_PF_INSTR = 1 << 4;
export const X86_PF_PK = 1 << 5;

/** The access of a fault: instruction fetch, write or read. */
export function faultAccess(errorCode: number): "exec" | "write" | "read" {
  return errorCode & X86_PF_INSTR ? "exec" : errorCode & X86_PF_WRITE ? "write" : "read";
}

/** Whether the faulting page was present (a protection fault, e.g. COW). */
export function faultPresent(errorCode: number): boolean {
  return (errorCode & X86_PF_PROT) !== 0;
}

/** Thrown by a parser in strict mode at the first line it cannot parse. */
export class TraceParseError extends Error {
  constructor(readonly line: number, readonly text: string, readonly reason: string) {
    super(`line ${line}: ${reason}: ${text.length > 200 ? text.slice(0, 200) + "..." : text}`);
  }
}

export interface ParseOptions {
  /** Throw a TraceParseError at the first unparsable line instead of yielding an `unparsed` record. */
  strict?: boolean;
}

/** Lines in, one at a time (a file read by lines.ts, or an array in tests). */
export type LineSource = AsyncIterable<string> | Iterable<string>;
