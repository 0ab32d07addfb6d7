// Parser of the scenario language (docs/scenario-language.md). A script becomes
// a list of entries, one per non-blank line: a parsed op, or an EPARSE entry
// for a line with bad syntax (the runner prints it and goes on). Every op of the
// grammar is parsed here, including those the runner cannot execute yet; the
// native runner (native/scenario-runner.c) follows the same rules, so the
// normalized text of each line is part of the contract: see "vmasim's
// decisions" at the end of the language document.

import { PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE } from "../abi/constants.js";
import type { Capability, RlimitResource } from "../types.js";

/** Pages in the arena (1 GiB). Page ranges must lie inside [0, ARENA_PAGES). */
export const ARENA_PAGES = 262144;
/** Temp files of `mmap ... file ID FOFF`: ID in [0, MAX_FILE_ID]. */
export const MAX_FILE_ID = 63;

/** madvise(2) advice names of the language and their x86_64 values. */
export const MADVICE: Readonly<Record<string, number>> = {
  normal: 0, random: 1, sequential: 2, willneed: 3, dontneed: 4, free: 8, remove: 9,
  dontfork: 10, dofork: 11, mergeable: 12, unmergeable: 13, hugepage: 14, nohugepage: 15,
  dontdump: 16, dodump: 17, wipeonfork: 18, keeponfork: 19, cold: 20, pageout: 21,
  populate_read: 22, populate_write: 23, dontneed_locked: 24, collapse: 25,
  guard_install: 102, guard_remove: 103,
};

interface OpBase {
  /** 1-based line number in the script. */
  line: number;
  /** The normalized op line, as printed before ` => `. */
  text: string;
}

export type MmapPlacement = "noreplace" | "fixed" | "hint";

export interface MmapOp extends OpBase {
  op: "mmap";
  page: number;
  pages: number;
  /** PROT_* bits. */
  prot: number;
  /** Temp file ID and file page offset, or null for anonymous memory. */
  file: { id: number; offset: number } | null;
  shared: boolean;
  placement: MmapPlacement;
  populate: boolean;
  noreserve: boolean;
  locked: boolean;
  /** MAP_STACK (a thread stack: VM_NOHUGEPAGE from 6.7). */
  stack: boolean;
}
export interface MunmapOp extends OpBase { op: "munmap"; page: number; pages: number }
export interface MprotectOp extends OpBase { op: "mprotect"; page: number; pages: number; prot: number }
export interface MremapOp extends OpBase {
  op: "mremap";
  page: number;
  oldPages: number;
  newPages: number;
  maymove: boolean;
  /** `fixed NEWP`: the new page, else null. */
  fixedPage: number | null;
  dontunmap: boolean;
  /** `relocate_anon`: MREMAP_RELOCATE_ANON (8), the 2025 proposal; implies MREMAP_MAYMOVE. */
  relocateAnon: boolean;
  /** `must_relocate_anon`: MREMAP_MUST_RELOCATE_ANON (16); implies MREMAP_MAYMOVE. */
  mustRelocateAnon: boolean;
}
export interface TouchOp extends OpBase { op: "touch"; page: number; write: boolean }
export interface TouchnOp extends OpBase { op: "touchn"; page: number; pages: number; write: boolean }
export interface PeekOp extends OpBase { op: "peek"; page: number }
export interface MadviseOp extends OpBase { op: "madvise"; page: number; pages: number; advice: number }
export interface MlockOp extends OpBase { op: "mlock"; page: number; pages: number; onfault: boolean }
export interface MunlockOp extends OpBase { op: "munlock"; page: number; pages: number }
export interface MsealOp extends OpBase { op: "mseal"; page: number; pages: number }
export interface BrkOp extends OpBase { op: "brk"; delta: number }
export interface DumpheapOp extends OpBase { op: "dumpheap" }
export interface ForkOp extends OpBase { op: "fork"; mode: "child" | "parent" }
export interface DumpOp extends OpBase { op: "dump"; full: boolean }
export interface CountOp extends OpBase { op: "count"; total: boolean }
export interface PadvmasOp extends OpBase { op: "padvmas"; target: number; page: number }
export interface EchoOp extends OpBase { op: "echo"; message: string }
/** `sysctl KEY VALUE`: write VALUE to /proc/sys/vm/KEY (KernelSim.configure in the engine). */
export interface SysctlOp extends OpBase { op: "sysctl"; key: SysctlKey; value: bigint }
export interface ExitOp extends OpBase { op: "exit"; code: number }
/** `setrlimit RES CUR [MAX]`: bytes, Infinity for `unlimited`; MAX defaults to CUR. */
export interface SetrlimitOp extends OpBase { op: "setrlimit"; resource: RlimitResource; cur: number; max: number }
/** `capdrop CAP`: drop the capability from the effective and permitted sets. */
export interface CapdropOp extends OpBase { op: "capdrop"; cap: Capability }
export interface RepeatOp extends OpBase {
  op: "repeat";
  count: number;
  /** START (>= 0) and STEP of `@` = START + i*STEP, exact 64-bit values. */
  start: bigint;
  step: bigint;
  /** The repeated op's tokens as written; `@` marks the substituted arguments. */
  body: string[];
}

