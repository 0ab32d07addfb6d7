// The anon_vma lifecycle of v5.17 (kernel-facts §5): anon_vma_prepare()
// and its reuse of a neighbour's anon_vma (S38), anon_vma_clone() in split and
// in __vma_adjust()'s import, the fork tree (anon_vma_fork()), the degree
// reuse of anon_vma_clone() including the "double reuse" of §5.7, and
// refcount / degree / interval tree after fork, exit, munmap and merges.
// Empty images: anon_vma and page ids start at 1, mm ids too.

import { describe, expect, it } from "vitest";
import { MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE } from "../../src/abi/constants.js";
import { rmapWalkAnon } from "../../src/check/index.js";
import type { ProcessSim } from "../../src/types.js";
import {
  MEM_IMPLS, W, anonVma, av, chainAt, emptyImage, expectMemClean, liveAnonVmas, page, pageAt,
} from "./memutil.js";
import { NOREPLACE, P, PROT_RW, RA, RW, layout, lin, p, prot, ro, rw, seg } from "./util.js";

const RWX = PROT_READ | PROT_WRITE | PROT_EXEC;

for (const impl of MEM_IMPLS) {
  const fresh = (): ProcessSim => impl.create({ policy: "linux-5.17" }).createProcess(emptyImage());
  const avcs = (proc: ProcessSim, id: number) => anonVma(proc.kernel, id).avcs;

  describe(`${impl.name}: anon_vma_prepare and find_mergeable_anon_vma`, () => {
    it("S38: a neighbour differing only in protection lends its anon_vma; the two then merge (case 7)", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      prot(proc, 2, 4, RWX);
      W(proc, 0);
      expect(av(proc, 0)).toBe(1);
      W(proc, 2);
      expect(av(proc, 2)).toBe(1);
      expect(anonVma(proc.kernel, 1)).toMatchObject({ refcount: 1, degree: 3 });
      expect(avcs(proc, 1)).toEqual([
        { mm: 1, start: p(0), end: p(2), pgoff: lin(0) }, { mm: 1, start: p(2), end: p(4), pgoff: lin(2) },
      ]);
      prot(proc, 2, 4, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expect(anonVma(proc.kernel, 1)).toMatchObject({ refcount: 1, degree: 2 });
      expect(avcs(proc, 1)).toEqual([{ mm: 1, start: p(0), end: p(4), pgoff: lin(0) }]);
      expectMemClean(proc.kernel);
    });

    it("the next VMA is tried first, then the previous one", () => {
      const proc = fresh();
      rw(proc, 0, 6);
      prot(proc, 0, 2, RWX);
      prot(proc, 4, 6, PROT_READ); // keeps VM_ACCOUNT: still compatible
      W(proc, 0);
      expect(proc.touch(p(4), false)).toBe(0);
      expect(av(proc, 4)).toBe(0); // a read makes no anon_vma
      expect(proc.mprotect(p(4), 2 * P, RWX)).toBe(0);
      W(proc, 4); // prev [p2,p4) has none, next none: a new root
      expect(av(proc, 4)).toBe(2);
      W(proc, 2); // both neighbours could lend one: next wins
      expect(av(proc, 2)).toBe(2);
      expect(liveAnonVmas(proc.kernel)).toEqual([1, 2]);
      expectMemClean(proc.kernel);
    });

    it("no lending from a fork child (its chain is not singular), across a pgoff gap, or across other flags", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      W(proc, 0);
      const child = proc.fork(); // child VMA: anon_vma 2, chain [2, 1]
      rw(child, 2, 4); // does not merge (S15)
      W(child, 2);
      expect(av(child, 2)).toBe(3);
      expect(anonVma(proc.kernel, 3)).toMatchObject({ root: 3, parent: 3 });

      const k = proc.kernel;
      const f = k.createFile("/tmp/f", 16);
      expect(proc.mmap(p(10), 2 * P, PROT_RW, MAP_PRIVATE | NOREPLACE, f, 0)).toBe(p(10));
      expect(proc.mmap(p(12), 2 * P, PROT_RW, MAP_PRIVATE | NOREPLACE, f, 5 * P)).toBe(p(12));
      expect(proc.mmap(p(14), 2 * P, RWX, MAP_PRIVATE | NOREPLACE, f, 7 * P)).toBe(p(14));
      W(proc, 10);
      W(proc, 12); // pgoff 5 does not follow 0 + 2: a new anon_vma
      W(proc, 14); // pgoff 7 follows 5 + 2 and only VM_EXEC differs: shares
      expect([av(proc, 10), av(proc, 12), av(proc, 14)]).toEqual([4, 5, 5]);

      ro(proc, 20, 22); // R without VM_ACCOUNT
      rw(proc, 22, 24);
      W(proc, 22);
      expect(proc.mprotect(p(20), 2 * P, PROT_RW)).toBe(0); // S10: case 8, the faulted VMA grows down
      expect(layout(proc, p(20), p(24))).toEqual([seg(20, 24, RW, lin(20))]);
      expect(av(proc, 20)).toBe(6);
      expectMemClean(k);
    });
  });

  describe(`${impl.name}: anon_vma_clone in split and in __vma_adjust`, () => {
    it("split: each piece joins the anon_vma (degree +1) with its own interval-tree key; re-merging gives it back", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      W(proc, 0);
      prot(proc, 1, 2, PROT_READ);
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0)), seg(1, 2, RA, lin(1)), seg(2, 4, RW, lin(2))]);
      expect(proc.vmas().map((v) => v.anonVma)).toEqual([1, 1, 1]);
      expect(anonVma(proc.kernel, 1)).toMatchObject({ refcount: 1, degree: 4 });
      expect(avcs(proc, 1)).toEqual([
        { mm: 1, start: p(0), end: p(1), pgoff: lin(0) },
        { mm: 1, start: p(1), end: p(2), pgoff: lin(1) },
        { mm: 1, start: p(2), end: p(4), pgoff: lin(2) },
      ]);
      prot(proc, 1, 2, PROT_RW); // case 6 (S6)
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expect(anonVma(proc.kernel, 1)).toMatchObject({ refcount: 1, degree: 2 });
      expect(avcs(proc, 1)).toEqual([{ mm: 1, start: p(0), end: p(4), pgoff: lin(0) }]);
      expectMemClean(proc.kernel);
    });

    it("case 1 import: an unfaulted prev takes the faulted next's anon_vma when a new range joins them", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      W(proc, 3);
      rw(proc, 2, 3);
      expect(layout(proc)).toEqual([seg(0, 5, RW, lin(0))]);
      expect(av(proc, 0)).toBe(1);
      expect(anonVma(proc.kernel, 1)).toMatchObject({ degree: 2, avcs: [{ mm: 1, start: p(0), end: p(5), pgoff: lin(0) }] });
      expect(pageAt(proc, 3)).toMatchObject({ mapping: 1, index: lin(3) });
      expectMemClean(proc.kernel);
    });

    it("case 6 import from the VMA after an unfaulted victim (exporter = next->vm_next)", () => {
      const proc = fresh();
      rw(proc, 0, 1);
      ro(proc, 1, 2);
      rw(proc, 2, 3);
      W(proc, 2); // its prev [p1,p2) lacks VM_ACCOUNT: not compatible, a new root
      prot(proc, 1, 2, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 3, RW, lin(0))]);
      expect(anonVma(proc.kernel, 1)).toMatchObject({ degree: 2, avcs: [{ mm: 1, start: p(0), end: p(3), pgoff: lin(0) }] });
      expectMemClean(proc.kernel);
    });
  });

  describe(`${impl.name}: the fork tree`, () => {
    it("anon_vma_fork: a child anon_vma under the parent's (root pinned, parent degree +1); grandchildren below", () => {
      const proc = fresh();
      const k = proc.kernel;
      rw(proc, 0, 2);
      W(proc, 0);
      const c1 = proc.fork();
      expect(chainAt(c1, 0)).toEqual([2, 1]);
      expect(k.memory().anonVmas.map(({ avcs: _, ...a }) => a)).toEqual([
        { id: 1, root: 1, parent: 1, refcount: 2, degree: 3 },
        { id: 2, root: 1, parent: 1, refcount: 1, degree: 1 },
      ]);
      const c2 = c1.fork();
      expect(chainAt(c2, 0)).toEqual([3, 2, 1]);
      expect(k.memory().anonVmas.map(({ avcs: _, ...a }) => a)).toEqual([
        { id: 1, root: 1, parent: 1, refcount: 3, degree: 3 },
        { id: 2, root: 1, parent: 1, refcount: 1, degree: 2 },
        { id: 3, root: 1, parent: 2, refcount: 1, degree: 1 },
      ]);
      expect(avcs(proc, 1).map((a) => a.mm)).toEqual([1, 2, 3]);
      // every mapping of the page is found by an rmap walk from anon_vma 1
      const pg = page(k, 1)!;
      const amap = new Map(k.memory().anonVmas.map((a) => [a.id, a]));
      expect(rmapWalkAnon(pg, amap).map((h) => [h.mm, h.addr])).toEqual([[1, p(0)], [2, p(0)], [3, p(0)]]);
      expectMemClean(k);
    });

    it("munmap in the parent while a child lives: the root stays, with the child's AVC; the child's exit frees both", () => {
      const proc = fresh();
      const k = proc.kernel;
      rw(proc, 0, 1);
      W(proc, 0);
      const child = proc.fork();
      expect(proc.munmap(p(0), P)).toBe(0);
      expect(k.memory().anonVmas).toEqual([
        { id: 1, root: 1, parent: 1, refcount: 2, degree: 2, avcs: [{ mm: 2, start: p(0), end: p(1), pgoff: lin(0) }] },
        { id: 2, root: 1, parent: 1, refcount: 1, degree: 1, avcs: [{ mm: 2, start: p(0), end: p(1), pgoff: lin(0) }] },
      ]);
      expect(page(k, 1)).toMatchObject({ mapping: 1, mapcount: 1 });
      expectMemClean(k);
      child.exit();
      expect(k.memory()).toEqual({ pages: [], anonVmas: [] });
    });

    it("anon_vma_clone reuses an abandoned anon_vma (degree 1) for a grandchild instead of allocating one", () => {
      const p0 = fresh();
      const k = p0.kernel;
      rw(p0, 0, 1);
      W(p0, 0);
      const p1 = p0.fork(); // anon_vma 2
      const p2 = p1.fork(); // anon_vma 3 under 2
      p1.exit(); // 2 keeps p2's AVC: degree 1 (its child 3), no VMA uses it
      expect(anonVma(k, 2)).toMatchObject({ degree: 1, refcount: 1 });
      const p3 = p2.fork(); // walks [1, 2, 3]: 1 has degree 3, 2 has degree 1 -> reused
      expect(av(p3, 0)).toBe(2);
      expect(chainAt(p3, 0)).toEqual([3, 2, 1]);
      expect(liveAnonVmas(k)).toEqual([1, 2, 3]);
      expect(anonVma(k, 2)).toMatchObject({ degree: 2 });
      expectMemClean(k);
    });

    it("§5.7: the degree ambiguity lets anon_vma 3 be reused while it is still p2's own anon_vma (double reuse)", () => {
      const p0 = fresh();
      const k = p0.kernel;
      rw(p0, 0, 1);
      W(p0, 0);
      const p1 = p0.fork();
      const p2 = p1.fork();
      p1.exit();
      const p3 = p2.fork(); // reuses 2 (previous test)
      const p4 = p3.fork(); // walks [1, 2, 3]: 2 is p3's own (skipped), 3 has degree 1 — one VMA, no child
      expect(av(p2, 0)).toBe(3);
      expect(av(p4, 0)).toBe(3);
      expect(chainAt(p4, 0)).toEqual([3, 2, 1]);
      expect(anonVma(k, 3)).toMatchObject({ parent: 2, degree: 2, refcount: 1 });
      expect(liveAnonVmas(k)).toEqual([1, 2, 3]);
      W(p4, 0);
      expect(pageAt(p4, 0)).toMatchObject({ mapping: 3, content: 2 });
      expectMemClean(k); // the 5.17 counters are consistent; the ambiguity is in what degree 1 meant
    });
  });
}
