import { describe, expect, it } from "vitest";
import {
  MADVICE, MAX_TOKENS, parseCInt, parseLine, parseProt, parseScript, repeatIteration,
  type Op, type RepeatOp, type ScriptEntry,
} from "../../src/scenario/parse.js";

/** Parses one line that must be valid, returning the op. */
function op(line: string): Op {
  const e = parseLine(line, 1);
  if (e === null || e.op === "EPARSE") throw new Error(`expected an op from '${line}', got ${JSON.stringify(e)}`);
  return e;
}

/** The printed form of a line that must be EPARSE. */
function eparse(line: string, n = 1): string {
  const e = parseLine(line, n);
  if (e === null || e.op !== "EPARSE") throw new Error(`expected EPARSE from '${line}', got ${JSON.stringify(e)}`);
  return `${e.text} => EPARSE (line ${e.line})`;
}

describe("numbers (strtoll base 0, consumed whole)", () => {
  it.each([
    ["0", 0n], ["42", 42n], ["0x10", 16n], ["0X1f", 31n], ["010", 8n], ["00", 0n], ["+5", 5n], ["-5", -5n],
    ["-0x10", -16n], ["-0", 0n], ["9223372036854775807", 9223372036854775807n], ["-9223372036854775808", -9223372036854775808n],
  ])("%s reads as %s", (s, v) => {
    expect(parseCInt(s)).toBe(v);
  });

  it.each(["", "x", "0x", "08", "09", "1e3", "12abc", "0x1g", "--1", "+-1", " 1", "1 ", "1.0", "9223372036854775808", "-9223372036854775809"])(
    "'%s' is not a number",
    (s) => {
      expect(parseCInt(s)).toBeNull();
    },
  );
});

describe("PROT", () => {
  it.each([
    ["none", 0], ["r", 1], ["w", 2], ["x", 4], ["rw", 3], ["rwx", 7], ["r-x", 5], ["---", 0], ["-w-", 2], ["xr", 5],
  ])("%s = %d", (s, p) => {
    expect(parseProt(s)).toBe(p);
  });
  it.each(["", "rwz", "R", "None", "0", "read"])("'%s' is not a PROT", (s) => {
    expect(parseProt(s)).toBeNull();
  });
});

describe("line handling and normalization", () => {
  it("blank and comment-only lines print nothing", () => {
    expect(parseLine("", 1)).toBeNull();
    expect(parseLine("   \t  ", 1)).toBeNull();
    expect(parseLine("# a comment", 1)).toBeNull();
    expect(parseLine("   # indented comment", 1)).toBeNull();
    expect(parseLine("\r", 1)).toBeNull();
  });

  it("joins tokens with one space and rewrites numbers in decimal", () => {
    expect(op("mmap 0x10 4 rw").text).toBe("mmap 16 4 rw");
    expect(op("  mmap\t 010   4  r-x  # comment").text).toBe("mmap 8 4 r-x");
    expect(op("mmap 1 +2 rw file 0x3 0x10 shared").text).toBe("mmap 1 2 rw file 3 16 shared");
    expect(op("brk -0x2").text).toBe("brk -2");
    expect(op("count\r").text).toBe("count");
    expect(op("repeat 0x4 0x10 2 mmap @ 1 r").text).toBe("repeat 4 16 2 mmap @ 1 r");
  });

  it("normalizes the numbers of a bad line too", () => {
    expect(eparse("mmap 0x10 4 rq", 7)).toBe("mmap 16 4 rq => EPARSE (line 7)");
    expect(eparse("frobnicate 0x10   x", 3)).toBe("frobnicate 16 x => EPARSE (line 3)");
  });

  it("echo prints the rest of the line as written, without comment, trimmed", () => {
    const e = op("  echo   hello   0x10  world   # not printed");
    expect(e).toMatchObject({ op: "echo", text: "echo hello   0x10  world", message: "hello   0x10  world" });
    expect(op("echo").text).toBe("echo");
    expect(op("echo    # nothing").text).toBe("echo");
    expect(op("echo\t== tab separated").text).toBe("echo == tab separated");
    expect(eparse("echoes x")).toBe("echoes x => EPARSE (line 1)");
  });

  it("numbers lines from 1, counting blank and comment lines", () => {
    const script = "# header\n\nmmap 0 1 rw\nbogus\n   \ndump # c\n\techo hi";
    const entries = parseScript(script);
    expect(entries.map((e) => [e.line, e.op, e.text])).toEqual([
      [3, "mmap", "mmap 0 1 rw"],
      [4, "EPARSE", "bogus"],
      [6, "dump", "dump"],
      [7, "echo", "echo hi"],
    ]);
  });

  it("accepts CRLF line ends", () => {
    expect(parseScript("mmap 0 1 rw\r\ndump\r\n").map((e) => e.text)).toEqual(["mmap 0 1 rw", "dump"]);
  });
});

