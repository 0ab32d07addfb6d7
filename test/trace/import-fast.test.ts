// The import's byte path against its text path, which it must not change:
// PerfParser.bytes() (the page-fault fast path, perf_fast.ts) against
// PerfParser.line() on every line of the bundled traces and on hostile
// lines; readByteLineBatches() against readLineBatches() (the same lines
// and damage reports for every way of cutting and damaging a file); and
// NativeByteWriter against NativeWriter (the same bytes).

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { PageFaultEvent, TraceEvent } from "../../src/trace/events.js";
import { ByteLineSplitter, type LineDamage, LineSplitter, readByteLineBatches, readLineBatches } from "../../src/trace/lines.js";
import { NativeWriter } from "../../src/trace/native.js";
import { NativeByteWriter } from "../../src/trace/native_bytes.js";
import { PerfParser } from "../../src/trace/perf.js";
import { FIXTURES, HAVE_SHARED, SHARED } from "./util.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BUNDLED = [ROOT + "traces/jemalloc_python.perf.txt.gz", ...["jemalloc_python", "lua_make_j2", "node_alloc"].map((t) => `${FIXTURES}${t}.head.perf.txt.gz`)];
const SHARED_PERF = ["glibc_malloc_8threads", "jemalloc_python", "lua_make_j2", "node_alloc", "python_glibc_nozp"].map((t) => `${SHARED}${t}.perf.txt.gz`);

/** Same keys in the same order, each value the same (Object.is: -0 is not 0). */
function sameEvent(a: TraceEvent, b: TraceEvent): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i] || !Object.is((a as unknown as Record<string, unknown>)[ka[i]], (b as unknown as Record<string, unknown>)[kb[i]])) return false;
  }
  return true;
}

/** A PerfParser that counts the lines its fast path left to line(). */
class CountingParser extends PerfParser {
  slow = 0;
  override line(text: string, out: TraceEvent[]): void {
    this.slow++;
    super.line(text, out);
  }
}

/**
 * Two parsers side by side, one fed text, the other bytes (buf[bounds[2k],
 * bounds[2k+1]), other bytes around each line, so that reading past its end
 * would show); returns the first line where their events differ, or null,
 * and how many lines the fast path took.
 */
function compareLines(buf: Buffer, bounds: number[]): { diff: string | null; fast: number } {
  const text = new PerfParser();
  const bytes = new CountingParser();
  const a: TraceEvent[] = [];
  const b: TraceEvent[] = [];
  const n = bounds.length / 2;
  for (let i = 0; i < n; i++) {
    a.length = 0;
    b.length = 0;
    const s = bounds[2 * i];
    const e = bounds[2 * i + 1];
    text.line(buf.toString("utf8", s, e), a);
    bytes.bytes(buf, s, e, b);
    if (a.length !== b.length || a.some((x, k) => !sameEvent(x, b[k]))) {
      return { diff: `line ${i + 1} '${buf.toString("utf8", s, Math.min(e, s + 200))}': ${JSON.stringify(a)} vs ${JSON.stringify(b)}`, fast: 0 };
    }
  }
  a.length = 0;
  b.length = 0;
  text.end(a);
  bytes.end(b);
  if (a.length !== b.length || a.some((x, k) => !sameEvent(x, b[k]))) return { diff: "at the end", fast: 0 };
  return { diff: null, fast: n - bytes.slow };
}

/** A file's lines as ranges of its bytes (split on "\n": the bundled traces have no "\r"). */
function fileLines(path: string): [Buffer, number[]] {
  const all = gunzipSync(readFileSync(path));
  const bounds: number[] = [];
  let s = 0;
  for (let nl = all.indexOf(10); nl >= 0; nl = all.indexOf(10, s)) {
    bounds.push(s, nl);
    s = nl + 1;
  }
  if (s < all.length) bounds.push(s, all.length);
  return [all, bounds];
}

/** Lines one after the other, with bytes between them that would continue a number or a field. */
function joined(lines: Buffer[]): [Buffer, number[]] {
  const parts: Buffer[] = [];
  const bounds: number[] = [];
  let at = 0;
  for (const l of lines) {
    const pad = Buffer.from("0, 7)12 (");
    parts.push(l, pad);
    bounds.push(at, at + l.length);
    at += l.length + pad.length;
  }
  return [Buffer.concat(parts), bounds];
}

const FAULT = "1073108.212 (         ): env/3529 exceptions:page_fault_user(address: 0x7f9192610b70, ip: 140263202818928, error_code: 20)";

