// Hostile input through the scenario and trace doors: every field type of a
// scenario line and of a native trace record malformed, empty, huge,
// negative, non-ASCII, binary; a 1 MB line; no final newline; traces that are
// a truncated or corrupt gzip, cut mid-line, with events of unknown tasks and
// a clone whose child never appears. Each is reported with its position and a
// reason fit for a terminal; nothing throws; a replay goes on past it.
// (test/trace/malformed.test.ts cuts every kind of perf/strace line.)
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import { replayTrace } from "../../src/replay/run.js";
import { parseLine } from "../../src/scenario/parse.js";
import { runScenario } from "../../src/scenario/run.js";
import { TraceParseError } from "../../src/trace/events.js";
import { parseFile } from "../../src/trace/import.js";
import { readLines, TraceDamageError } from "../../src/trace/lines.js";
import { parseNative } from "../../src/trace/native.js";
import { cli } from "../cli/helpers.js";
import { collect } from "../trace/util.js";

const MB = "x".repeat(1 << 20);
/** Values: malformed, empty, huge, negative, non-ASCII, binary, 1 MB. */
const VALUES = ["x1", "", "99999999999999999999999", "0x1ffffffffffffffff", "-1", "-0x10", "４", "é", "\u0001\u00ff", "1.5", "1e3", MB];
/** Those no field of either language accepts (a negative number is a fine brk delta, `x...` a fine PROT). */
const NEVER_GOOD = new Set(["99999999999999999999999", "0x1ffffffffffffffff", "４", "é", "\u0001\u00ff", "1.5", "1e3"]);

/** A scenario line per op with one field to spoil ($). */
const SCENARIO_FIELDS = [
  "mmap $ 1 rw", "mmap 0 $ rw", "mmap 0 1 $", "mmap 0 1 rw file $ 0", "mmap 0 1 rw file 0 $",
  "munmap $ 1", "munmap 0 $", "mprotect 0 1 $", "mremap 0 1 $", "mremap 0 1 2 fixed $",
  "touch $", "touchn 0 $", "peek $", "madvise 0 1 $", "mlock 0 $", "munlock $ 1", "mseal 0 $",
  "brk $", "padvmas $ 0", "repeat $ 0 1 touch @", "repeat 2 $ 1 touch @", "setrlimit as $", "setrlimit $ 1",
  "capdrop $", "sysctl max_map_count $", "sysctl $ 1", "exit $", "fork $", "dump $", "count $",
];