export type Op =
  | MmapOp | MunmapOp | MprotectOp | MremapOp | TouchOp | TouchnOp | PeekOp | MadviseOp
  | MlockOp | MunlockOp | MsealOp | BrkOp | DumpheapOp | ForkOp | DumpOp | CountOp
  | PadvmasOp | RepeatOp | EchoOp | ExitOp | SetrlimitOp | CapdropOp | SysctlOp;

export type OpName = Op["op"];

/** A line with bad syntax: printed as `<text> => EPARSE (line N)`. */
export interface ParseError extends OpBase {
  op: "EPARSE";
  /** Why the line was rejected (for diagnostics; not part of the output). */
  reason: string;
}

export type ScriptEntry = Op | ParseError;

/**
 * The most iterations one `repeat` may run (2^24): far beyond any arena (at most
 * 262,144 pages) and seconds of work on the engine or the kernel, while a typo
 * such as `repeat 99999999999 ...` is refused instead of running for hours.
 */
export const MAX_REPEAT = 16_777_216;

/** Ops that `repeat` may not repeat. */
const NOT_REPEATABLE = new Set(["fork", "repeat", "exit", "dump", "dumpheap", "count", "echo", "setrlimit", "capdrop", "sysctl"]);

/** `setrlimit` resources and `capdrop` capabilities. */
export const RLIMIT_NAMES: readonly RlimitResource[] = ["as", "data", "stack", "memlock"];
export const CAP_NAMES: readonly Capability[] = ["ipc_lock", "sys_admin", "sys_resource"];

/** The vm sysctls `sysctl` may write (the knobs of the same names). */
export const SYSCTL_KEYS = [
  "overcommit_memory", "overcommit_ratio", "overcommit_kbytes", "admin_reserve_kbytes", "user_reserve_kbytes",
  "max_map_count", "mmap_min_addr",
] as const;
export type SysctlKey = (typeof SYSCTL_KEYS)[number];

/** White space as C's isspace() sees it in the C locale. */
const SPACE = " \t\n\v\f\r";

function trimC(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && SPACE.includes(s[a])) a++;
  while (b > a && SPACE.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * A C integer as `strtoll(s, &end, 0)` reads it, consumed whole: optional sign,
 * then `0x`/`0X` hex, leading-`0` octal, or decimal. Values outside the 64-bit
 * range (where strtoll reports ERANGE) are not numbers. Returns null when `s`
 * is not such a number.
 */
export function parseCInt(s: string): bigint | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return null;
  const digits = m[2];
  let v: bigint;
  if (digits.length > 1 && (digits[1] === "x" || digits[1] === "X")) v = BigInt("0x" + digits.slice(2));
  else if (digits.length > 1 && digits[0] === "0") v = BigInt("0o" + digits.slice(1));
  else v = BigInt(digits);
  if (m[1] === "-") v = -v;
  if (v < INT64_MIN || v > INT64_MAX) return null;
  return v;
}

