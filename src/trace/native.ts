// vmasim's own trace format (docs/trace-format.md): one text line per event,
// `KIND LINE TIME PID/TID key=value ...`. Writer and reader share the field
// table below, so that reading what was written gives the same events.

import type { LineSource, ParseOptions, TraceEvent, UnparsedRecord } from "./events.js";
import { TraceParseError } from "./events.js";
import { parseInteger } from "./flags.js";

export const NATIVE_MAGIC = "vmasim-trace 1";

/**
 * int/hex: a number (hex is written 0x..., either is read); `?` nullable;
 * str: a JSON string; word: a bare token; bool: 0/1; ret: decimal, or hex above 0xffff.
 */
type FieldType = "int" | "hex" | "int?" | "hex?" | "str" | "str?" | "word" | "word?" | "bool" | "ret";
type Field = readonly [name: string, type: FieldType];

const SYSCALL: readonly Field[] = [
  ["entryLine", "int?"], ["duration", "int?"], ["ret", "ret"], ["errno", "word?"], ["unfinished", "bool"],
];
const sys = (...f: Field[]): readonly Field[] => [...f, ...SYSCALL];

/** The fields of each kind after the common ones (line, time, pid, tid, comm). */
export const NATIVE_FIELDS: Readonly<Record<Exclude<TraceEvent["kind"], "unparsed">, readonly Field[]>> = {
  mmap: sys(["addr", "hex"], ["len", "int"], ["prot", "hex"], ["flags", "hex"], ["fd", "int"], ["off", "hex"], ["open", "int?"], ["path", "str?"]),
  munmap: sys(["addr", "hex"], ["len", "int"]),
  mprotect: sys(["start", "hex"], ["len", "int"], ["prot", "hex"]),
  mremap: sys(["addr", "hex"], ["oldLen", "int"], ["newLen", "int"], ["flags", "hex"], ["newAddr", "hex"]),
  brk: sys(["brk", "hex"]),
  madvise: sys(["start", "hex"], ["len", "int"], ["behavior", "int"]),
  mlock: sys(["start", "hex"], ["len", "int"]),
  mlock2: sys(["start", "hex"], ["len", "int"], ["flags", "hex"]),
  munlock: sys(["start", "hex"], ["len", "int"]),
  mlockall: sys(["flags", "hex"]),
  munlockall: sys(),
  mseal: sys(["start", "hex"], ["len", "int"], ["flags", "hex"]),
  set_vma_anon_name: sys(["start", "hex"], ["len", "int"], ["nameAddr", "hex?"], ["name", "str?"]),
  execve: sys(["filename", "str?"]),
  clone: sys(["call", "word"], ["inChild", "bool"], ["child", "int?"], ["flags", "hex?"]),
  exit: sys(["status", "int"]),
  exit_group: sys(["status", "int"]),
  unmodelled: sys(["name", "str"], ["args", "str"]),
  page_fault: [["address", "hex"], ["ip", "int"], ["errorCode", "int"], ["user", "bool"]],
  task_newtask: [["child", "int"], ["childComm", "str?"], ["cloneFlags", "hex"]],
  sched_process_exec: [["filename", "str?"], ["oldPid", "int"]],
  sched_process_exit: [["groupDead", "bool"], ["exitCode", "int?"], ["signal", "word?"]],
  perf_mmap2: [
    ["addr", "hex"], ["len", "hex"], ["pgoff", "hex"], ["maj", "int"], ["min", "int"], ["ino", "int"],
    ["inoGeneration", "int"], ["prot", "hex"], ["shared", "bool"], ["filename", "str"],
  ],
  perf_fork: [["ppid", "int"], ["ptid", "int"]],
  perf_exit: [["ppid", "int"], ["ptid", "int"]],
  perf_comm: [["exec", "bool"]],
  lost: [["count", "int"]],
};
const UNPARSED_FIELDS: readonly Field[] = [["reason", "str"], ["text", "str"]];

