// The core's own structures under random load: after every operation the VMA
// list and the index (order, fill bounds, equal leaf depth, parent and leaf
// links, every pivot and gap) must be consistent, and records must not leak;
// and the check must notice a damaged index.
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

  it("reports running out of wasm memory in brk, whose own failures return the old break, as an engine error", () => {
    const k = createKernelSync({ policy: "linux-5.17", max_map_count: 1 << 30 }, { memoryLimitBytes: 8 << 20 });
    const p = k.createProcess();
    const base = 0x10000000;
    for (let i = 0; i < 1_000_000; i++) {
      try {
        p.mmap(base + 2 * i * PAGE_SIZE, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      } catch (e) {
        expect(e).toBeInstanceOf(EngineOutOfMemoryError);
        break;
      }
    }
    // mmap needed 3 free VMA records and did not get them; every brk asks for 2, so the first or the second fails
    const brk0 = p.layout().brk;
    let brkError: unknown = null;
    for (let i = 1; i <= 2 && brkError === null; i++) {
      const before = p.layout().brk;
      try {
        expect(p.brk(brk0 + i * PAGE_SIZE)).toBe(brk0 + i * PAGE_SIZE);
      } catch (e) {
        brkError = e;
        expect(p.layout().brk).toBe(before);
      }
    }
    expect(brkError).toEqual(new EngineOutOfMemoryError("brk"));
    expect(p.checkInternal()).toBe(0);
  });

  // the core's debug hook (mm_tree_corrupt) damages one thing; mm_check must name it
  const damage: [number, string, number][] = [
    [1, "a leaf pivot that is not its VMA's end", 14],
    [2, "a wrong largest gap in the root", 11],
    [3, "two VMAs of a leaf out of order", 9],
    [4, "a leaf below the fill bound", 12],
    [5, "a child whose parent link is wrong", 10],
    [6, "a VMA whose leaf link is wrong", 10],
  ];
  for (const [kind, what, code] of damage) {
    it(`the check catches ${what} (code ${code})`, () => {
      const k = createKernelSync({ policy: "linux-5.17" }, { build: "debug" });
      const p = k.createProcess();
      for (let i = 0; i < 200; i++) p.mmap(0x10000000 + 2 * i * PAGE_SIZE, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      expect(p.checkInternal()).toBe(0);
      const core = k.core as unknown as { mm_tree_corrupt(mm: number, kind: number): number };
      expect(core.mm_tree_corrupt(p.mm, kind)).toBe(0);
      expect(p.checkInternal()).toBe(code);
    });
  }

  it("keeps the index shallow: 100,000 VMAs in 5 levels or fewer, nodes at least 3 of 16 full", () => {
    const k = createKernelSync({ policy: "linux-5.17", max_map_count: 1 << 30 });
    const p = k.createProcess();
    const r = rng(5);
    // every other page, in a shuffled order, then a quarter of them unmapped again
    const n = 100_000;
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = r(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const i of order) p.mmap(0x10000000 + 2 * i * PAGE_SIZE, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    for (let i = 0; i < n / 4; i++) p.munmap(0x10000000 + 2 * order[i] * PAGE_SIZE, PAGE_SIZE);
    expect(p.checkInternal()).toBe(0);
    const core = k.core as unknown as { mm_tree_stats(mm: number): number; memory: WebAssembly.Memory };
    const f = new Float64Array(core.memory.buffer, core.mm_tree_stats(p.mm), 6);
    const vmas = p.counters().map_count; // the 75,000 and the process image's few
    expect(f[0]).toBe(vmas);
    expect(vmas).toBeGreaterThanOrEqual(n - n / 4);
    expect(f[2]).toBeLessThanOrEqual(5);
    // leaves of at most 16 VMAs, and (with the internal nodes) no more than one node per 3 VMAs
    expect(f[3]).toBeGreaterThan(vmas / 16);
    expect(f[3]).toBeLessThan(vmas / 3 * 1.1);
  });
});

