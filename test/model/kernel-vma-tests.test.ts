// The kernel's own VMA tests (tools/testing/vma/vma.c, groups A, B, C, E, F, J
// of kernel-facts §14.1) rewritten as syscall sequences with v5.17
// expectations, and the spec's scenarios S1, S7, S20-S22, S35, S36
// (kernel-facts §12). Page n of a harness layout is page n of the test
// region here; an anonymous VMA's pgoff is then lin(n) instead of n.
//
// Differences from the harness: it calls the merge functions directly, so a
// refused merge leaves the layout alone where mprotect() would split (E6);
// "has an anon_vma" comes from page faults (B runs unfaulted, which gives the
// same layouts in 5.17; F and the faulted S35 fault their VMAs with touch);
// 6.x's vm_ops->close rules do not apply to 5.17
// (a VMA with ->close never merges), shown with a special mapping (B2-close).

import { describe, expect, it } from "vitest";
import { ENOMEM, PROT_READ, VM_DONTEXPAND, VM_IO, VM_MIXEDMAP, VM_PFNMAP, VM_SPECIAL } from "../../src/abi/constants.js";
import { defaultImage } from "../../src/image.js";
import type { ProcessImage, ProcessSim } from "../../src/types.js";
import { MEM_IMPLS, W, expectMemClean } from "./memutil.js";
import { ANON, NOREPLACE, P, PROT_RW, R, RA, RW, expectClean, layout, lin, p, prot, region, ro, rw, seg } from "./util.js";


function imageWith(extra: ProcessImage["vmas"]): ProcessImage {
  const img = defaultImage();
  img.vmas.push(...extra);
  img.vmas.sort((a, b) => a.start - b.start);
  return img;
}

/** An image with no VMAs at all (S35: "an emulated mm with no other VMAs"). */
function emptyImage(): ProcessImage {
  const img = defaultImage();
  img.files = [];
  img.vmas = [];
  return img;
}

