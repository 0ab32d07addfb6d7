// The native-format lines of a generated trace (docs/trace-format.md),
// written directly as text: the generators make up to 10^8 events, so no
// event objects are built. The text is exactly what NativeWriter (src/trace/
// native.ts) writes for the same events: keys in its field order, fields
// equal to their default left out, `comm=` only when a task's comm changes
// (test/gen/gen.test.ts reads the lines back and writes them again).

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Numbers in the format's hex form (non-negative, below 2^53). V8 converts a
 * number beyond 2^31 to radix 16 by a slow floating-point path, the largest
 * cost of the whole generator; here it is done in small-integer pieces.
 */
export function hex(n: number): string {
  if (n < 0x40000000) return "0x" + n.toString(16);
  const hi = Math.floor(n / 0x1000000);
  const lo = n - hi * 0x1000000;
  return "0x" + hi.toString(16) + HEX2[lo >>> 16] + HEX2[(lo >>> 8) & 255] + HEX2[lo & 255];
}
/** A `ret` field: decimal, or hex above 0xffff. */
const retText = (n: number): string => (n > 0xffff ? hex(n) : String(n));

/** Time between two events, ns: a generated trace's clock advances by a seeded amount per event. */
const TICK_MIN = 200;
const TICK_SPREAD = 4000;

/** A task: its thread group and its id (equal for a group leader). */
export interface Task {
  pid: number;
  tid: number;
}

export class Emitter {
  /** the events so far (LINE of the next is count + 1) */
  count = 0;
  private time = 1_000_000_000;
  /** the lines not yet taken */
  lines: string[] = [];
  /** each live task's comm as last written (a task forgets it when it exits: memory stays bounded) */
  private readonly comms = new Map<number, string>();
  /** strings as JSON literals: the generators use a bounded set of names and paths */
  private readonly quoted = new Map<string, string>();

  constructor(private readonly rand: (n: number) => number) {}

  /** `s` as a JSON string literal. */
  private q(s: string): string {
    let t = this.quoted.get(s);
    if (t === undefined) {
      t = JSON.stringify(s);
      this.quoted.set(s, t);
    }
    return t;
  }

  /** Forgets a task that exited (tids are never reused by the generators). */
  forget(tid: number): void {
    this.comms.delete(tid);
  }

  /** One record: `KIND LINE TIME TASK [comm=] fields`. `comm`: the task's comm from this event on. */
  private ev(kind: string, t: Task, comm: string, fields: string): void {
    this.count++;
    this.time += TICK_MIN + this.rand(TICK_SPREAD);
    let line = `${kind} ${this.count} ${this.time} ${t.pid === t.tid ? t.tid : `${t.pid}/${t.tid}`}`;
    if (this.comms.get(t.tid) !== comm) {
      this.comms.set(t.tid, comm);
      line += ` comm=${this.q(comm)}`;
    }
    this.lines.push(fields === "" ? line : line + fields);
  }

  /** The fields every system call ends with: its result (errno when it failed). */
  private static result(ret: number | null, errno?: string): string {
    if (ret === null) return "";
    return errno === undefined ? ` ret=${retText(ret)}` : ` ret=${retText(ret)} errno=${errno}`;
  }

  mmap(t: Task, comm: string, addr: number, len: number, prot: number, flags: number, fd: number, off: number, path: string | null, ret: number, errno?: string): void {
    let f = addr ? ` addr=${hex(addr)}` : "";
    f += ` len=${len}`;
    if (prot) f += ` prot=${hex(prot)}`;
    if (flags) f += ` flags=${hex(flags)}`;
    if (fd) f += ` fd=${fd}`;
    if (off) f += ` off=${hex(off)}`;
    if (path !== null) f += ` path=${this.q(path)}`;
    this.ev("mmap", t, comm, f + Emitter.result(ret, errno));
  }

  munmap(t: Task, comm: string, addr: number, len: number, ret: number, errno?: string): void {
    this.ev("munmap", t, comm, ` addr=${hex(addr)} len=${len}${Emitter.result(ret, errno)}`);
  }

  mprotect(t: Task, comm: string, start: number, len: number, prot: number, ret: number, errno?: string): void {
    this.ev("mprotect", t, comm, ` start=${hex(start)} len=${len}${prot ? ` prot=${hex(prot)}` : ""}${Emitter.result(ret, errno)}`);
  }

  mremap(t: Task, comm: string, addr: number, oldLen: number, newLen: number, flags: number, ret: number): void {
    this.ev("mremap", t, comm, ` addr=${hex(addr)} old_len=${oldLen} new_len=${newLen}${flags ? ` flags=${hex(flags)}` : ""}${Emitter.result(ret)}`);
  }

  brk(t: Task, comm: string, brk: number, ret: number): void {
    this.ev("brk", t, comm, `${brk ? ` brk=${hex(brk)}` : ""}${Emitter.result(ret)}`);
  }

  madvise(t: Task, comm: string, start: number, len: number, behavior: number, ret: number): void {
    this.ev("madvise", t, comm, ` start=${hex(start)} len=${len} behavior=${behavior}${Emitter.result(ret)}`);
  }

  /** A fault at `address`: error_code is X86_PF_* (arch/x86/include/asm/trap_pf.h), always from user mode here. */
  fault(t: Task, comm: string, address: number, ip: number, errorCode: number): void {
    this.ev("page_fault", t, comm, ` address=${hex(address)} ip=${ip} error_code=${errorCode} user=1`);
  }

  /** task:task_newtask in the parent. */
  newtask(t: Task, comm: string, child: number, cloneFlags: number): void {
    this.ev("task_newtask", t, comm, ` child=${child} child_comm=${this.q(comm)} clone_flags=${hex(cloneFlags)}`);
  }

  /** The clone's return in the parent (`child`) or, with child null, in the child (0). */
  clone(t: Task, comm: string, call: "clone" | "clone3" | "vfork", child: number | null, flags: number): void {
    this.ev("clone", t, comm, child === null ? ` call=${call} in_child=1 ret=0` : ` call=${call} child=${child} flags=${hex(flags)} ret=${retText(child)}`);
  }

  /** PERF_RECORD_COMM of an exec: the task's comm is `comm` from here. */
  commExec(t: Task, comm: string): void {
    this.ev("perf_comm", t, comm, " exec=1");
  }

  /** PERF_RECORD_MMAP2 of an exec-time mapping; pgoff in bytes. */
  mmap2(t: Task, comm: string, addr: number, len: number, pgoff: number, prot: number, filename: string): void {
    this.ev("perf_mmap2", t, comm, ` addr=${hex(addr)} len=${hex(len)}${pgoff ? ` pgoff=${hex(pgoff)}` : ""}${prot ? ` prot=${hex(prot)}` : ""} filename=${this.q(filename)}`);
  }

  processExec(t: Task, comm: string, filename: string): void {
    this.ev("sched_process_exec", t, comm, ` filename=${this.q(filename)} old_pid=${t.tid}`);
  }

  execve(t: Task, comm: string, filename: string): void {
    this.ev("execve", t, comm, ` filename=${this.q(filename)} ret=0`);
  }

  /** exit (one thread) or exit_group: they do not return. */
  exitCall(t: Task, comm: string, group: boolean): void {
    this.ev(group ? "exit_group" : "exit", t, comm, "");
  }

  processExit(t: Task, comm: string, groupDead: boolean): void {
    this.ev("sched_process_exit", t, comm, groupDead ? " group_dead=1 exit_code=0" : " exit_code=0");
  }
}