/** The normalized form of one token: numbers in decimal, anything else as written. */
function normalizeToken(t: string): string {
  const v = parseCInt(t);
  return v === null ? t : v.toString();
}

/** `none`, or a mix of r, w, x (`-` ignored): PROT_* bits, or null. */
export function parseProt(s: string): number | null {
  if (s === "none") return PROT_NONE;
  if (s.length === 0) return null;
  let prot = PROT_NONE;
  for (const c of s) {
    if (c === "r") prot |= PROT_READ;
    else if (c === "w") prot |= PROT_WRITE;
    else if (c === "x") prot |= PROT_EXEC;
    else if (c !== "-") return null;
  }
  return prot;
}

/** Thrown inside the parser for a bad line; turned into a ParseError entry. */
class Bad extends Error {}

/** The most tokens a line may have (the native runner's limit); more is EPARSE. */
export const MAX_TOKENS = 32;

/**
 * The value of `@` in one iteration of a repeat: START + i*STEP, or overflow
 * when that leaves the 64-bit range.
 */
interface At {
  value: bigint;
  overflow: boolean;
}

/** Reads the arguments of one op, left to right. */
class Args {
  private i = 0;
  /** A page argument came from `@` and is negative (or overflowed): the op prints ERANGE_ARENA. */
  atBad = false;

  constructor(
    private readonly op: string,
    private readonly toks: readonly string[],
    private readonly at: At | null = null,
  ) {}

  get done(): boolean {
    return this.i >= this.toks.length;
  }

  private take(what: string): string {
    if (this.i >= this.toks.length) throw new Bad(`${this.op}: missing ${what}`);
    return this.toks[this.i++];
  }

  /** Any C integer, or `@` inside a repeat (bigint precision for the range checks). */
  private int(what: string): { v: bigint; fromAt: boolean } {
    const t = this.take(what);
    if (this.at && t === "@") return { v: this.at.value, fromAt: true };
    const v = parseCInt(t);
    if (v === null) throw new Bad(`${this.op}: ${what} '${t}' is not a number`);
    return { v, fromAt: false };
  }

  /**
   * A page number, count or other non-negative argument. A negative value from
   * `@` is not a syntax error: the iteration prints ERANGE_ARENA.
   */
  page(what: string): number {
    const { v, fromAt } = this.int(what);
    if (fromAt && (this.at!.overflow || v < 0n)) {
      this.atBad = true;
      return 0;
    }
    if (v < 0n) throw new Bad(`${this.op}: ${what} must be >= 0`);
    return Number(v);
  }

  /** A signed 64-bit argument, exact. */
  exact(what: string): bigint {
    const { v, fromAt } = this.int(what);
    if (fromAt) throw new Bad(`${this.op}: ${what} cannot be '@'`);
    return v;
  }

  /** A signed 64-bit argument (brk DELTA). */
  signed(what: string): number {
    const { v, fromAt } = this.int(what);
    if (fromAt && this.at!.overflow) throw new Bad(`${this.op}: ${what} overflows`);
    return Number(v);
  }

  /** An integer argument that must lie in [min, max]. */
  ranged(what: string, min: number, max: number): number {
    const { v, fromAt } = this.int(what);
    if ((fromAt && this.at!.overflow) || v < BigInt(min) || v > BigInt(max)) {
      throw new Bad(`${this.op}: ${what} must be ${min}..${max}`);
    }
    return Number(v);
  }

  /** An rlimit value: a C integer >= 0 (bytes) or `unlimited` (Infinity). */
  limit(what: string): number {
    const t = this.take(what);
    if (t === "unlimited") return Infinity;
    const v = parseCInt(t);
    if (v === null || v < 0n) throw new Bad(`${this.op}: ${what} '${t}' is not a byte count or 'unlimited'`);
    return Number(v);
  }

  prot(): number {
    const t = this.take("PROT");
    const p = parseProt(t);
    if (p === null) throw new Bad(`${this.op}: bad PROT '${t}'`);
    return p;
  }

  /** The next token as a keyword. */
  keyword(): string {
    return this.take("keyword");
  }

  /** All the remaining tokens. */
  rest(): string[] {
    const r = this.toks.slice(this.i);
    this.i = this.toks.length;
    return r;
  }