/** A field's key in the file: the event field's name in snake_case (errorCode → error_code). */
export function fieldKey(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

function defaultOf(type: FieldType): unknown {
  switch (type) {
    case "int": case "hex": return 0;
    case "bool": return false;
    case "str": case "word": return "";
    default: return null;
  }
}

function format(type: FieldType, v: unknown): string {
  if (v === null) return "-";
  switch (type) {
    case "hex": case "hex?": return hex(v as number);
    case "ret": return (v as number) > 0xffff ? hex(v as number) : String(v);
    case "str": case "str?": return JSON.stringify(v);
    case "bool": return v ? "1" : "0";
    default: return String(v);
  }
}

function hex(n: number): string {
  return n < 0 ? "-0x" + (-n).toString(16) : "0x" + n.toString(16);
}

/** Writes events as native-format lines (the header first). Stateful: comm is written when it changes per task. */
export class NativeWriter {
  private readonly comms = new Map<number, string | null>();
  private headerDone = false;

  constructor(private readonly comment: string[] = []) {}

  /** The text of one event (with the header before the first). */
  write(e: TraceEvent): string {
    let out = "";
    if (!this.headerDone) {
      this.headerDone = true;
      out += NATIVE_MAGIC + "\n" + this.comment.map((c) => `# ${c}\n`).join("");
    }
    if (e.kind === "unparsed") {
      return out + `unparsed ${e.line} - -${fields(UNPARSED_FIELDS, e as unknown as Record<string, unknown>)}\n`;
    }
    const task = e.pid === e.tid ? String(e.tid) : `${e.pid}/${e.tid}`;
    let line = `${e.kind} ${e.line} ${e.time === null ? "-" : e.time} ${task}`;
    const prev = this.comms.has(e.tid) ? this.comms.get(e.tid) : null;
    if (e.comm !== prev) {
      line += ` comm=${e.comm === null ? "-" : JSON.stringify(e.comm)}`;
      this.comms.set(e.tid, e.comm);
    }
    line += fields(NATIVE_FIELDS[e.kind], e as unknown as Record<string, unknown>);
    return out + line + "\n";
  }
}

/** A field with its file key and default, worked out once per kind. */
interface FieldPlan { name: string; key: string; type: FieldType; def: unknown }
const plans = new Map<readonly Field[], FieldPlan[]>();
function plan(list: readonly Field[]): FieldPlan[] {
  let p = plans.get(list);
  if (p === undefined) {
    p = list.map(([name, type]) => ({ name, key: fieldKey(name), type, def: defaultOf(type) }));
    plans.set(list, p);
  }
  return p;
}

function fields(list: readonly Field[], e: Record<string, unknown>): string {
  let s = "";
  for (const f of plan(list)) {
    const v = e[f.name];
    if (v === f.def) continue;
    s += " " + f.key + "=" + format(f.type, v);
  }
  return s;
}

/** Splits `k=v k="a b" ...` into pairs; JSON strings may hold spaces. Throws on bad syntax. */
function keyValues(s: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < s.length) {
    if (s[i] === " ") {
      i++;
      continue;
    }
    const eq = s.indexOf("=", i);
    if (eq < 0) throw new Error(`expected key=value at '${s.slice(i, i + 20)}'`);
    const key = s.slice(i, eq);
    if (!/^[a-z_0-9]+$/.test(key)) throw new Error(`bad key '${key}'`);
    let j = eq + 1;
    if (s[j] === '"') {
      for (j++; j < s.length && s[j] !== '"'; j++) if (s[j] === "\\") j++;
      if (j >= s.length) throw new Error(`unterminated string for ${key}`);
      j++;
    } else {
      while (j < s.length && s[j] !== " ") j++;
    }
    if (out.has(key)) throw new Error(`${key} given twice`);
    out.set(key, s.slice(eq + 1, j));
    i = j;
  }
  return out;
}

