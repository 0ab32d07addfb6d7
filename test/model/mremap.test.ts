// mremap(2) under linux-5.17 (kernel-facts §7, §3.2, §10, §12 S11-S14, S29-S31;
// kernel-facts §14.3-§14.4): every errno path in the kernel's order, the +14
// quirk, shrink across VMAs and holes, growth in place without a merge,
// moves (pgoff rules, merges at the destination, the self-merge), partial
// moves and VM_ACCOUNT, MREMAP_DONTUNMAP, page-table moves, the map-count
// margins, VM_LOCKED moves. Run on the model and on the engine.

import { describe, expect, it } from "vitest";
import {
  EFAULT, EINVAL, ENOMEM, EPERM, MAP_LOCKED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ,
  TASK_SIZE, VM_ACCOUNT, VM_LOCKED,
} from "../../src/abi/constants.js";
import type { ProcessSim } from "../../src/types.js";
import { MEM_IMPLS, PMD_SIZE, Rd, W, av, chainAt, emptyImage, expectMemClean, pageAt, pteAt, tables } from "./memutil.js";
import { ANON, NOREPLACE, P, PROT_RW, R, RW, SHANON, X, layout, lin, p, region, rw, seg, special } from "./util.js";

const MAYMOVE = MREMAP_MAYMOVE;
const FIXED = MREMAP_MAYMOVE | MREMAP_FIXED;
const DONTUNMAP = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
const hex = (n: number) => "0x" + n.toString(16);
const pte = (a: number) => `1:${hex(a - (a % PMD_SIZE))}`;
const pmd = (a: number) => `2:${hex(a - (a % 2 ** 30))}`;
const pud = (a: number) => `3:${hex(a - (a % 2 ** 39))}`;

