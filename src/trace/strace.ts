// Importer of `strace -f -tt -y` output. Joins `<unfinished ...>` with its
// `<... NAME resumed>` by TID, reads `-y` fd paths, turns `+++ exited/killed
// +++` into sched_process_exit and `--- SIG ---` into unmodelled signal
// events. strace has no task_newtask or sched_process_exec: they are derived
// (see docs/trace-format.md, "Importing strace") so that consumers see the
// same stream as from perf.

import type {
  EventBase, LineSource, ParseOptions, SyscallBase, TraceEvent, UnparsedRecord,
} from "./events.js";
import { TraceParseError } from "./events.js";
import { CLONE_VFORK, CLONE_VM } from "./flags.js";
import { STRACE_ARGS, argString, cloneFlags, makeSyscall, parseRet } from "./syscalls.js";
import { TaskTable } from "./tasks.js";

// "1234  12:00:00.123456 rest", "[pid  1234] 12:00:00.123456 rest", or no pid (one task traced)
const HEAD = /^(?:\[pid\s+(\d+)\] |(\d+)\s+)?(?:(\d\d):(\d\d):(\d\d)(?:\.(\d+))? |(\d+)\.(\d+) )?(.*)$/s;
const RESUMED = /^<\.\.\. (\w+) resumed>(.*)$/s;
const UNFINISHED = /^(\w+)\((.*?) ?<unfinished \.\.\.>$/s;
const COMPLETE = /^(\w+)\((.*)\)\s+= (.*)$/s;
const EXITED = /^\+\+\+ exited with (\d+) \+\+\+$/;
const KILLED = /^\+\+\+ killed by (SIG\w+)(?: \(core dumped\))? \+\+\+$/;
const OTHER_EXIT = /^\+\+\+ (.*) \+\+\+$/s;
const SIGNAL = /^--- (SIG\w+|stopped by SIG\w+) ?(.*) ---$/s;

const CLONE_CALLS = new Set(["clone", "clone3", "fork", "vfork"]);

/** Top-level comma-separated arguments of a C-notation argument list. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === "\\") i++;
    } else if (c === "<" && i > 0 && /\d/.test(s[i - 1])) {
      // an fd's -y path: up to the '>' that ends the argument
      const end = s.slice(i).search(/>(?=,|$)/);
      if (end >= 0) i += end;
    } else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = s.slice(start).trim();
  if (last !== "" || out.length) out.push(last);
  return out;
}

interface Pending {
  name: string;
  args: string;
  time: number | null;
  line: number;
  /** For clone calls: whether a task first seen meanwhile was attributed to this call. */
  claimed: boolean;
}