function parseValue(type: FieldType, v: string, key: string): unknown {
  if (v === "-") {
    if (type.endsWith("?") || type === "ret") return null;
    throw new Error(`${key} cannot be -`);
  }
  switch (type) {
    case "int": case "hex": case "int?": case "hex?": case "ret": {
      const n = parseInteger(v);
      if (Number.isNaN(n)) throw new Error(`${key}: bad number '${v}'`);
      return n;
    }
    case "bool":
      if (v !== "0" && v !== "1") throw new Error(`${key}: expected 0 or 1`);
      return v === "1";
    case "str": case "str?": {
      if (!v.startsWith('"')) throw new Error(`${key}: expected a "string"`);
      try {
        return JSON.parse(v) as string;
      } catch {
        throw new Error(`${key}: bad string`);
      }
    }
    default:
      return v;
  }
}

const RECORD = /^([a-z_0-9]+) (\d+) (-|\d+) (-|(\d+)(?:\/(\d+))?)(.*)$/s;

/** One record by the general path (regular expressions, a map of keys): every error is found and worded here. */
function slowRecord(text: string, lineNo: number, comms: Map<number, string | null>, fail: (reason: string) => UnparsedRecord): TraceEvent {
  const m = RECORD.exec(text);
  if (m === null) return fail("not a record: KIND LINE TIME PID/TID");
  const kind = m[1];
  try {
    const kv = keyValues(m[7]);
    if (kind === "unparsed") {
      const e: Record<string, unknown> = { kind, line: Number(m[2]) };
      for (const [name, type] of UNPARSED_FIELDS) {
        const v = kv.get(fieldKey(name));
        e[name] = v === undefined ? defaultOf(type) : parseValue(type, v, name);
        kv.delete(fieldKey(name));
      }
      if (kv.size) throw new Error(`unknown key ${[...kv.keys()][0]}`);
      return e as unknown as UnparsedRecord;
    }
    const list = (NATIVE_FIELDS as Record<string, readonly Field[]>)[kind];
    if (list === undefined) throw new Error(`unknown kind '${kind}'`);
    if (m[5] === undefined) throw new Error("an event needs PID/TID");
    const pid = Number(m[5]);
    const tid = m[6] === undefined ? pid : Number(m[6]);
    const e: Record<string, unknown> = { kind, line: Number(m[2]), time: m[3] === "-" ? null : Number(m[3]), pid, tid };
    for (const k of ["line", "time", "pid", "tid"]) {
      if (e[k] !== null && !Number.isSafeInteger(e[k])) throw new Error(`${k.toUpperCase()} is beyond 2^53`);
    }
    const c = kv.get("comm");
    if (c !== undefined) {
      comms.set(tid, parseValue("str?", c, "comm") as string | null);
      kv.delete("comm");
    }
    e.comm = comms.get(tid) ?? null;
    for (const f of plan(list)) {
      const v = kv.get(f.key);
      if (v === undefined) {
        e[f.name] = f.def;
      } else {
        e[f.name] = parseValue(f.type, v, f.key);
        kv.delete(f.key);
      }
    }
    if (kv.size) throw new Error(`unknown key '${[...kv.keys()][0]}' for ${kind}`);
    return e as unknown as TraceEvent;
  } catch (err) {
    if (err instanceof TraceParseError) throw err;
    return fail((err as Error).message);
  }
}

// --- the fast path --------------------------------------------------------------------------------
// A well-formed record is read character by character: no regular
// expression, no map of keys, no substring per number. Anything it does not
// expect (an escape in a string, a number near 2^53, a key it does not know,
// a repeated key, bad syntax) sends the line to slowRecord(), so that errors
// and their wording are the general path's and the events are the same.

/**
 * A kind's fields for the fast path: its plan, each key with its "=", and a
 * builder of its event object. The builder is one object literal per kind
 * (made with new Function where allowed): each kind's events then share one
 * hidden class, made by one allocation, instead of growing by a keyed store
 * per field.
 */
interface FastKind { kind: string; plan: FieldPlan[]; keyEq: string[]; build: Builder; values: unknown[] }
type Builder = (kind: string, line: number, time: number | null, pid: number, tid: number, comm: string | null, v: unknown[]) => TraceEvent;
const fastKinds = new Map<string, FastKind>();
for (const [kind, list] of Object.entries(NATIVE_FIELDS)) {
  const p = plan(list);
  fastKinds.set(kind, { kind, plan: p, keyEq: p.map((f) => f.key + "="), build: builder(p), values: p.map((f) => f.def) });
}

