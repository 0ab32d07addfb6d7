// madvise(2) under linux-5.17 (kernel-facts §8.3, §3.2, §10, §12 S8, S25-S27, S36):
// the valid advice and the argument checks in order, the walk over gaps,
// every flag-changing advice with its merge/split and its refusals, EAGAIN at
// the map-count limit, DONTNEED / FREE / COLD / PAGEOUT / WILLNEED, REMOVE
// on shared and private mappings of a file, POPULATE_READ / _WRITE. Run on
// the model and on the engine.

import { describe, expect, it } from "vitest";
import {
  EACCES, EAGAIN, EFAULT, EINVAL, ENOMEM, EPERM, MADV, MAP_LOCKED, MAP_PRIVATE, MAP_SHARED, PROT_NONE, PROT_READ,
  PROT_WRITE, VM_DONTCOPY, VM_DONTDUMP, VM_HUGEPAGE, VM_IO, VM_MERGEABLE, VM_NOHUGEPAGE, VM_RAND_READ, VM_SEQ_READ,
  VM_WIPEONFORK,
} from "../../src/abi/constants.js";
import type { ProcessSim } from "../../src/types.js";
import { MEM_IMPLS, Rd, W, av, chainAt, emptyImage, expectMemClean, page, pageAt, pteAt, tables } from "./memutil.js";
import { ANON, NOREPLACE, P, PROT_RW, RW, SHANON, X, layout, lin, p, region, rw, seg, special } from "./util.js";

const flagsAt = (proc: ProcessSim, n: number): number => region(proc).find((v) => v.start <= p(n) && p(n) < v.end)!.flags;