for (const impl of MEM_IMPLS) {
  const kernel = () => impl.create({ policy: "linux-5.17" });
  const fresh = () => kernel().createProcess();
  const count = (proc: ProcessSim) => proc.counters().map_count;

  describe(`${impl.name}: group A (tools/testing/vma/vma.c, kick the tyres)`, () => {
    it("A1 test_simple_merge: [0,1) and [2,3), then mmap [1,2) -> [0,3) (case 1)", () => {
      const proc = fresh();
      rw(proc, 0, 1);
      rw(proc, 2, 3);
      rw(proc, 1, 2);
      expect(layout(proc)).toEqual([seg(0, 3, RW, lin(0))]);
      expectClean(proc);
    });

    it("A2 test_simple_modify: mprotect [1,2) of [0,3) -> three VMAs with linear pgoffs", () => {
      const proc = fresh();
      rw(proc, 0, 3);
      const base = count(proc);
      prot(proc, 1, 2, PROT_READ);
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0)), seg(1, 2, RA, lin(1)), seg(2, 3, RW, lin(2))]);
      expect(count(proc)).toBe(base + 2);
      expectClean(proc);
    });

    it("A3 test_simple_expand: [0,1) expanded to [0,3) (syscall analogue: mmap [1,3), case 2)", () => {
      const proc = fresh();
      rw(proc, 0, 1);
      rw(proc, 1, 3);
      expect(layout(proc)).toEqual([seg(0, 3, RW, lin(0))]);
      expectClean(proc);
    });

    it("A4 test_simple_shrink: [0,3) shrunk to [0,1) (syscall analogue: munmap [1,3))", () => {
      const proc = fresh();
      rw(proc, 0, 3);
      expect(proc.munmap(p(1), 2 * P)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0))]);
      expectClean(proc);
    });
  });

  describe(`${impl.name}: group B (tools/testing/vma/vma.c test_merge_new)`, () => {
    it("B1-B7: new-range merges in sequence end in one VMA [0,0xc)", () => {
      const proc = fresh();
      const base = count(proc);
      rw(proc, 0, 2); // A
      rw(proc, 3, 4); // B
      rw(proc, 0xb, 0xc); // C
      rw(proc, 7, 9); // B1: no merge, D created
      expect(count(proc)).toBe(base + 4);
      rw(proc, 2, 3); // B2: merge both: A = [0,4), B deleted
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0)), seg(7, 9, RW, lin(7)), seg(0xb, 0xc, RW, lin(0xb))]);
      expect(count(proc)).toBe(base + 3);
      rw(proc, 4, 5); // B3: A extended to [0,5)
      expect(count(proc)).toBe(base + 3);
      rw(proc, 6, 7); // B4: merge with next: D = [6,9)
      expect(layout(proc)).toEqual([seg(0, 5, RW, lin(0)), seg(6, 9, RW, lin(6)), seg(0xb, 0xc, RW, lin(0xb))]);
      rw(proc, 5, 6); // B5: merge both: A = [0,9), D deleted
      expect(count(proc)).toBe(base + 2);
      rw(proc, 0xa, 0xb); // B6: merge with next: C = [0xa,0xc)
      expect(layout(proc)).toEqual([seg(0, 9, RW, lin(0)), seg(0xa, 0xc, RW, lin(0xa))]);
      rw(proc, 9, 0xa); // B7: merge both: A = [0,0xc)
      expect(layout(proc)).toEqual([seg(0, 0xc, RW, lin(0))]);
      expect(count(proc)).toBe(base + 1);
      expectClean(proc);
    });

    it("B2-close (v5.17): A with vm_ops->close (a special mapping) is not merged; the range joins B (case 3)", () => {
      const proc = kernel().createProcess(imageWith([
        // A special mapping (any has ->close; named [vdso] here) with RW flags and a linear pgoff.
        { start: p(0), end: p(2), flags: RW, pgoff: lin(0), fileIndex: -1, special: "[vdso]" },
      ]));
      rw(proc, 3, 4); // B
      rw(proc, 2, 3);
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 4, RW, lin(2))]);
      expectClean(proc);
    });
  });

  describe(`${impl.name}: group C (tools/testing/vma/vma.c test_vma_merge_special_flags)`, () => {
    it("C: VM_SPECIAL is IO|DONTEXPAND|PFNMAP|MIXEDMAP; with any of them an existing-range merge is refused", () => {
      expect(VM_SPECIAL).toBe(VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP);
      for (const s of [VM_IO, VM_DONTEXPAND, VM_PFNMAP, VM_MIXEDMAP]) {
        const proc = kernel().createProcess(imageWith([
          { start: p(0), end: p(3), flags: (RW | s) >>> 0, pgoff: lin(0), fileIndex: -1 },
          { start: p(3), end: p(4), flags: (R | s) >>> 0, pgoff: lin(3), fileIndex: -1 },
        ]));
        const base = count(proc);
        prot(proc, 3, 4, PROT_RW);
        expect(layout(proc)).toEqual([seg(0, 3, (RW | s) >>> 0, lin(0)), seg(3, 4, (RW | s) >>> 0, lin(3))]);
        expect(count(proc)).toBe(base);
        // A new range next to it has different flags (mmap cannot set VM_SPECIAL bits): no merge either.
        rw(proc, 4, 5);
        expect(count(proc)).toBe(base + 1);
        expectClean(proc);
      }
    });
  });

  describe(`${impl.name}: group E (tools/testing/vma/vma.c test_merge_existing)`, () => {
    it("E1 merge right, partial: mprotect [3,6) of vma [2,6) to next's protection -> next = [3,9) (case 4)", () => {
      const proc = fresh();
      ro(proc, 2, 6);
      rw(proc, 6, 9);
      prot(proc, 3, 6, PROT_RW);
      expect(layout(proc)).toEqual([seg(2, 3, R, lin(2)), seg(3, 9, RW, lin(3))]);
      expectClean(proc);
    });

    it("E2 merge right, full: mprotect all of vma [2,6) -> next = [2,9) (case 8)", () => {
      const proc = fresh();
      const base = count(proc);
      ro(proc, 2, 6);
      rw(proc, 6, 9);
      prot(proc, 2, 6, PROT_RW);
      expect(layout(proc)).toEqual([seg(2, 9, RW, lin(2))]);
      expect(count(proc)).toBe(base + 1);
      expectClean(proc);
    });

    it("E3 merge left, partial: mprotect [3,6) of vma [3,7) -> prev = [0,6), vma = [6,7) (case 5)", () => {
      const proc = fresh();
      rw(proc, 0, 3);
      ro(proc, 3, 7);
      prot(proc, 3, 6, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 6, RW, lin(0)), seg(6, 7, R, lin(6))]);
      expectClean(proc);
    });

    it("E4 merge left, full: mprotect all of vma [3,7) -> prev = [0,7) (case 7)", () => {
      const proc = fresh();
      const base = count(proc);
      rw(proc, 0, 3);
      ro(proc, 3, 7);
      prot(proc, 3, 7, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 7, RW, lin(0))]);
      expect(count(proc)).toBe(base + 1);
      expectClean(proc);
    });

    it("E5 merge both: mprotect vma [3,7) between prev [0,3) and next [7,9) -> [0,9) (case 6)", () => {
      const proc = fresh();
      const base = count(proc);
      rw(proc, 0, 3);
      ro(proc, 3, 7);
      rw(proc, 7, 9);
      prot(proc, 3, 7, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 9, RW, lin(0))]);
      expect(count(proc)).toBe(base + 1);
      expectClean(proc);
    });

    it("E6 non-merge ranges: strictly interior ranges of vma [3,8) never merge (mprotect splits in three)", () => {
      for (const [s, e] of [[4, 5], [5, 6], [6, 7], [4, 7], [4, 6], [5, 7]]) {
        const proc = fresh();
        rw(proc, 0, 3);
        ro(proc, 3, 8);
        rw(proc, 8, 0xa);
        const base = count(proc);
        prot(proc, s, e, PROT_RW);
        expect(layout(proc), `[${s},${e})`).toEqual([
          seg(0, 3, RW, lin(0)), seg(3, s, R, lin(3)), seg(s, e, RW, lin(s)), seg(e, 8, R, lin(e)), seg(8, 0xa, RW, lin(8)),
        ]);
        expect(count(proc)).toBe(base + 2);
        expectClean(proc);
      }
    });
  });

  describe(`${impl.name}: group F (tools/testing/vma/vma.c test_anon_vma_non_mergeable)`, () => {
    it("F1 test_anon_vma_non_mergeable (existing range): prev X, vma none, next Y -> prev = [0,7); next untouched", () => {
      const proc = fresh();
      rw(proc, 0, 3);
      ro(proc, 3, 7);
      rw(proc, 7, 9);
      W(proc, 0); // X
      W(proc, 7); // Y: its prev [3,7) lacks VM_ACCOUNT, so it cannot lend X
      const [x, , y] = region(proc).map((v) => v.anonVma);
      expect(x).not.toBe(y);
      prot(proc, 3, 7, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 7, RW, lin(0)), seg(7, 9, RW, lin(7))]);
      expect(region(proc).map((v) => v.anonVma)).toEqual([x, y]);
      expectClean(proc);
      expectMemClean(proc.kernel);
    });

    it("F2 test_anon_vma_non_mergeable (new range): prev X, next Y, mmap [3,7) -> prev = [0,7); count 2", () => {
      const proc = fresh();
      rw(proc, 0, 3);
      rw(proc, 7, 9);
      W(proc, 0);
      W(proc, 7);
      const base = count(proc);
      rw(proc, 3, 7);
      expect(layout(proc)).toEqual([seg(0, 7, RW, lin(0)), seg(7, 9, RW, lin(7))]);
      expect(count(proc)).toBe(base);
      expectMemClean(proc.kernel);
    });

    it("F2 unfaulted (v5.17): with no anon_vmas at all the new range merges both sides (case 1)", () => {
      const proc = fresh();
      rw(proc, 0, 3);
      rw(proc, 7, 9);
      rw(proc, 3, 7);
      expect(layout(proc)).toEqual([seg(0, 9, RW, lin(0))]);
      expectClean(proc);
    });
  });

  describe(`${impl.name}: group J (tools/testing/vma/vma.c test_mmap_region_basic)`, () => {
    it("J: four anonymous mmaps give two VMAs [0x300,0x306) and [0x24d,0x253)", () => {
      const proc = fresh();
      const base = count(proc);
      rw(proc, 0x300, 0x303);
      rw(proc, 0x250, 0x253);
      rw(proc, 0x303, 0x306); // merges into the first
      rw(proc, 0x24d, 0x250); // merges into the second, downward
      expect(layout(proc)).toEqual([seg(0x24d, 0x253, RW, lin(0x24d)), seg(0x300, 0x306, RW, lin(0x300))]);
      expect(count(proc)).toBe(base + 2);
      expectClean(proc);
    });
  });

  describe(`${impl.name}: scenarios of kernel-facts §12`, () => {
    it("S1: RW[p2,p4) then RW[p0,p2) -> [p0,p4) pg=lin(p0) (case 3)", () => {
      const proc = fresh();
      rw(proc, 2, 4);
      rw(proc, 0, 2);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expectClean(proc);
    });

    it("S7: VM_ACCOUNT stickiness blocks merging until both sides have it", () => {
      const proc = fresh();
      ro(proc, 0, 2);
      rw(proc, 2, 4);
      prot(proc, 2, 4, PROT_READ);
      expect(layout(proc)).toEqual([seg(0, 2, R, lin(0)), seg(2, 4, RA, lin(2))]);
      prot(proc, 0, 2, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 4, RA, lin(2))]);
      prot(proc, 2, 4, PROT_RW); // case 7
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expectClean(proc);
    });

    it("S20 (up to the first fault): brk grows by merging into the heap VMA (case 2)", () => {
      const proc = fresh();
      const H = proc.layout().start_brk;
      const heap = () => proc.vmas().filter((v) => v.start >= H && v.start < H + 0x100000);
      const base = count(proc);
      expect(proc.brk(H + 2 * P)).toBe(H + 2 * P);
      expect(heap()).toMatchObject([{ start: H, end: H + 2 * P, flags: RW, pgoff: H / P, file: 0 }]);
      expect(proc.brk(H + 4 * P)).toBe(H + 4 * P);
      expect(proc.brk(H + 6 * P)).toBe(H + 6 * P);
      expect(heap()).toMatchObject([{ start: H, end: H + 6 * P, flags: RW, pgoff: H / P }]);
      expect(count(proc)).toBe(base + 1);
      expectClean(proc);
    });

    it("S21: brk shrink, unaligned brk, brk below start_brk", () => {
      const proc = fresh();
      const H = proc.layout().start_brk;
      const heap = () => proc.vmas().filter((v) => v.start >= H && v.start < H + 0x100000);
      expect(proc.brk(H + 4 * P)).toBe(H + 4 * P);
      expect(proc.brk(H + P)).toBe(H + P);
      expect(heap()).toMatchObject([{ start: H, end: H + P }]);
      expect(proc.brk(H + P + 100)).toBe(H + P + 100);
      expect(heap()).toMatchObject([{ start: H, end: H + 2 * P }]);
      expect(proc.layout().brk).toBe(H + P + 100);
      expect(proc.brk(H + P + 50)).toBe(H + P + 50); // same page: only mm->brk changes
      expect(heap()).toMatchObject([{ start: H, end: H + 2 * P }]);
      expect(proc.brk(H - P)).toBe(H + P + 50);
      expect(proc.brk(H)).toBe(H); // back to empty: the heap VMA goes away
      expect(heap()).toEqual([]);
      expectClean(proc);
    });

    it("S22: brk stops one page short of the next mapping; mmap fills the gap and merges all (case 1)", () => {
      const proc = fresh();
      const H = proc.layout().start_brk;
      const base = count(proc);
      expect(proc.brk(H + 2 * P)).toBe(H + 2 * P);
      expect(proc.mmap(H + 4 * P, 2 * P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(H + 4 * P);
      expect(proc.brk(H + 3 * P)).toBe(H + 3 * P);
      expect(proc.brk(H + 4 * P)).toBe(H + 3 * P); // refused
      expect(proc.mmap(H + 3 * P, P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(H + 3 * P);
      expect(proc.vmas().filter((v) => v.start >= H && v.start < H + 0x100000)).toMatchObject([
        { start: H, end: H + 6 * P, flags: RW, pgoff: H / P },
      ]);
      expect(count(proc)).toBe(base + 1);
      expect(proc.brk(H + 7 * P)).toBe(H + 3 * P); // the VMA containing the old break is "next"
      expectClean(proc);
    });

    it("S35 (unfaulted, 5.17): max_map_count = 4 in an mm with no other VMAs", () => {
      const k = kernel();
      k.setMaxMapCount(4);
      const proc = k.createProcess(emptyImage());
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      rw(proc, 2, 3); // unfaulted: case 1, one VMA
      expect(count(proc)).toBe(1);
      for (const n of [10, 12, 14, 16]) rw(proc, n, n + 1); // counts 2, 3, 4, 5 (4 > 4 is false)
      expect(count(proc)).toBe(5);
      expect(proc.mmap(p(18), P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(-ENOMEM);
      expectClean(proc);
    });

    it("S35 (faulted, 5.17): S5 leaves 2 VMAs, so the 4th non-adjacent mmap fails at max_map_count = 4", () => {
      const k = kernel();
      k.setMaxMapCount(4);
      const proc = k.createProcess(emptyImage());
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      W(proc, 0);
      W(proc, 3);
      rw(proc, 2, 3); // S5: prev only (case 2)
      expect(count(proc)).toBe(2);
      for (const n of [10, 12, 14]) rw(proc, n, n + 1);
      expect(count(proc)).toBe(5);
      expect(proc.mmap(p(16), P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(-ENOMEM);
      expectMemClean(k);
    });

    it("S36: at map_count == max_map_count", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      proc.kernel.setMaxMapCount(count(proc));
      expect(proc.munmap(p(1), P)).toBe(-ENOMEM); // a hole in the middle
      expect(proc.munmap(p(0), P)).toBe(0); // its first page
      expect(proc.mprotect(p(2), P, PROT_READ)).toBe(-ENOMEM); // a middle page
      expect(layout(proc)).toEqual([seg(1, 4, RW, lin(1))]);
      ro(proc, 10, 11); // non-mergeable: succeeds, map_count = max + 1
      expect(count(proc)).toBe(proc.kernel.maxMapCount() + 1);
      expect(proc.mmap(p(12), P, PROT_READ, ANON | NOREPLACE, -1, 0)).toBe(-ENOMEM);
      expectClean(proc);
    });
  });
}