  end(): void {
    if (this.i < this.toks.length) throw new Bad(`${this.op}: unexpected '${this.toks[this.i]}'`);
  }
}

/** Records option keywords: each at most once, and at most one of each exclusive group. */
class Keywords {
  private readonly seen = new Set<string>();
  constructor(private readonly op: string, private readonly exclusive: readonly (readonly string[])[] = []) {}

  add(k: string): void {
    if (this.seen.has(k)) throw new Bad(`${this.op}: '${k}' given twice`);
    for (const group of this.exclusive) {
      if (group.includes(k)) {
        const other = group.find((g) => this.seen.has(g));
        if (other !== undefined) throw new Bad(`${this.op}: '${other}' and '${k}' together`);
      }
    }
    this.seen.add(k);
  }

  has(k: string): boolean {
    return this.seen.has(k);
  }
}

/** An op without its line number and text (distributes over the union). */
type Body<T extends Op> = T extends Op ? Omit<T, "line" | "text"> : never;

function parseMmap(a: Args): Body<MmapOp> {
  const page = a.page("P");
  const pages = a.page("N");
  const prot = a.prot();
  const kw = new Keywords("mmap", [["fixed", "noreplace", "hint"], ["anon", "file"]]);
  let file: MmapOp["file"] = null;
  while (!a.done) {
    const k = a.keyword();
    switch (k) {
      case "file": {
        kw.add(k);
        const id = a.ranged("file ID", 0, MAX_FILE_ID);
        file = { id, offset: a.page("FOFF") };
        break;
      }
      case "anon": case "shared": case "fixed": case "noreplace": case "hint":
      case "populate": case "noreserve": case "locked": case "stack":
        kw.add(k);
        break;
      default:
        throw new Bad(`mmap: unknown keyword '${k}'`);
    }
  }
  const placement: MmapPlacement = kw.has("fixed") ? "fixed" : kw.has("hint") ? "hint" : "noreplace";
  return {
    op: "mmap", page, pages, prot, file, shared: kw.has("shared"), placement,
    populate: kw.has("populate"), noreserve: kw.has("noreserve"), locked: kw.has("locked"), stack: kw.has("stack"),
  };
}

function parseMremap(a: Args): Body<MremapOp> {
  const page = a.page("P");
  const oldPages = a.page("OLDN");
  const newPages = a.page("NEWN");
  const kw = new Keywords("mremap");
  let fixedPage: number | null = null;
  while (!a.done) {
    const k = a.keyword();
    switch (k) {
      case "fixed":
        kw.add(k);
        fixedPage = a.page("NEWP");
        break;
      case "maymove": case "dontunmap": case "relocate_anon": case "must_relocate_anon":
        kw.add(k);
        break;
      default:
        throw new Bad(`mremap: unknown keyword '${k}'`);
    }
  }
  return {
    op: "mremap", page, oldPages, newPages, maymove: kw.has("maymove"), fixedPage, dontunmap: kw.has("dontunmap"),
    relocateAnon: kw.has("relocate_anon"), mustRelocateAnon: kw.has("must_relocate_anon"),
  };
}

/** Optional `read|write` of touch/touchn (default write). */
function parseAccess(a: Args, op: string): boolean {
  if (a.done) return true;
  const k = a.keyword();
  if (k !== "read" && k !== "write") throw new Bad(`${op}: unknown keyword '${k}'`);
  a.end();
  return k === "write";
}

/** One optional keyword out of `allowed`, or null. */
function optionalKeyword(a: Args, op: string, allowed: readonly string[]): string | null {
  if (a.done) return null;
  const k = a.keyword();
  if (!allowed.includes(k)) throw new Bad(`${op}: unknown keyword '${k}'`);
  a.end();
  return k;
}

/**
 * Parses one op from its tokens (op name first); `at` is the value of `@`
 * inside a repeat. Throws Bad on bad syntax.
 */