function builder(p: FieldPlan[]): Builder {
  try {
    const body = `return { kind, line, time, pid, tid, comm, ${p.map((f, i) => `${f.name}: v[${i}]`).join(", ")} };`;
    return new Function("kind", "line", "time", "pid", "tid", "comm", "v", body) as Builder;
  } catch {
    // no eval (a content security policy): the same object, field by field
    return (kind, line, time, pid, tid, comm, v) => {
      const e: Record<string, unknown> = { kind, line, time, pid, tid, comm };
      for (let i = 0; i < p.length; i++) e[p[i].name] = v[i];
      return e as unknown as TraceEvent;
    };
  }
}

/** The fast path gave up on the line (the general path reads it). */
const GIVE_UP = Symbol("give up");

/** Reads records from lines, fast path first (one object per event and nothing else allocated for a fault). */
class FastScanner {
  private s = "";
  private i = 0;

  /** The event of a well-formed record, or GIVE_UP. `comms` is changed only on success. */
  scan(s: string, comms: Map<number, string | null>): TraceEvent | typeof GIVE_UP {
    this.s = s;
    this.i = 0;
    const sp = s.indexOf(" ");
    if (sp <= 0) return GIVE_UP;
    const k = fastKinds.get(s.slice(0, sp));
    if (k === undefined) return GIVE_UP;
    this.i = sp + 1;
    const line = this.decimal();
    if (line < 0 || !this.space()) return GIVE_UP;
    let time: number | null = null;
    if (s.charCodeAt(this.i) === 45 /* - */) this.i++;
    else if ((time = this.decimal()) < 0) return GIVE_UP;
    if (!this.space()) return GIVE_UP;
    const pid = this.decimal();
    if (pid < 0) return GIVE_UP;
    let tid = pid;
    if (s.charCodeAt(this.i) === 47 /* / */) {
      this.i++;
      if ((tid = this.decimal()) < 0) return GIVE_UP;
    }
    const plan = k.plan;
    const values = k.values;
    for (let f = 0; f < plan.length; f++) values[f] = plan[f].def;
    let comm: string | null | undefined;
    const keyEq = k.keyEq;
    let next = 0; // the writer's order: a key before `next`, or out of order, is the general path's
    const n = s.length;
    while (this.i < n) {
      if (s.charCodeAt(this.i) !== 32) return GIVE_UP;
      while (this.i < n && s.charCodeAt(this.i) === 32) this.i++;
      if (this.i >= n) break;
      let f = next;
      while (f < keyEq.length && !s.startsWith(keyEq[f], this.i)) f++;
      if (f === keyEq.length) {
        if (comm !== undefined || next > 0 || !s.startsWith("comm=", this.i)) return GIVE_UP;
        this.i += 5;
        const v = this.value("str?");
        if (v === GIVE_UP) return GIVE_UP;
        comm = v as string | null;
        continue;
      }
      this.i += keyEq[f].length;
      next = f + 1;
      const v = this.value(plan[f].type);
      if (v === GIVE_UP) return GIVE_UP;
      values[f] = v;
    }
    if (comm !== undefined) comms.set(tid, comm);
    return k.build(k.kind, line, time, pid, tid, comms.get(tid) ?? null, values);
  }

  private space(): boolean {
    if (this.s.charCodeAt(this.i) !== 32) return false;
    this.i++;
    return true;
  }

  /** Up to 15 decimal digits (exact in a double), or -1. */
  private decimal(): number {
    const s = this.s;
    const from = this.i;
    let v = 0;
    let c: number;
    while ((c = s.charCodeAt(this.i) - 48) >= 0 && c <= 9) {
      v = v * 10 + c;
      this.i++;
    }
    const len = this.i - from;
    return len === 0 || len > 15 ? -1 : v;
  }

