// A VMA's neighbours come from the index (assembly/mm/vma_tree.ts vma_next /
// vma_prev): the next slot of its leaf, or across the leaf's edge through the
// parent links. In a tree of depth 3 or more every leaf edge is crossed here,
// at both ends: mm_check compares each VMA's two neighbour steps with the
// in-order walk (code 1), the snapshot walks vma_next from the first VMA,
// and filling each hole merges the new page with the VMA before it (found
// by vma_prev of the VMA after the hole) and the VMA after it (vma_next of
// the one before). A fork's child, whose index is built in one pass, walks
// the same.
import { describe, expect, it } from "vitest";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PAGE_SIZE } from "../../src/abi/constants.js";
import { createKernelSync } from "../../src/engine/index.js";

const BASE = 0x10000000;
const N = 6000;

function depth(k: ReturnType<typeof createKernelSync>, mm: number): number {
  const core = k.core as unknown as { mm_tree_stats(mm: number): number; memory: WebAssembly.Memory };
  return new Float64Array(core.memory.buffer, core.mm_tree_stats(mm), 6)[2];
}

describe("neighbours through the index", () => {
  for (const build of ["debug", "release"] as const) {
    it(`walks across every leaf edge both ways at depth >= 3 (${build} build)`, () => {
      const k = createKernelSync({ policy: "linux-5.17", max_map_count: 1 << 20 }, { build });
      const p = k.createProcess();
      // N one-page VMAs on every other page: none merge
      for (let i = 0; i < N; i++) {
        expect(p.mmap(BASE + 2 * i * PAGE_SIZE, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)).toBe(BASE + 2 * i * PAGE_SIZE);
      }
      expect(depth(k, p.mm)).toBeGreaterThanOrEqual(3);
      expect(p.checkInternal()).toBe(0);
      const ours = p.vmas().filter((v) => v.start >= BASE && v.end <= BASE + 2 * N * PAGE_SIZE);
      expect(ours.map((v) => v.start)).toEqual(Array.from({ length: N }, (_, i) => BASE + 2 * i * PAGE_SIZE));
      // fork builds the child's index in one pass (vma_link_sorted): the same VMAs, the same walks
      const child = p.fork();
      expect(child.checkInternal()).toBe(0);
      expect(child.vmas().map((v) => [v.start, v.end])).toEqual(p.vmas().map((v) => [v.start, v.end]));
      expect(child.munmap(BASE + PAGE_SIZE * 2 * 100, PAGE_SIZE * 2 * 3000)).toBe(0);
      expect(child.checkInternal()).toBe(0);
      child.exit();
      // fill the holes in a scattered order: each fill joins three VMAs into one
      const before = p.counters().map_count;
      for (let j = 0; j < N - 1; j++) {
        const hole = (j * 2459) % (N - 1); // 2459 is prime to N - 1: every hole once
        const addr = BASE + (2 * hole + 1) * PAGE_SIZE;
        expect(p.mmap(addr, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(addr);
        expect(p.counters().map_count).toBe(before - j - 1);
        if (j % 1000 === 0) expect(p.checkInternal()).toBe(0);
      }
      const all = p.vmas().filter((v) => v.start >= BASE && v.end <= BASE + 2 * N * PAGE_SIZE);
      expect(all.map((v) => [v.start, v.end])).toEqual([[BASE, BASE + (2 * N - 1) * PAGE_SIZE]]);
      expect(p.checkInternal()).toBe(0);
    });
  }
});
