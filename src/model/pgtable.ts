// Page tables of an mm: x86_64 with 4-level paging (the P4D level folded into
// the PGD), 9 bits per level, 4 KiB pages:
//   arch/x86/include/asm/pgtable_64_types.h (PGDIR_SHIFT 39, PUD_SHIFT 30,
//   PMD_SHIFT 21); mm/memory.c __pud_alloc(), __pmd_alloc(), __pte_alloc(),
//   free_pte_range(), free_pmd_range(), free_pud_range(), free_p4d_range(),
//   free_pgd_range(), free_pgtables(); include/linux/mm.h mm_inc_nr_ptes() &
//   co. (mm_pgtables_bytes) (v5.17; read on 5.15, whose code is the same);
//   mm/mremap.c get_old_pud(), get_old_pmd(), alloc_new_pud(),
//   alloc_new_pmd(), move_normal_pud(), move_normal_pmd(), move_ptes() (the
//   table-level part of move_page_tables(), used by mremap.ts).
//
// Every mm has one PGD (allocated with the mm, never counted). PUD, PMD and PTE
// tables are allocated on demand and counted in the mm's page-table
// accounting: a PTE table only when a PTE is installed in it (faults,
// fault-around, fork's copy_page_range); PUD and PMD tables with it, and
// also by every fault that reaches handle_mm_fault() — __handle_mm_fault()
// does pud_alloc() and pmd_alloc() before it looks at the PTE, so a fault
// that ends in SIGBUS leaves them behind (v5.17; "only when a PTE is
// installed" holds for PTE tables only, see memory.ts). Tables are freed only by
// free_pgtables() (munmap's unmap_region() and exit_mmap()), with the
// kernel's floor/ceiling rounding, so empty tables may remain — as in the
// kernel.

import { PAGE_SIZE } from "../abi/constants.js";
import { unlink_anon_vmas } from "./anon_vma.js";
import type { MmStruct, Vma } from "./mm.js";
import type { Page } from "./page.js";

export const PTRS_PER_TABLE = 512;
export const PMD_SIZE = 2 ** 21; // one PTE table maps this much
export const PUD_SIZE = 2 ** 30; // one PMD table
export const PGDIR_SIZE = 2 ** 39; // one PUD table (P4D_SIZE when the P4D is folded)

/** A present PTE. `page` null is the shared zero page (a special PTE, no struct page). */
export interface Pte {
  page: Page | null;
  write: boolean;
}

export interface PteTable {
  /** the first address the table maps (PMD_SIZE aligned); changes when mremap moves the table */
  addr: number;
  /** PTE index (0..511) -> present PTE */
  readonly ptes: Map<number, Pte>;
}

export interface PmdTable {
  /** changes when mremap moves the table */
  addr: number;
  /** PMD index -> PTE table */
  readonly entries: Map<number, PteTable>;
}

export interface PudTable {
  readonly addr: number;
  /** PUD index -> PMD table */
  readonly entries: Map<number, PmdTable>;
}

/** The page tables of one mm: the PGD (pgd index -> PUD table) and the accounting. */
export class PageTables {
  readonly pgd = new Map<number, PudTable>();
  nr_ptes = 0;
  nr_pmds = 0;
  nr_puds = 0;

  /** mm_pgtables_bytes(mm) / PAGE_SIZE */
  get accounted(): number {
    return this.nr_ptes + this.nr_pmds + this.nr_puds;
  }
}

const idx = (addr: number, size: number): number => Math.floor(addr / size) % PTRS_PER_TABLE;
const down = (addr: number, size: number): number => addr - (addr % size);

/** Keys of a table's map in ascending order (the kernel walks tables in address order). */
function sortedKeys<T>(m: Map<number, T>): number[] {
  return [...m.keys()].sort((a, b) => a - b);
}

/** The PTE table mapping addr, if the mm has one. */
export function pte_table(mm: MmStruct, addr: number): PteTable | undefined {
  return mm.pgtables.pgd.get(Math.floor(addr / PGDIR_SIZE))
    ?.entries.get(idx(addr, PUD_SIZE))
    ?.entries.get(idx(addr, PMD_SIZE));
}

/** The present PTE at addr (page aligned), if any. */
export function pte_lookup(mm: MmStruct, addr: number): Pte | undefined {
  return pte_table(mm, addr)?.ptes.get(idx(addr, PAGE_SIZE));
}

/**
 * pud_alloc() + pmd_alloc() + pte_alloc(): the PTE table for addr, allocating
 * (and counting) whatever level is missing.
 */
