// vmasim's native trace format: reading what was written gives the same
// events (every kind, every fixture); writing is deterministic; gzip and
// plain input give the same events.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { EVENT_KINDS, type TraceEvent } from "../../src/trace/events.js";
import { type TraceFormat, mergeSidecar, parseFile } from "../../src/trace/import.js";
import { NativeWriter, parseNative } from "../../src/trace/native.js";
import { FIXTURES, collect } from "./util.js";

const write = (events: TraceEvent[]): string => {
  const w = new NativeWriter(["test"]);
  return events.map((e) => w.write(e)).join("");
};
const read = (text: string) => collect(parseNative(text.split("\n")));

const sys = { entryLine: null, duration: null, ret: 0, errno: null, unfinished: false };
const b = (line: number, tid = 7, pid = 7, comm: string | null = "prog") => ({ line, time: 1_000_000 + line, pid, tid, comm });

/** One event of every kind, with awkward values (nulls, negative numbers, strings needing escapes). */
const EVERY_KIND: TraceEvent[] = [
  { ...b(1), ...sys, kind: "mmap", addr: 0, len: 8192, prot: 3, flags: 0x22, fd: -1, off: 0, open: null, path: null, ret: 0x7f0000000000 },
  { ...b(2), ...sys, kind: "mmap", addr: 0x7f0000010000, len: 4096, prot: 5, flags: 0x812, fd: 3, off: 0x26000, open: 12, path: "/lib/a \"b\" c\n\u00e9", entryLine: 1, duration: 15000 },
  { ...b(3), ...sys, kind: "munmap", addr: 0x7f0000000000, len: 4096, ret: -1, errno: "EINVAL" },
  { ...b(4, 8), ...sys, kind: "mprotect", start: 0x1000, len: 4096, prot: 0 },
  { ...b(5), ...sys, kind: "mremap", addr: 1, oldLen: 2, newLen: 3, flags: 3, newAddr: 0x2000, ret: 0x2000 },
  { ...b(6), ...sys, kind: "brk", brk: 0, ret: 0x55edef0d6000 },
  { ...b(7), ...sys, kind: "madvise", start: 0x1000, len: 27455488, behavior: 4 },
  { ...b(8), ...sys, kind: "mlock", start: 0x1000, len: 4096 },
  { ...b(9), ...sys, kind: "mlock2", start: 0x1000, len: 4096, flags: 1 },
  { ...b(10), ...sys, kind: "munlock", start: 0x1000, len: 4096 },
  { ...b(11), ...sys, kind: "mlockall", flags: 7 },
  { ...b(12), ...sys, kind: "munlockall" },
  { ...b(13), ...sys, kind: "mseal", start: 0x1000, len: 4096, flags: 0 },
  { ...b(14), ...sys, kind: "set_vma_anon_name", start: 0x1000, len: 4096, nameAddr: null, name: "heap" },
  { ...b(15), ...sys, kind: "set_vma_anon_name", start: 0x1000, len: 4096, nameAddr: 0, name: null },
  { ...b(16), ...sys, kind: "execve", filename: null, unfinished: true, ret: null },
  { ...b(17, 9, 7, "t 1#"), ...sys, kind: "clone", call: "clone3", inChild: true, child: null, flags: null },
  { ...b(18), ...sys, kind: "clone", call: "vfork", inChild: false, child: 9, flags: 0x4100, ret: 9 },
  { ...b(19), ...sys, kind: "exit", status: 3, ret: null },
  { ...b(20), ...sys, kind: "exit_group", status: 0, ret: null },
  { ...b(21, 7, 7, null), ...sys, kind: "unmodelled", name: "openat", args: "dfd: CWD, filename: 0x1", ret: 5 },
  { ...b(22, 7, 7, null), kind: "page_fault", address: 0x7f0000000000, ip: -2123025558, errorCode: 2, user: false },
  { ...b(23), kind: "page_fault", address: 0, ip: 0, errorCode: 0, user: true },
  { ...b(24), kind: "task_newtask", child: 9, childComm: "t \"x\"", cloneFlags: 0x3d0f00 },
  { ...b(25), time: null, kind: "sched_process_exec", filename: "/usr/bin/env", oldPid: 7 },
  { ...b(26), kind: "sched_process_exit", groupDead: true, exitCode: 0, signal: null },
  { ...b(27), kind: "sched_process_exit", groupDead: false, exitCode: null, signal: "SIGSEGV" },
  { ...b(28), kind: "perf_mmap2", addr: 0x400000, len: 0x231000, pgoff: 0, maj: 254, min: 0, ino: 270392, inoGeneration: 2783334279, prot: 5, shared: true, filename: "/usr/bin/x y" },
  { ...b(29), kind: "perf_fork", ppid: 1, ptid: 2 },
  { ...b(30), kind: "perf_exit", ppid: 1, ptid: 2 },
  { ...b(31), kind: "perf_comm", exec: true },
  { ...b(32, 0, 0, null), kind: "lost", count: 3 },
  { kind: "unparsed", line: 33, text: "\u0000 junk \"q\" \\", reason: "not a perf trace line" },
];

