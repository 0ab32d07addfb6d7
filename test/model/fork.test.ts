// fork, exit and exec (kernel-facts §9; §12 S15, S17, S18, S37): the
// child's mm, its VMAs and anon_vmas, COW sharing and isolation of content,
// VM_DONTCOPY / VM_WIPEONFORK (set through the process image: madvise() is
// not modelled yet), and what exit and exec release.

import { describe, expect, it } from "vitest";
import {
  MAP_LOCKED, MAP_PRIVATE, MAP_SHARED, PROT_READ, VM_ACCOUNT, VM_DONTCOPY, VM_LOCKED, VM_MAYEXEC, VM_MAYREAD,
  VM_MAYWRITE, VM_READ, VM_SOFTDIRTY, VM_WIPEONFORK, VM_WRITE,
} from "../../src/abi/constants.js";
import { defaultImage } from "../../src/image.js";
import type { ProcessImage, ProcessSim } from "../../src/types.js";
import {
  MEM_IMPLS, Rd, W, anonVma, av, chainAt, emptyImage, expectMemClean, page, pageAt, pteAt, vmaAt,
} from "./memutil.js";
import { ANON, NOREPLACE, P, PROT_RW, RW, layout, lin, p, rw, seg } from "./util.js";

const RWA = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;

for (const impl of MEM_IMPLS) {
  const kernel = () => impl.create({ policy: "linux-5.17" });
  const fresh = (): ProcessSim => kernel().createProcess(emptyImage());

  describe(`${impl.name}: fork`, () => {
    it("the child: new pid and mm, the same VMAs (no merging), counters and layout copied", () => {
      const k = kernel();
      const proc = k.createProcess();
      rw(proc, 0, 2);
      expect(proc.mprotect(p(1), P, PROT_READ)).toBe(0); // two VMAs that fork must not merge back
      const child = proc.fork();
      expect(child.pid).toBe(proc.pid + 1);
      expect(child.memory().mm).toBe(proc.memory().mm + 1);
      expect(child.vmas().map(({ anonVma, anonVmaRoot, ...v }) => v)).toEqual(proc.vmas().map(({ anonVma, anonVmaRoot, ...v }) => v));
      expect(child.counters()).toEqual(proc.counters());
      expect(child.layout()).toEqual(proc.layout());
      expect(k.processes().map((q) => q.pid)).toEqual([proc.pid, child.pid]);
      expectMemClean(k);
    });

    it("COW: pages are shared read-only after fork, and each side's writes stay its own", () => {
      const proc = fresh();
      const k = proc.kernel;
      rw(proc, 0, 2);
      for (let i = 0; i < 5; i++) W(proc, 0);
      W(proc, 1);
      const child = proc.fork();
      expect(child.memory().ptes).toEqual([{ addr: p(0), page: 1, write: false }, { addr: p(1), page: 2, write: false }]);
      expect(proc.memory().ptes).toEqual([{ addr: p(0), page: 1, write: false }, { addr: p(1), page: 2, write: false }]);
      expect(child.memory().rssAnon).toBe(2);
      expect(page(k, 1)).toMatchObject({ mapcount: 2, refcount: 2, mapping: 1 });
      W(child, 0);
      expect(child.peek(p(0))).toBe(6);
      expect(proc.peek(p(0))).toBe(5);
      const grandchild = child.fork();
      W(grandchild, 0);
      W(proc, 0);
      expect([proc.peek(p(0)), child.peek(p(0)), grandchild.peek(p(0))]).toEqual([6, 6, 7]);
      expect([proc.peek(p(1)), child.peek(p(1)), grandchild.peek(p(1))]).toEqual([1, 1, 1]);
      expect(page(k, 2)).toMatchObject({ mapcount: 3, refcount: 3 });
      expectMemClean(k);
    });

    it("S15: a forked child's faulted VMA cannot absorb a new neighbour; the parent's can", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      W(proc, 0);
      const child = proc.fork();
      rw(child, 2, 4);
      expect(layout(child)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 4, RW, lin(2))]);
      expect(child.vmas().map((v) => [v.anonVma, v.anonVmaRoot])).toEqual([[2, 1], [0, 0]]);
      expect(chainAt(child, 0)).toEqual([2, 1]);
      rw(proc, 2, 4);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expect(av(proc, 0)).toBe(1);
      expectMemClean(proc.kernel);
    });

    it("S17: VMAs faulted only after fork get root anon_vmas in the child; 5.17 still merges with prev only", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      const child = proc.fork();
      W(child, 0);
      W(child, 3);
      expect(child.vmas().map((v) => [v.anonVma, v.anonVmaRoot])).toEqual([[1, 1], [2, 2]]);
      rw(child, 2, 3);
      expect(layout(child)).toEqual([seg(0, 3, RW, lin(0)), seg(3, 5, RW, lin(3))]);
      expect(child.vmas().map((v) => v.anonVma)).toEqual([1, 2]);
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(3, 5, RW, lin(3))]);
      expectMemClean(proc.kernel);
    });

    it("S18: faulted before fork, the child's chains are not singular: the hole-filling mmap merges with neither", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      W(proc, 0);
      W(proc, 3);
      const child = proc.fork();
      rw(child, 2, 3);
      expect(layout(child)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 3, RW, lin(2)), seg(3, 5, RW, lin(3))]);
      expect(child.vmas().map((v) => [v.anonVma, v.anonVmaRoot])).toEqual([[3, 1], [0, 0], [4, 2]]);
      rw(proc, 2, 3); // in the parent: case 2 (S5)
      expect(layout(proc)).toEqual([seg(0, 3, RW, lin(0)), seg(3, 5, RW, lin(3))]);
      expectMemClean(proc.kernel);
    });

    it("S37: read faults make no anon_vma, so fork copies nothing and the child's new mapping merges", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      Rd(proc, 0);
      Rd(proc, 1);
      expect(av(proc, 0)).toBe(0);
      const child = proc.fork();
      expect(child.memory().ptes).toEqual([]);
      rw(child, 2, 4);
      expect(layout(child)).toEqual([seg(0, 4, RW, lin(0))]);
      Rd(child, 1);
      expect(pteAt(child, 1)).toEqual({ addr: p(1), page: 0, write: false });
      expectMemClean(proc.kernel);
    });

    it("file mappings: copied only where an anon_vma exists; page-cache PTEs come along read-only", () => {
      const proc = fresh();
      const k = proc.kernel;
      const f = k.createFile("/tmp/f", 8);
      expect(proc.mmap(p(0), 4 * P, PROT_RW, MAP_PRIVATE | NOREPLACE, f, 0)).toBe(p(0));
      expect(proc.mmap(p(10), 4 * P, PROT_RW, MAP_SHARED | NOREPLACE, f, 4 * P)).toBe(p(10));
      Rd(proc, 0); // page-cache index 0
      W(proc, 1); // anon copy of index 1: the VMA gets an anon_vma
      W(proc, 10); // index 4, shared
      const child = proc.fork();
      expect(child.memory().ptes).toEqual([
        { addr: p(0), page: pageAt(proc, 0).id, write: false },
        { addr: p(1), page: pageAt(proc, 1).id, write: false },
      ]);
      expect(child.memory().rssAnon).toBe(1);
      expect(child.memory().rssFile).toBe(1);
      expect(pteAt(proc, 10)).toMatchObject({ write: true }); // shared: not touched by fork
      W(child, 10);
      expect(proc.peek(p(10))).toBe(2);
      expectMemClean(k);
    });

    it("VM_DONTCOPY VMAs are left out (and off the counters); VM_WIPEONFORK ones come without anon_vma or pages", () => {
      const k = kernel();
      const img: ProcessImage = emptyImage();
      img.vmas = [
        { start: p(0), end: p(2), flags: RWA | VM_DONTCOPY, pgoff: lin(0), fileIndex: -1 },
        { start: p(4), end: p(6), flags: RWA | VM_WIPEONFORK, pgoff: lin(4), fileIndex: -1 },
        { start: p(8), end: p(9), flags: RWA, pgoff: lin(8), fileIndex: -1 },
      ];
      const proc = k.createProcess(img);
      W(proc, 0);
      W(proc, 4);
      W(proc, 8);
      const child = proc.fork();
      expect(child.vmas().map((v) => [v.start, v.flags, v.anonVma])).toEqual([
        [p(4), (RWA | VM_WIPEONFORK | VM_SOFTDIRTY) >>> 0, 0],
        [p(8), (RWA | VM_SOFTDIRTY) >>> 0, 4],
      ]);
      expect(child.counters()).toMatchObject({ map_count: 2, total_vm: 3, data_vm: 3 });
      expect(child.memory().ptes).toEqual([{ addr: p(8), page: 3, write: false }]);
      expect(child.peek(p(4))).toBe(0);
      expect(pteAt(child, 4)).toEqual({ addr: p(4), page: 0, write: false });
      expect(proc.peek(p(4))).toBe(1);
      expectMemClean(k);
    });

    it("VM_LOCKED is cleared in the child, whose locked_vm starts at 0", () => {
      const proc = fresh();
      expect(proc.mmap(p(0), 2 * P, PROT_RW, ANON | MAP_LOCKED | NOREPLACE, -1, 0)).toBe(p(0));
      W(proc, 0);
      const child = proc.fork();
      expect(vmaAt(child, 0).flags & VM_LOCKED).toBe(0);
      expect(child.counters().locked_vm).toBe(0);
      expect(proc.counters().locked_vm).toBe(2);
      expectMemClean(proc.kernel);
    });
  });

  describe(`${impl.name}: exit and exec`, () => {
    it("a child's exit gives the parent its pages back (mapcount 1) and its anon_vma counters", () => {
      const proc = fresh();
      const k = proc.kernel;
      rw(proc, 0, 2);
      W(proc, 0);
      const before = k.memory().anonVmas;
      const child = proc.fork();
      W(child, 1); // the child's own page
      expect(anonVma(k, 1)).toMatchObject({ refcount: 2, degree: 3 });
      child.exit();
      expect(k.memory().anonVmas).toEqual(before);
      expect(page(k, 1)).toMatchObject({ mapcount: 1, refcount: 1 });
      expect(k.memory().pages.map((pg) => pg.id)).toEqual([1]);
      expect(() => child.vmas()).toThrow();
      expectMemClean(k);
    });

    it("the default image: faulted VMAs get anon_vmas in image order; RELRO and data share one", () => {
      const k = kernel();
      const proc = k.createProcess();
      const img = defaultImage();
      const ids = proc.vmas().map((v) => v.anonVma);
      const faulted = img.vmas.map((v) => !!v.faulted);
      expect(ids.filter((_, i) => !faulted[i]).every((id) => id === 0)).toBe(true);
      expect(ids.filter((_, i) => faulted[i])).toEqual([1, 1, 2, 2, 3, 4, 4, 5]);
      expect(k.memory().anonVmas.map((a) => [a.id, a.refcount, a.degree, a.avcs.length])).toEqual([
        [1, 1, 3, 2], [2, 1, 3, 2], [3, 1, 2, 1], [4, 1, 3, 2], [5, 1, 2, 1],
      ]);
      expect(k.memory().pages).toEqual([]);
      expect(proc.memory().pgtables).toEqual([]);
      expectMemClean(k);
    });

    it("exec: a new mm from the image; the old one is torn down unless another task still uses it", () => {
      const k = kernel();
      const proc = k.createProcess(emptyImage());
      rw(proc, 0, 2);
      W(proc, 0);
      const thread = proc.cloneVm();
      proc.exec();
      expect(proc.memory().mm).toBe(2);
      expect(thread.memory().mm).toBe(1);
      expect(thread.peek(p(0))).toBe(1);
      expect(proc.vmas().length).toBe(defaultImage().vmas.length);
      expect(proc.touch(p(0), false)).toBe(11);
      expectMemClean(k);
      thread.exit();
      expect(k.memory().pages).toEqual([]);
      expect(k.memory().anonVmas.map((a) => a.id)).toEqual([2, 3, 4, 5, 6]);
      expectMemClean(k);
    });

    it("exec in a fork child drops its links into the parent's anon_vmas", () => {
      const proc = fresh();
      const k = proc.kernel;
      rw(proc, 0, 1);
      W(proc, 0);
      const child = proc.fork();
      child.exec(emptyImage());
      expect(child.vmas()).toEqual([]);
      expect(k.memory().anonVmas).toEqual([
        { id: 1, root: 1, parent: 1, refcount: 1, degree: 2, avcs: [{ mm: 1, start: p(0), end: p(1), pgoff: lin(0) }] },
      ]);
      expect(page(k, 1)).toMatchObject({ mapcount: 1 });
      expectMemClean(k);
    });
  });
}