for (const impl of MEM_IMPLS) {
  const kernel = (max_map_count?: number) => impl.create({ policy: "linux-5.17", ...(max_map_count ? { max_map_count } : {}) });
  const fresh = (max?: number): ProcessSim => kernel(max).createProcess(emptyImage());
  const withImage = (): ProcessSim => kernel().createProcess();
  /** write the byte at page n `times` times (content = times) */
  const fill = (proc: ProcessSim, n: number, times = 1) => {
    for (let i = 0; i < times; i++) expect(proc.touch(p(n), true)).toBe(0);
  };
  const peek = (proc: ProcessSim, n: number) => proc.peek(p(n));

  describe(`${impl.name}: mremap argument checks, in the kernel's order`, () => {
    it("flags: unknown bits, FIXED without MAYMOVE, DONTUNMAP without MAYMOVE or with a size change", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      expect(proc.mremap(p(0), 2 * P, 2 * P, 8, 0)).toBe(-EINVAL);
      expect(proc.mremap(p(0), 2 * P, 2 * P, MREMAP_FIXED, p(10))).toBe(-EINVAL);
      expect(proc.mremap(p(0), 2 * P, 2 * P, MREMAP_DONTUNMAP, 0)).toBe(-EINVAL);
      expect(proc.mremap(p(0), 2 * P, P, DONTUNMAP, 0)).toBe(-EINVAL); // S30
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0))]);
    });

    it("an unaligned addr and a zero new_len are EINVAL before the VMA lookup; then an address in no VMA is +14", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      expect(proc.mremap(p(5) + 1, P, P, 0, 0)).toBe(-EINVAL);
      expect(proc.mremap(p(5), P, 0, 0, 0)).toBe(-EINVAL);
      // new_len rounds up: 1 byte is one page
      expect(proc.mremap(p(0), 2 * P, 1, 0, 0)).toBe(p(0));
      // S30: the 5.17 sign bug, EFAULT's positive value
      expect(proc.mremap(p(5), P, P, 0, 0)).toBe(EFAULT);
      expect(proc.mremap(p(5), P, 2 * P, MAYMOVE, 0)).toBe(14);
      expect(proc.mremap(TASK_SIZE, P, P, 0, 0)).toBe(14);
      expect(proc.mremap(-P, P, P, 0, 0)).toBe(14);
    });

    it("growth: old_len 0 of a private mapping is EINVAL; crossing the VMA end EFAULT; VM_DONTEXPAND EFAULT", () => {
      const proc = withImage();
      rw(proc, 0, 2);
      expect(proc.mremap(p(0), 0, P, MAYMOVE, 0)).toBe(-EINVAL);
      expect(proc.mremap(p(1), 2 * P, 4 * P, MAYMOVE, 0)).toBe(-EFAULT); // S30
      const vdso = special(proc, "[vdso]");
      const size = vdso.end - vdso.start;
      expect(proc.mremap(vdso.start, size, size + P, MAYMOVE, 0)).toBe(-EFAULT);
      // the same size is fine (a no-op shrink)
      expect(proc.mremap(vdso.start, size, size, 0, 0)).toBe(vdso.start);
    });

    it("cannot grow in place and no MAYMOVE: ENOMEM (S29)", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 4, 6);
      expect(proc.mremap(p(0), 2 * P, 5 * P, 0, 0)).toBe(-ENOMEM);
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(4, 6, RW, lin(4))]);
    });

    it("mremap_to: unaligned new_addr, a range beyond TASK_SIZE, overlapping ranges: EINVAL", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      expect(proc.mremap(p(0), 2 * P, 2 * P, FIXED, p(10) + 1)).toBe(-EINVAL);
      expect(proc.mremap(p(0), 2 * P, 2 * P, FIXED, TASK_SIZE - P)).toBe(-EINVAL);
      expect(proc.mremap(p(0), 2 * P, 2 * P, FIXED, p(1))).toBe(-EINVAL);
      expect(proc.mremap(p(2), 2 * P, 2 * P, DONTUNMAP, p(1))).toBe(-EINVAL);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
    });

    it("mremap_to below mmap_min_addr: the destination is cleared, then get_unmapped_area() says EPERM", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      expect(proc.mremap(p(0), 2 * P, 2 * P, FIXED, 0x1000)).toBe(-EPERM);
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0))]);
    });

    it("DONTUNMAP of a VM_PFNMAP / VM_DONTEXPAND VMA is EINVAL; moving part of a special mapping is EINVAL (may_split)", () => {
      const proc = withImage();
      const vvar = special(proc, "[vvar]");
      expect(proc.mremap(vvar.start, P, P, DONTUNMAP, 0)).toBe(-EINVAL);
      const vdso = special(proc, "[vdso]");
      expect(vdso.end - vdso.start).toBeGreaterThan(P);
      expect(proc.mremap(vdso.start, P, P, FIXED, p(100))).toBe(-EINVAL);
      // the whole of it moves
      const size = vdso.end - vdso.start;
      expect(proc.mremap(vdso.start, size, size, FIXED, p(100))).toBe(p(100));
      expect(special(proc, "[vdso]").start).toBe(p(100));
    });
  });

  describe(`${impl.name}: mremap shrink and growth in place`, () => {
    it("shrink unmaps the tail, across VMAs and holes alike (S30)", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      expect(proc.mremap(p(0), 6 * P, P, 0, 0)).toBe(p(0));
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0))]);
      expect(proc.counters().total_vm).toBe(1);
      expectMemClean(proc.kernel);
    });

    it("a shrink is munmap's: a hole inside a VMA at the map-count limit is ENOMEM, a tail trim is not", () => {
      const proc = fresh(3);
      rw(proc, 0, 1);
      rw(proc, 2, 3);
      rw(proc, 4, 10);
      // mremap(p4, 2 pages -> 1 page) unmaps [p5, p6), strictly inside [p4, p10)
      expect(proc.mremap(p(4), 2 * P, P, 0, 0)).toBe(-ENOMEM);
      // [p4, p10) shrunk to 1 page unmaps [p5, p10): a tail trim, no limit check
      expect(proc.mremap(p(4), 6 * P, P, 0, 0)).toBe(p(4));
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0)), seg(2, 3, RW, lin(2)), seg(4, 5, RW, lin(4))]);
    });

    it("S29: growing in place leaves the grown VMA next to an otherwise mergeable one (no merge in 5.17)", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 4, 6);
      expect(proc.mremap(p(0), 2 * P, 4 * P, 0, 0)).toBe(p(0));
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0)), seg(4, 6, RW, lin(4))]);
      expect(proc.counters().total_vm).toBe(6);
      expectMemClean(proc.kernel);
    });

    it("selftest mremap_expand_merge: 3 pages, middle unmapped, first grown back: 2 VMAs in 5.17", () => {
      const proc = fresh();
      rw(proc, 0, 3);
      expect(proc.munmap(p(1), P)).toBe(0);
      expect(proc.mremap(p(0), P, 2 * P, 0, 0)).toBe(p(0));
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 3, RW, lin(2))]);
    });

    it("growth of a faulted VMA keeps its anon_vma and pgoff; the grown part faults into the same anon_vma", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      W(proc, 0);
      expect(proc.mremap(p(0), 2 * P, 4 * P, 0, 0)).toBe(p(0));
      W(proc, 3);
      expect(pageAt(proc, 3).index).toBe(lin(3));
      expect(pageAt(proc, 3).mapping).toBe(av(proc, 0));
      expectMemClean(proc.kernel);
    });

    it("S29: growth that would reach the next VMA moves with MAYMOVE, top-down, with the new address as pgoff", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 4, 6);
      const to = proc.mremap(p(0), 2 * P, 5 * P, MAYMOVE, 0);
      expect(to).toBe(proc.layout().mmap_base - 5 * P);
      const moved = proc.vmas().find((v) => v.start === to)!;
      expect([moved.end - moved.start, moved.pgoff]).toEqual([5 * P, to / P]);
      expect(layout(proc)).toEqual([seg(4, 6, RW, lin(4))]);
      expectMemClean(proc.kernel);
    });

    it("growing a VM_LOCKED VMA in place populates the new part and counts it in locked_vm", () => {
      const proc = fresh();
      expect(proc.mmap(p(0), 2 * P, PROT_RW, ANON | NOREPLACE | MAP_LOCKED, -1, 0)).toBe(p(0));
      expect(proc.counters().locked_vm).toBe(2);
      expect(proc.mremap(p(0), 2 * P, 4 * P, 0, 0)).toBe(p(0));
      expect(proc.counters().locked_vm).toBe(4);
      expect([0, 1, 2, 3].map((n) => pteAt(proc, n)?.write)).toEqual([true, true, true, true]);
      expectMemClean(proc.kernel);
    });
  });

  describe(`${impl.name}: mremap moves`, () => {
    it("S11: an unfaulted VMA moved next to another takes the destination's pgoff and merges", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 10, 12);
      expect(proc.mremap(p(10), 2 * P, 2 * P, FIXED, p(2))).toBe(p(2));
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expectMemClean(proc.kernel);
    });

    it("S11 with a faulted destination neighbour (NULL vs singular) merges too", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      W(proc, 0);
      rw(proc, 10, 12);
      expect(proc.mremap(p(10), 2 * P, 2 * P, FIXED, p(2))).toBe(p(2));
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expect(av(proc, 3)).toBe(av(proc, 0));
      expectMemClean(proc.kernel);
    });

    it("S12: a faulted VMA keeps its old pgoff and anon_vma: no merge next to another faulted VMA", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      W(proc, 0);
      rw(proc, 10, 12);
      W(proc, 10);
      W(proc, 11);
      const av2 = av(proc, 10);
      expect(proc.mremap(p(10), 2 * P, 2 * P, FIXED, p(2))).toBe(p(2));
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 4, RW, lin(10))]);
      expect(av(proc, 2)).toBe(av2);
      // the pages moved with their PTEs: same page, same index
      expect([pageAt(proc, 2).index, pageAt(proc, 3).index]).toEqual([lin(10), lin(11)]);
      expect(pteAt(proc, 10)).toBeUndefined();
      expectMemClean(proc.kernel);
    });

    it("S13: a piece moved into the hole next to its sibling keeps its pgoff: 2 VMAs in 5.17", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      for (let n = 0; n < 4; n++) W(proc, n);
      expect(proc.munmap(p(2), P)).toBe(0);
      expect(proc.mremap(p(3), P, P, FIXED, p(2))).toBe(p(2));
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 3, RW, lin(3))]);
      expect(av(proc, 2)).toBe(av(proc, 0));
      expectMemClean(proc.kernel);
    });

    it("S14: moved away and back, a faulted piece re-merges (case 2, same anon_vma, pgoff continuous)", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      for (let n = 0; n < 4; n++) fill(proc, n, n + 1);
      expect(proc.mremap(p(2), 2 * P, 2 * P, FIXED, p(10))).toBe(p(10));
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(10, 12, RW, lin(2))]);
      expect(av(proc, 10)).toBe(av(proc, 0));
      expect([peek(proc, 10), peek(proc, 11)]).toEqual([3, 4]);
      expect(proc.mremap(p(10), 2 * P, 2 * P, FIXED, p(2))).toBe(p(2));
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expect([0, 1, 2, 3].map((n) => peek(proc, n))).toEqual([1, 2, 3, 4]);
      expect([0, 1, 2, 3].map((n) => pageAt(proc, n).index)).toEqual([0, 1, 2, 3].map(lin));
      expectMemClean(proc.kernel);
    });

    it("an unfaulted VMA moved right behind itself merges with itself (the self-merge redirect)", () => {
      const proc = fresh();
      rw(proc, 10, 12);
      Rd(proc, 10); // a zero-page PTE: still no anon_vma
      expect(proc.mremap(p(10), 2 * P, 2 * P, FIXED, p(12))).toBe(p(12));
      expect(layout(proc)).toEqual([seg(12, 14, RW, lin(12))]);
      expect(pteAt(proc, 12)).toEqual({ addr: p(12), page: 0, write: false });
      expect(proc.counters().total_vm).toBe(2);
      expectMemClean(proc.kernel);
    });

    it("a partial move of the middle splits the source; both pieces get VM_ACCOUNT back", () => {
      const proc = fresh();
      rw(proc, 0, 6);
      for (let n = 0; n < 6; n++) fill(proc, n, n + 1);
      const av1 = av(proc, 0);
      expect(proc.mremap(p(2), 2 * P, 2 * P, FIXED, p(20))).toBe(p(20));
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(4, 6, RW, lin(4)), seg(20, 22, RW, lin(2))]);
      for (const v of region(proc)) {
        expect(v.flags & VM_ACCOUNT).toBe(VM_ACCOUNT);
        expect(v.anonVma).toBe(av1);
      }
      expect([peek(proc, 20), peek(proc, 21), peek(proc, 4)]).toEqual([3, 4, 5]);
      expect(proc.counters().total_vm).toBe(6);
      expectMemClean(proc.kernel);
    });

    it("a partial move of the head and of the tail: the remaining piece keeps VM_ACCOUNT", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      W(proc, 0);
      expect(proc.mremap(p(0), P, P, FIXED, p(20))).toBe(p(20));
      expect(proc.mremap(p(3), P, P, FIXED, p(30))).toBe(p(30));
      expect(layout(proc)).toEqual([seg(1, 3, RW, lin(1)), seg(20, 21, RW, lin(0)), seg(30, 31, RW, lin(3))]);
      expectMemClean(proc.kernel);
    });

    it("a move that grows: the new tail has no PTEs and the moved part keeps its pages", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      fill(proc, 0, 7);
      expect(proc.mremap(p(0), 2 * P, 4 * P, FIXED, p(40))).toBe(p(40));
      expect(layout(proc)).toEqual([seg(40, 44, RW, lin(0))]);
      expect(peek(proc, 40)).toBe(7);
      expect(pteAt(proc, 42)).toBeUndefined();
      expect(proc.counters().total_vm).toBe(4);
      expectMemClean(proc.kernel);
    });

    it("a FIXED move replaces what is at the destination", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      fill(proc, 0, 5);
      map3(proc);
      expect(proc.mremap(p(0), 2 * P, 2 * P, FIXED, p(11))).toBe(p(11));
      expect(layout(proc)).toEqual([seg(10, 11, R, lin(10)), seg(11, 13, RW, lin(0)), seg(13, 14, R, lin(13))]);
      expect(peek(proc, 11)).toBe(5);
      expectMemClean(proc.kernel);
    });

    it("old_len 0 of a shared mapping duplicates it: the source stays whole (munmap of 0 bytes is EINVAL, ignored)", () => {
      const proc = fresh();
      expect(proc.mmap(p(0), 4 * P, PROT_RW, SHANON | NOREPLACE, -1, 0)).toBe(p(0));
      fill(proc, 1, 6);
      expect(proc.mremap(p(1), 0, 2 * P, FIXED, p(10))).toBe(p(10));
      const [a, b] = region(proc);
      expect([a.start, a.end, a.pgoff, b.start, b.end, b.pgoff]).toEqual([p(0), p(4), 0, p(10), p(12), 1]);
      expect(b.file).toBe(a.file);
      expect(peek(proc, 10)).toBe(6);
      fill(proc, 11, 2);
      expect(peek(proc, 2)).toBe(2);
      expect(proc.counters().total_vm).toBe(6);
      // without FIXED: a new place, top-down
      const to = proc.mremap(p(0), 0, P, MAYMOVE, 0);
      expect(to).toBe(proc.layout().mmap_base - P);
      expect(proc.peek(to)).toBe(0);
      expectMemClean(proc.kernel);
    });

    it("a VM_LOCKED move counts locked_vm at the destination and populates the grown part", () => {
      const proc = fresh();
      expect(proc.mmap(p(0), 2 * P, PROT_RW, ANON | NOREPLACE | MAP_LOCKED, -1, 0)).toBe(p(0));
      expect(proc.mremap(p(0), 2 * P, 3 * P, FIXED, p(20))).toBe(p(20));
      expect(proc.counters().locked_vm).toBe(3);
      expect(region(proc).map((v) => v.flags & VM_LOCKED)).toEqual([VM_LOCKED]);
      expect(pteAt(proc, 22)?.write).toBe(true);
      expectMemClean(proc.kernel);
    });
  });

  /** [p10, p14): one read-only private anonymous VMA */
  function map3(proc: ProcessSim): void {
    expect(proc.mmap(p(10), 4 * P, PROT_READ, ANON | NOREPLACE, -1, 0)).toBe(p(10));
  }

  describe(`${impl.name}: MREMAP_DONTUNMAP`, () => {
    it("S31: the old VMA stays without anon_vma and reads zeros; the new one has the pages and the anon_vma", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      fill(proc, 0, 9);
      const av1 = av(proc, 0);
      const d = proc.mremap(p(0), 2 * P, 2 * P, DONTUNMAP, 0);
      expect(d).toBe(proc.layout().mmap_base - 2 * P);
      const moved = proc.vmas().find((v) => v.start === d)!;
      expect([moved.end, moved.pgoff, moved.anonVma]).toEqual([d + 2 * P, lin(0), av1]);
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0))]);
      expect(av(proc, 0)).toBe(0);
      expect(chainAt(proc, 0)).toEqual([]);
      expect(proc.peek(d)).toBe(9);
      expect(peek(proc, 0)).toBe(0);
      expect(proc.counters().total_vm).toBe(4);
      expectMemClean(proc.kernel);
    });

    it("mremap_dontunmap_simple_fixed: onto an existing mapping, whose content is replaced", () => {
      const proc = fresh();
      rw(proc, 0, 5);
      for (let n = 0; n < 5; n++) fill(proc, n, 0x61);
      rw(proc, 10, 15);
      for (let n = 10; n < 15; n++) fill(proc, n, 0x58);
      expect(proc.mremap(p(0), 5 * P, 5 * P, FIXED | MREMAP_DONTUNMAP, p(10))).toBe(p(10));
      expect([0, 1, 2, 3, 4].map((n) => peek(proc, n))).toEqual([0, 0, 0, 0, 0]);
      expect([10, 11, 12, 13, 14].map((n) => peek(proc, n))).toEqual([0x61, 0x61, 0x61, 0x61, 0x61]);
      expectMemClean(proc.kernel);
    });

    it("mremap_dontunmap_partial_mapping: the last 5 of 10 pages; the old VMA keeps its anon_vma", () => {
      const proc = fresh();
      rw(proc, 0, 10);
      for (let n = 0; n < 10; n++) fill(proc, n, 0x61);
      const av1 = av(proc, 0);
      expect(proc.mremap(p(5), 5 * P, 5 * P, FIXED | MREMAP_DONTUNMAP, p(20))).toBe(p(20));
      expect([0, 4, 5, 9].map((n) => peek(proc, n))).toEqual([0x61, 0x61, 0, 0]);
      expect([20, 24].map((n) => peek(proc, n))).toEqual([0x61, 0x61]);
      expect(layout(proc)).toEqual([seg(0, 10, RW, lin(0)), seg(20, 25, RW, lin(5))]);
      expect([av(proc, 0), av(proc, 20)]).toEqual([av1, av1]);
      expectMemClean(proc.kernel);
    });

    it("mremap_dontunmap_partial_mapping_overwrite: 5 pages onto the first half of a 10-page mapping", () => {
      const proc = fresh();
      rw(proc, 0, 5);
      for (let n = 0; n < 5; n++) fill(proc, n, 0x61);
      rw(proc, 10, 20);
      for (let n = 10; n < 20; n++) fill(proc, n, 0x58);
      expect(proc.mremap(p(0), 5 * P, 5 * P, FIXED | MREMAP_DONTUNMAP, p(10))).toBe(p(10));
      expect([10, 14, 15, 19].map((n) => peek(proc, n))).toEqual([0x61, 0x61, 0x58, 0x58]);
      expect([0, 4].map((n) => peek(proc, n))).toEqual([0, 0]);
      expectMemClean(proc.kernel);
    });

    it("DONTUNMAP of a shared mapping: both VMAs map the same shmem pages, the old one through faults", () => {
      const proc = fresh();
      expect(proc.mmap(p(0), 2 * P, PROT_RW, SHANON | NOREPLACE, -1, 0)).toBe(p(0));
      fill(proc, 0, 3);
      expect(proc.mremap(p(0), 2 * P, 2 * P, FIXED | MREMAP_DONTUNMAP, p(10))).toBe(p(10));
      expect(pteAt(proc, 0)).toBeUndefined();
      expect(peek(proc, 10)).toBe(3);
      expect(peek(proc, 0)).toBe(3); // the page cache still has it
      expectMemClean(proc.kernel);
    });
  });

  describe(`${impl.name}: move_page_tables`, () => {
    const Y = X + 4 * PMD_SIZE; // 2 MiB aligned, another PTE table
    const pages = PMD_SIZE / P;

    it("a 2 MiB aligned move takes the whole PTE table: DONTUNMAP leaves no table behind", () => {
      const proc = fresh();
      rw(proc, 0, pages);
      W(proc, 0);
      W(proc, pages - 1);
      expect(tables(proc)).toEqual([pte(X), pmd(X), pud(X)]);
      expect(proc.mremap(X, PMD_SIZE, PMD_SIZE, FIXED | MREMAP_DONTUNMAP, Y)).toBe(Y);
      expect(tables(proc)).toEqual([pte(Y), pmd(X), pud(X)]);
      expect(proc.memory().ptes.map((e) => e.addr)).toEqual([Y, Y + PMD_SIZE - P]);
      expect(proc.memory().pgtablesAccounted).toBe(3);
      expectMemClean(proc.kernel);
    });

    it("an unaligned move goes PTE by PTE: the old PTE table stays (DONTUNMAP) and a new one is allocated", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      W(proc, 0);
      W(proc, 3);
      expect(proc.mremap(X, 4 * P, 4 * P, FIXED | MREMAP_DONTUNMAP, Y + P)).toBe(Y + P);
      expect(tables(proc)).toEqual([pte(X), pte(Y), pmd(X), pud(X)]);
      expect(proc.memory().ptes.map((e) => e.addr)).toEqual([Y + P, Y + 4 * P]);
      expect(proc.memory().pgtablesAccounted).toBe(4);
      expectMemClean(proc.kernel);
    });

    it("a 2 MiB aligned FIXED move: the PTEs and their table at the new place, nothing left at the old one", () => {
      const proc = fresh();
      rw(proc, 0, pages);
      fill(proc, 7, 2);
      expect(proc.mremap(X, PMD_SIZE, PMD_SIZE, FIXED, Y)).toBe(Y);
      expect(tables(proc)).toEqual([pte(Y), pmd(X), pud(X)]);
      expect(proc.memory().ptes.map((e) => e.addr)).toEqual([Y + 7 * P]);
      expect(proc.peek(Y + 7 * P)).toBe(2);
      expect(pageAt(proc, 0 + (Y - X) / P + 7).index).toBe(lin(7));
      expectMemClean(proc.kernel);
    });

    it("the destination's tables are allocated even when no PTE moves", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      W(proc, 0);
      const far = X + 2 ** 30; // another PMD table
      expect(proc.mremap(p(3), P, P, FIXED, far)).toBe(far);
      expect(tables(proc)).toEqual([pte(X), pte(far), pmd(X), pmd(far), pud(X)]);
      expect(proc.memory().ptes.map((e) => e.addr)).toEqual([X]);
      expectMemClean(proc.kernel);
    });

    it("nothing is allocated for a source without page tables", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      expect(proc.mremap(p(0), 4 * P, 4 * P, FIXED, Y)).toBe(Y);
      expect(tables(proc)).toEqual([]);
    });
  });

  describe(`${impl.name}: mremap map-count margins (§3.2)`, () => {
    it("move_vma needs map_count < max - 3", () => {
      const proc = fresh(10);
      for (let i = 0; i < 7; i++) rw(proc, 2 * i, 2 * i + 1); // 7 VMAs
      // (2 pages would fit in place: the next VMA starts at p2)
      expect(proc.mremap(p(0), P, 3 * P, MAYMOVE, 0)).toBe(-ENOMEM);
      expect(proc.munmap(p(12), P)).toBe(0); // 6 VMAs
      expect(proc.mremap(p(0), P, 3 * P, MAYMOVE, 0)).toBe(proc.layout().mmap_base - 3 * P);
      expectMemClean(proc.kernel);
    });

    it("mremap_to needs map_count + 2 < max - 3, checked before the destination is cleared", () => {
      const proc = fresh(10);
      for (let i = 0; i < 5; i++) rw(proc, 2 * i, 2 * i + 1); // 5 VMAs
      expect(proc.mremap(p(0), P, P, FIXED, p(8))).toBe(-ENOMEM);
      expect(region(proc).length).toBe(5);
      expect(proc.munmap(p(8), P)).toBe(0); // 4 VMAs
      expect(proc.mremap(p(0), P, P, FIXED, p(20))).toBe(p(20));
      expectMemClean(proc.kernel);
    });
  });
}
