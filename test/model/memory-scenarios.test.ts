// The scenarios of kernel-facts §12 that need page faults or fork, as
// VMA layouts plus anon_vma identities (and, where the scenario says so,
// pages). S8/S9 use the mprotect variant of the same shapes (flags that
// differ in more than protection bits block anon_vma lending exactly as
// DONTFORK does) and S27 only its fault part; their madvise, mlock and mremap
// forms are in madvise.test.ts, mlock.test.ts and mremap.test.ts. Empty
// images unless the scenario needs brk or top-down placement: anon_vma ids
// then start at 1.

import { describe, expect, it } from "vitest";
import { EEXIST, MAP_FIXED, MAP_FIXED_NOREPLACE, PROT_EXEC, PROT_READ, PROT_WRITE } from "../../src/abi/constants.js";
import type { ProcessSim } from "../../src/types.js";
import { MEM_IMPLS, Rd, W, anonVma, av, emptyImage, expectMemClean, liveAnonVmas, pageAt, pteAt } from "./memutil.js";
import { ANON, P, PROT_RW, RA, RW, layout, lin, p, prot, ro, rw, seg } from "./util.js";

const RWX = PROT_READ | PROT_WRITE | PROT_EXEC;
/** [start, end, anon_vma, root] of the region's VMAs */
const avs = (proc: ProcessSim, lo = p(0), hi = p(4096)) =>
  proc.vmas().filter((v) => v.end > lo && v.start < hi).map((v) => [v.start, v.end, v.anonVma, v.anonVmaRoot]);

