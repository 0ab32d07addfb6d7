// The unmapped-area searches over the VMA index (assembly/mm/unmapped_area.ts)
// against the reference model's list walks (src/model/get_unmapped_area.ts):
// fragmented layouts with stacks whose guard gap reaches below the previous
// VMA (where vm_start_gap() is not monotonic), searched top down (mmap at
// NULL) and bottom up (MAP_32BIT, and the fallback when the top-down search
// fails), with lengths from one page to more than any gap (and above the
// 16 TiB where the index's stored gaps saturate). Every result must be the
// same address or errno.
import { describe, expect, it } from "vitest";
import {
  MAP_32BIT, MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE, PAGE_SIZE, PROT_READ,
} from "../../src/abi/constants.js";
import { createKernelSync } from "../../src/engine/index.js";
import { createModelKernel } from "../../src/model/index.js";
import type { KernelConfig } from "../../src/types.js";

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  };
}

const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const LOW = 0x40000000; // MAP_32BIT's window: [1 GiB, 2 GiB)

describe("unmapped-area searches: engine index == model list walk", () => {
  for (let seed = 1; seed <= 6; seed++) {
    it(`seed ${seed}: 1,500 placements among up to ~600 VMAs`, () => {
      // a small guard gap, so that stacks' guard gaps often overlap their predecessor
      const config: KernelConfig = { policy: "linux-5.17", stack_guard_gap_pages: 1 + (seed % 4) * 3, max_map_count: 1 << 20 };
      const e = createKernelSync(config).createProcess();
      const m = createModelKernel(config).createProcess();
      const r = rng(seed * 7919);
      // the two windows searched: below mmap_base (top down) and MAP_32BIT's (bottom up)
      const top = e.layout().mmap_base;
      const windows = [LOW, top - 0x4000000];
      const both = (what: string, f: (p: typeof e) => number) => {
        const a = f(e);
        const b = f(m as unknown as typeof e);
        if (a !== b) expect.fail(`${what}: engine ${a}, model ${b}`);
        return a;
      };
      for (let i = 0; i < 1500; i++) {
        const w = windows[r(2)];
        const pg = r(0x4000);
        // mostly small; some near the size of MAP_32BIT's window; a few above the
        // 16 TiB at which the index's gaps saturate (read-only: never accounted)
        const size = r(40);
        const len = size === 0 ? (1 + r(100)) * 2 ** 40 : size === 1 ? 2 ** 30 - r(0x8000) * PAGE_SIZE : (1 + r(r(4) === 0 ? 600 : 8)) * PAGE_SIZE;
        const op = r(10);
        if (op < 4) {
          const flags = ANON | MAP_FIXED | (r(3) === 0 ? MAP_GROWSDOWN : 0);
          both(`op ${i}: mmap fixed`, (p) => p.mmap(w + pg * PAGE_SIZE, len, PROT_READ, flags, -1, 0));
        } else if (op < 6) {
          both(`op ${i}: mmap NULL`, (p) => p.mmap(0, len, PROT_READ, ANON, -1, 0));
        } else if (op < 8) {
          both(`op ${i}: mmap MAP_32BIT`, (p) => p.mmap(0, len, PROT_READ, ANON | MAP_32BIT, -1, 0));
        } else {
          both(`op ${i}: munmap`, (p) => p.munmap(w + pg * PAGE_SIZE, len));
        }
        if (i % 100 === 99) expect(e.checkInternal()).toBe(0);
      }
      expect(e.counters().map_count).toBe(m.counters().map_count);
      expect(e.counters().map_count).toBeGreaterThan(100);
    });
  }
});