  /** A value of `type` up to the next space or the end, or GIVE_UP. */
  private value(type: FieldType): unknown {
    const s = this.s;
    const from = this.i;
    const c0 = s.charCodeAt(from);
    if (c0 === 34 /* " */) {
      if (type !== "str" && type !== "str?") return GIVE_UP;
      let j = from + 1;
      let c: number;
      // a string without escapes or control characters is its own text
      while ((c = s.charCodeAt(j)) !== 34) {
        if (c !== c || c === 92 || c < 32) return GIVE_UP; // NaN: the end of the line
        j++;
      }
      this.i = j + 1;
      return s.slice(from + 1, j);
    }
    let end = s.indexOf(" ", from);
    if (end < 0) end = s.length;
    this.i = end;
    if (end === from) return GIVE_UP;
    if (c0 === 45 /* - */ && end === from + 1) return type.endsWith("?") || type === "ret" ? null : GIVE_UP;
    switch (type) {
      case "int": case "hex": case "int?": case "hex?": case "ret":
        return this.integer(from, end);
      case "bool":
        if (end !== from + 1 || (c0 !== 48 && c0 !== 49)) return GIVE_UP;
        return c0 === 49;
      case "word": case "word?":
        return s.slice(from, end);
      default:
        return GIVE_UP;
    }
  }

  /** parseInteger() of s[from, end) for numbers exact in a double by construction (at most 13 hex or 15 decimal digits), or GIVE_UP. */
  private integer(from: number, end: number): number | typeof GIVE_UP {
    const s = this.s;
    let i = from;
    const neg = s.charCodeAt(i) === 45;
    if (neg) i++;
    let v = 0;
    if (s.charCodeAt(i) === 48 && s.charCodeAt(i + 1) === 120 /* 0x */) {
      i += 2;
      if (i === end || end - i > 13) return GIVE_UP;
      for (; i < end; i++) {
        const c = s.charCodeAt(i);
        const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
        if (d < 0) return GIVE_UP;
        v = v * 16 + d;
      }
    } else {
      if (i === end || end - i > 15) return GIVE_UP;
      for (; i < end; i++) {
        const d = s.charCodeAt(i) - 48;
        if (d < 0 || d > 9) return GIVE_UP;
        v = v * 10 + d;
      }
    }
    return neg ? -v : v;
  }
}

/**
 * A push parser of the native format: lines in (in order, from the first),
 * events out. Unparsed records carry the native file's line number.
 */
export class NativeParser {
  private readonly comms = new Map<number, string | null>();
  private readonly fast = new FastScanner();
  private lineNo = 0;
  private header = false;

  /** `fastPath` false: every line by the general path (for tests that compare the two) */
  constructor(private readonly opts: ParseOptions = {}, private readonly fastPath = true) {}

  /** Parses one line; its event (if any) goes to `out`. */
  line(text: string, out: TraceEvent[]): void {
    const lineNo = ++this.lineNo;
    const c0 = text.charCodeAt(0);
    if (text.length === 0 || c0 === 35 /* # */) return;
    // a record starts with a letter: anything else may be white space only
    if ((c0 <= 32 || c0 > 126) && text.trim() === "") return;
    const fail = (reason: string): UnparsedRecord => {
      if (this.opts.strict) throw new TraceParseError(lineNo, text, reason);
      return { kind: "unparsed", line: lineNo, text, reason };
    };
    if (!this.header) {
      this.header = true;
      if (text === NATIVE_MAGIC) return;
      out.push(fail(`the first line is not '${NATIVE_MAGIC}'`));
    }
    const e = this.fastPath ? this.fast.scan(text, this.comms) : GIVE_UP;
    out.push(e !== GIVE_UP ? e : slowRecord(text, lineNo, this.comms, fail));
  }
}

/** Reads a native-format trace. Unparsed records carry the native file's line number. */
export async function* parseNative(lines: LineSource, opts: ParseOptions = {}): AsyncGenerator<TraceEvent> {
  const parser = new NativeParser(opts);
  const out: TraceEvent[] = [];
  for await (const text of lines) {
    parser.line(text, out);
    for (const e of out) yield e;
    out.length = 0;
  }
}