describe("hostile scenario lines", () => {
  for (const field of SCENARIO_FIELDS) {
    it(`${field}: no value throws; the bad ones are EPARSE with a short printable reason`, () => {
      for (const v of VALUES) {
        const line = field.replace("$", v);
        const e = parseLine(line, 9);
        if (NEVER_GOOD.has(v)) expect(e?.op, JSON.stringify(line.slice(0, 60))).toBe("EPARSE");
        if (e?.op !== "EPARSE") continue;
        const reason = e.reason;
        expect(reason.length, line.slice(0, 60)).toBeLessThanOrEqual(203);
        expect(reason).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      }
    });
  }

  it("a 1 MB unknown op and binary bytes are named briefly and escaped", () => {
    expect(parseLine(MB, 3)).toMatchObject({ op: "EPARSE", reason: `unknown op '${"x".repeat(40)}...' (1048576 characters)` });
    expect(parseLine("\u0001\u0002 1", 3)).toMatchObject({ op: "EPARSE", reason: "unknown op '\\x01\\x02'" });
  });

  it("the runner goes on past bad lines, and a script without a final newline runs whole", () => {
    const script = ["mmap 0 2 rw", MB, "mmap \u00ff 1 rw", "touch 0", "brk -99999999999", "sysctl max_map_count -1", "touch 1"].join("\n");
    const r = runScenario(createKernelSync({ policy: "linux-5.17" }), script);
    const lines = r.output.split("\n");
    expect(lines[0]).toBe("mmap 0 2 rw => ok");
    expect(lines[1]).toMatch(/=> EPARSE \(line 2\)$/);
    expect(lines[2]).toMatch(/=> EPARSE \(line 3\)$/);
    expect(lines.slice(3)).toEqual(["touch 0 => ok", expect.stringMatching(/^brk -99999999999 => /), "sysctl max_map_count -1 => EINVAL", "touch 1 => ok", ""]);
  });

  it("vmasim run reports each bad line as FILE:LINE: reason, briefly", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmasim-hostile-"));
    const f = join(dir, "s.script");
    writeFileSync(f, `mmap 0 1 rw\nfrob${MB}\ntouch \u0001`);
    const r = await cli(["run", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${f}:2: unknown op 'frob${"x".repeat(36)}...' (1048580 characters)\n`);
    expect(r.stderr).toContain(`${f}:3: `);
    expect(r.stderr.length).toBeLessThan(2000);
  });
});

/** Native trace fields by type, one record each with the field spoiled ($). */
const NATIVE_FIELDS: [string, string][] = [
  ["int", "munmap 2 - 5 addr=0x1000 len=$ ret=0"],
  ["hex", "munmap 2 - 5 addr=$ len=4096 ret=0"],
  ["int?", "clone 2 - 5 call=clone child=$ ret=6"],
  ["hex?", "clone 2 - 5 call=clone child=6 flags=$ ret=6"],
  ["str", "unmodelled 2 - 5 name=$ args=\"\" ret=0"],
  ["str?", "execve 2 - 5 filename=$ ret=0"],
  ["bool", "page_fault 2 - 5 address=0x1000 user=$"],
  ["ret", "brk 2 - 5 brk=0 ret=$"],
  ["line", "brk $ - 5 brk=0 ret=0"],
  ["time", "brk 2 $ 5 brk=0 ret=0"],
  ["pid", "brk 2 - $ brk=0 ret=0"],
];
const BAD_NATIVE = [...VALUES.filter((v) => !v.startsWith("-")), "\"unterminated", "\"\\u12\""];
/** Negative numbers are bad where the field has no sign. */
const UNSIGNED = new Set(["bool", "line", "time", "pid"]);

describe("hostile native trace records", () => {
  for (const [type, rec] of NATIVE_FIELDS) {
    it(`${type}: a bad value is an unparsed record at its line, or (strict) a TraceParseError`, async () => {
      for (const v of [...BAD_NATIVE, ...(UNSIGNED.has(type) ? ["-1", "-0x10"] : [])]) {
        const line = rec.replace("$", v);
        // a string field takes any JSON string: only non-strings are bad there
        if (type.startsWith("str") && v.startsWith('"') && v.endsWith('"') && v.length > 1 && v !== "\"\\u12\"") continue;
        const events = await collect(parseNative(["vmasim-trace 1", "brk 1 - 5 brk=0 ret=0", line, "brk 3 - 5 brk=0 ret=0"]));
        const kinds = events.map((e) => e.kind);
        expect(kinds, `${type} ${JSON.stringify(v.slice(0, 30))}`).toEqual(["brk", "unparsed", "brk"]);
        expect(events[1]).toMatchObject({ line: 3 });
        await expect(collect(parseNative(["vmasim-trace 1", line], { strict: true }))).rejects.toThrow(TraceParseError);
      }
    });
  }
});

describe("damaged trace files", () => {
  const dir = mkdtempSync(join(tmpdir(), "vmasim-damage-"));
  const lines = ["vmasim-trace 1", ...Array.from({ length: 4000 }, (_, i) => `brk ${i + 2} - 5 brk=0 ret=${0x1000 + i}`)];
  const text = lines.join("\n") + "\n";
  const gz = gzipSync(Buffer.from(text));

  it("a truncated gzip: the lines before the cut, then the damage with its line", async () => {
    const p = join(dir, "trunc.gz");
    writeFileSync(p, gz.subarray(0, gz.length >> 1));
    const events = await collect(parseFile(p, "native"));
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({ kind: "unparsed", reason: "the gzip data ends early (truncated file): the rest is lost" });
    expect(events.length).toBeGreaterThan(100);
    expect(last.line).toBe(events.length + 1);
    await expect((async () => { for await (const _ of readLines(p)); })()).rejects.toThrow(TraceDamageError);
    await expect(collect(parseFile(p, "native", { strict: true }))).rejects.toThrow(/^line \d+: the gzip data ends early/);
  });

  it("a corrupt gzip: reported at the first line lost, never as a bare zlib code", async () => {
    const p = join(dir, "corrupt.gz");
    const bad = Buffer.from(gz);
    for (let i = 200; i < 260; i++) bad[i] ^= 0x5a;
    writeFileSync(p, bad);
    const events = await collect(parseFile(p, "native"));
    const last = events[events.length - 1]!;
    expect(last.kind).toBe("unparsed");
    expect((last as { reason: string }).reason).toMatch(/^the gzip data is corrupt \(.+\): the rest is lost$/);
    expect(() => gunzipSync(bad)).toThrow();
  });

  it("a file cut mid-line: the cut line is read, and its position reported", async () => {
    const p = join(dir, "cut.trace");
    writeFileSync(p, text.slice(0, text.length - 5));
    const events = await collect(parseFile(p, "native"));
    expect(events[events.length - 1]).toMatchObject({ kind: "unparsed", line: 4001, reason: expect.stringMatching(/^the last line has no line end/) });
  });

  it("replay: unknown tasks, a silent clone child and a cut gzip are reported with positions, the rest replayed", async () => {
    const p = join(dir, "hostile.trace.gz");
    const recs = [
      "vmasim-trace 1",
      "sched_process_exec 1 - 5 filename=\"/bin/true\" old_pid=5",
      "mmap 1 - 5 addr=0 len=8192 prot=0x3 flags=0x22 fd=-1 ret=0x7f0000000000",
      "mmap 2 - 99999 addr=0 len=8192 prot=0x3 flags=0x22 fd=-1 ret=0x7f0000100000",
      "clone 3 - 5 call=clone child=77777 flags=0x11 ret=77777",
      "munmap 4 - 4242 addr=0x7f0000100000 len=4096 ret=0",
      ...Array.from({ length: 3000 }, (_, i) => `mprotect ${i + 5} - 5 start=0x7f0000000000 len=4096 prot=${i % 2 ? "0x3" : "0x1"} ret=0`),
    ];
    const z = gzipSync(Buffer.from(recs.join("\n") + "\n"));
    writeFileSync(p, z.subarray(0, z.length - 40));
    const r = await replayTrace({ trace: p, policies: ["linux-5.17"], knobs: {} });
    const res = r.policies["linux-5.17"]!;
    expect(res.unknownPidAt).toEqual(["mmap@2 pid 99999", "munmap@4 pid 4242"]);
    expect(res.silentChildren).toEqual(["clone@3 child 77777"]);
    expect(r.unparsed).toBe(1);
    expect(r.unparsedLines[0]).toMatch(/^\d+: the gzip data ends early/);
    expect(r.events).toBeGreaterThan(1000);
    const out = await cli(["replay", p, "--policy", "linux-5.17"]);
    expect(out.stdout).toContain("events of unknown tasks (not applied): mmap@2 pid 99999, munmap@4 pid 4242\n");
    expect(out.stdout).toContain("clones whose child never appears: clone@3 child 77777\n");
    expect(out.stdout).toMatch(/unparsed: \d+: the gzip data ends early/);
  });

  it("replay of a gzip too damaged to tell its format says where", async () => {
    const p = join(dir, "junk.gz");
    writeFileSync(p, Buffer.concat([gz.subarray(0, 12), Buffer.alloc(64, 0xab)]));
    const out = await cli(["replay", p]);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/^vmasim: replay: cannot tell the format of '.*junk\.gz': line 1: the gzip data (is corrupt|ends early)/);
    expect(readFileSync(p).length).toBe(76);
  });
});