export function pte_alloc(mm: MmStruct, addr: number): PteTable {
  const pt = mm.pgtables;
  const gi = Math.floor(addr / PGDIR_SIZE);
  let pud = pt.pgd.get(gi);
  if (!pud) {
    pud = { addr: down(addr, PGDIR_SIZE), entries: new Map() };
    pt.pgd.set(gi, pud);
    pt.nr_puds++;
  }
  let pmd = pud.entries.get(idx(addr, PUD_SIZE));
  if (!pmd) {
    pmd = { addr: down(addr, PUD_SIZE), entries: new Map() };
    pud.entries.set(idx(addr, PUD_SIZE), pmd);
    pt.nr_pmds++;
  }
  let pte = pmd.entries.get(idx(addr, PMD_SIZE));
  if (!pte) {
    pte = { addr: down(addr, PMD_SIZE), ptes: new Map() };
    pmd.entries.set(idx(addr, PMD_SIZE), pte);
    pt.nr_ptes++;
  }
  return pte;
}

/** pud_alloc() alone (fork's copy_pud_range). */
export function pud_alloc(mm: MmStruct, addr: number): void {
  const pt = mm.pgtables;
  const gi = Math.floor(addr / PGDIR_SIZE);
  if (!pt.pgd.has(gi)) {
    pt.pgd.set(gi, { addr: down(addr, PGDIR_SIZE), entries: new Map() });
    pt.nr_puds++;
  }
}

/** pmd_alloc() (fork's copy_pmd_range): the PUD table must exist. */
export function pmd_alloc(mm: MmStruct, addr: number): void {
  pud_alloc(mm, addr);
  const pt = mm.pgtables;
  const pud = pt.pgd.get(Math.floor(addr / PGDIR_SIZE))!;
  if (!pud.entries.has(idx(addr, PUD_SIZE))) {
    pud.entries.set(idx(addr, PUD_SIZE), { addr: down(addr, PUD_SIZE), entries: new Map() });
    pt.nr_pmds++;
  }
}

/** set_pte_at(): install a PTE (allocating the tables it needs). */
export function set_pte_at(mm: MmStruct, addr: number, pte: Pte): void {
  pte_alloc(mm, addr).ptes.set(idx(addr, PAGE_SIZE), pte);
}

/** ptep_get_and_clear(): the PTE table itself stays. */
export function pte_clear(mm: MmStruct, addr: number): void {
  pte_table(mm, addr)?.ptes.delete(idx(addr, PAGE_SIZE));
}

/** The present PTEs in [start, end), in address order. */
export function ptes_in_range(mm: MmStruct, start: number, end: number): { addr: number; pte: Pte }[] {
  const out: { addr: number; pte: Pte }[] = [];
  for (const table of tables_in_range(mm, start, end, 1) as PteTable[]) {
    for (const i of sortedKeys(table.ptes)) {
      const addr = table.addr + i * PAGE_SIZE;
      if (addr >= start && addr < end) out.push({ addr, pte: table.ptes.get(i)! });
    }
  }
  return out;
}

/** The tables of one level (3 PUD, 2 PMD, 1 PTE) that intersect [start, end), in address order. */
export function tables_in_range(mm: MmStruct, start: number, end: number, level: number): (PudTable | PmdTable | PteTable)[] {
  const out: (PudTable | PmdTable | PteTable)[] = [];
  const hit = (addr: number, size: number) => addr < end && addr + size > start;
  for (const gi of sortedKeys(mm.pgtables.pgd)) {
    const pud = mm.pgtables.pgd.get(gi)!;
    if (!hit(pud.addr, PGDIR_SIZE)) continue;
    if (level === 3) {
      out.push(pud);
      continue;
    }
    for (const ui of sortedKeys(pud.entries)) {
      const pmd = pud.entries.get(ui)!;
      if (!hit(pmd.addr, PUD_SIZE)) continue;
      if (level === 2) {
        out.push(pmd);
        continue;
      }
      for (const mi of sortedKeys(pmd.entries)) {
        const pte = pmd.entries.get(mi)!;
        if (hit(pte.addr, PMD_SIZE)) out.push(pte);
      }
    }
  }
  return out;
}

