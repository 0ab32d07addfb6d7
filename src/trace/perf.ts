// Importer of `perf trace` text (perf 6.1 with -T --sort-events and the
// exceptions/task/sched tracepoints; the quirks are listed in
// docs/trace-format.md, "Importing perf trace"). Streams: one event per
// effect, in file order; memory holds only the calls still pending per task.

import type {
  EventBase, LineSource, ParseOptions, SyscallBase, TraceEvent, UnparsedRecord,
} from "./events.js";
import { TraceParseError } from "./events.js";
import { pushParse } from "./push_parse.js";
import { cloneFlags, makeSyscall, parseRet } from "./syscalls.js";
import { TaskTable } from "./tasks.js";
import { parseInteger } from "./flags.js";
import { FaultFields, scanFault } from "./perf_fast.js";

// "   1069322.484 ( 0.011 ms): COMM/TID rest" or "     ? (         ): ..."
const HEAD = /^\s*(\?|\d+\.\d+) \(\s*(?:(\d+\.\d+) ms)?\s*\): (.*)$/s;
// the TID is the digits after the last '/' before the event: a continuation or NAME(
const TASK = /\/(\d+) (?= *\.\.\. \[continued\]: |[A-Za-z_][\w:]*\()/;
const CONTINUED = /^ *\.\.\. \[continued\]: (\w+)\(\)\)\s*=\s?(.*)$/s;
const FAULT = /^exceptions:page_fault_(user|kernel)\((?:address: 0x([0-9a-f]+)(?:, |(?=\))))?(?:ip: (-?\d+)(?:, |(?=\))))?(?:error_code: (\d+))?\)$/;
const TRACEPOINT = /^(\w+:\w+)\((.*)\)$/s;
const PENDING = /^(\w+)\((.*)\)\s+\.\.\.$/s;
const COMPLETE = /^(\w+)\((.*)\)\s+=\s?(.*)$/s;
const LOST = /\bLOST (\d+) events!/;
const ARG = /(\w+): ("(?:[^"\\]|\\.)*"|.*?)(?=, \w+: |$)/gs;

const CLONE_CALLS = new Set(["clone", "clone3", "fork", "vfork"]);

/** "1069322.275" (units) → integer count of 10^-digits units, exactly. */
export function decimalToInt(s: string, digits: number): number {
  const dot = s.indexOf(".");
  const int = dot < 0 ? s : s.slice(0, dot);
  const frac = dot < 0 ? "" : s.slice(dot + 1);
  return Number(int) * 10 ** digits + Number((frac + "0".repeat(digits)).slice(0, digits));
}

/** perf's `name: value, ...` arguments (values as printed; quoted strings kept whole). */
export function perfArgs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (s === "") return out;
  ARG.lastIndex = 0;
  for (let m = ARG.exec(s); m !== null; m = ARG.exec(s)) {
    out[m[1]] = m[2];
    if (m[0] === "") ARG.lastIndex++;
  }
  return out;
}

/** A tracepoint's `pid: 3530 (comm)` → 3530. */
function pidArg(v: string | undefined): number {
  if (v === undefined) return 0;
  const m = /^(-?\d+)/.exec(v.trim());
  if (!m) throw new Error(`bad pid '${v}'`);
  return Number(m[1]);
}

function quoted(v: string | undefined): string | null {
  if (v === undefined) return null;
  const m = /^"((?:[^"\\]|\\.)*)"$/s.exec(v.trim());
  return m ? m[1].replace(/\\(.)/g, "$1") : null;
}

function num(v: string | undefined, what: string): number {
  if (v === undefined) return 0; // perf omits arguments equal to 0
  const n = parseInteger(v.trim());
  if (Number.isNaN(n)) throw new Error(`bad ${what} '${v}'`);
  return n;
}

interface Pending {
  name: string;
  args: Record<string, string>;
  raw: string;
  time: number | null;
  line: number;
  comm: string;
}

/**
 * A perf trace parser fed one line at a time (push): `line()` appends the
 * events a line completes to `out`, `end()` those still pending at the end
 * of the trace. parsePerf() is its async form; parseFileBatches() (import.ts)
 * feeds it a batch of lines at a time, so that nothing awaits per line.
 */
export class PerfParser {
  private readonly tasks = new TaskTable();
  private readonly pending = new Map<number, Pending>();
  // task_newtask seen in a parent whose clone has not returned yet
  private readonly newtask = new Map<number, { child: number; flags: number }>();
  private lineNo = 0;
  private readonly fault = new FaultFields();
  // the comm of the last fast-path line, as bytes and as a string
  private commBytes = Buffer.alloc(0);
  private comm = "";
  // the task of the last fast-path line and its thread group (tasks.pidOf())
  private lastTid = NaN;
  private lastPid = 0;

