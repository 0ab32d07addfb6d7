// The native reader's fast path (a character scanner) against its general
// path (regular expressions and a map of keys): the same events, the same
// unparsed records and errors, on generated traces and on lines damaged at
// random (a character changed, deleted or doubled; keys reordered).
import { describe, expect, it } from "vitest";
import { GEN_KINDS, generate } from "../../src/gen/generate.js";
import type { TraceEvent } from "../../src/trace/events.js";
import { NativeParser } from "../../src/trace/native.js";

function parseAll(lines: readonly string[], fast: boolean, strict = false): TraceEvent[] | string {
  const p = new NativeParser({ strict }, fast);
  const out: TraceEvent[] = [];
  try {
    for (const l of lines) p.line(l, out);
  } catch (e) {
    return `${(e as Error).message} after ${out.length}`;
  }
  return out;
}

/** A small deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const ALPHABET = ' =-"\\/0123456789abcdefx_\t\u00e9A';

function damage(line: string, r: () => number): string {
  const i = Math.floor(r() * (line.length + 1));
  const c = ALPHABET[Math.floor(r() * ALPHABET.length)];
  switch (Math.floor(r() * 5)) {
    case 0: return line.slice(0, i) + c + line.slice(i + 1);
    case 1: return line.slice(0, i) + line.slice(i + 1);
    case 2: return line.slice(0, i) + c + line.slice(i);
    case 3: {
      // two key=value pairs swapped (the general path takes any order)
      const parts = line.split(" ");
      if (parts.length < 6) return line + " ";
      const a = 4 + Math.floor(r() * (parts.length - 4));
      const b = 4 + Math.floor(r() * (parts.length - 4));
      [parts[a], parts[b]] = [parts[b], parts[a]];
      return parts.join(" ");
    }
    default: return line.slice(0, i) + line.slice(i, i + 3).repeat(2) + line.slice(i + 3);
  }
}

describe("native reader: fast path = general path", () => {
  for (const kind of GEN_KINDS) {
    it(`${kind}: 3,000 generated events, then each line damaged`, () => {
      const lines = [...generate(kind, { events: 3000, seed: 7 })];
      const fast = parseAll(lines, true);
      expect(fast).toEqual(parseAll(lines, false));
      expect((fast as TraceEvent[]).filter((e) => e.kind === "unparsed")).toEqual([]);
      const r = rng(11);
      const damaged = lines.map((l, i) => (i > 0 && r() < 0.5 ? damage(l, r) : l));
      const got = parseAll(damaged, true);
      expect(got).toEqual(parseAll(damaged, false));
      expect((got as TraceEvent[]).some((e) => e.kind === "unparsed")).toBe(true);
      // --strict: the same error at the same line
      expect(parseAll(damaged, true, true)).toEqual(parseAll(damaged, false, true));
    });
  }

  it("numbers at the edge of exactness, escapes, nulls and spaces", () => {
    const lines = [
      "vmasim-trace 1",
      "page_fault 1 5 7 comm=\"a b\" address=0xfffffffffffff ip=999999999999999 error_code=6 user=1",
      "page_fault 2 5 7 address=0x1fffffffffffff ip=9007199254740991 error_code=6 user=1",
      "page_fault 3 5 7 address=0x20000000000000 ip=9007199254740993 error_code=6",
      "page_fault 4 9007199254740993 7 address=0x1000",
      "munmap 5 - 7/8 comm=\"x\\\"y\" addr=-0x0 len=-0 ret=-",
      "mmap 6 5 7 addr=0x1000 len=4096 prot=0x3 flags=0x22 fd=-1 off=0 path=\"\\u00e9\" ret=0x1000",
      "mmap 7 5 7 addr=0X1000 len=4096",
      "brk 8 5 7  brk=0  ret=0x10  ",
      "brk 9 5 7 brk=0 brk=0",
      "brk 10 5 7 comm=- brk=0",
      "brk 11 5 7 errno=- unfinished=1 ret=-",
      "clone 12 5 7 call=vfork in_child=0 child=- flags=-",
      "unparsed 13 - - reason=\"r\" text=\"t\"",
      "   ",
      "# comment",
      "\u00a0",
      "exit 14 5 7 status=-5 ret=",
    ];
    expect(parseAll(lines, true)).toEqual(parseAll(lines, false));
  });
});