/** All page-table pages of the mm: by level (PTE tables first: 1 PTE, 2 PMD, 3 PUD), then address. */
export function pgtable_list(mm: MmStruct): { level: number; addr: number }[] {
  const out: { level: number; addr: number }[] = [];
  for (const level of [1, 2, 3]) {
    for (const t of tables_in_range(mm, 0, Infinity, level)) out.push({ level, addr: t.addr });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Freeing. The kernel's arithmetic is on unsigned longs where 0 means "the
// bottom" for addr and floor but "the top" for end and ceiling; `minus1`
// gives x - 1 with 0 - 1 = ULONG_MAX (Infinity here), which is how the
// kernel's "end - 1 > ceiling - 1" comparisons treat a 0 ceiling.

const minus1 = (x: number): number => (x === 0 ? Infinity : x - 1);

/** free_pte_range(): clear the PMD entry and free the PTE table. */
function free_pte_range(mm: MmStruct, pmd: PmdTable, i: number): void {
  const table = pmd.entries.get(i)!;
  if (table.ptes.size) throw new Error(`free_pte_range: PTE table at 0x${table.addr.toString(16)} still maps pages (BUG)`);
  pmd.entries.delete(i);
  mm.pgtables.nr_ptes--;
}

/** free_pmd_range(): free the PTE tables of [addr, end), then the PMD table if floor..ceiling owns its span. */
function free_pmd_range(mm: MmStruct, pud: PudTable, ui: number, addr: number, end: number, floor: number, ceiling: number): void {
  const pmd = pud.entries.get(ui)!;
  let start = addr;
  for (const mi of sortedKeys(pmd.entries)) {
    const a = pmd.addr + mi * PMD_SIZE;
    if (a + PMD_SIZE > addr && a < end) free_pte_range(mm, pmd, mi);
  }

  start = down(start, PUD_SIZE);
  if (start < floor) return;
  if (ceiling) {
    ceiling = down(ceiling, PUD_SIZE);
    if (!ceiling) return;
  }
  if (end - 1 > minus1(ceiling)) return;

  if (pmd.entries.size) throw new Error(`free_pmd_range: PMD table at 0x${pmd.addr.toString(16)} still used (BUG)`);
  pud.entries.delete(ui);
  mm.pgtables.nr_pmds--;
}

/** free_pud_range() (called through the folded free_p4d_range()). */
function free_pud_range(mm: MmStruct, gi: number, addr: number, end: number, floor: number, ceiling: number): void {
  const pud = mm.pgtables.pgd.get(gi)!;
  let start = addr;
  for (const ui of sortedKeys(pud.entries)) {
    const a = pud.addr + ui * PUD_SIZE;
    if (a + PUD_SIZE <= addr || a >= end) continue;
    const next = Math.min(a + PUD_SIZE, end); // pud_addr_end()
    free_pmd_range(mm, pud, ui, Math.max(addr, a), next, floor, ceiling);
  }

  // P4D_MASK == PGDIR_MASK with 4-level paging
  start = down(start, PGDIR_SIZE);
  if (start < floor) return;
  if (ceiling) {
    ceiling = down(ceiling, PGDIR_SIZE);
    if (!ceiling) return;
  }
  if (end - 1 > minus1(ceiling)) return;

  if (pud.entries.size) throw new Error(`free_pud_range: PUD table at 0x${pud.addr.toString(16)} still used (BUG)`);
  mm.pgtables.pgd.delete(gi);
  mm.pgtables.nr_puds--;
  // free_p4d_range()'s own tail frees nothing: the P4D level is folded into the PGD.
}

/**
 * free_pgd_range(addr, end, floor, ceiling): free the page tables that map
 * only [addr, end) and nothing at or below floor or at or above ceiling
 * (ceiling 0 = the top of the address space).
 */
export function free_pgd_range(mm: MmStruct, addr: number, end: number, floor: number, ceiling: number): void {
  addr = down(addr, PMD_SIZE);
  if (addr < floor) {
    addr += PMD_SIZE;
    // (addr wrapping to 0 cannot happen below TASK_SIZE)
  }
  if (ceiling) {
    ceiling = down(ceiling, PMD_SIZE);
    if (!ceiling) return;
  }
  if (end - 1 > minus1(ceiling)) end -= PMD_SIZE;
  if (addr > end - 1) return;

  for (const gi of sortedKeys(mm.pgtables.pgd)) {
    const a = gi * PGDIR_SIZE;
    if (a + PGDIR_SIZE <= addr || a >= end) continue;
    const next = Math.min(a + PGDIR_SIZE, end); // pgd_addr_end()
    free_pud_range(mm, gi, Math.max(addr, a), next, floor, ceiling);
  }
}

/**
 * free_pgtables(vmas, floor, ceiling): for a list of detached VMAs in address
 * order, unlink each from its anon_vmas (and its file's i_mmap, not modelled)
 * and free the page tables of their ranges, gathering VMAs that lie within
 * PMD_SIZE of each other into one free_pgd_range() call.
 */
export function free_pgtables(mm: MmStruct, vmas: Vma[], floor: number, ceiling: number): void {
  for (let i = 0; i < vmas.length;) {
    let vma = vmas[i];
    const addr = vma.vm_start;
    unlink_anon_vmas(vma);
    // unlink_file_vma(vma): the i_mmap tree is not modelled (VMAs are found through the mms).
    let j = i + 1;
    // Optimization: gather nearby vmas into one call down (no hugetlb VMAs in the model).
    while (j < vmas.length && vmas[j].vm_start <= vma.vm_end + PMD_SIZE) {
      vma = vmas[j];
      unlink_anon_vmas(vma);
      j++;
    }
    free_pgd_range(mm, addr, vma.vm_end, floor, j < vmas.length ? vmas[j].vm_start : ceiling);
    i = j;
  }
}

// ---------------------------------------------------------------------------
// Moving tables and PTEs (mremap's move_page_tables(), mm/mremap.c). A moved
// table keeps its page (no allocation, no accounting change: same mm) and
// from then on maps the new addresses.

/** get_old_pud(): the PMD table the PUD entry for addr points to, if any. */
export function get_old_pud(mm: MmStruct, addr: number): PmdTable | undefined {
  return mm.pgtables.pgd.get(Math.floor(addr / PGDIR_SIZE))?.entries.get(idx(addr, PUD_SIZE));
}

/** get_old_pmd(): the PTE table the PMD entry for addr points to, if any. */
export function get_old_pmd(mm: MmStruct, addr: number): PteTable | undefined {
  return get_old_pud(mm, addr)?.entries.get(idx(addr, PMD_SIZE));
}

/** alloc_new_pud(): the PUD table covering addr, allocated if missing (p4d_alloc() is folded). */
export function alloc_new_pud(mm: MmStruct, addr: number): void {
  pud_alloc(mm, addr);
}

/** alloc_new_pmd(): alloc_new_pud() + pmd_alloc(): the PMD table covering addr. */
export function alloc_new_pmd(mm: MmStruct, addr: number): void {
  pmd_alloc(mm, addr);
}

/**
 * move_normal_pud(): move the whole PMD table of the PUD entry at old_addr to
 * the PUD entry at new_addr (both PUD_SIZE aligned). Refused (false) when the
 * destination entry is in use (the kernel's WARN_ON_ONCE case).
 */
export function move_normal_pud(mm: MmStruct, old_addr: number, new_addr: number): boolean {
  const dst = mm.pgtables.pgd.get(Math.floor(new_addr / PGDIR_SIZE))!;
  if (dst.entries.has(idx(new_addr, PUD_SIZE))) return false;
  const src = mm.pgtables.pgd.get(Math.floor(old_addr / PGDIR_SIZE))!;
  const table = src.entries.get(idx(old_addr, PUD_SIZE))!;
  src.entries.delete(idx(old_addr, PUD_SIZE));
  dst.entries.set(idx(new_addr, PUD_SIZE), table);
  table.addr = down(new_addr, PUD_SIZE);
  for (const [mi, pte] of table.entries) pte.addr = table.addr + mi * PMD_SIZE;
  return true;
}

/**
 * move_normal_pmd(): move the whole PTE table of the PMD entry at old_addr to
 * the PMD entry at new_addr (both PMD_SIZE aligned). Refused (false) when the
 * destination entry is in use.
 */
export function move_normal_pmd(mm: MmStruct, old_addr: number, new_addr: number): boolean {
  const dst = get_old_pud(mm, new_addr)!;
  if (dst.entries.has(idx(new_addr, PMD_SIZE))) return false;
  const src = get_old_pud(mm, old_addr)!;
  const table = src.entries.get(idx(old_addr, PMD_SIZE))!;
  src.entries.delete(idx(old_addr, PMD_SIZE));
  dst.entries.set(idx(new_addr, PMD_SIZE), table);
  table.addr = down(new_addr, PMD_SIZE);
  return true;
}

/**
 * move_ptes(): move every present PTE of [old_addr, old_addr + len) (one PTE
 * table) to the same offset from new_addr (one PTE table, which must exist):
 * pages are not touched (move_pte() is the identity on x86).
 */
export function move_ptes(mm: MmStruct, old_addr: number, new_addr: number, len: number): void {
  const src = pte_table(mm, old_addr);
  const dst = pte_table(mm, new_addr);
  if (!src || !dst) throw new Error("move_ptes: missing PTE table (BUG)");
  for (let off = 0; off < len; off += PAGE_SIZE) {
    const pte = src.ptes.get(idx(old_addr + off, PAGE_SIZE));
    if (!pte) continue;
    src.ptes.delete(idx(old_addr + off, PAGE_SIZE));
    dst.ptes.set(idx(new_addr + off, PAGE_SIZE), pte);
  }
}