describe("every op of the grammar", () => {
  it("mmap: defaults are private, anonymous, noreplace", () => {
    expect(op("mmap 3 4 rw")).toEqual({
      op: "mmap", line: 1, text: "mmap 3 4 rw", page: 3, pages: 4, prot: 3, file: null, shared: false,
      placement: "noreplace", populate: false, noreserve: false, locked: false, stack: false,
    });
  });

  it("mmap: all keywords, in any order", () => {
    expect(op("mmap 0 2 r locked noreserve populate hint shared file 5 7")).toMatchObject({
      page: 0, pages: 2, prot: 1, file: { id: 5, offset: 7 }, shared: true, placement: "hint",
      populate: true, noreserve: true, locked: true,
    });
    expect(op("mmap 0 2 none fixed anon shared")).toMatchObject({ prot: 0, file: null, shared: true, placement: "fixed", stack: false });
    expect(op("mmap 0 2 rw stack")).toMatchObject({ stack: true });
    expect(parseLine("mmap 0 2 rw stack stack", 1)).toMatchObject({ op: "EPARSE", reason: "mmap: 'stack' given twice" });
    expect(op("mmap 0 2 rwx noreplace")).toMatchObject({ prot: 7, placement: "noreplace" });
    expect(op("mmap 0 1 r file 63 0")).toMatchObject({ file: { id: 63, offset: 0 } });
  });

  it("munmap, mprotect", () => {
    expect(op("munmap 4 8")).toMatchObject({ op: "munmap", page: 4, pages: 8 });
    expect(op("mprotect 4 8 r-x")).toMatchObject({ op: "mprotect", page: 4, pages: 8, prot: 5 });
  });

  it("mremap", () => {
    expect(op("mremap 1 2 3")).toMatchObject({ op: "mremap", page: 1, oldPages: 2, newPages: 3, maymove: false, fixedPage: null, dontunmap: false });
    expect(op("mremap 1 2 3 dontunmap fixed 0x20 maymove")).toMatchObject({ maymove: true, fixedPage: 32, dontunmap: true });
    expect(op("mremap 1 2 3")).toMatchObject({ relocateAnon: false, mustRelocateAnon: false });
    expect(op("mremap 1 2 2 relocate_anon fixed 9")).toMatchObject({ relocateAnon: true, mustRelocateAnon: false, maymove: false, fixedPage: 9 });
    expect(op("mremap 1 2 2 must_relocate_anon relocate_anon")).toMatchObject({ relocateAnon: true, mustRelocateAnon: true });
  });

  it("touch, touchn, peek", () => {
    expect(op("touch 5")).toMatchObject({ op: "touch", page: 5, write: true });
    expect(op("touch 5 read")).toMatchObject({ write: false });
    expect(op("touch 5 write")).toMatchObject({ write: true });
    expect(op("touchn 5 3 read")).toMatchObject({ op: "touchn", page: 5, pages: 3, write: false });
    expect(op("touchn 5 3")).toMatchObject({ write: true });
    expect(op("peek 9")).toMatchObject({ op: "peek", page: 9 });
  });

  it("madvise: every advice name, or a number", () => {
    for (const [name, value] of Object.entries(MADVICE)) {
      expect(op(`madvise 0 1 ${name}`)).toMatchObject({ op: "madvise", page: 0, pages: 1, advice: value });
    }
    expect(Object.keys(MADVICE)).toHaveLength(25);
    expect(MADVICE.dontneed).toBe(4);
    expect(MADVICE.guard_install).toBe(102);
    expect(op("madvise 0 1 0x64")).toMatchObject({ advice: 100, text: "madvise 0 1 100" });
  });

  it("mlock, munlock, mseal", () => {
    expect(op("mlock 1 2")).toMatchObject({ op: "mlock", page: 1, pages: 2, onfault: false });
    expect(op("mlock 1 2 onfault")).toMatchObject({ onfault: true });
    expect(op("munlock 1 2")).toMatchObject({ op: "munlock", page: 1, pages: 2 });
    expect(op("mseal 1 2")).toMatchObject({ op: "mseal", page: 1, pages: 2 });
  });

  it("brk takes a signed delta", () => {
    expect(op("brk 4")).toMatchObject({ op: "brk", delta: 4 });
    expect(op("brk -3")).toMatchObject({ op: "brk", delta: -3 });
  });

  it("dumpheap, dump, count, fork, exit, padvmas", () => {
    expect(op("dumpheap")).toMatchObject({ op: "dumpheap" });
    expect(op("dump")).toMatchObject({ op: "dump", full: false });
    expect(op("dump full")).toMatchObject({ op: "dump", full: true, text: "dump full" });
    expect(op("count")).toMatchObject({ op: "count", total: false });
    expect(op("count total")).toMatchObject({ op: "count", total: true });
    expect(op("fork")).toMatchObject({ op: "fork", mode: "child", text: "fork" });
    expect(op("fork child")).toMatchObject({ op: "fork", mode: "child", text: "fork child" });
    expect(op("fork parent")).toMatchObject({ op: "fork", mode: "parent" });
    expect(op("exit")).toMatchObject({ op: "exit", code: 0 });
    expect(op("exit 3")).toMatchObject({ op: "exit", code: 3 });
    expect(op("exit 0xff")).toMatchObject({ op: "exit", code: 255, text: "exit 255" });
    expect(op("padvmas 65000 0x100")).toMatchObject({ op: "padvmas", target: 65000, page: 256 });
  });

  it("repeat keeps its body; each iteration substitutes @ = START + i*STEP", () => {
    const r = op("repeat 3 10 -2 mprotect @ 1 r") as RepeatOp;
    expect(r).toMatchObject({ op: "repeat", count: 3, start: 10n, step: -2n, body: ["mprotect", "@", "1", "r"] });
    expect(repeatIteration(r, 2)).toEqual({
      at: 6n, op: { op: "mprotect", page: 6, pages: 1, prot: 1, line: 1, text: "mprotect 6 1 r" },
    });
    const m = op("repeat 2 0 4 mmap @ @ rw file 1 @") as RepeatOp;
    expect(repeatIteration(m, 1).op).toMatchObject({ op: "mmap", page: 4, pages: 4, file: { id: 1, offset: 4 } });
    expect(op("repeat 0 0 1 munmap @ 1")).toMatchObject({ count: 0 });
    expect(repeatIteration(op("repeat 5 1 -1 brk @") as RepeatOp, 3)).toMatchObject({ at: -2n, op: { op: "brk", delta: -2 } });
  });

  it("repeat: an iteration whose @ makes a page negative prints ERANGE_ARENA", () => {
    const r = op("repeat 4 2 -1 munmap @ 1") as RepeatOp;
    expect(repeatIteration(r, 2).op).toMatchObject({ op: "munmap", page: 0 });
    expect(repeatIteration(r, 3)).toEqual({ at: -1n, op: "ERANGE_ARENA" });
    expect(repeatIteration(op("repeat 2 0 -1 padvmas @ 10") as RepeatOp, 1).op).toBe("ERANGE_ARENA");
  });

  it("repeat: an iteration whose @ makes another argument invalid is EPARSE", () => {
    expect(repeatIteration(op("repeat 70 60 1 mmap 0 1 r file @ 0") as RepeatOp, 4)).toEqual({ at: 64n, op: "EPARSE", reason: "mmap: file ID must be 0..63 (iteration 4)" });
    expect(repeatIteration(op("repeat 70 60 -70 mmap 0 1 r file @ 0") as RepeatOp, 1)).toEqual({ at: -10n, op: "EPARSE", reason: "mmap: file ID must be 0..63 (iteration 1)" });
    expect(repeatIteration(op("repeat 2 0x7fffffff 1 madvise 0 1 @") as RepeatOp, 1)).toEqual({ at: 2147483648n, op: "EPARSE", reason: "madvise: ADVICE must be -2147483648..2147483647 (iteration 1)" });
  });

  it("repeat: @ overflowing 64 bits", () => {
    const r = op("repeat 3 0x7ffffffffffffffe 1 munmap @ 1") as RepeatOp;
    expect(repeatIteration(r, 1).at).toBe(0x7fffffffffffffffn);
    expect(repeatIteration(r, 2)).toEqual({ at: null, op: "ERANGE_ARENA" });
    expect(repeatIteration(op("repeat 3 0x7ffffffffffffffe 1 brk @") as RepeatOp, 2)).toEqual({ at: null, op: "EPARSE", reason: "brk: DELTA overflows (iteration 2)" });
  });

  it("a NUL byte reads as a space", () => {
    expect(op("munmap\x004 1")).toMatchObject({ op: "munmap", page: 4, text: "munmap 4 1" });
  });

  it(`a line of more than ${MAX_TOKENS} tokens is EPARSE, printed whole; echo has no limit`, () => {
    const zeros = (n: number): string => Array.from({ length: n }, () => "0x0").join(" ");
    expect(eparse(`munmap ${zeros(39)}`)).toBe(`munmap ${Array(39).fill("0").join(" ")} => EPARSE (line 1)`);
    const long = `echo ${zeros(100)}`;
    expect(op(long).text).toBe(long);
  });
});