for (const impl of MEM_IMPLS) {
  const kernel = () => impl.create({ policy: "linux-5.17" });
  const fresh = (): ProcessSim => kernel().createProcess(emptyImage());

  describe(`${impl.name}: §12 scenarios with faults`, () => {
    it("S2: mmap merges with a faulted prev (case 2, NULL vs singular)", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      W(proc, 0);
      rw(proc, 2, 4);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expect(avs(proc)).toEqual([[p(0), p(4), 1, 1]]);
      expectMemClean(proc.kernel);
    });

    it("S3/S4: non-fixed mmaps stack downwards and the second joins the faulted first (case 3)", () => {
      const proc = fresh();
      const a = proc.mmap(0, 2 * P, PROT_RW, ANON, -1, 0);
      expect(proc.touch(a, true)).toBe(0);
      const b = proc.mmap(0, 2 * P, PROT_RW, ANON, -1, 0);
      expect(b).toBe(a - 2 * P);
      expect(proc.vmas().map((v) => [v.start, v.end, v.pgoff, v.anonVma])).toEqual([[b, a + 2 * P, b / P, 1]]);
      expect(proc.touch(b, true)).toBe(0); // S4: one VMA, one anon_vma
      expect(liveAnonVmas(proc.kernel)).toEqual([1]);
      expectMemClean(proc.kernel);
    });

    it("S5: a hole between two faulted VMAs with different anon_vmas merges with prev only (case 2)", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      W(proc, 0);
      W(proc, 3);
      rw(proc, 2, 3);
      expect(layout(proc)).toEqual([seg(0, 3, RW, lin(0)), seg(3, 5, RW, lin(3))]);
      expect(avs(proc)).toEqual([[p(0), p(3), 1, 1], [p(3), p(5), 2, 2]]);
      expectMemClean(proc.kernel);
    });

    it("S6: mprotect split and re-merge keep one anon_vma", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      for (let i = 0; i < 4; i++) W(proc, i);
      prot(proc, 1, 2, PROT_READ);
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0)), seg(1, 2, RA, lin(1)), seg(2, 4, RW, lin(2))]);
      expect(avs(proc).map((v) => v[2])).toEqual([1, 1, 1]);
      prot(proc, 1, 2, PROT_RW);
      expect(avs(proc)).toEqual([[p(0), p(4), 1, 1]]);
      expect([0, 1, 2, 3].map((i) => pageAt(proc, i).index)).toEqual([0, 1, 2, 3].map((i) => lin(i)));
      expectMemClean(proc.kernel);
    });

    it("S8/S9 (mprotect variant): a faulted VMA cannot join an unfaulted neighbour; faulting the neighbour lends it the anon_vma", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      prot(proc, 2, 4, RWX);
      W(proc, 2); // prev is compatible but has no anon_vma: AV1
      prot(proc, 2, 4, PROT_RW); // flags equal again, but AV1 vs NULL with an empty chain: no merge
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 4, RW, lin(2))]);
      expect(avs(proc)).toEqual([[p(0), p(2), 0, 0], [p(2), p(4), 1, 1]]);
      W(proc, 0); // S9: next is compatible and singular: lends AV1
      expect(avs(proc).map((v) => v[2])).toEqual([1, 1]);
      prot(proc, 0, 4, PROT_READ); // the first changes alone, then the second merges into it (case 7)
      expect(layout(proc)).toEqual([seg(0, 4, RA, lin(0))]);
      expect(avs(proc)).toEqual([[p(0), p(4), 1, 1]]);
      expectMemClean(proc.kernel);
    });

    it("S10: an unfaulted range joins a faulted neighbour (case 8: the faulted VMA grows down)", () => {
      const proc = fresh();
      ro(proc, 0, 2);
      rw(proc, 2, 4);
      W(proc, 2); // the R neighbour lacks VM_ACCOUNT: not compatible
      prot(proc, 0, 2, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expect(avs(proc)).toEqual([[p(0), p(4), 1, 1]]);
      expectMemClean(proc.kernel);
    });

    it("S23: MAP_FIXED over the middle of a faulted VMA re-merges into one VMA with the same anon_vma", () => {
      const proc = fresh();
      rw(proc, 0, 6);
      for (let i = 0; i < 6; i++) W(proc, i);
      expect(proc.mmap(p(2), 2 * P, PROT_RW, ANON | MAP_FIXED_NOREPLACE, -1, 0)).toBe(-EEXIST);
      expect(proc.mmap(p(2), 2 * P, PROT_RW, ANON | MAP_FIXED, -1, 0)).toBe(p(2));
      expect(avs(proc)).toEqual([[p(0), p(6), 1, 1]]);
      expect(anonVma(proc.kernel, 1)).toMatchObject({ degree: 2, avcs: [{ mm: 1, start: p(0), end: p(6), pgoff: lin(0) }] });
      expect(proc.memory().ptes.map((e) => e.addr)).toEqual([p(0), p(1), p(4), p(5)]);
      expect(proc.peek(p(2))).toBe(0);
      expectMemClean(proc.kernel);
    });

    it("S27 (fault part): reads of a faulted VMA map the zero page; a write adds a page to its anon_vma", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      W(proc, 0);
      W(proc, 3);
      Rd(proc, 1);
      expect(pteAt(proc, 1)).toEqual({ addr: p(1), page: 0, write: false });
      W(proc, 2);
      expect(pageAt(proc, 2)).toMatchObject({ mapping: 1, index: lin(2) });
      expect(avs(proc)).toEqual([[p(0), p(4), 1, 1]]);
      expectMemClean(proc.kernel);
    });

    it("S35 (faulted, 5.17): S5 leaves 2 VMAs, so the 4th non-adjacent mmap fails at max_map_count = 4", () => {
      const k = kernel();
      k.setMaxMapCount(4);
      const proc = k.createProcess(emptyImage());
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      W(proc, 0);
      W(proc, 3);
      rw(proc, 2, 3);
      expect(proc.counters().map_count).toBe(2);
      for (const n of [10, 12, 14]) rw(proc, n, n + 1);
      expect(proc.counters().map_count).toBe(5);
      expect(proc.mmap(p(16), P, PROT_RW, ANON | MAP_FIXED_NOREPLACE, -1, 0)).toBe(-12);
      expectMemClean(k);
    });

    it("S38: protection-only differences share the anon_vma, so the VMAs re-merge (case 7)", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      prot(proc, 2, 4, RWX);
      W(proc, 0);
      W(proc, 2);
      expect(avs(proc)).toEqual([[p(0), p(2), 1, 1], [p(2), p(4), 1, 1]]);
      prot(proc, 2, 4, PROT_RW);
      expect(avs(proc)).toEqual([[p(0), p(4), 1, 1]]);
      expectMemClean(proc.kernel);
    });
  });

  describe(`${impl.name}: §12 scenarios with fork`, () => {
    it("S15: the child cannot absorb a new neighbour; the parent can", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      W(proc, 0);
      const child = proc.fork();
      rw(child, 2, 4);
      rw(proc, 2, 4);
      expect(avs(child)).toEqual([[p(0), p(2), 2, 1], [p(2), p(4), 0, 0]]);
      expect(avs(proc)).toEqual([[p(0), p(4), 1, 1]]);
      expectMemClean(proc.kernel);
    });

    it("S16 (5.17): with a live child the parent's hole-filling mmap merges with prev only, and still after the child exits", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      W(proc, 0);
      W(proc, 3);
      const child = proc.fork();
      rw(proc, 2, 3);
      expect(avs(proc)).toEqual([[p(0), p(3), 1, 1], [p(3), p(5), 2, 2]]);
      child.exit();
      expect(proc.munmap(p(2), P)).toBe(0);
      rw(proc, 2, 3);
      expect(avs(proc)).toEqual([[p(0), p(3), 1, 1], [p(3), p(5), 2, 2]]);
      expectMemClean(proc.kernel);
    });

    it("S17 and S18 (5.17): 2 VMAs in the child when it faults after fork, 3 when the parent faulted before", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      const c17 = proc.fork();
      W(c17, 0);
      W(c17, 3);
      rw(c17, 2, 3);
      expect(avs(c17)).toEqual([[p(0), p(3), 1, 1], [p(3), p(5), 2, 2]]);
      W(proc, 0);
      W(proc, 3);
      const c18 = proc.fork();
      rw(c18, 2, 3);
      expect(avs(c18)).toEqual([[p(0), p(2), 5, 3], [p(2), p(3), 0, 0], [p(3), p(5), 6, 4]]);
      expectMemClean(proc.kernel);
    });

    it("S20: brk grows by merging, also over a faulted heap; in a fork child brk makes a new VMA", () => {
      const k = kernel();
      const proc = k.createProcess();
      const base = Math.max(...liveAnonVmas(k)); // the image's anon_vmas
      const H = proc.layout().start_brk;
      const heap = (q: ProcessSim) => q.vmas().filter((v) => v.start >= H && v.start < H + 0x100000)
        .map((v) => [v.start - H, v.end - H, v.pgoff, v.anonVma, v.anonVmaRoot]);
      expect(proc.brk(H + 2 * P)).toBe(H + 2 * P);
      expect(proc.brk(H + 4 * P)).toBe(H + 4 * P);
      expect(proc.touch(H, true)).toBe(0); // the binary's data VMA below is a file VMA: a new anon_vma
      expect(proc.brk(H + 6 * P)).toBe(H + 6 * P);
      expect(heap(proc)).toEqual([[0, 6 * P, H / P, base + 1, base + 1]]);
      const child = proc.fork();
      expect(child.brk(H + 8 * P)).toBe(H + 8 * P);
      expect(child.brk(H + 10 * P)).toBe(H + 10 * P);
      const childHeapAv = av(child, (H - p(0)) / P);
      expect(heap(child)).toEqual([[0, 6 * P, H / P, childHeapAv, base + 1], [6 * P, 10 * P, H / P + 6, 0, 0]]);
      expect(childHeapAv).toBeGreaterThan(base + 1);
      expectMemClean(k);
    });

    it("S37: read faults only: fork copies nothing and the child's new mapping merges", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      Rd(proc, 0);
      Rd(proc, 1);
      const child = proc.fork();
      expect(child.memory().ptes).toEqual([]);
      rw(child, 2, 4);
      expect(avs(child)).toEqual([[p(0), p(4), 0, 0]]);
      expectMemClean(proc.kernel);
    });
  });
}
