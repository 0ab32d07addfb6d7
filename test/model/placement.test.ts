// Address selection (kernel-facts §4.3-4.5, S3, S23, S39): top-down below
// mmap_base, hints, the stack guard gap, the bottom-up fallback from
// mmap_legacy_base = PAGE_ALIGN(TASK_SIZE / 3), MAP_32BIT, ENOMEM when full,
// and MAP_FIXED replacing what is there.

import { describe, expect, it } from "vitest";
import {
  EEXIST, ENOMEM, EPERM, MAP_32BIT, MAP_FIXED, MAP_NORESERVE, PROT_NONE, PROT_READ, TASK_SIZE, VM_NORESERVE,
} from "../../src/abi/constants.js";
import type { ProcessSim, VmaSnapshot } from "../../src/types.js";
import { IMPLS } from "../helpers/impls.js";
import { ANON, NONE, NOREPLACE, P, PROT_RW, R, RW, expectClean, layout, lin, p, region, ro, rw, seg, special } from "./util.js";

const MiB = 1 << 20;
const TASK_UNMAPPED_BASE = 0x2aaaaaaab000; // PAGE_ALIGN(TASK_SIZE / 3)

/** The VMA starting at addr. */
function at(proc: ProcessSim, addr: number): VmaSnapshot | undefined {
  return proc.vmas().find((v) => v.start === addr);
}

/** The highest free gap below mmap_base of at least `pages` pages, as [start, end). */
function highestGap(proc: ProcessSim, pages: number): [number, number] {
  const vs = proc.vmas();
  const base = proc.layout().mmap_base;
  for (let i = vs.length - 1; i >= 0; i--) {
    const lo = i > 0 ? vs[i - 1].end : 0;
    const hi = Math.min(vs[i].start, base);
    if (hi - lo >= pages * P) return [lo, hi];
  }
  throw new Error("no gap");
}

/** Fill everything below mmap_base that is not the image (except small gaps) with PROT_NONE. */
function fillLowSpace(proc: ProcessSim): void {
  const vs = proc.vmas();
  const bin = vs[0].start;
  const heapStart = proc.layout().start_brk;
  const libc = vs.find((v) => v.start > heapStart)!.start;
  expect(proc.mmap(0x10000, bin - 0x10000, PROT_NONE, ANON | MAP_NORESERVE | NOREPLACE, -1, 0)).toBe(0x10000);
  expect(proc.mmap(heapStart, libc - heapStart, PROT_NONE, ANON | MAP_NORESERVE | NOREPLACE, -1, 0)).toBe(heapStart);
}