describe("EPARSE", () => {
  const bad: [string, string][] = [
    ["unknown op", "mmapp 0 1 rw"],
    ["missing argument", "mmap 0 1"],
    ["missing argument", "munmap 0"],
    ["missing PROT", "mprotect 0 1"],
    ["extra argument", "munmap 0 1 2"],
    ["extra argument", "dumpheap now"],
    ["extra argument", "peek 1 2"],
    ["extra argument", "padvmas 1 2 3"],
    ["bad number", "munmap 08 1"],
    ["bad number", "munmap 0x 1"],
    ["bad number", "munmap 1e3 1"],
    ["bad number", "munmap 12abc 1"],
    ["number beyond 64 bits", "munmap 99999999999999999999 1"],
    ["negative page", "munmap -1 1"],
    ["negative count", "mmap 0 -1 rw"],
    ["bad PROT", "mmap 0 1 rwq"],
    ["number as PROT", "mprotect 0 1 7"],
    ["unknown keyword", "mmap 0 1 rw private"],
    ["keyword repeated", "mmap 0 1 rw shared shared"],
    ["keyword repeated", "mmap 0 1 rw populate populate"],
    ["fixed and hint", "mmap 0 1 rw fixed hint"],
    ["noreplace and fixed", "mmap 0 1 rw noreplace fixed"],
    ["anon and file", "mmap 0 1 rw anon file 0 0"],
    ["anon repeated", "mmap 0 1 rw anon anon"],
    ["file without its arguments", "mmap 0 1 rw file 0"],
    ["file ID out of range", "mmap 0 1 rw file 64 0"],
    ["negative file offset", "mmap 0 1 rw file 1 -1"],
    ["mremap fixed without NEWP", "mremap 0 1 1 fixed"],
    ["mremap keyword repeated", "mremap 0 1 1 maymove maymove"],
    ["mremap unknown keyword", "mremap 0 1 1 hint"],
    ["touch unknown keyword", "touch 1 exec"],
    ["touch read and write", "touch 1 read write"],
    ["touchn missing N", "touchn 1"],
    ["madvise unknown advice", "madvise 0 1 sometimes"],
    ["madvise missing advice", "madvise 0 1"],
    ["madvise extra", "madvise 0 1 cold pageout"],
    ["madvise advice beyond int", "madvise 0 1 0x100000000"],
    ["mlock unknown keyword", "mlock 0 1 now"],
    ["munlock onfault", "munlock 0 1 onfault"],
    ["brk missing delta", "brk"],
    ["brk not a number", "brk up"],
    ["dump unknown keyword", "dump fully"],
    ["count unknown keyword", "count all"],
    ["fork unknown keyword", "fork both"],
    ["fork extra", "fork child parent"],
    ["exit not a number", "exit now"],
    ["exit code above 255", "exit 256"],
    ["negative exit code", "exit -1"],
    ["more than 32 tokens", `munmap 0 1${" 0".repeat(31)}`],
    ["repeat without op", "repeat 3 0 1"],
    ["repeat of fork", "repeat 3 0 1 fork"],
    ["repeat of repeat", "repeat 3 0 1 repeat 2 0 1 munmap @ 1"],
    ["repeat of exit", "repeat 1 0 1 exit"],
    ["repeat of dump", "repeat 1 0 1 dump"],
    ["repeat of dumpheap", "repeat 1 0 1 dumpheap"],
    ["repeat of count", "repeat 1 0 1 count"],
    ["repeat of echo", "repeat 1 0 1 echo @"],
    ["repeat of an unknown op", "repeat 1 0 1 frob @"],
    ["repeat with @ as op", "repeat 1 0 1 @ 1"],
    ["repeat whose body is bad", "repeat 2 0 1 munmap @"],
    ["repeat with a negative START", "repeat 2 -1 1 munmap @ 1"],
    ["repeat with @ as START", "repeat 2 @ 1 munmap @ 1"],
    ["repeat whose op is bad with @ = START", "repeat 2 64 1 mmap 0 1 r file @ 0"],
    ["repeat with a negative literal page", "repeat 2 0 1 munmap -1 @"],
    ["repeat with @ in a keyword position", "repeat 2 0 1 mmap 0 1 rw @"],
    ["repeat with negative count", "repeat -1 0 1 munmap @ 1"],
    ["repeat with a count above 2^24", "repeat 16777217 0 1 munmap @ 1"],
    ["repeat with a count of 10^11", "repeat 99999999999 0 0 touch 0"],
    ["@ outside repeat", "munmap @ 1"],
  ];
  it.each(bad)("%s: %s", (_why, line) => {
    expect(eparse(line, 12)).toMatch(/ => EPARSE \(line 12\)$/);
  });

  it("the reasons name what is wrong: the op, the argument, the value", () => {
    const why = (line: string) => (parseLine(line, 1) as { reason: string }).reason;
    expect(why("bogus 1")).toBe("unknown op 'bogus'");
    expect(why("munmap 0")).toBe("munmap: missing N");
    expect(why("mprotect 0 1 rwz")).toBe("mprotect: bad PROT 'rwz'");
    expect(why("mmap 0 1 rw file 64 0")).toBe("mmap: file ID must be 0..63");
    expect(why("madvise 0 1 frob")).toBe("madvise: unknown advice 'frob'");
    expect(why("madvise 0 1 0x80000000")).toBe("madvise: ADVICE must be -2147483648..2147483647");
    expect(why("munmap x 1")).toBe("munmap: P 'x' is not a number");
    expect(why("repeat 99999999999 0 0 touch 0")).toBe("repeat: COUNT must be <= 16777216");
    expect(parseLine("repeat 16777216 0 0 touch 0", 1)).toMatchObject({ op: "repeat", count: 16777216 });
  });

  it("parse errors keep their place among the ops, with a reason", () => {
    const entries: ScriptEntry[] = parseScript("mmap 0 1 rw\nmmap 0 1 rw fixed fixed\nmunmap 0 1");
    expect(entries.map((e) => e.op)).toEqual(["mmap", "EPARSE", "munmap"]);
    expect(entries[1]).toMatchObject({ line: 2, text: "mmap 0 1 rw fixed fixed" });
    expect((entries[1] as { reason: string }).reason).toContain("fixed");
  });
});