/** Parses strace -f output into events (see events.ts). */
export async function* parseStrace(lines: LineSource, opts: ParseOptions = {}): AsyncGenerator<TraceEvent> {
  const tasks = new TaskTable();
  const pending = new Map<number, Pending>();
  const live = new Map<number, Set<number>>(); // thread group -> live tasks
  const announced = new Set<number>();
  let lineNo = 0;
  let first = true;

  const unparsed = (text: string, reason: string): UnparsedRecord => {
    if (opts.strict) throw new TraceParseError(lineNo, text, reason);
    return { kind: "unparsed", line: lineNo, text, reason };
  };
  const alive = (pid: number, tid: number) => {
    let s = live.get(pid);
    if (s === undefined) live.set(pid, (s = new Set()));
    s.add(tid);
  };

  /** task_newtask for `child` made by `parent` with strace-decoded args. */
  const newTask = (parent: number, child: number, name: string, args: string, time: number | null): TraceEvent => {
    const flags = cloneCallFlags(name, args);
    const pid = tasks.newTask(parent, child, flags);
    announced.add(child);
    alive(pid, child);
    return { line: lineNo, time, pid: tasks.pidOf(parent), tid: parent, comm: null, kind: "task_newtask", child, childComm: null, cloneFlags: flags };
  };

  /** The event of a joined or complete call, with what it implies first (exec, new task). */
  const call = function* (name: string, argText: string, retText: string | null, b: EventBase, entryLine: number | null): Generator<TraceEvent> {
    const { ret, errno } = retText === null ? { ret: null, errno: null } : parseRet(retText);
    const base: SyscallBase = { ...b, entryLine, duration: null, ret, errno, unfinished: retText === null };
    const list = splitArgs(argText);
    const names = STRACE_ARGS[name] ?? [];
    const args: Record<string, string> = {};
    names.forEach((n, i) => {
      if (list[i] !== undefined) args[n] = list[i];
    });
    let clone;
    if (CLONE_CALLS.has(name)) {
      const child = ret !== null && ret > 0 ? ret : null;
      if (child !== null && !announced.has(child)) yield newTask(b.tid, child, name, argText, b.time);
      clone = { flags: ret === 0 ? null : cloneCallFlags(name, argText), child, inChild: ret === 0 };
    }
    if (name === "execve" && ret === 0) {
      tasks.exec(b.tid, b.pid);
      yield { ...b, kind: "sched_process_exec", filename: argString(args.filename), oldPid: b.tid };
    }
    yield makeSyscall(name, args, argText, base, { tasks, clone });
  };

  for await (const text of lines) {
    lineNo++;
    if (text.trim() === "") continue;
    const m = HEAD.exec(text)!;
    const tid = Number(m[1] ?? m[2] ?? 0);
    const time = m[3] !== undefined
      ? ((Number(m[3]) * 60 + Number(m[4])) * 60 + Number(m[5])) * 1e9 + Number(((m[6] ?? "") + "000000000").slice(0, 9))
      : m[7] !== undefined ? Number(m[7]) * 1e9 + Number((m[8] + "000000000").slice(0, 9)) : null;
    const rest = m[9];
    try {
      // a task seen for the first time: the root, or the child of a clone still pending
      if (!tasks.known(tid)) {
        if (first) {
          alive(tid, tid);
        } else {
          const parent = [...pending.entries()]
            .filter(([, p]) => CLONE_CALLS.has(p.name) && !p.claimed)
            .sort((x, y) => x[1].line - y[1].line)[0];
          if (parent !== undefined) {
            parent[1].claimed = true;
            yield newTask(parent[0], tid, parent[1].name, parent[1].args, time);
          } else {
            alive(tid, tid);
          }
        }
      }
      first = false;
      const b: EventBase = { line: lineNo, time, pid: tasks.pidOf(tid), tid, comm: null };
      let r;
      if ((r = RESUMED.exec(rest))) {
        const p = pending.get(tid);
        pending.delete(tid);
        const done = COMPLETE.exec(`${r[1]}(${p?.args ?? ""}${r[2]}`);
        if (!done) {
          yield unparsed(text, "bad resumed call");
          continue;
        }
        yield* call(r[1], done[2], done[3], { ...b, time: p?.time ?? time }, p?.line ?? null);
      } else if ((r = UNFINISHED.exec(rest))) {
        const old = pending.get(tid);
        if (old !== undefined) yield* call(old.name, old.args, null, { ...b, line: old.line, time: old.time }, null);
        pending.set(tid, { name: r[1], args: r[2], time, line: lineNo, claimed: false });
      } else if ((r = COMPLETE.exec(rest))) {
        yield* call(r[1], r[2], r[3], b, null);
      } else if ((r = EXITED.exec(rest)) || (r = KILLED.exec(rest))) {
        const set = live.get(b.pid);
        set?.delete(tid);
        const byExit = /^\d+$/.test(r[1]);
        yield {
          ...b, kind: "sched_process_exit", groupDead: set === undefined || set.size === 0,
          exitCode: byExit ? Number(r[1]) : null, signal: byExit ? null : r[1],
        };
      } else if ((r = OTHER_EXIT.exec(rest)) || (r = SIGNAL.exec(rest))) {
        const name = rest.startsWith("+++") ? r[1].split(" ")[0] : r[1];
        yield { ...b, kind: "unmodelled", name, args: rest, entryLine: null, duration: null, ret: null, errno: null, unfinished: false };
      } else {
        yield unparsed(text, "not an strace line");
      }
    } catch (e) {
      if (e instanceof TraceParseError) throw e;
      yield unparsed(text, (e as Error).message);
    }
  }
  // calls the trace ended in: exit/exit_group never return, others are unfinished
  const left = [...pending.entries()].sort((x, y) => x[1].line - y[1].line);
  for (const [tid, p] of left) {
    const b: EventBase = { line: p.line, time: p.time, pid: tasks.pidOf(tid), tid, comm: null };
    try {
      yield* call(p.name, p.args, null, b, null);
    } catch (e) {
      if (e instanceof TraceParseError) throw e;
      lineNo = p.line;
      yield unparsed(`${p.name}(${p.args} <unfinished ...>`, (e as Error).message);
    }
  }
}

/** The clone flags of a clone-family call as strace decoded it (exit signal excluded). */
function cloneCallFlags(name: string, args: string): number {
  if (name === "vfork") return CLONE_VM | CLONE_VFORK;
  if (name === "fork") return 0;
  const m = /\bflags=([A-Za-z0-9_|]+)/.exec(args);
  return m ? cloneFlags(m[1]) : 0;
}