function parseTokens(toks: readonly string[], a: Args, at: At | null): Body<Op> {
  const name = toks[0];
  let op: Body<Op>;
  switch (name) {
    case "mmap":
      return parseMmap(a);
    case "munmap":
      op = { op: "munmap", page: a.page("P"), pages: a.page("N") };
      break;
    case "mprotect":
      op = { op: "mprotect", page: a.page("P"), pages: a.page("N"), prot: a.prot() };
      break;
    case "mremap":
      return parseMremap(a);
    case "touch": {
      const page = a.page("P");
      return { op: "touch", page, write: parseAccess(a, name) };
    }
    case "touchn": {
      const page = a.page("P");
      const pages = a.page("N");
      return { op: "touchn", page, pages, write: parseAccess(a, name) };
    }
    case "peek":
      op = { op: "peek", page: a.page("P") };
      break;
    case "madvise": {
      const page = a.page("P");
      const pages = a.page("N");
      const t = a.rest();
      if (t.length !== 1) throw new Bad(t.length ? `madvise: unexpected '${t[1]}'` : "madvise: missing ADVICE");
      let advice: number;
      if (Object.hasOwn(MADVICE, t[0])) advice = MADVICE[t[0]];
      else if (t[0] !== "@" && parseCInt(t[0]) === null) throw new Bad(`madvise: unknown advice '${t[0]}'`);
      else advice = new Args(name, t, at).ranged("ADVICE", INT32_MIN, INT32_MAX);
      op = { op: "madvise", page, pages, advice };
      break;
    }
    case "mlock": {
      const page = a.page("P");
      const pages = a.page("N");
      return { op: "mlock", page, pages, onfault: optionalKeyword(a, name, ["onfault"]) !== null };
    }
    case "munlock":
      op = { op: "munlock", page: a.page("P"), pages: a.page("N") };
      break;
    case "mseal":
      op = { op: "mseal", page: a.page("P"), pages: a.page("N") };
      break;
    case "brk":
      op = { op: "brk", delta: a.signed("DELTA") };
      break;
    case "dumpheap":
      op = { op: "dumpheap" };
      break;
    case "fork":
      return { op: "fork", mode: optionalKeyword(a, name, ["child", "parent"]) === "parent" ? "parent" : "child" };
    case "dump":
      return { op: "dump", full: optionalKeyword(a, name, ["full"]) !== null };
    case "count":
      return { op: "count", total: optionalKeyword(a, name, ["total"]) !== null };
    case "padvmas":
      op = { op: "padvmas", target: a.page("TARGET"), page: a.page("P") };
      break;
    case "exit":
      op = { op: "exit", code: a.done ? 0 : a.ranged("CODE", 0, 255) };
      break;
    case "sysctl": {
      const key = a.keyword();
      if (!(SYSCTL_KEYS as readonly string[]).includes(key)) throw new Bad(`sysctl: unknown key '${key}'`);
      op = { op: "sysctl", key: key as SysctlKey, value: a.exact("VALUE") };
      break;
    }
    case "repeat":
      if (at) throw new Bad("repeat: cannot be repeated");
      return parseRepeat(a);
    case "setrlimit": {
      const resource = a.keyword() as RlimitResource;
      if (!RLIMIT_NAMES.includes(resource)) throw new Bad(`setrlimit: unknown resource '${resource}'`);
      const cur = a.limit("CUR");
      op = { op: "setrlimit", resource, cur, max: a.done ? cur : a.limit("MAX") };
      break;
    }
    case "capdrop": {
      const cap = a.keyword() as Capability;
      if (!CAP_NAMES.includes(cap)) throw new Bad(`capdrop: unknown capability '${cap}'`);
      op = { op: "capdrop", cap };
      break;
    }
    default:
      throw new Bad(`unknown op '${name}'`);
  }
  a.end();
  return op;
}

/** An Args reader over the arguments of `toks` (the op name is toks[0]). */
function argsOf(toks: readonly string[], at: At | null): Args {
  return new Args(toks[0], toks.slice(1), at);
}