  constructor(private readonly opts: ParseOptions = {}) {}

  private unparsed(line: number, text: string, reason: string): UnparsedRecord {
    if (this.opts.strict) throw new TraceParseError(line, text, reason);
    return { kind: "unparsed", line, text, reason };
  }

  /** The event of a call (joined or not); throws the reason if it cannot be decoded. */
  private call(
    name: string, args: Record<string, string>, raw: string, b: EventBase, entryLine: number | null,
    duration: number | null, retText: string | null, inChild: boolean,
  ): TraceEvent {
    const { ret, errno } = retText === null ? { ret: null, errno: null } : parseRet(retText);
    const base: SyscallBase = { ...b, entryLine, duration, ret, errno, unfinished: retText === null };
    let clone;
    if (CLONE_CALLS.has(name)) {
      if (inChild) {
        clone = { flags: null, child: null, inChild: true };
      } else {
        const nt = this.newtask.get(b.tid);
        this.newtask.delete(b.tid);
        const flags = nt?.flags ?? (args.clone_flags !== undefined ? cloneFlags(args.clone_flags) : null);
        clone = { flags, child: nt?.child ?? (ret !== null && ret > 0 ? ret : null), inChild: false };
      }
    }
    return makeSyscall(name, args, raw, base, { tasks: this.tasks, clone });
  }

  /** A pending entry that never got its result: an unfinished call at its entry line. */
  private flush(tid: number, p: Pending): TraceEvent {
    try {
      return this.call(p.name, p.args, p.raw, { line: p.line, time: p.time, pid: this.tasks.pidOf(tid), tid, comm: p.comm }, null, null, null, false);
    } catch (e) {
      return this.unparsed(p.line, p.raw, (e as Error).message);
    }
  }

  /**
   * One line of the trace as bytes, buf[start, end) (UTF-8, no line end):
   * a page fault in the common form is read from the bytes (perf_fast.ts),
   * anything else goes to line() as text. The events are line()'s either way.
   */
  bytes(buf: Buffer, start: number, end: number, out: TraceEvent[]): void {
    const f = this.fault;
    if (!scanFault(buf, start, end, f)) {
      this.line(buf.toString("utf8", start, end), out);
      return;
    }
    const lineNo = ++this.lineNo;
    const tid = f.tid;
    if (tid !== this.lastTid) {
      this.lastPid = this.tasks.pidOf(tid);
      this.lastTid = tid;
    }
    out.push({
      line: lineNo, time: f.time, pid: this.lastPid, tid, comm: this.commOf(buf, f.commStart, f.commEnd), kind: "page_fault",
      address: f.address, ip: f.ip, errorCode: f.errorCode, user: f.user,
    });
  }

  /** The comm at buf[start, end) (ASCII): the last one's string when the bytes are the same. */
  private commOf(buf: Buffer, start: number, end: number): string {
    const last = this.commBytes;
    const n = end - start;
    if (n === last.length) {
      let i = 0;
      while (i < n && buf[start + i] === last[i]) i++;
      if (i === n) return this.comm;
    }
    this.commBytes = Buffer.from(buf.subarray(start, end));
    this.comm = buf.toString("latin1", start, end);
    return this.comm;
  }