/** Lines built to break the fast path (each must give line()'s events). */
function hostileLines(): Buffer[] {
  const out: string[] = [
    FAULT,
    "1073108.212 ( 0.011 ms): env/3529 exceptions:page_fault_kernel(address: 0x55d8d9f55424, ip: -2123025558, error_code: 2)",
    "     ? (         ): env/3529 exceptions:page_fault_user(address: 0x1, ip: 2, error_code: 4)",
    "1.5 (): a b c/1 exceptions:page_fault_user()",
    "1.5 (): /1 exceptions:page_fault_user(error_code: 6)",
    "1.5 (): x/1 exceptions:page_fault_user(ip: -0)",
    "1.5 (): x/1 exceptions:page_fault_user(ip: 0007, error_code: 00)",
    "1.5 (): x/1 exceptions:page_fault_user(address: 0x1, )",
    "1.5 (): x/1 exceptions:page_fault_user(address: 0x, ip: 1)",
    "1.5 (): x/1 exceptions:page_fault_user(address: 0xABC)",
    "1.5 (): x/1 exceptions:page_fault_user(ip: 1, address: 0x10)",
    "1.5 (): x/1 exceptions:page_fault_user(address: 0x10) ",
    "1.5 (): x/1 exceptions:page_fault_user(address: 0x10))",
    "1.5 (): x/1  exceptions:page_fault_user(address: 0x10)",
    "1.5 (): kworker/0:1/77 exceptions:page_fault_user(address: 0x10)",
    "1.5 (): a/2/3 exceptions:page_fault_user(address: 0x10)",
    "1.5 ():\tx/1 exceptions:page_fault_user(address: 0x10)",
    "\t1.5 (): x/1 exceptions:page_fault_user(address: 0x10)",
    "1.5 (\t): x/1 exceptions:page_fault_user(address: 0x10)",
    "1.5 ( 1.2 ms ): x/1 exceptions:page_fault_user(address: 0x10)",
    "1.5 ( 1.2ms): x/1 exceptions:page_fault_user(address: 0x10)",
    "1. (): x/1 exceptions:page_fault_user(address: 0x10)",
    ".5 (): x/1 exceptions:page_fault_user(address: 0x10)",
    "1.1234567891 (): x/1 exceptions:page_fault_user(address: 0x10)",
    "0.000001 (): x/1 exceptions:page_fault_user(address: 0x10)",
    "999999999.999999 (): x/1 exceptions:page_fault_user(address: 0x10)",
    // huge numbers: beyond what a double holds exactly
    "1234567890123.5 (): x/1 exceptions:page_fault_user(address: 0x10)",
    "1.5 (): x/1 exceptions:page_fault_user(address: 0xffffffffffffffff, ip: 99999999999999999999, error_code: 18446744073709551615)",
    "1.5 (): x/1 exceptions:page_fault_user(address: 0x1fffffffffffff)",
    "1.5 (): x/1 exceptions:page_fault_user(address: 0xfffffffffffff)",
    "1.5 (): x/1 exceptions:page_fault_user(ip: -9007199254740993)",
    "1.5 (): x/1 exceptions:page_fault_user(ip: 999999999999999)",
    "1.5 (): x/99999999999999999999 exceptions:page_fault_user(address: 0x10)",
    "1.5 (): x/4294967296 exceptions:page_fault_user(address: 0x10)",
    // non-ASCII and control bytes
    "1.5 (): pythön/1 exceptions:page_fault_user(address: 0x10)",
    "1.5 (): x/1 exceptions:page_fault_user(address: 0x10, ip: ١٢)",
    "1.5 (): x\u0001/1 exceptions:page_fault_user(address: 0x10)",
    "1.5 (): x/1 exceptions:page_fault_usér(address: 0x10)",
    // not faults
    "",
    "   ",
    "LOST 12 events!",
    "1.5 (): x/1 exceptions:page_fault_other(address: 0x10)",
    "1.5 ( 0.002 ms): x/1 munmap(addr: 0x7f0000000000, len: 4096) = 0",
    "1.5 (): x/1 mmap(len: 8192, prot: READ|WRITE, flags: PRIVATE|ANONYMOUS) ...",
    "? (): x/1  ... [continued]: mmap()) = 0x7f0000000000",
    "1.5 (): x/1 task:task_newtask(pid: 5 (y), clone_flags: VM|THREAD|SIGHAND)",
    "1.5 (): x/5 exceptions:page_fault_user(address: 0x10)",
  ];
  // every prefix of a real fault line (truncated lines)
  for (let n = 0; n < FAULT.length; n++) out.push(FAULT.slice(0, n));
  // every byte of it replaced by bytes that matter to the scanner
  for (let i = 0; i < FAULT.length; i++) {
    for (const c of [" ", "0", "9", "a", "f", "g", "x", "-", "/", "(", ")", ",", ":", "?", ".", "\t", "é"]) {
      out.push(FAULT.slice(0, i) + c + FAULT.slice(i + 1));
    }
    out.push(FAULT.slice(0, i) + FAULT.slice(i + 1));
  }
  const lines = out.map((s) => Buffer.from(s, "utf8"));
  // invalid UTF-8 inside a fault line, and a 1 MB line (comm, argument, plain)
  lines.push(Buffer.concat([Buffer.from("1.5 (): x"), Buffer.from([0xff, 0xe2, 0x82]), Buffer.from("/1 exceptions:page_fault_user(address: 0x10)")]));
  lines.push(Buffer.from(`1.5 (): ${"c".repeat(1 << 20)}/1 exceptions:page_fault_user(address: 0x10)`));
  lines.push(Buffer.from(`1.5 (): x/1 exceptions:page_fault_user(address: 0x${"1".repeat(1 << 20)})`));
  lines.push(Buffer.from("z".repeat(1 << 20)));
  return lines;
}