function parseRepeat(a: Args): Body<RepeatOp> {
  const count = a.page("COUNT");
  if (count > MAX_REPEAT) throw new Bad(`repeat: COUNT must be <= ${MAX_REPEAT}`);
  const start = a.exact("START");
  if (start < 0n) throw new Bad("repeat: START must be >= 0");
  const step = a.exact("STEP");
  const body = a.rest();
  if (body.length === 0) throw new Bad("repeat: missing OP");
  if (NOT_REPEATABLE.has(body[0])) throw new Bad(`repeat: '${body[0]}' cannot be repeated`);
  // the repeated op is checked once, with @ = START
  const at: At = { value: start, overflow: false };
  parseTokens(body, argsOf(body, at), at);
  return { op: "repeat", count, start, step, body };
}

/** The value of `@` in iteration i: START + i*STEP, checked like C's overflow builtins. */
function atValue(r: Pick<RepeatOp, "start" | "step">, i: number): At {
  const inRange = (v: bigint): boolean => v >= INT64_MIN && v <= INT64_MAX;
  const product = BigInt(i) * r.step;
  const value = r.start + product;
  return { value, overflow: !inRange(product) || !inRange(value) };
}

/** What one iteration of a repeat runs. */
export interface RepeatIteration {
  /** The value of `@` (START + i*STEP), or null when it overflowed. */
  at: bigint | null;
  /**
   * The op to run; or ERANGE_ARENA when `@` made a page argument negative;
   * or EPARSE when it made another argument invalid (a file ID outside
   * 0..63, an advice outside int): both are the iteration's result.
   */
  op: Op | "ERANGE_ARENA" | "EPARSE";
  /** Why the iteration gave EPARSE (for diagnostics), else undefined. */
  reason?: string;
}

/** The op of iteration `i` of a repeat parsed by parseScript. */
export function repeatIteration(r: RepeatOp, i: number): RepeatIteration {
  const at = atValue(r, i);
  const a = argsOf(r.body, at);
  let body: Body<Op>;
  try {
    body = parseTokens(r.body, a, at);
  } catch (e) {
    if (e instanceof Bad) return { at: at.overflow ? null : at.value, op: "EPARSE", reason: `${e.message} (iteration ${i})` };
    throw e;
  }
  const v = at.overflow ? null : at.value;
  if (a.atBad) return { at: v, op: "ERANGE_ARENA" };
  const text = r.body.map((t) => (t === "@" ? String(v ?? "?") : normalizeToken(t))).join(" ");
  return { at: v, op: { ...body, line: r.line, text } as Op };
}

/**
 * Parses one line of a script (its 1-based number is `line`). Returns null for
 * a line that prints nothing (blank or comment only).
 */
export function parseLine(raw: string, line: number): ScriptEntry | null {
  const hash = raw.indexOf("#");
  // a NUL byte reads as a space (as in the native runner)
  const s = trimC((hash >= 0 ? raw.slice(0, hash) : raw).replaceAll("\0", " "));
  if (s === "") return null;
  const toks = s.split(/[ \t]+/);
  if (toks[0] === "echo") {
    const message = s.slice(4).replace(/^[ \t]+/, "");
    return { op: "echo", line, text: message === "" ? "echo" : `echo ${message}`, message };
  }
  const text = toks.map(normalizeToken).join(" ");
  try {
    if (toks.length > MAX_TOKENS) throw new Bad(`more than ${MAX_TOKENS} tokens`);
    return { ...parseTokens(toks, argsOf(toks, null), null), line, text } as Op;
  } catch (e) {
    if (e instanceof Bad) return { op: "EPARSE", line, text, reason: printable(e.message) };
    throw e;
  }
}

/**
 * A reason fit for a terminal whatever the line held: control bytes as \xNN,
 * a quoted token longer than 40 characters cut (with its length), at most 200
 * characters in all.
 */
function printable(reason: string): string {
  const r = reason
    .replace(/'([^']{41,})'/g, (_, t: string) => `'${t.slice(0, 40)}...' (${t.length} characters)`)
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return r.length > 200 ? `${r.slice(0, 200)}...` : r;
}

/** Parses a whole script: one entry per line that prints something, in order. */
export function parseScript(script: string): ScriptEntry[] {
  const out: ScriptEntry[] = [];
  const lines = script.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const e = parseLine(lines[i], i + 1);
    if (e !== null) out.push(e);
  }
  return out;
}
