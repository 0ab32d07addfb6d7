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

/** Reads a native-format trace. Unparsed records carry the native file's line number. */
export async function* parseNative(lines: LineSource, opts: ParseOptions = {}): AsyncGenerator<TraceEvent> {
  const comms = new Map<number, string | null>();
  let lineNo = 0;
  let header = false;
  for await (const text of lines) {
    lineNo++;
    if (text.trim() === "" || text.startsWith("#")) continue;
    const fail = (reason: string): UnparsedRecord => {
      if (opts.strict) throw new TraceParseError(lineNo, text, reason);
      return { kind: "unparsed", line: lineNo, text, reason };
    };
    if (!header) {
      header = true;
      if (text === NATIVE_MAGIC) continue;
      yield fail(`the first line is not '${NATIVE_MAGIC}'`);
    }
    const m = RECORD.exec(text);
    if (m === null) {
      yield fail("not a record: KIND LINE TIME PID/TID");
      continue;
    }
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
        yield e as unknown as UnparsedRecord;
        continue;
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
      yield e as unknown as TraceEvent;
    } catch (err) {
      if (err instanceof TraceParseError) throw err;
      yield fail((err as Error).message);
    }
  }
}