const FIXTURE_FILES: [string, TraceFormat][] = [
  ["jemalloc_python.head.perf.txt.gz", "perf"], ["lua_make_j2.head.perf.txt.gz", "perf"], ["node_alloc.head.perf.txt.gz", "perf"],
  ["lua_make_j2.head.mmap2.txt.gz", "sidecar"], ["lua_make_j2.head.strace.gz", "strace"], ["glibc_malloc_8threads.head.strace.gz", "strace"],
];

describe("native trace format", () => {
  it("round trip is exact for one event of every kind", async () => {
    expect(new Set(EVERY_KIND.map((e) => e.kind))).toEqual(new Set(EVENT_KINDS));
    const text = write(EVERY_KIND);
    expect(await read(text)).toEqual(EVERY_KIND);
    expect(write(await read(text))).toBe(text);
  });

  for (const [file, format] of FIXTURE_FILES) {
    it(`round trip is exact for ${file}`, async () => {
      const events = await collect(parseFile(FIXTURES + file, format));
      const text = write(events);
      expect(await read(text)).toEqual(events);
    });
  }

  it("round trip is exact for a perf trace merged with its side-band file", async () => {
    const events = await collect(mergeSidecar(parseFile(FIXTURES + "lua_make_j2.head.perf.txt.gz", "perf"), parseFile(FIXTURES + "lua_make_j2.head.mmap2.txt.gz", "sidecar")));
    expect(events.filter((e) => e.kind === "perf_mmap2").length).toBe(460);
    expect(events.filter((e) => e.kind === "page_fault").length).toBe(554 + 540 + 3044 + 1 + 73);
    expect(await read(write(events))).toEqual(events);
  });

  it("parsing and writing are deterministic", async () => {
    const once = write(await collect(parseFile(FIXTURES + "lua_make_j2.head.perf.txt.gz", "perf")));
    const twice = write(await collect(parseFile(FIXTURES + "lua_make_j2.head.perf.txt.gz", "perf")));
    expect(twice).toBe(once);
  });

  it("gzip and plain input give the same events", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmasim-trace-"));
    for (const [file, format] of FIXTURE_FILES) {
      const plain = join(dir, file.replace(/\.gz$/, ""));
      writeFileSync(plain, gunzipSync(readFileSync(FIXTURES + file)));
      expect(await collect(parseFile(plain, format))).toEqual(await collect(parseFile(FIXTURES + file, format)));
    }
  });

  it("reads hand-written records: defaults for omitted fields, comm carried per task", async () => {
    const es = await read([
      "vmasim-trace 1",
      "# made by hand",
      "mmap 10 - 100 comm=\"a b\" len=4096 prot=0x3 flags=0x22 fd=-1 ret=0x7f0000000000",
      "page_fault 11 5000 100/101 address=0x7f0000000000 error_code=6 user=1",
      "page_fault 12 5001 100 address=0x7f0000000010 error_code=7 user=1",
    ].join("\n"));
    expect(es[0]).toEqual({
      kind: "mmap", line: 10, time: null, pid: 100, tid: 100, comm: "a b", addr: 0, len: 4096, prot: 3, flags: 0x22, fd: -1, off: 0,
      open: null, path: null, entryLine: null, duration: null, ret: 0x7f0000000000, errno: null, unfinished: false,
    });
    expect(es[1]).toMatchObject({ pid: 100, tid: 101, comm: null, time: 5000 });
    expect(es[2]).toMatchObject({ tid: 100, comm: "a b", errorCode: 7 });
  });
});
