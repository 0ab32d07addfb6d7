// The core's own structures under random load: after every operation the VMA
// list, the tree (order, parent links, heap order) and every rb_subtree_gap
// must be consistent, and records must not leak.
import { describe, expect, it } from "vitest";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PAGE_SIZE } from "../../src/abi/constants.js";
import { createKernelSync, EngineOutOfMemoryError } from "../../src/engine/index.js";

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  };
}

describe("engine internals", () => {
  for (const build of ["debug", "release"] as const) {
    it(`keeps the VMA tree consistent under 20,000 random ops (${build} build)`, () => {
      const k = createKernelSync({ policy: "linux-5.17" }, { build });
      const p = k.createProcess();
      const r = rng(build === "debug" ? 7 : 11);
      const base = 0x10000000;
      for (let i = 0; i < 20_000; i++) {
        const pg = r(3000), n = 1 + r(24);
        switch (r(5)) {
          case 0: p.mmap(base + pg * PAGE_SIZE, n * PAGE_SIZE, r(8), MAP_PRIVATE | MAP_ANONYMOUS | (r(2) ? MAP_FIXED : MAP_FIXED_NOREPLACE), -1, 0); break;
          case 1: p.mmap(r(3) ? 0 : base + pg * PAGE_SIZE, n * PAGE_SIZE, r(8), MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); break;
          case 2: p.munmap(base + pg * PAGE_SIZE, n * PAGE_SIZE); break;
          case 3: p.mprotect(base + pg * PAGE_SIZE, n * PAGE_SIZE, r(8)); break;
          default: p.munmap(0x7fff00000000 + r(0xff000) * PAGE_SIZE, n * 10 * PAGE_SIZE); break;
        }
        const c = p.checkInternal();
        if (c !== 0) expect.fail(`tree check failed with code ${c} after op ${i}`);
      }
      expect(k.stats().vmas).toBe(p.counters().map_count);
      // unmapping everything returns every VMA record to its pool
      expect(p.munmap(0, 0x7ffffffff000)).toBe(0);
      expect(p.counters().map_count).toBe(0);
      expect(k.stats().vmas).toBe(0);
      expect(p.checkInternal()).toBe(0);
    });
  }

  it("reports running out of wasm memory as an engine error and keeps the state intact", () => {
    // 8 MiB of linear memory holds the pools for some tens of thousands of VMAs
    const k = createKernelSync({ policy: "linux-5.17", max_map_count: 1 << 30 }, { memoryLimitBytes: 8 << 20 });
    const p = k.createProcess();
    const base = 0x10000000;
    let mapped = 0;
    let error: unknown = null;
    for (let i = 0; i < 1_000_000; i++) {
      const before = p.counters().map_count;
      try {
        // non-adjacent pages: one new VMA each
        expect(p.mmap(base + 2 * i * PAGE_SIZE, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)).toBe(base + 2 * i * PAGE_SIZE);
        mapped++;
      } catch (e) {
        error = e;
        expect(p.counters().map_count).toBe(before);
        break;
      }
    }
    expect(error).toBeInstanceOf(EngineOutOfMemoryError);
    expect(mapped).toBeGreaterThan(1000);
    expect(p.checkInternal()).toBe(0);
    // the simulator stays usable: unmapping frees records, and mapping works again
    expect(p.munmap(base, 2 * 100 * PAGE_SIZE)).toBe(0);
    expect(p.mmap(base, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)).toBe(base);
    expect(p.checkInternal()).toBe(0);
  });
});
