// Replayer.applyBatch() (faults in runs through the engine's typed batch)
// against apply() one event at a time: the same result, field for field, on
// fixture traces with exec, fork, threads, side-band checks and --check-every.

import { describe, expect, it } from "vitest";
import { createKernel } from "../../src/engine/simulator.js";
import { type ReplayResult, Replayer } from "../../src/replay/replayer.js";
import type { TraceEvent } from "../../src/trace/events.js";
import { mergeSidecar, parseFile } from "../../src/trace/import.js";
import { POLICIES } from "../../src/types.js";
import { FIXTURES, collect } from "../trace/util.js";

/** The result without its timing fields (src/replay/timing.ts). */
function untimed(r: ReplayResult): unknown {
  const { seconds: _s, secondsRatio: _r, ...rest } = r;
  return rest;
}

async function both(events: TraceEvent[], policy: (typeof POLICIES)[number], checkEvery: number, cut: number) {
  const one = new Replayer(await createKernel({ policy }), { checkEvery });
  for (const e of events) one.apply(e);
  const batched = new Replayer(await createKernel({ policy }), { checkEvery });
  for (let i = 0; i < events.length; i += cut) batched.applyBatch(events.slice(i, i + cut));
  return [untimed(one.finish()), untimed(batched.finish())];
}

describe("Replayer.applyBatch", () => {
  it("gives apply()'s result on lua_make_j2's excerpt with its side-band, under every policy", async () => {
    const events = await collect(mergeSidecar(parseFile(FIXTURES + "lua_make_j2.head.perf.txt.gz", "perf"),
      parseFile(FIXTURES + "lua_make_j2.head.mmap2.txt.gz", "sidecar")));
    const faults = events.filter((e) => e.kind === "page_fault");
    expect(faults.length).toBeGreaterThan(1000);
    // faults the engine answers otherwise: a SIGSEGV (nothing mapped at 0x1000) and [vdso] (not modelled)
    const last = faults[faults.length - 1];
    const vdso = events.find((e) => e.kind === "perf_mmap2" && e.filename === "[vdso]" && e.pid === last.pid);
    expect(vdso).toBeDefined();
    const odd = [0x1000, (vdso as { addr: number }).addr, 0x1000].map((address, i) => ({ ...last, line: last.line + 1 + i, address }));
    const all = [...events, ...odd];
    for (const policy of POLICIES) {
      const [a, b] = await both(all, policy, 0, 1000);
      expect(b, policy).toEqual(a);
      const f = (b as ReplayResult).faults;
      expect(f.signalled).toBeGreaterThanOrEqual(2);
      expect(f.notModelled).toBeGreaterThanOrEqual(1);
    }
  });

  it("gives apply()'s result with the checker every 499 events and batches of any length", async () => {
    const events = await collect(parseFile(FIXTURES + "handwritten_family.vt", "native"));
    const lua = await collect(mergeSidecar(parseFile(FIXTURES + "lua_make_j2.head.perf.txt.gz", "perf"),
      parseFile(FIXTURES + "lua_make_j2.head.mmap2.txt.gz", "sidecar")));
    for (const [name, evs] of [["handwritten_family", events], ["lua_make_j2.head", lua.slice(0, 3000)]] as const) {
      for (const cut of [7, 5000]) {
        const [a, b] = await both(evs, "seed", 499, cut);
        expect(b, `${name} cut ${cut}`).toEqual(a);
        expect((b as ReplayResult).checker.runs).toBeGreaterThan(0);
      }
    }
  });
});