for (const impl of IMPLS) {
  describe(`${impl.name}: placement`, () => {
    const fresh = () => impl.create({ policy: "linux-5.17" }).createProcess();

    it("top-down: a request takes the top of the highest gap below mmap_base that fits", () => {
      const proc = fresh();
      const base = proc.layout().mmap_base;
      // The default image has a one-page hole inside ld.so, just below mmap_base.
      const [holeLo, holeHi] = highestGap(proc, 1);
      expect(holeHi - holeLo).toBe(P);
      expect(holeHi).toBeLessThanOrEqual(base);
      expect(proc.mmap(0, P, PROT_NONE, ANON, -1, 0)).toBe(holeLo);
      // A two-page request skips the (now full) hole: it goes right below [vvar].
      const vvar = special(proc, "[vvar]");
      expect(proc.mmap(0, 2 * P, PROT_RW, ANON, -1, 0)).toBe(vvar.start - 2 * P);
      expectClean(proc);
    });

    it("S3: successive requests stack downwards and merge (case 3, pgoff of the new start)", () => {
      const proc = fresh();
      const vvar = special(proc, "[vvar]");
      const a = proc.mmap(0, 2 * P, PROT_RW, ANON, -1, 0);
      const b = proc.mmap(0, 2 * P, PROT_RW, ANON, -1, 0);
      expect(a).toBe(vvar.start - 2 * P);
      expect(b).toBe(a - 2 * P);
      expect(at(proc, b)).toMatchObject({ start: b, end: vvar.start, flags: RW, pgoff: b / P });
      expect(at(proc, a)).toBeUndefined();
      expectClean(proc);
    });

    it("a freed VMA leaves a hole that the next fitting request fills from its top end", () => {
      const proc = fresh();
      const a1 = proc.mmap(0, 2 * P, PROT_RW, ANON, -1, 0);
      const a2 = proc.mmap(0, 2 * P, PROT_READ, ANON, -1, 0);
      const a3 = proc.mmap(0, 2 * P, PROT_RW, ANON, -1, 0);
      expect([a2, a3]).toEqual([a1 - 2 * P, a1 - 4 * P]);
      proc.mmap(0, P, PROT_NONE, ANON, -1, 0); // fill the one-page hole in ld.so first
      expect(proc.munmap(a2, 2 * P)).toBe(0);
      expect(proc.mmap(0, P, PROT_NONE, ANON, -1, 0)).toBe(a2 + P);
      expect(proc.mmap(0, P, PROT_NONE, ANON, -1, 0)).toBe(a2); // merges with it (case 3)
      expect(at(proc, a2)).toMatchObject({ end: a1, flags: NONE, pgoff: a2 / P });
      expectClean(proc);
    });

    it("a large request skips the small gaps and ends at the next VMA's start", () => {
      const proc = fresh();
      const heapStart = proc.layout().start_brk;
      const libc = proc.vmas().find((v) => v.start > heapStart)!;
      const len = 2 ** 40;
      expect(proc.mmap(0, len, PROT_NONE, ANON | MAP_NORESERVE, -1, 0)).toBe(libc.start - len);
      expect(at(proc, libc.start - len)!.flags).toBe((NONE | VM_NORESERVE) >>> 0);
      expectClean(proc);
    });

    it("S39: a free hint is used; an occupied or partly occupied one is ignored; hints are rounded down", () => {
      const proc = fresh();
      expect(proc.mmap(p(0), 2 * P, PROT_RW, ANON, -1, 0)).toBe(p(0));
      const [, hi] = highestGap(proc, 2);
      expect(proc.mmap(p(1), 2 * P, PROT_RW, ANON, -1, 0)).toBe(hi - 2 * P); // overlaps [p0, p2)
      expect(proc.mmap(p(3) + 123, P, PROT_READ, ANON, -1, 0)).toBe(p(3)); // rounded down, not up
      const [, hi2] = highestGap(proc, 2);
      expect(proc.mmap(p(2), 2 * P, PROT_READ, ANON, -1, 0)).toBe(hi2 - 2 * P); // [p3] is taken
      expect(layout(proc, p(0), p(100))).toEqual([seg(0, 2, RW, lin(0)), seg(3, 4, R, lin(3))]);
      expectClean(proc);
    });

    it("S39: a non-zero hint below mmap_min_addr is raised to mmap_min_addr; MAP_FIXED there is EPERM", () => {
      const proc = fresh();
      expect(proc.mmap(0x3000, P, PROT_READ, ANON, -1, 0)).toBe(0x10000);
      expect(proc.mmap(0x3000, P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(-EPERM);
      expectClean(proc);
    });

    it("hints beyond TASK_SIZE or running past it are ignored (top-down instead)", () => {
      const proc = fresh();
      const [, hi] = highestGap(proc, 2);
      expect(proc.mmap(TASK_SIZE + P, 2 * P, PROT_READ, ANON, -1, 0)).toBe(hi - 2 * P);
      expect(proc.mmap(TASK_SIZE - P, 2 * P, PROT_READ, ANON, -1, 0)).toBe(hi - 4 * P);
      expectClean(proc);
    });

    it("a hint above mmap_base is fine when free; not within the stack guard gap (256 pages)", () => {
      const proc = fresh();
      const base = proc.layout().mmap_base;
      const stack = proc.vmas()[proc.vmas().length - 1];
      expect(proc.mmap(base + 16 * P, P, PROT_READ, ANON, -1, 0)).toBe(base + 16 * P);
      const guard = stack.start - 256 * P;
      const [, hi] = highestGap(proc, 1);
      expect(proc.mmap(stack.start - 2 * P, P, PROT_READ, ANON, -1, 0)).toBe(hi - P); // ignored
      expect(proc.mmap(guard - P + 1, P, PROT_READ, ANON, -1, 0)).toBe(guard - P); // ends at the guard: used
      expect(proc.mmap(guard, P, PROT_READ, ANON, -1, 0)).not.toBe(guard);
      // MAP_FIXED does not care about the guard gap.
      expect(proc.mmap(stack.start - P, P, PROT_READ, ANON | NOREPLACE, -1, 0)).toBe(stack.start - P);
      expectClean(proc);
    });

    it("the guard gap follows stack_guard_gap_pages", () => {
      const proc = impl.create({ policy: "linux-5.17", stack_guard_gap_pages: 16 }).createProcess();
      const stack = proc.vmas()[proc.vmas().length - 1];
      expect(proc.mmap(stack.start - 17 * P, P, PROT_READ, ANON, -1, 0)).toBe(stack.start - 17 * P);
      expect(proc.mmap(stack.start - 16 * P, P, PROT_READ, ANON, -1, 0)).not.toBe(stack.start - 16 * P);
      expectClean(proc);
    });

    it("top-down failure falls back to bottom-up from TASK_UNMAPPED_BASE, which respects the guard gap", () => {
      const proc = fresh();
      fillLowSpace(proc);
      const base = proc.layout().mmap_base;
      const stack = proc.vmas()[proc.vmas().length - 1];
      const room = stack.start - 256 * P - base; // between ld.so's end (== mmap_base) and the guard gap
      expect(room).toBeGreaterThan(64 * MiB);
      expect(proc.mmap(0, 64 * MiB, PROT_NONE, ANON, -1, 0)).toBe(base);
      expect(proc.mmap(0, room - 64 * MiB + P, PROT_NONE, ANON, -1, 0)).toBe(-ENOMEM); // one page too many
      expect(proc.mmap(0, room - 64 * MiB, PROT_NONE, ANON, -1, 0)).toBe(base + 64 * MiB);
      expect(at(proc, base)).toMatchObject({ end: stack.start - 256 * P, flags: NONE, pgoff: base / P });
      expect(TASK_UNMAPPED_BASE).toBeLessThan(base);
      expectClean(proc);
    });

    it("ENOMEM when no gap fits anywhere", () => {
      const proc = fresh();
      fillLowSpace(proc);
      const before = proc.vmas();
      expect(proc.mmap(0, 256 * MiB, PROT_NONE, ANON, -1, 0)).toBe(-ENOMEM);
      expect(proc.mmap(p(0), 256 * MiB, PROT_NONE, ANON, -1, 0)).toBe(-ENOMEM); // an occupied hint too
      expect(proc.vmas()).toEqual(before);
    });

    it("MAP_32BIT: bottom-up in [1 GiB, 2 GiB), lowest address first", () => {
      const proc = fresh();
      expect(proc.mmap(0, 2 * P, PROT_RW, ANON | MAP_32BIT, -1, 0)).toBe(0x40000000);
      expect(proc.mmap(0, 2 * P, PROT_RW, ANON | MAP_32BIT, -1, 0)).toBe(0x40000000 + 2 * P); // merges (case 2)
      expect(layout(proc, 0x40000000, 0x80000000)).toEqual([
        { start: 0x40000000, end: 0x40000000 + 4 * P, flags: RW, pgoff: 0x40000000 / P },
      ]);
      expectClean(proc);
    });

    it("MAP_FIXED replaces what is in the way: split pieces keep their pgoff", () => {
      const proc = fresh();
      rw(proc, 0, 6);
      expect(proc.mmap(p(2), 2 * P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(p(2));
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 4, R, lin(2)), seg(4, 6, RW, lin(4))]);
      expectClean(proc);
    });

    it("S23: MAP_FIXED with equal attributes over the middle of a VMA re-merges into one VMA", () => {
      const proc = fresh();
      rw(proc, 0, 6);
      const count = proc.counters().map_count;
      expect(proc.mmap(p(2), 2 * P, PROT_RW, ANON | MAP_FIXED, -1, 0)).toBe(p(2));
      expect(layout(proc)).toEqual([seg(0, 6, RW, lin(0))]);
      expect(proc.counters().map_count).toBe(count);
      expect(proc.mmap(p(2), 2 * P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(-EEXIST);
      expectClean(proc);
    });

    it("MAP_FIXED over several VMAs and gaps replaces all of them", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      ro(proc, 3, 5);
      rw(proc, 6, 8);
      expect(proc.mmap(p(1), 6 * P, PROT_NONE, ANON | MAP_FIXED, -1, 0)).toBe(p(1));
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0)), seg(1, 7, NONE, lin(1)), seg(7, 8, RW, lin(7))]);
      expect(region(proc).length).toBe(3);
      expectClean(proc);
    });
  });
}