describe("PerfParser.bytes() against PerfParser.line()", () => {
  it("gives the same events on every line of the bundled traces", () => {
    for (const f of BUNDLED) {
      const [buf, bounds] = fileLines(f);
      const r = compareLines(buf, bounds);
      expect(r.diff, f).toBeNull();
      // the fast path is used: on every fault, 70 to 99% of these traces' lines
      expect(r.fast / (bounds.length / 2), f).toBeGreaterThan(0.6);
    }
  });

  it.skipIf(!HAVE_SHARED)("gives the same events on every line of the full development traces", () => {
    for (const f of SHARED_PERF) expect(compareLines(...fileLines(f)).diff, f).toBeNull();
  });

  it("gives the same events on hostile lines, and takes only plain faults", () => {
    const lines = hostileLines();
    const r = compareLines(...joined(lines));
    expect(r.diff).toBeNull();
    // the plain faults among them do take the fast path
    expect(r.fast).toBeGreaterThan(100);
    expect(r.fast).toBeLessThan(lines.length / 2);
  });

  it("gives the same --strict error at the same line", () => {
    const lines = ["1.5 (): x/1 exceptions:page_fault_user(address: 0x10)", "garbage", FAULT];
    const errOf = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return (e as Error).message;
      }
      return null;
    };
    const a = new PerfParser({ strict: true });
    const b = new PerfParser({ strict: true });
    const out: TraceEvent[] = [];
    expect(errOf(() => lines.forEach((l) => a.line(l, out)))).toBe("line 2: not a perf trace line: garbage");
    expect(errOf(() => lines.forEach((l) => { const buf = Buffer.from(l); b.bytes(buf, 0, buf.length, out); }))).toBe("line 2: not a perf trace line: garbage");
  });
});

