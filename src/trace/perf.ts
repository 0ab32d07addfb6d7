// Importer of `perf trace` text (perf 6.1 with -T --sort-events and the
// exceptions/task/sched tracepoints; the quirks are listed in
// docs/trace-format.md, "Importing perf trace"). Streams: one event per
// effect, in file order; memory holds only the calls still pending per task.

import type {
  EventBase, LineSource, ParseOptions, SyscallBase, TraceEvent, UnparsedRecord,
} from "./events.js";
import { TraceParseError } from "./events.js";
import { cloneFlags, makeSyscall, parseRet } from "./syscalls.js";
import { TaskTable } from "./tasks.js";
import { parseInteger } from "./flags.js";

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

/** Where a hand-scanned line's parts are (PerfParser.scan()); the regular expressions above say the same. */
interface Scan {
  /** ns, or null for "?" */
  time: number | null;
  duration: number | null;
  /** the comm is text[commStart, slash), the event starts at `rest` */
  commStart: number;
  slash: number;
  tid: number;
  rest: number;
}

const C_0 = 48, C_9 = 57, C_DOT = 46, C_SPACE = 32, C_SLASH = 47, C_PAREN = 40, C_CLOSE = 41, C_COMMA = 44, C_MINUS = 45;

const isDigit = (c: number) => c >= C_0 && c <= C_9;
/** [A-Za-z_] */
const isWordStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
/** \w or ':' */
const isNameChar = (c: number) => isWordStart(c) || isDigit(c) || c === 58;
/** the value of a hex digit, or -1 ([0-9a-f] only, as the FAULT expression) */
const hexDigit = (c: number) => (c >= C_0 && c <= C_9 ? c - C_0 : c >= 97 && c <= 102 ? c - 87 : -1);

const CONTINUED_MARK = "... [continued]: ";
const FAULT_PREFIX = "exceptions:page_fault_";

/**
 * A perf trace parser fed one line at a time (push): `line()` appends the
 * events a line completes to `out`, `end()` those still pending at the end
 * of the trace. parsePerf() is its async form.
 *
 * Page faults are almost every line of a trace: the head of a line, its
 * COMM/TID and a fault's fields are scanned by hand, without a substring or
 * a regular expression. A line the scanner does not recognise exactly (any
 * spacing, field order or character the expressions above would treat
 * differently) takes the expressions' path, so both give the same events.
 */
export class PerfParser {
  private readonly tasks = new TaskTable();
  private readonly pending = new Map<number, Pending>();
  // task_newtask seen in a parent whose clone has not returned yet
  private readonly newtask = new Map<number, { child: number; flags: number }>();
  private lineNo = 0;
  private readonly sc: Scan = { time: null, duration: null, commStart: 0, slash: 0, tid: 0, rest: 0 };
  // a fault's fields, from scanFault()
  private fAddress = 0;
  private fIp = 0;
  private fError = 0;
  private fUser = false;

  /** `scanning` false: the regular expressions only (the reference the tests compare the scanner with). */
  constructor(private readonly opts: ParseOptions = {}, private readonly scanning = true) {}

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
   * The head "TIME (DURATION ms): COMM/TID " of a line into this.sc, or false
   * when the line is not in the shape the scanner knows (spaces only as
   * perf prints them).
   */
  private scan(text: string): boolean {
    const n = text.length;
    let i = 0;
    while (i < n && text.charCodeAt(i) === C_SPACE) i++;
    const sc = this.sc;
    if (text.charCodeAt(i) === 63) { // '?'
      sc.time = null;
      i++;
    } else {
      const t = scanDecimal(text, i);
      if (t < 0) return false;
      sc.time = decValue;
      i = t;
    }
    if (text.charCodeAt(i) !== C_SPACE || text.charCodeAt(i + 1) !== C_PAREN) return false;
    i += 2;
    while (i < n && text.charCodeAt(i) === C_SPACE) i++;
    sc.duration = null;
    if (isDigit(text.charCodeAt(i))) {
      const t = scanDecimal(text, i);
      if (t < 0 || text.charCodeAt(t) !== C_SPACE || text.charCodeAt(t + 1) !== 109 || text.charCodeAt(t + 2) !== 115) return false; // " ms"
      sc.duration = decValue;
      i = t + 3;
      while (i < n && text.charCodeAt(i) === C_SPACE) i++;
    }
    if (text.charCodeAt(i) !== C_CLOSE || text.charCodeAt(i + 1) !== 58 || text.charCodeAt(i + 2) !== C_SPACE) return false; // "): "
    i += 3;
    sc.commStart = i;
    // the TID: the first '/' followed by digits, a space and the start of an event
    for (let j = text.indexOf("/", i); j >= 0; j = text.indexOf("/", j + 1)) {
      let k = j + 1;
      let tid = 0;
      while (k < n && isDigit(text.charCodeAt(k))) tid = tid * 10 + text.charCodeAt(k++) - C_0;
      if (k - j > 16) return false; // Number() of the digits decides beyond 15
      if (k === j + 1 || text.charCodeAt(k) !== C_SPACE) continue;
      if (!eventStarts(text, k + 1)) continue;
      sc.slash = j;
      sc.tid = tid;
      sc.rest = k + 1;
      return true;
    }
    return false;
  }

