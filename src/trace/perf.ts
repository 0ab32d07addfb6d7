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

/** Parses perf trace text into events (see events.ts). */
export async function* parsePerf(lines: LineSource, opts: ParseOptions = {}): AsyncGenerator<TraceEvent> {
  const tasks = new TaskTable();
  const pending = new Map<number, Pending>();
  // task_newtask seen in a parent whose clone has not returned yet
  const newtask = new Map<number, { child: number; flags: number }>();
  let lineNo = 0;

  const unparsed = (line: number, text: string, reason: string): UnparsedRecord => {
    if (opts.strict) throw new TraceParseError(line, text, reason);
    return { kind: "unparsed", line, text, reason };
  };

  /** The event of a call (joined or not); throws the reason if it cannot be decoded. */
  const call = (
    name: string, args: Record<string, string>, raw: string, b: EventBase, entryLine: number | null,
    duration: number | null, retText: string | null, inChild: boolean,
  ): TraceEvent => {
    const { ret, errno } = retText === null ? { ret: null, errno: null } : parseRet(retText);
    const base: SyscallBase = { ...b, entryLine, duration, ret, errno, unfinished: retText === null };
    let clone;
    if (CLONE_CALLS.has(name)) {
      if (inChild) {
        clone = { flags: null, child: null, inChild: true };
      } else {
        const nt = newtask.get(b.tid);
        newtask.delete(b.tid);
        const flags = nt?.flags ?? (args.clone_flags !== undefined ? cloneFlags(args.clone_flags) : null);
        clone = { flags, child: nt?.child ?? (ret !== null && ret > 0 ? ret : null), inChild: false };
      }
    }
    return makeSyscall(name, args, raw, base, { tasks, clone });
  };

  /** A pending entry that never got its result: an unfinished call at its entry line. */
  const flush = (tid: number, p: Pending): TraceEvent => {
    try {
      return call(p.name, p.args, p.raw, { line: p.line, time: p.time, pid: tasks.pidOf(tid), tid, comm: p.comm }, null, null, null, false);
    } catch (e) {
      return unparsed(p.line, p.raw, (e as Error).message);
    }
  };

  for await (const text of lines) {
    lineNo++;
    if (text.trim() === "") continue;
    const head = HEAD.exec(text);
    if (head === null) {
      const lost = LOST.exec(text);
      if (lost) yield { kind: "lost", line: lineNo, time: null, pid: 0, tid: 0, comm: null, count: Number(lost[1]) };
      else yield unparsed(lineNo, text, "not a perf trace line");
      continue;
    }
    const body = head[3];
    const task = TASK.exec(body);
    if (task === null) {
      yield unparsed(lineNo, text, "no COMM/TID followed by an event");
      continue;
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
        yield {
          line: lineNo, time, pid: tasks.pidOf(tid), tid, comm, kind: "page_fault",
          address: fault[2] === undefined ? 0 : parseInt(fault[2], 16), ip: fault[3] === undefined ? 0 : Number(fault[3]),
          errorCode: fault[4] === undefined ? 0 : Number(fault[4]), user: fault[1] === "user",
        };
        continue;
      }
      const cont = CONTINUED.exec(rest);
      if (cont) {
        const name = cont[1];
        let p = pending.get(tid);
        if (p !== undefined && p.name !== name) {
          pending.delete(tid);
          yield flush(tid, p);
          p = undefined;
        }
        pending.delete(tid);
        // no entry: the child's side of a clone, or a call that was running when tracing began
        const inChild = p === undefined && CLONE_CALLS.has(name);
        yield call(name, p?.args ?? {}, p?.raw ?? "", { ...base(), time: p?.time ?? time, comm: p?.comm ?? comm },
          p?.line ?? null, duration, cont[2], inChild);
        continue;
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
            newtask.set(tid, { child, flags });
            yield { ...b, kind: "task_newtask", child, childComm: quoted(a.comm), cloneFlags: flags };
            break;
          }
          case "sched:sched_process_exec": {
            const pid = pidArg(a.pid);
            tasks.exec(tid, pid);
            yield { ...base(), pid, kind: "sched_process_exec", filename: quoted(a.filename), oldPid: pidArg(a.old_pid) };
            break;
          }
          case "exceptions:page_fault_user": case "exceptions:page_fault_kernel":
            // fields in an order the fast path does not expect
            yield {
              ...base(), kind: "page_fault", address: num(a.address, "address"), ip: num(a.ip, "ip"),
              errorCode: num(a.error_code, "error_code"), user: tp[1].endsWith("user"),
            };
            break;
          case "sched:sched_process_exit":
            yield { ...base(), kind: "sched_process_exit", groupDead: num(a.group_dead, "group_dead") !== 0, exitCode: null, signal: null };
            break;
          default:
            yield {
              ...base(), kind: "unmodelled", name: tp[1], args: tp[2], entryLine: null, duration, ret: null, errno: null, unfinished: false,
            };
        }
        continue;
      }
      const entry = PENDING.exec(rest);
      if (entry) {
        const old = pending.get(tid);
        if (old !== undefined) {
          pending.delete(tid);
          yield flush(tid, old); // interrupted: the task went on without a result line
        }
        pending.set(tid, { name: entry[1], args: perfArgs(entry[2]), raw: entry[2], time, line: lineNo, comm });
        continue;
      }
      const done = COMPLETE.exec(rest);
      if (done) {
        const old = pending.get(tid);
        if (old !== undefined) {
          pending.delete(tid);
          yield flush(tid, old);
        }
        yield call(done[1], perfArgs(done[2]), done[2], base(), null, duration, done[3], false);
        continue;
      }
      yield unparsed(lineNo, text, "unknown event");
    } catch (e) {
      if (e instanceof TraceParseError) throw e;
      yield unparsed(lineNo, text, (e as Error).message);
    }
  }
  const left = [...pending.entries()].sort((x, y) => x[1].line - y[1].line);
  for (const [tid, p] of left) yield flush(tid, p);
}
