// Broken input: every kind of line cut at several points, binary junk, a
// 1 MB line, no final newline. Each bad line becomes one counted `unparsed`
// record with its line number; nothing throws unless `strict` is set, and
// then the error names the first bad line.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TraceParseError, type LineSource, type ParseOptions, type TraceEvent } from "../../src/trace/events.js";
import { readLines } from "../../src/trace/lines.js";
import { parseNative } from "../../src/trace/native.js";
import { parsePerf } from "../../src/trace/perf.js";
import { parseSidecar } from "../../src/trace/sidecar.js";
import { parseStrace } from "../../src/trace/strace.js";
import { collect } from "./util.js";

type Parser = (lines: LineSource, opts?: ParseOptions) => AsyncGenerator<TraceEvent>;

// one real line of each kind, from the traces in /work/shared/traces
const PERF_LINES = [
  "1069322.784 ( 0.020 ms): env/3487 mmap(len: 8192, prot: READ|WRITE, flags: PRIVATE|ANONYMOUS)           = 0x7f1d7ed86000",
  "1073115.235 (         ): mallocthreads/3529 mmap(len: 8392704, flags: PRIVATE|ANONYMOUS|STACK)                 ...",
  "1069322.397 (         ): env/3487 exceptions:page_fault_user(address: 0x7f1d7edaab70, ip: 139764659039088, error_code: 20)",
  "1069322.275 (         ): env/3487 exceptions:page_fault_kernel(address: 0x55edc2375424, ip: -2123025558, error_code: 2)",
  "1073114.973 (         ): mallocthreads/3529 task:task_newtask(pid: 3530 (mallocthreads), comm: \"mallocthreads\", clone_flags: 4001536)",
  "1069322.368 (         ): env/3487 sched:sched_process_exec(filename: \"/usr/bin/env\", pid: 3487 (env), old_pid: 3487 (env))",
  "1084617.292 (         ): cc1/3741 sched:sched_process_exit(comm: \"cc1\", pid: 3741 (cc1), prio: 120, group_dead: 1)",
  "1088058.085 ( 0.045 ms): cc1/3799 mremap(addr: 0x7f5096243000, old_len: 200704, new_len: 299008, flags: MAYMOVE) = 0x7f5095ab7000",
];
const STRACE_LINES = [
  "3878  05:06:09.338954 mmap(0x7feef29af000, 24576, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libc.so.6>, 0x1cf000) = 0x7feef29af000",
  "3708  05:05:58.227602 madvise(0x7f15de510000, 27455488, MADV_DONTNEED) = 0",
  "3704  05:05:57.992846 mprotect(0x7f1678d21000, 16384, PROT_READ) = 0",
  "3708  05:05:58.579750 +++ exited with 0 +++",
];
const SIDE_LINES = [
  "             env  3733 [-01]  1083.867109608: PERF_RECORD_MMAP2 3733/3733: [0x55b55219f000(0xd000) @ 0 fe:00 260257 0]: r--p /usr/bin/env",
  "            perf  3731 [-01]  1083.854891022: PERF_RECORD_FORK(3733:3733):(3731:3731)",
  "             env  3733 [-01]  1083.867064751: PERF_RECORD_COMM exec: env:3733/3733",
];

/** Cut points inside a line that lose its closing ')' / ']' / '+++', so the line cannot be whole. */
function cuts(line: string): number[] {
  const end = Math.max(line.lastIndexOf(")"), line.lastIndexOf("]:"), line.lastIndexOf(" +++"));
  const pts = [1, 5, 12, Math.floor(end / 3), Math.floor(end / 2), end - 1, end];
  // (a cut leaving only blanks is a blank line, which is skipped, not an error; one ending in
  // ')' may be whole again when an argument itself ends in parentheses: "pid: 5 (comm)")
  return [...new Set(pts.filter((p) => p > 0 && p <= end && line.slice(0, p).trim() !== "" && !line.slice(0, p).endsWith(")")))];
}

/** Good lines with cut copies of each between them: the cut ones must come back unparsed at their line. */
async function corpus(parse: Parser, good: string[]) {
  const lines: string[] = [];
  const bad: number[] = [];
  for (const g of good) {
    for (const c of cuts(g)) {
      lines.push(g.slice(0, c));
      bad.push(lines.length);
    }
  }
  const events = await collect(parse(lines));
  return { events, bad, lines };
}

describe("malformed and truncated lines", () => {
  for (const [name, parse, good] of [
    ["perf", parsePerf, PERF_LINES], ["strace", parseStrace, STRACE_LINES], ["side-band", parseSidecar, SIDE_LINES],
  ] as [string, Parser, string[]][]) {
    it(`${name}: each line cut at several points is one unparsed record at its line number`, async () => {
      const { events, bad, lines } = await corpus(parse, good);
      const unparsed = events.filter((e) => e.kind === "unparsed");
      expect(unparsed.map((u) => u.line)).toEqual(bad);
      for (const u of unparsed) expect(u.kind === "unparsed" && u.text).toBe(lines[u.line - 1]);
    });

    it(`${name}: the whole lines still parse, with junk, a 1 MB line and binary bytes between them`, async () => {
      const junk = ["\u0000\u0001\u00ff\ufffd binary \u0007", "x".repeat(1 << 20), "(((((", "= = =", "   ? (  "];
      const lines: string[] = [];
      const junkLines: number[] = [];
      good.forEach((g, i) => {
        lines.push(g);
        lines.push(junk[i % junk.length]);
        junkLines.push(lines.length);
      });
      const events = await collect(parse(lines));
      expect(events.filter((e) => e.kind === "unparsed").map((e) => e.line)).toEqual(junkLines);
      expect(events.filter((e) => e.kind !== "unparsed").length).toBeGreaterThanOrEqual(good.length - 1);
    });

    it(`${name}: strict mode throws at the first bad line, with its number and text`, async () => {
      const lines = [good[0], good[0].slice(0, 30), good[0]];
      await expect(collect(parse(lines, { strict: true }))).rejects.toThrow(TraceParseError);
      try {
        await collect(parse(lines, { strict: true }));
      } catch (e) {
        expect((e as TraceParseError).line).toBe(2);
        expect((e as TraceParseError).text).toBe(good[0].slice(0, 30));
        expect((e as Error).message).toMatch(/^line 2: /);
      }
      await expect(collect(parse(good, { strict: true }))).resolves.toBeDefined();
    });
  }

  it("native: bad records are unparsed at their line of the native file", async () => {
    const events = await collect(parseNative([
      "vmasim-trace 1",
      "brk 1 - 5 brk=0x10 ret=0x20",
      "brk 2 - 5 brk=zz",
      "nosuchkind 3 - 5",
      "mmap 4 - 5 addr=0x1 bogus=1",
      "page_fault 5 - 5 address=0x1000 error_code=6 user=1",
      "munmap 6 - 5 addr=\"unterminated",
    ]));
    expect(events.map((e) => [e.kind, e.line])).toEqual([["brk", 1], ["unparsed", 3], ["unparsed", 4], ["unparsed", 5], ["page_fault", 5], ["unparsed", 7]]);
  });

  it("a file without a final newline: its last line is read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmasim-trace-"));
    const p = join(dir, "t.perf.txt");
    writeFileSync(p, PERF_LINES[0] + "\n" + PERF_LINES[2]);
    const events = await collect(parsePerf(readLines(p)));
    expect(events.map((e) => [e.kind, e.line])).toEqual([["mmap", 1], ["page_fault", 2]]);
  });
});
