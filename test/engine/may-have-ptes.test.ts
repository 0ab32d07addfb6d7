// munmap skips the page walk of a VMA that never had a PTE (Vma.may_have_ptes).
// The PTEs that come without an anon_vma, the zero page's and 6.13 guard
// markers, must still go when their VMA is unmapped, whatever splits, merges,
// moves and forks happened in between. mm_check reports code 17 for a VMA with
// PTEs but without the bit; the debug build also asserts it at every skip.
import { describe, expect, it } from "vitest";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE, PAGE_SIZE, PROT_READ, PROT_WRITE } from "../../src/abi/constants.js";
import { checkKernel, checkProcess } from "../../src/check/index.js";
import { createKernelSync } from "../../src/engine/index.js";
import type { ProcessSim } from "../../src/types.js";

const MADV_GUARD_INSTALL = 102;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const RW = PROT_READ | PROT_WRITE;
const BASE = 0x10000000;

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  };
}

const ptesIn = (p: ProcessSim, start: number, end: number) => p.memory().ptes.filter((t) => t.addr >= start && t.addr < end);

describe("unmapping a VMA without page walk (may_have_ptes)", () => {
  for (const build of ["debug", "release"] as const) {
    it(`unmaps zero-page PTEs of a VMA without anon_vma (${build} build)`, () => {
      const k = createKernelSync({ policy: "linux-5.17" }, { build });
      const p = k.createProcess();
      expect(p.mmap(BASE, 8 * PAGE_SIZE, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(BASE);
      for (let i = 0; i < 8; i += 2) expect(p.touch(BASE + i * PAGE_SIZE, false)).toBe(0);
      expect(ptesIn(p, BASE, BASE + 8 * PAGE_SIZE).map((t) => t.page)).toEqual([0, 0, 0, 0]);
      expect(p.memory().chains.find((c) => c.start === BASE)?.anonVma ?? 0).toBe(0);
      // a split, a re-merge and a move before the unmap
      expect(p.mprotect(BASE + 2 * PAGE_SIZE, PAGE_SIZE, RW)).toBe(0);
      expect(p.mprotect(BASE + 2 * PAGE_SIZE, PAGE_SIZE, PROT_READ)).toBe(0);
      expect(p.mremap(BASE + 4 * PAGE_SIZE, 4 * PAGE_SIZE, 4 * PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, BASE + 64 * PAGE_SIZE)).toBe(BASE + 64 * PAGE_SIZE);
      expect(ptesIn(p, BASE + 64 * PAGE_SIZE, BASE + 68 * PAGE_SIZE).length).toBe(2);
      expect(p.checkInternal()).toBe(0);
      expect(p.munmap(BASE, 4 * PAGE_SIZE)).toBe(0);
      expect(p.munmap(BASE + 64 * PAGE_SIZE, 4 * PAGE_SIZE)).toBe(0);
      expect(ptesIn(p, BASE, BASE + 68 * PAGE_SIZE)).toEqual([]);
      expect(p.memory().pgtables.filter((t) => t.level === 1 && t.addr === BASE)).toEqual([]);
      expect(checkProcess(p)).toEqual([]);
      expect(checkKernel(k)).toEqual([]);
      expect(p.checkInternal()).toBe(0);
    });

    it(`unmaps guard markers, so the range maps and faults again (${build} build)`, () => {
      const k = createKernelSync({ policy: "linux-6.18" }, { build });
      const p = k.createProcess();
      expect(p.mmap(BASE, 4 * PAGE_SIZE, RW, ANON | MAP_FIXED, -1, 0)).toBe(BASE);
      expect(p.madvise(BASE + PAGE_SIZE, 2 * PAGE_SIZE, MADV_GUARD_INSTALL)).toBe(0);
      expect(p.touch(BASE + PAGE_SIZE, false)).toBe(11);
      // a fork copies the markers into the child's VMA
      const c = p.fork();
      expect(c.touch(BASE + 2 * PAGE_SIZE, true)).toBe(11);
      for (const q of [p, c]) {
        expect(q.checkInternal()).toBe(0);
        expect(q.munmap(BASE, 4 * PAGE_SIZE)).toBe(0);
        expect(q.mmap(BASE, 4 * PAGE_SIZE, RW, ANON | MAP_FIXED, -1, 0)).toBe(BASE);
        // a marker left behind would raise SIGSEGV here
        for (let i = 0; i < 4; i++) expect(q.touch(BASE + i * PAGE_SIZE, true)).toBe(0);
        expect(checkProcess(q)).toEqual([]);
        expect(q.checkInternal()).toBe(0);
      }
      expect(checkKernel(k)).toEqual([]);
    });

    it(`keeps the bit wherever PTEs are, under 5,000 random ops (${build} build)`, () => {
      const k = createKernelSync({ policy: "linux-6.18" }, { build });
      let p = k.createProcess();
      const r = rng(build === "debug" ? 3 : 5);
      for (let i = 0; i < 5_000; i++) {
        const a = BASE + r(256) * PAGE_SIZE, n = (1 + r(8)) * PAGE_SIZE;
        switch (r(8)) {
          case 0: p.mmap(a, n, r(2) ? RW : PROT_READ, ANON | MAP_FIXED, -1, 0); break;
          case 1: p.munmap(a, n); break;
          case 2: p.mprotect(a, n, r(2) ? RW : PROT_READ); break;
          case 3: p.touch(a, r(4) === 0); break;
          case 4: p.madvise(a, n, MADV_GUARD_INSTALL); break;
          case 5: p.mremap(a, n, n, MREMAP_MAYMOVE | MREMAP_FIXED, BASE + r(256) * PAGE_SIZE); break;
          case 6: if (r(20) === 0) { const c = p.fork(); p.exit(); p = c; } break;
          default: p.mmap(0, n, RW, ANON, -1, 0); break;
        }
        const code = p.checkInternal();
        if (code !== 0) expect.fail(`mm_check ${code} after op ${i}`);
      }
      expect(p.munmap(0, 0x7ffffffff000)).toBe(0);
      expect(p.memory().ptes).toEqual([]);
      expect(checkProcess(p)).toEqual([]);
      expect(checkKernel(k)).toEqual([]);
    });
  }
});