  /** A page fault at text[i] into this.f*, or false (then the FAULT expression decides). */
  private scanFault(text: string, i: number): boolean {
    if (!text.startsWith(FAULT_PREFIX, i)) return false;
    i += FAULT_PREFIX.length;
    if (text.startsWith("user(", i)) {
      this.fUser = true;
      i += 5;
    } else if (text.startsWith("kernel(", i)) {
      this.fUser = false;
      i += 7;
    } else {
      return false;
    }
    const n = text.length;
    let address = 0, ip = 0, error = 0;
    if (text.startsWith("address: 0x", i)) {
      let k = i + 11;
      for (let d = hexDigit(text.charCodeAt(k)); d >= 0; d = hexDigit(text.charCodeAt(++k))) address = address * 16 + d;
      if (k === i + 11 || k - i - 11 > 13) return false; // beyond 13 digits parseInt's rounding decides
      i = k;
      if (text.charCodeAt(i) === C_COMMA && text.charCodeAt(i + 1) === C_SPACE) i += 2;
      else if (text.charCodeAt(i) !== C_CLOSE) return false;
    }
    if (text.startsWith("ip: ", i)) {
      let k = i + 4;
      const neg = text.charCodeAt(k) === C_MINUS;
      if (neg) k++;
      const from = k;
      while (k < n && isDigit(text.charCodeAt(k))) ip = ip * 10 + text.charCodeAt(k++) - C_0;
      if (k === from || k - from > 15) return false;
      if (neg) ip = -ip;
      i = k;
      if (text.charCodeAt(i) === C_COMMA && text.charCodeAt(i + 1) === C_SPACE) i += 2;
      else if (text.charCodeAt(i) !== C_CLOSE) return false;
    }
    if (text.startsWith("error_code: ", i)) {
      let k = i + 12;
      while (k < n && isDigit(text.charCodeAt(k))) error = error * 10 + text.charCodeAt(k++) - C_0;
      if (k === i + 12 || k - i - 12 > 15) return false;
      i = k;
    }
    if (i !== n - 1 || text.charCodeAt(i) !== C_CLOSE) return false;
    this.fAddress = address;
    this.fIp = ip;
    this.fError = error;
    return true;
  }

  /** One line of the trace: its events (if any) are appended to `out`. */
  line(text: string, out: TraceEvent[]): void {
    const lineNo = ++this.lineNo;
    const last = text.charCodeAt(text.length - 1);
    if (!(last > C_SPACE && last < 127) && text.trim() === "") return;
    const tasks = this.tasks;
    let time: number | null, duration: number | null, comm: string, tid: number, rest: string;
    if (this.scanning && this.scan(text)) {
      const sc = this.sc;
      time = sc.time;
      duration = sc.duration;
      tid = sc.tid;
      comm = text.slice(sc.commStart, sc.slash);
      if (this.scanFault(text, sc.rest)) {
        out.push({
          line: lineNo, time, pid: tasks.pidOf(tid), tid, comm, kind: "page_fault",
          address: this.fAddress, ip: this.fIp, errorCode: this.fError, user: this.fUser,
        });
        return;
      }
      rest = text.slice(sc.rest);
    } else {
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
      comm = body.slice(0, task.index);
      tid = Number(task[1]);
      rest = body.slice(task.index + task[0].length);
      time = head[1] === "?" ? null : decimalToInt(head[1], 6);
      duration = head[2] === undefined ? null : decimalToInt(head[2], 6);
    }
    const base = (): EventBase => ({ line: lineNo, time, pid: tasks.pidOf(tid), tid, comm });
    try {
      // perf omits fields equal to 0
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

/** The value of the last scanDecimal(): ns (10^-6 of the printed unit, ms or s) */
let decValue = 0;

/**
 * "\d+\.\d+" at text[i] (at most 15 integer digits, so that the sum is the
 * one decimalToInt() computes): its value × 10^6 into decValue; the index
 * after it, or -1.
 */
function scanDecimal(text: string, i: number): number {
  const n = text.length;
  let int = 0;
  const from = i;
  while (i < n && isDigit(text.charCodeAt(i))) int = int * 10 + text.charCodeAt(i++) - C_0;
  if (i === from || i - from > 15 || text.charCodeAt(i) !== C_DOT) return -1;
  i++;
  const fracFrom = i;
  let frac = 0;
  while (i < n && isDigit(text.charCodeAt(i))) {
    if (i - fracFrom < 6) frac = frac * 10 + text.charCodeAt(i) - C_0;
    i++;
  }
  if (i === fracFrom) return -1;
  for (let d = i - fracFrom; d < 6; d++) frac *= 10;
  decValue = int * 1e6 + frac;
  return i;
}

/** Whether an event starts at text[i]: " *... [continued]: " or a name and '(' (the lookahead of TASK). */
function eventStarts(text: string, i: number): boolean {
  let k = i;
  while (text.charCodeAt(k) === C_SPACE) k++;
  if (text.startsWith(CONTINUED_MARK, k)) return true;
  if (!isWordStart(text.charCodeAt(i))) return false;
  k = i + 1;
  while (isNameChar(text.charCodeAt(k))) k++;
  return text.charCodeAt(k) === C_PAREN;
}

/** Parses perf trace text into events (see events.ts). */
export async function* parsePerf(lines: LineSource, opts: ParseOptions = {}): AsyncGenerator<TraceEvent> {
  const parser = new PerfParser(opts);
  const out: TraceEvent[] = [];
  for await (const text of lines) {
    parser.line(text, out);
    if (out.length) {
      yield* out;
      out.length = 0;
    }
  }
  parser.end(out);
  yield* out;
}
