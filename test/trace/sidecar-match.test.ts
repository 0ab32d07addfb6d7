// The side-band file checks the importers' clocks and the merge: every
// successful mmap of a perf trace has a PERF_RECORD_MMAP2 of the same task
// emitted during the call (the trace README states this for all the traces),
// and in the merged stream it comes before the mmap event.
import { describe, expect, it } from "vitest";
import type { PerfMmap2Event, TraceEvent } from "../../src/trace/events.js";
import { mergeSidecar, parseFile } from "../../src/trace/import.js";
import { FIXTURES, HAVE_SHARED, SHARED, collect } from "./util.js";

/** For each successful mmap: whether a MMAP2 of its TID covering its result came before it, within its call. */
function unmatched(events: TraceEvent[]): number {
  const seen = new Map<number, PerfMmap2Event[]>(); // tid -> MMAP2 records not yet claimed
  let missing = 0;
  for (const e of events) {
    if (e.kind === "perf_mmap2") {
      const l = seen.get(e.tid) ?? [];
      l.push(e);
      seen.set(e.tid, l);
    } else if (e.kind === "mmap" && e.ret !== null && e.errno === null) {
      // records from before this call belong to calls already matched (or not mmaps: mprotect, brk)
      const l = (seen.get(e.tid) ?? []).filter((r) => r.time! >= e.time! - 1000);
      seen.set(e.tid, l);
      const end = e.time! + e.duration!;
      // µs resolution of the perf trace: allow 1 µs either side
      const i = l.findIndex((r) => r.time! >= e.time! - 1000 && r.time! <= end + 1000 && r.addr <= e.ret! && e.ret! < r.addr + r.len);
      if (i < 0) missing++;
      else l.splice(i, 1);
    }
  }
  return missing;
}

async function check(dir: string, name: string): Promise<{ mmaps: number; missing: number }> {
  const events = await collect(mergeSidecar(parseFile(`${dir}${name}.perf.txt.gz`, "perf"), parseFile(`${dir}${name}.mmap2.txt.gz`, "sidecar")));
  const mmaps = events.filter((e) => e.kind === "mmap" && e.errno === null && !e.unfinished).length;
  return { mmaps, missing: unmatched(events) };
}

describe("perf trace and side-band agree", () => {
  it("lua_make_j2 excerpt: every mmap has its MMAP2 before it", async () => {
    expect(await check(FIXTURES, "lua_make_j2.head")).toEqual({ mmaps: 253, missing: 0 });
  });
  describe.skipIf(!HAVE_SHARED)("full traces", () => {
    for (const [name, mmaps] of [["jemalloc_python", 227], ["lua_make_j2", 4443], ["glibc_malloc_8threads", 422], ["node_alloc", 1540], ["python_glibc_nozp", 200]] as const) {
      it(`${name}: every mmap has its MMAP2 before it`, async () => {
        expect(await check(SHARED, name)).toEqual({ mmaps, missing: 0 });
      }, 60_000);
    }
  });
});
