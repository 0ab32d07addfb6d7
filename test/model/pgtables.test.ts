// Page tables (kernel-facts §6.4; mm/memory.c free_pgtables(),
// free_pgd_range() and co.): a PTE table appears with the first PTE it holds,
// PUD and PMD tables also with any fault that reaches handle_mm_fault(); they
// go only with free_pgtables() — munmap's unmap_region() with floor = the end
// of the VMA before the range (0 without one) and ceiling = the start of the
// VMA after it (0 = the top without one), and exit. A PTE table spans 2 MiB
// (512 pages), a PMD table 1 GiB, a PUD table 512 GiB. Snapshots list them by
// level (PTE tables first), then by address.

import { describe, expect, it } from "vitest";
import { MAP_FIXED, MAP_PRIVATE, PROT_READ } from "../../src/abi/constants.js";
import type { ProcessSim } from "../../src/types.js";
import { MEM_IMPLS, Rd, W, emptyImage, expectMemClean, tables } from "./memutil.js";
import { ANON, NOREPLACE, P, PROT_RW, X, p, ro, rw } from "./util.js";

const hex = (n: number) => "0x" + n.toString(16);
const pte = (a: number) => `1:${hex(a - (a % 2 ** 21))}`;
const pmd = (a: number) => `2:${hex(a - (a % 2 ** 30))}`;
const pud = (a: number) => `3:${hex(a - (a % 2 ** 39))}`;
const GiB = 2 ** 30;