/** A deterministic generator (xorshift). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const TEXTS: Buffer[] = [
  Buffer.from("a\nb\r\nc\rd\n\n\r\r\n"),
  Buffer.from("no end of line"),
  Buffer.from("ends with cr\r"),
  Buffer.from("comm é/12 ü€ 😀\nnext\r\n"),
  Buffer.from([0x61, 0xe2, 0x82, 0x0a, 0x62, 0xff, 0xfe, 0x0d, 0x0a, 0x63, 0xe2, 0x82]), // bad and cut UTF-8
  Buffer.from([0x61, 0x0a, 0xf0, 0x9f, 0x98]), // the last line only a cut character
  Buffer.from("\r\n\r\n\n"),
  Buffer.from(""),
];

describe("ByteLineSplitter and readByteLineBatches() against the text ones", () => {
  it("splits into the same lines, whatever the chunks", () => {
    for (const [t, text] of TEXTS.entries()) {
      const next = rng(t + 1);
      for (let k = 0; k < 40; k++) {
        const chunks: Buffer[] = [];
        for (let i = 0; i < text.length;) {
          const n = k === 0 ? text.length : 1 + Math.floor(next() * 7);
          chunks.push(text.subarray(i, i + n));
          i += n;
        }
        const s = new LineSplitter();
        const want: string[] = [];
        for (const c of chunks) want.push(...s.push(c));
        const b = new ByteLineSplitter();
        const got: string[] = [];
        for (const c of chunks) {
          const { buf, bounds } = b.push(c);
          for (let j = 0; j < bounds.length; j += 2) got.push(buf.toString("utf8", bounds[j], bounds[j + 1]));
        }
        const { held, rest } = b.end();
        if (held !== null) got.push(held.toString("utf8"));
        const r = s.rest();
        expect(rest === null ? null : rest.toString("utf8"), `text ${t} cut ${k}`).toBe(r);
        expect(got, `text ${t} cut ${k}`).toEqual(want);
      }
    }
  });

  it("reads damaged files into the same lines and damage reports", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmasim-bytelines-"));
    const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => `line ${i} ${"x".repeat(i % 97)} é`).join("\n") + "\n");
    const gz = gzipSync(body);
    const files: [string, Buffer][] = [
      ["plain", body],
      ["no-newline", body.subarray(0, body.length - 5)],
      ["cr-end", Buffer.concat([body, Buffer.from("last\r")])],
      ["gzip", gz],
      ["gzip-cut", gz.subarray(0, gz.length >> 1)],
      ["gzip-tail-cut", gz.subarray(0, gz.length - 3)],
      ["gzip-corrupt", Buffer.concat([gz.subarray(0, 200), Buffer.alloc(64, 0x55), gz.subarray(264)])],
      ["empty", Buffer.alloc(0)],
    ];
    for (const [name, bytes] of files) {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      const wantDamage: LineDamage[] = [];
      const want: string[] = [];
      for await (const b of readLineBatches(p, (d) => wantDamage.push(d))) want.push(...b);
      const gotDamage: LineDamage[] = [];
      const got: string[] = [];
      for await (const { buf, bounds } of readByteLineBatches(p, (d) => gotDamage.push(d))) {
        for (let j = 0; j < bounds.length; j += 2) got.push(buf.toString("utf8", bounds[j], bounds[j + 1]));
      }
      expect(got, name).toEqual(want);
      expect(gotDamage, name).toEqual(wantDamage);
      if (name.startsWith("gzip-")) expect(wantDamage.length, name).toBe(1);
    }
  });
});

describe("NativeByteWriter against NativeWriter", () => {
  it("writes the same bytes", async () => {
    const next = rng(7);
    const events: TraceEvent[] = [];
    const fault = (over: Partial<PageFaultEvent>): PageFaultEvent => ({
      line: events.length + 1, time: 1073108212000, pid: 3529, tid: 3529, comm: "env", kind: "page_fault",
      address: 0x7f9192610b70, ip: 140263202818928, errorCode: 20, user: true, ...over,
    });
    const odd = [0, -0, 1, -1, 9, 10, 99, 100, 12345678, 99999999, 100000000, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1, 2 ** 53, -(2 ** 53 - 1), 1.5, -2.5, 1e21, NaN, Infinity];
    for (let i = 0; i < 40000; i++) {
      const pick = () => (next() < 0.2 ? odd[Math.floor(next() * odd.length)] : Math.floor(next() * 2 ** (next() * 53)));
      const tid = 3529 + Math.floor(next() * 3);
      const r = next();
      if (r < 0.01) events.push({ kind: "unparsed", line: i + 1, text: "bad ✓ line", reason: "unknown event" });
      else if (r < 0.02) events.push({ ...fault({ tid }), comm: next() < 0.5 ? "renamed" : null });
      else if (r < 0.03) {
        events.push({
          line: i + 1, time: null, pid: 3529, tid, comm: "env", kind: "unmodelled", name: "x", args: r < 0.0201 ? "a".repeat(1 << 20) : "é",
          entryLine: null, duration: null, ret: 0, errno: null, unfinished: false,
        });
      } else {
        events.push(fault({
          tid, pid: next() < 0.9 ? 3529 : pick(), time: next() < 0.05 ? null : pick(), address: pick(), ip: next() < 0.5 ? -pick() : pick(),
          errorCode: pick(), user: next() < 0.5,
        }));
      }
    }
    const text = new NativeWriter(["a comment"]);
    const want = Buffer.from(events.map((e) => text.write(e)).join(""), "utf8");
    const chunks: Buffer[] = [];
    const w = new NativeByteWriter(["a comment"], async (c) => {
      chunks.push(Buffer.from(c));
      await new Promise((resolve) => setImmediate(resolve));
    });
    for (const e of events) {
      const p = w.write(e);
      if (p) await p;
    }
    await w.flush();
    const got = Buffer.concat(chunks);
    expect(chunks.length).toBeGreaterThan(2);
    // every chunk ends at a line end
    for (const c of chunks) expect(c[c.length - 1]).toBe(0x0a);
    expect(got.length).toBe(want.length);
    expect(got.equals(want)).toBe(true);
  });
});