  /** One line of the trace: its events (if any) are appended to `out`. */
  line(text: string, out: TraceEvent[]): void {
    this.lastTid = NaN; // a line here may change a task's thread group
    const lineNo = ++this.lineNo;
    if (text.trim() === "") return;
    const tasks = this.tasks;
    const head = HEAD.exec(text);
    if (head === null) {
      const lost = LOST.exec(text);
      if (lost) out.push({ kind: "lost", line: lineNo, time: null, pid: 0, tid: 0, comm: null, count: Number(lost[1]) });
      else out.push(this.unparsed(lineNo, text, "not a perf trace line"));
      return;
    }
    const body = head[3];
    const task = TASK.exec(body);
    if (task === null) {
      out.push(this.unparsed(lineNo, text, "no COMM/TID followed by an event"));
      return;
    }
    const comm = body.slice(0, task.index);
    const tid = Number(task[1]);
    const rest = body.slice(task.index + task[0].length);
    const time = head[1] === "?" ? null : decimalToInt(head[1], 6);
    const duration = head[2] === undefined ? null : decimalToInt(head[2], 6);
    const base = (): EventBase => ({ line: lineNo, time, pid: tasks.pidOf(tid), tid, comm });
    try {
      // the hot path (most lines are faults); perf omits fields equal to 0
      const fault = FAULT.exec(rest);
      if (fault) {
        out.push({
          line: lineNo, time, pid: tasks.pidOf(tid), tid, comm, kind: "page_fault",
          address: fault[2] === undefined ? 0 : parseInt(fault[2], 16), ip: fault[3] === undefined ? 0 : Number(fault[3]),
          errorCode: fault[4] === undefined ? 0 : Number(fault[4]), user: fault[1] === "user",
        });
        return;
      }
      const cont = CONTINUED.exec(rest);
      if (cont) {
        const name = cont[1];
        let p = this.pending.get(tid);
        if (p !== undefined && p.name !== name) {
          this.pending.delete(tid);
          out.push(this.flush(tid, p));
          p = undefined;
        }
        this.pending.delete(tid);
        // no entry: the child's side of a clone, or a call that was running when tracing began
        const inChild = p === undefined && CLONE_CALLS.has(name);
        out.push(this.call(name, p?.args ?? {}, p?.raw ?? "", { ...base(), time: p?.time ?? time, comm: p?.comm ?? comm },
          p?.line ?? null, duration, cont[2], inChild));
        return;
      }
      const tp = TRACEPOINT.exec(rest);
      if (tp) {
        const a = perfArgs(tp[2]);
        switch (tp[1]) {
          case "task:task_newtask": {
            const child = pidArg(a.pid);
            const flags = num(a.clone_flags, "clone_flags");
            const b = base();
            tasks.newTask(tid, child, flags);
            this.newtask.set(tid, { child, flags });
            out.push({ ...b, kind: "task_newtask", child, childComm: quoted(a.comm), cloneFlags: flags });
            break;
          }
          case "sched:sched_process_exec": {
            const pid = pidArg(a.pid);
            tasks.exec(tid, pid);
            out.push({ ...base(), pid, kind: "sched_process_exec", filename: quoted(a.filename), oldPid: pidArg(a.old_pid) });
            break;
          }
          case "exceptions:page_fault_user": case "exceptions:page_fault_kernel":
            // fields in an order the fast path does not expect
            out.push({
              ...base(), kind: "page_fault", address: num(a.address, "address"), ip: num(a.ip, "ip"),
              errorCode: num(a.error_code, "error_code"), user: tp[1].endsWith("user"),
            });
            break;
          case "sched:sched_process_exit":
            out.push({ ...base(), kind: "sched_process_exit", groupDead: num(a.group_dead, "group_dead") !== 0, exitCode: null, signal: null });
            break;
          default:
            out.push({
              ...base(), kind: "unmodelled", name: tp[1], args: tp[2], entryLine: null, duration, ret: null, errno: null, unfinished: false,
            });
        }
        return;
      }
      const entry = PENDING.exec(rest);
      if (entry) {
        const old = this.pending.get(tid);
        if (old !== undefined) {
          this.pending.delete(tid);
          out.push(this.flush(tid, old)); // interrupted: the task went on without a result line
        }
        this.pending.set(tid, { name: entry[1], args: perfArgs(entry[2]), raw: entry[2], time, line: lineNo, comm });
        return;
      }
      const done = COMPLETE.exec(rest);
      if (done) {
        const old = this.pending.get(tid);
        if (old !== undefined) {
          this.pending.delete(tid);
          out.push(this.flush(tid, old));
        }
        out.push(this.call(done[1], perfArgs(done[2]), done[2], base(), null, duration, done[3], false));
        return;
      }
      out.push(this.unparsed(lineNo, text, "unknown event"));
    } catch (e) {
      if (e instanceof TraceParseError) throw e;
      out.push(this.unparsed(lineNo, text, (e as Error).message));
    }
  }

  /** The end of the trace: calls still waiting for their result, as unfinished, in line order. */
  end(out: TraceEvent[]): void {
    const left = [...this.pending.entries()].sort((x, y) => x[1].line - y[1].line);
    for (const [tid, p] of left) out.push(this.flush(tid, p));
    this.pending.clear();
  }
}

/** Parses perf trace text into events (see events.ts). */
export function parsePerf(lines: LineSource, opts: ParseOptions = {}): AsyncGenerator<TraceEvent> {
  return pushParse(new PerfParser(opts), lines);
}