for (const impl of MEM_IMPLS) {
  const fresh = (): ProcessSim => impl.create({ policy: "linux-5.17" }).createProcess(emptyImage());
  const at = (proc: ProcessSim, addr: number, pages: number, pr = PROT_RW) =>
    expect(proc.mmap(addr, pages * P, pr, ANON | NOREPLACE, -1, 0)).toBe(addr);
  const touchAt = (proc: ProcessSim, addr: number) => expect(proc.touch(addr, true)).toBe(0);

  describe(`${impl.name}: page-table allocation`, () => {
    it("the first PTE brings its PUD, PMD and PTE tables; the accounting counts them (not the PGD)", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      expect(tables(proc)).toEqual([]);
      W(proc, 0);
      expect(tables(proc)).toEqual([pte(X), pmd(X), pud(X)]);
      expect(proc.memory().pgtablesAccounted).toBe(3);
      W(proc, 3); // same PTE table
      expect(proc.memory().pgtablesAccounted).toBe(3);
      expectMemClean(proc.kernel);
    });

    it("a fault that ends in SIGBUS leaves the PUD and PMD tables __handle_mm_fault allocated, not a PTE table", () => {
      const proc = fresh();
      const f = proc.kernel.createFile("/tmp/f", 1);
      expect(proc.mmap(X + GiB, 4 * P, PROT_READ, MAP_PRIVATE | NOREPLACE, f, 0)).toBe(X + GiB);
      expect(proc.touch(X + GiB + 2 * P, false)).toBe(7);
      expect(tables(proc)).toEqual([pmd(X + GiB), pud(X)]);
      expect(proc.munmap(X + GiB, 4 * P)).toBe(0);
      expect(tables(proc)).toEqual([]);
      expectMemClean(proc.kernel);
    });

    it("a new 2 MiB span adds a PTE table; a new GiB a PMD table too; a new 512 GiB a PUD table too", () => {
      const proc = fresh();
      at(proc, X, 1);
      at(proc, X + 2 ** 21, 1);
      at(proc, X + GiB, 1);
      at(proc, 2 ** 39, 1);
      touchAt(proc, X);
      touchAt(proc, X + 2 ** 21);
      expect(tables(proc)).toEqual([pte(X), pte(X + 2 ** 21), pmd(X), pud(X)]);
      touchAt(proc, X + GiB);
      expect(tables(proc)).toEqual([pte(X), pte(X + 2 ** 21), pte(X + GiB), pmd(X), pmd(X + GiB), pud(X)]);
      touchAt(proc, 2 ** 39);
      expect(proc.memory().pgtables).toEqual([
        { level: 1, addr: X }, { level: 1, addr: X + 2 ** 21 }, { level: 1, addr: X + GiB }, { level: 1, addr: 2 ** 39 },
        { level: 2, addr: 0 }, { level: 2, addr: GiB }, { level: 2, addr: 2 ** 39 },
        { level: 3, addr: 0 }, { level: 3, addr: 2 ** 39 },
      ]);
      expect(proc.memory().pgtablesAccounted).toBe(9);
      expectMemClean(proc.kernel);
    });
  });

  describe(`${impl.name}: free_pgtables floor / ceiling`, () => {
    it("unmapping one of two VMAs sharing a PTE table keeps it; unmapping the other frees everything", () => {
      const proc = fresh();
      rw(proc, 0, 1);
      ro(proc, 1, 2);
      W(proc, 0);
      Rd(proc, 1);
      expect(proc.munmap(p(0), P)).toBe(0);
      expect(tables(proc)).toEqual([pte(X), pmd(X), pud(X)]);
      expect(proc.memory().ptes).toEqual([{ addr: p(1), page: 0, write: false }]);
      expect(proc.munmap(p(1), P)).toBe(0);
      expect(tables(proc)).toEqual([]);
      expect(proc.memory().pgtablesAccounted).toBe(0);
      expectMemClean(proc.kernel);
    });

    it("a neighbour without any PTE still keeps the shared table (the rule is about VMAs, not PTEs)", () => {
      const proc = fresh();
      rw(proc, 0, 1);
      ro(proc, 8, 9);
      W(proc, 0);
      expect(proc.munmap(p(0), P)).toBe(0);
      expect(tables(proc)).toEqual([pte(X), pmd(X), pud(X)]); // an empty PTE table remains
      expect(proc.memory().ptes).toEqual([]);
      expectMemClean(proc.kernel);
      expect(proc.munmap(p(8), P)).toBe(0);
      expect(tables(proc)).toEqual([]);
    });

    it("a neighbour in another PTE table of the same GiB: the PTE table goes, the PMD and PUD tables stay", () => {
      const proc = fresh();
      rw(proc, 0, 1);
      ro(proc, 512, 513);
      W(proc, 0);
      Rd(proc, 512);
      expect(proc.munmap(p(0), P)).toBe(0);
      expect(tables(proc)).toEqual([pte(p(512)), pmd(X), pud(X)]);
      expectMemClean(proc.kernel);
    });

    it("a neighbour in another GiB of the same 512 GiB: PTE and PMD tables go, the PUD table stays", () => {
      const proc = fresh();
      at(proc, X, 1);
      at(proc, 3 * GiB, 1);
      touchAt(proc, X);
      touchAt(proc, 3 * GiB);
      expect(proc.munmap(X, P)).toBe(0);
      expect(tables(proc)).toEqual([pte(3 * GiB), pmd(3 * GiB), pud(0)]);
      expectMemClean(proc.kernel);
    });

    it("ceiling rounding: the last PTE table of the range is kept when the next VMA starts inside it", () => {
      const proc = fresh();
      rw(proc, 510, 514); // spans the PTE tables at p0 and p512
      ro(proc, 514, 515);
      W(proc, 510);
      W(proc, 513);
      Rd(proc, 514);
      expect(tables(proc)).toEqual([pte(X), pte(p(512)), pmd(X), pud(X)]);
      expect(proc.munmap(p(510), 4 * P)).toBe(0);
      expect(tables(proc)).toEqual([pte(p(512)), pmd(X), pud(X)]);
      expectMemClean(proc.kernel);
    });

    it("floor rounding: the first PTE table of the range is kept when the previous VMA ends inside it", () => {
      const proc = fresh();
      rw(proc, 500, 513); // ends inside the PTE table at p512
      ro(proc, 513, 515);
      W(proc, 500);
      W(proc, 512);
      Rd(proc, 514);
      expect(proc.munmap(p(513), 2 * P)).toBe(0);
      expect(tables(proc)).toEqual([pte(X), pte(p(512)), pmd(X), pud(X)]);
      expect(proc.memory().ptes.map((e) => e.addr)).toEqual([p(500), p(512)]);
      expectMemClean(proc.kernel);
    });

    it("one munmap over several VMAs, near (gathered) and far apart: everything between floor and ceiling goes", () => {
      const proc = fresh();
      ro(proc, 0, 1);
      rw(proc, 2, 3);
      ro(proc, 100, 101);
      rw(proc, 2000, 2001);
      Rd(proc, 0);
      W(proc, 2);
      Rd(proc, 100);
      W(proc, 2000);
      ro(proc, 3000, 3001); // the ceiling, in the PTE table at p2560
      expect(tables(proc)).toEqual([pte(X), pte(p(1536)), pmd(X), pud(X)]);
      expect(proc.munmap(p(0), 2001 * P)).toBe(0);
      expect(tables(proc)).toEqual([pmd(X), pud(X)]);
      expectMemClean(proc.kernel);
    });

    it("with the default image the region's tables all go (the binary above is in another PUD)", () => {
      const k = impl.create({ policy: "linux-5.17" });
      const proc = k.createProcess();
      rw(proc, 0, 2);
      W(proc, 0);
      expect(tables(proc)).toEqual([pte(X), pmd(X), pud(X)]);
      expect(proc.munmap(p(0), 2 * P)).toBe(0);
      expect(tables(proc)).toEqual([]);
      expectMemClean(k);
    });

    it("MAP_FIXED over faulted pages zaps them and frees their tables before the new VMA merges (S23)", () => {
      const proc = fresh();
      rw(proc, 0, 6);
      for (let i = 0; i < 6; i++) W(proc, i);
      const k = proc.kernel;
      expect(proc.mmap(p(2), 2 * P, PROT_RW, ANON | MAP_FIXED, -1, 0)).toBe(p(2));
      expect(proc.memory().ptes.map((e) => e.addr)).toEqual([p(0), p(1), p(4), p(5)]);
      expect(k.memory().pages.length).toBe(4);
      expect(tables(proc)).toEqual([pte(X), pmd(X), pud(X)]);
      expect(proc.vmas().length).toBe(1);
      expectMemClean(k);
    });

    it("brk shrinking unmaps the heap's pages like munmap", () => {
      const k = impl.create({ policy: "linux-5.17" });
      const proc = k.createProcess();
      const H = proc.layout().start_brk;
      expect(proc.brk(H + 4 * P)).toBe(H + 4 * P);
      expect(proc.touch(H, true)).toBe(0);
      expect(proc.touch(H + 3 * P, true)).toBe(0);
      expect(proc.brk(H + P)).toBe(H + P);
      expect(proc.memory().ptes.filter((e) => e.addr >= H && e.addr < H + 4 * P).map((e) => e.addr)).toEqual([H]);
      expectMemClean(k);
    });
  });

  describe(`${impl.name}: exit and fork`, () => {
    it("exit frees every table and page; the PGD goes with the mm", () => {
      const proc = fresh();
      const k = proc.kernel;
      rw(proc, 0, 1);
      at(proc, 2 ** 39, 1);
      W(proc, 0);
      touchAt(proc, 2 ** 39);
      proc.exit();
      expect(k.memory()).toEqual({ pages: [], anonVmas: [] });
      expect(k.processes()).toEqual([]);
    });

    it("fork mirrors the parent's tables that intersect a copied VMA — an empty PTE table included", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      W(proc, 0);
      W(proc, 3);
      expect(proc.munmap(p(3), P)).toBe(0); // the table stays: [p0, p3) shares it
      expect(proc.munmap(p(0), P)).toBe(0); // stays: [p1, p3) shares it
      expect(proc.memory().ptes).toEqual([]);
      expect(tables(proc)).toEqual([pte(X), pmd(X), pud(X)]);
      const child = proc.fork(); // [p1, p3) has an anon_vma: copy_page_range walks the tables
      expect(tables(child)).toEqual([pte(X), pmd(X), pud(X)]);
      expect(child.memory().pgtablesAccounted).toBe(3);
      expect(child.memory().ptes).toEqual([]);
      expectMemClean(proc.kernel);
    });

    it("fork copies no tables for VMAs without an anon_vma (zero-page PTEs only: S37)", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      Rd(proc, 0);
      Rd(proc, 1);
      const child = proc.fork();
      expect(child.memory().pgtables).toEqual([]);
      expect(child.memory().ptes).toEqual([]);
      expect(proc.memory().ptes.length).toBe(2);
      expectMemClean(proc.kernel);
    });
  });
}