for (const impl of MEM_IMPLS) {
  const kernel = (max_map_count?: number) => impl.create({ policy: "linux-5.17", ...(max_map_count ? { max_map_count } : {}) });
  const fresh = (max?: number): ProcessSim => kernel(max).createProcess(emptyImage());
  const mapAt = (proc: ProcessSim, a: number, b: number, prot: number, flags: number, fd = -1, off = 0) =>
    expect(proc.mmap(p(a), (b - a) * P, prot, flags | NOREPLACE, fd, off)).toBe(p(a));

  describe(`${impl.name}: madvise argument checks`, () => {
    it("v5.17's valid advice: 0-4, 8-23; HWPOISON / SOFT_OFFLINE are EPERM; everything else EINVAL", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      for (const a of [5, 6, 7, 24, 25, 26, 99, 102, 103, -1]) expect(proc.madvise(p(0), P, a), `advice ${a}`).toBe(-EINVAL);
      for (const a of [MADV.hwpoison, MADV.soft_offline]) expect(proc.madvise(p(0), P, a)).toBe(-EPERM);
      for (const a of [0, 1, 2, 3, 4, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]) {
        expect(proc.madvise(p(0), 4 * P, a), `advice ${a}`).toBe(0);
      }
      // the advice is a C int: 2^32 + 4 is MADV_DONTNEED
      expect(proc.madvise(p(0), P, 2 ** 32 + 4)).toBe(0);
    });

    it("in order: advice, alignment, length rounding, wrap-around, zero length, then HWPOISON's EPERM", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      expect(proc.madvise(p(0) + 1, P, 24)).toBe(-EINVAL);
      expect(proc.madvise(p(0) + 1, P, MADV.hwpoison)).toBe(-EINVAL);
      expect(proc.madvise(p(0), -1, MADV.normal)).toBe(-EINVAL); // rounds up to 0
      expect(proc.madvise(p(0), -2 * P, MADV.normal)).toBe(-EINVAL); // end wraps
      expect(proc.madvise(p(0), 0, MADV.hwpoison)).toBe(0);
      expect(proc.madvise(p(100), 0, MADV.dontdump)).toBe(0);
      expect(proc.madvise(p(0), 1, MADV.dontdump)).toBe(0); // one page
      expect(layout(proc)).toEqual([seg(0, 1, RW | VM_DONTDUMP, lin(0)), seg(1, 4, RW, lin(1))]);
    });

    it("gaps are skipped and reported as ENOMEM at the end; the mapped parts are changed", () => {
      const proc = fresh();
      rw(proc, 0, 1);
      rw(proc, 2, 3);
      expect(proc.madvise(p(0), 4 * P, MADV.dontdump)).toBe(-ENOMEM);
      expect(region(proc).map((v) => v.flags & VM_DONTDUMP)).toEqual([VM_DONTDUMP, VM_DONTDUMP]);
      expect(proc.madvise(p(5), P, MADV.normal)).toBe(-ENOMEM); // nothing there at all
      expect(proc.madvise(p(1), P, MADV.willneed)).toBe(-ENOMEM); // only a gap before a VMA
    });

    it("an error stops the walk: the VMAs before it stay changed", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      mapAt(proc, 2, 4, PROT_RW, SHANON);
      rw(proc, 4, 6);
      expect(proc.madvise(p(0), 6 * P, MADV.wipeonfork)).toBe(-EINVAL);
      expect([flagsAt(proc, 0), flagsAt(proc, 4)].map((f) => f & VM_WIPEONFORK)).toEqual([VM_WIPEONFORK, 0]);
    });
  });

  describe(`${impl.name}: flag-changing advice`, () => {
    it("SEQUENTIAL / RANDOM / NORMAL", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      expect(proc.madvise(p(1), P, MADV.sequential)).toBe(0);
      expect(flagsAt(proc, 1) & (VM_SEQ_READ | VM_RAND_READ)).toBe(VM_SEQ_READ);
      expect(proc.madvise(p(1), P, MADV.random)).toBe(0);
      expect(flagsAt(proc, 1) & (VM_SEQ_READ | VM_RAND_READ)).toBe(VM_RAND_READ);
      expect(proc.madvise(p(1), P, MADV.normal)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]); // case 6: one VMA again
      expectMemClean(proc.kernel);
    });

    it("S25: DONTFORK splits, fork leaves a hole, DOFORK re-merges (case 6)", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      for (let n = 0; n < 4; n++) W(proc, n);
      expect(proc.madvise(p(1), P, MADV.dontfork)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0)), seg(1, 2, RW | VM_DONTCOPY, lin(1)), seg(2, 4, RW, lin(2))]);
      const child = proc.fork();
      expect(layout(child)).toEqual([seg(0, 1, RW, lin(0)), seg(2, 4, RW, lin(2))]);
      expect(child.counters().map_count).toBe(2);
      expect(child.peek(p(1))).toBe(-11);
      expect(proc.madvise(p(1), P, MADV.dofork)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expectMemClean(proc.kernel);
    });

    it("S8: a faulted VMA cannot rejoin its unfaulted neighbour after DOFORK", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      expect(proc.madvise(p(2), 2 * P, MADV.dontfork)).toBe(0);
      W(proc, 2);
      expect(proc.madvise(p(2), 2 * P, MADV.dofork)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 4, RW, lin(2))]);
      expect([av(proc, 0), av(proc, 2)]).toEqual([0, 1]);
      expectMemClean(proc.kernel);
    });

    it("S26: WIPEONFORK: the child gets the VMA without anon_vma or pages; KEEPONFORK re-merges in the child", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      W(proc, 0);
      expect(proc.madvise(p(0), 2 * P, MADV.wipeonfork)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 2, RW | VM_WIPEONFORK, lin(0))]);
      const child = proc.fork();
      expect(layout(child)).toEqual([seg(0, 2, RW | VM_WIPEONFORK, lin(0))]);
      expect(av(child, 0)).toBe(0);
      expect(pteAt(child, 0)).toBeUndefined();
      expect(child.peek(p(0))).toBe(0);
      expect(proc.peek(p(0))).toBe(1);
      rw(child, 2, 4);
      expect(layout(child)).toEqual([seg(0, 2, RW | VM_WIPEONFORK, lin(0)), seg(2, 4, RW, lin(2))]);
      expect(child.madvise(p(0), 2 * P, MADV.keeponfork)).toBe(0);
      expect(layout(child)).toEqual([seg(0, 4, RW, lin(0))]);
      expectMemClean(proc.kernel);
    });

    it("WIPEONFORK is EINVAL on shared and on file mappings", () => {
      const proc = fresh();
      const f = proc.kernel.createFile("/tmp/f", 4);
      mapAt(proc, 0, 2, PROT_RW, SHANON);
      mapAt(proc, 4, 6, PROT_RW, MAP_PRIVATE, f);
      expect(proc.madvise(p(0), 2 * P, MADV.wipeonfork)).toBe(-EINVAL);
      expect(proc.madvise(p(4), 2 * P, MADV.wipeonfork)).toBe(-EINVAL);
    });

    it("DOFORK is EINVAL on VM_IO, DODUMP on VM_SPECIAL; DONTFORK and DONTDUMP of a whole special VMA just set the flag", () => {
      const proc = kernel().createProcess();
      const vvar = special(proc, "[vvar]");
      expect(vvar.flags & VM_IO).toBe(VM_IO);
      const len = vvar.end - vvar.start;
      expect(proc.madvise(vvar.start, len, MADV.dofork)).toBe(-EINVAL);
      expect(proc.madvise(vvar.start, len, MADV.dodump)).toBe(-EINVAL);
      expect(proc.madvise(vvar.start, len, MADV.dontfork)).toBe(0);
      expect(special(proc, "[vvar]").flags & VM_DONTCOPY).toBe(VM_DONTCOPY);
      // a part of it would need a split: special mappings refuse (EINVAL, not EAGAIN)
      expect(proc.madvise(vvar.start, P, MADV.dontdump)).toBe(0); // already VM_DONTDUMP: nothing to do
      expect(proc.madvise(vvar.start, P, MADV.random)).toBe(-EINVAL);
      const vdso = special(proc, "[vdso]");
      expect(proc.madvise(vdso.start, vdso.end - vdso.start, MADV.dontdump)).toBe(0);
      expect(special(proc, "[vdso]").flags & VM_DONTDUMP).toBe(VM_DONTDUMP);
    });

    it("MERGEABLE sets VM_MERGEABLE on private memory and is silently ignored on shared memory; UNMERGEABLE clears it", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      mapAt(proc, 10, 14, PROT_RW, SHANON);
      expect(proc.madvise(p(1), P, MADV.mergeable)).toBe(0);
      expect((flagsAt(proc, 1) & VM_MERGEABLE) >>> 0).toBe(VM_MERGEABLE);
      expect(region(proc).length).toBe(4);
      expect(proc.madvise(p(11), P, MADV.mergeable)).toBe(0);
      expect(flagsAt(proc, 11) & VM_MERGEABLE).toBe(0);
      expect(region(proc).length).toBe(4); // no split for the ignored advice
      expect(proc.madvise(p(0), 4 * P, MADV.unmergeable)).toBe(0);
      expect(layout(proc, X, p(10))).toEqual([seg(0, 4, RW, lin(0))]);
      expectMemClean(proc.kernel);
    });

    it("HUGEPAGE / NOHUGEPAGE exclude each other", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      expect(proc.madvise(p(0), 2 * P, MADV.hugepage)).toBe(0);
      expect(flagsAt(proc, 0) & (VM_HUGEPAGE | VM_NOHUGEPAGE)).toBe(VM_HUGEPAGE);
      expect(proc.madvise(p(0), 2 * P, MADV.nohugepage)).toBe(0);
      expect(flagsAt(proc, 0) & (VM_HUGEPAGE | VM_NOHUGEPAGE)).toBe(VM_NOHUGEPAGE);
      expect(layout(proc)).toEqual([seg(0, 2, RW | VM_NOHUGEPAGE, lin(0)), seg(2, 4, RW, lin(2))]);
    });

    it("S36: at the map-count limit a split is refused with EAGAIN; a change of a whole VMA is not", () => {
      const proc = fresh(1);
      rw(proc, 0, 4);
      expect(proc.counters().map_count).toBe(1);
      expect(proc.madvise(p(1), P, MADV.dontdump)).toBe(-EAGAIN);
      expect(proc.madvise(p(0), P, MADV.dontdump)).toBe(-EAGAIN);
      expect(proc.madvise(p(0), 4 * P, MADV.dontdump)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 4, RW | VM_DONTDUMP, lin(0))]);
      // one below the limit: the first split passes, the second is refused after it
      const q = fresh(2);
      rw(q, 0, 4);
      expect(q.madvise(p(1), P, MADV.dontdump)).toBe(-EAGAIN);
      expect(layout(q)).toEqual([seg(0, 1, RW, lin(0)), seg(1, 4, RW, lin(1))]);
      expectMemClean(q.kernel);
    });
  });

  describe(`${impl.name}: advice that leaves the VMAs alone`, () => {
    it("S27: DONTNEED frees the pages; the VMA, its anon_vma, its chain and the page tables stay", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      for (let n = 0; n < 4; n++) W(proc, n);
      const av1 = av(proc, 0);
      const before = tables(proc);
      const freed = [pageAt(proc, 1).id, pageAt(proc, 2).id];
      expect(proc.madvise(p(1), 2 * P, MADV.dontneed)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expect([av(proc, 0), chainAt(proc, 0)]).toEqual([av1, [av1]]);
      expect(tables(proc)).toEqual(before);
      expect(freed.map((id) => page(proc.kernel, id))).toEqual([undefined, undefined]);
      expect([pteAt(proc, 1), pteAt(proc, 2)]).toEqual([undefined, undefined]);
      Rd(proc, 1);
      expect(pteAt(proc, 1)?.page).toBe(0);
      W(proc, 2);
      expect([pageAt(proc, 2).mapping, pageAt(proc, 2).index]).toEqual([av1, lin(2)]);
      expect(proc.memory().rssAnon).toBe(3);
      expectMemClean(proc.kernel);
    });

    it("DONTNEED, FREE, COLD and PAGEOUT are EINVAL on a VM_LOCKED VMA; WILLNEED is not", () => {
      const proc = fresh();
      mapAt(proc, 0, 2, PROT_RW, ANON | MAP_LOCKED);
      for (const a of [MADV.dontneed, MADV.free, MADV.cold, MADV.pageout]) expect(proc.madvise(p(0), P, a)).toBe(-EINVAL);
      expect(proc.madvise(p(0), P, MADV.willneed)).toBe(0);
      expect(pteAt(proc, 0)?.write).toBe(true);
    });

    it("DONTNEED of a private file mapping drops the COW copies: the file's content shows again", () => {
      const proc = fresh();
      const f = proc.kernel.createFile("/tmp/f", 2);
      mapAt(proc, 0, 2, PROT_RW, MAP_SHARED, f);
      W(proc, 0); // file page 0 holds 1
      mapAt(proc, 10, 12, PROT_RW, MAP_PRIVATE, f);
      W(proc, 10); // COW copy holds 2
      expect([proc.peek(p(10)), proc.peek(p(0))]).toEqual([2, 1]);
      expect(proc.madvise(p(10), 2 * P, MADV.dontneed)).toBe(0);
      expect(proc.peek(p(10))).toBe(1);
      expectMemClean(proc.kernel);
    });

    it("FREE is EINVAL on a file mapping (also shared anonymous memory); on anonymous memory nothing visible changes", () => {
      const proc = fresh();
      const f = proc.kernel.createFile("/tmp/f", 4);
      mapAt(proc, 0, 2, PROT_RW, MAP_PRIVATE, f);
      mapAt(proc, 4, 6, PROT_RW, SHANON);
      rw(proc, 8, 10);
      W(proc, 8);
      expect(proc.madvise(p(0), 2 * P, MADV.free)).toBe(-EINVAL);
      expect(proc.madvise(p(4), 2 * P, MADV.free)).toBe(-EINVAL);
      const mem = proc.memory();
      expect(proc.madvise(p(8), 2 * P, MADV.free)).toBe(0);
      expect(proc.memory()).toEqual(mem);
      expect(proc.peek(p(8))).toBe(1);
    });

    it("COLD, PAGEOUT and WILLNEED change nothing without swap", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      for (let n = 0; n < 4; n++) W(proc, n);
      const vmas = proc.vmas();
      const mem = proc.memory();
      for (const a of [MADV.cold, MADV.pageout, MADV.willneed]) expect(proc.madvise(p(0), 4 * P, a)).toBe(0);
      expect(proc.vmas()).toEqual(vmas);
      expect(proc.memory()).toEqual(mem);
    });
  });

  describe(`${impl.name}: MADV_REMOVE`, () => {
    it("EINVAL on VM_LOCKED or without a file; EACCES unless shared and writable", () => {
      const proc = fresh();
      const f = proc.kernel.createFile("/tmp/f", 8);
      rw(proc, 0, 2);
      mapAt(proc, 2, 4, PROT_RW, SHANON | MAP_LOCKED);
      mapAt(proc, 4, 6, PROT_RW, MAP_PRIVATE, f);
      mapAt(proc, 6, 8, PROT_READ, MAP_SHARED, f, 2 * P);
      expect(proc.madvise(p(0), 2 * P, MADV.remove)).toBe(-EINVAL);
      expect(proc.madvise(p(2), 2 * P, MADV.remove)).toBe(-EINVAL);
      expect(proc.madvise(p(4), 2 * P, MADV.remove)).toBe(-EACCES);
      expect(proc.madvise(p(6), 2 * P, MADV.remove)).toBe(-EACCES);
    });

    it("shared anonymous memory: the pages go from the mapping and the page cache; the walk goes on to the next VMA", () => {
      const proc = fresh();
      mapAt(proc, 0, 2, PROT_RW, SHANON);
      mapAt(proc, 2, 4, PROT_RW, SHANON); // another shmem object: no merge
      for (let n = 0; n < 4; n++) W(proc, n);
      const ids = [0, 1, 2, 3].map((n) => pageAt(proc, n).id);
      expect(proc.madvise(p(1), 2 * P, MADV.remove)).toBe(0);
      expect([0, 1, 2, 3].map((n) => pteAt(proc, n) !== undefined)).toEqual([true, false, false, true]);
      expect(ids.map((id) => page(proc.kernel, id) !== undefined)).toEqual([true, false, false, true]);
      expect(proc.memory().rssFile).toBe(2);
      expect([0, 1, 2, 3].map((n) => proc.peek(p(n)))).toEqual([1, 0, 0, 1]);
      expect(region(proc).length).toBe(2);
      expectMemClean(proc.kernel);
    });

    it("a file mapped shared and private: every mapping of the file's pages loses them, private COW copies stay", () => {
      const proc = fresh();
      const f = proc.kernel.createFile("/tmp/f", 4);
      mapAt(proc, 0, 4, PROT_RW, MAP_SHARED, f);
      for (let n = 0; n < 4; n++) W(proc, n); // the file holds 1 1 1 1
      mapAt(proc, 10, 14, PROT_RW, MAP_PRIVATE, f);
      Rd(proc, 10); // maps the page-cache page (fault-around maps the others too)
      W(proc, 11); // a COW copy: 2
      const child = proc.fork();
      expect(proc.madvise(p(0), 4 * P, MADV.remove)).toBe(0);
      for (const q of [proc, child]) {
        expect([0, 1, 2, 3].map((n) => pteAt(q, n))).toEqual([undefined, undefined, undefined, undefined]);
        expect(pteAt(q, 10)).toBeUndefined();
        expect(pteAt(q, 11)?.page).toBeGreaterThan(0);
        expect([q.peek(p(10)), q.peek(p(11)), q.peek(p(0))]).toEqual([0, 2, 0]);
      }
      expectMemClean(proc.kernel);
    });
  });

  describe(`${impl.name}: MADV_POPULATE_READ / MADV_POPULATE_WRITE`, () => {
    it("READ maps zero pages into anonymous memory, WRITE allocates pages", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      expect(proc.madvise(p(0), 2 * P, MADV.populate_read)).toBe(0);
      expect([pteAt(proc, 0)?.page, pteAt(proc, 1)?.page, av(proc, 0)]).toEqual([0, 0, 0]);
      expect(proc.madvise(p(1), 3 * P, MADV.populate_write)).toBe(0);
      expect([1, 2, 3].map((n) => pteAt(proc, n)?.write)).toEqual([true, true, true]);
      expect(proc.memory().rssAnon).toBe(3);
      expectMemClean(proc.kernel);
    });

    it("incompatible mappings are EINVAL: PROT_NONE, WRITE on read-only, READ on write-only (no FOLL_FORCE)", () => {
      const proc = fresh();
      mapAt(proc, 0, 2, PROT_NONE, ANON);
      mapAt(proc, 2, 4, PROT_READ, ANON);
      mapAt(proc, 4, 6, PROT_WRITE, ANON);
      expect(proc.madvise(p(0), P, MADV.populate_read)).toBe(-EINVAL);
      expect(proc.madvise(p(2), P, MADV.populate_write)).toBe(-EINVAL);
      expect(proc.madvise(p(4), P, MADV.populate_read)).toBe(-EINVAL);
      expect(proc.madvise(p(4), P, MADV.populate_write)).toBe(0);
      expect(proc.madvise(p(2), P, MADV.populate_read)).toBe(0);
    });

    it("a SIGBUS beyond the end of the file is EFAULT, after the pages before it were populated", () => {
      const proc = fresh();
      const f = proc.kernel.createFile("/tmp/f", 2);
      mapAt(proc, 0, 4, PROT_RW, MAP_SHARED, f);
      expect(proc.madvise(p(0), 4 * P, MADV.populate_write)).toBe(-EFAULT);
      expect([0, 1, 2].map((n) => pteAt(proc, n) !== undefined)).toEqual([true, true, false]);
      expectMemClean(proc.kernel);
    });

    it("a gap makes the result ENOMEM; the mapped parts are populated", () => {
      const proc = fresh();
      rw(proc, 0, 1);
      rw(proc, 2, 3);
      expect(proc.madvise(p(0), 3 * P, MADV.populate_write)).toBe(-ENOMEM);
      expect([pteAt(proc, 0)?.write, pteAt(proc, 2)?.write]).toEqual([true, true]);
    });
  });
}
