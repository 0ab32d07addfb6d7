// Page tables: the x86_64 4-level radix tree (PGD -> PUD -> PMD -> PTE, 9
// bits per level, 4 KiB pages), allocated on demand when a PTE is installed
// and freed only by free_pgtables() (mm/memory.c, v5.17: free_pgd_range and
// the per-level helpers with their floor/ceiling rules). The P4D level is
// folded, as on 4-level paging.
//
// A table is a record of 512 u64 entries. Above the PTE level an entry is the
// child table's pointer (0 = none). A PTE is
//
//   63          32 31            4   3   2   1   0
//  +--------------+---------------+---+---+---+---+
//  | struct page* |       0       | D | S | W | P |
//  +--------------+---------------+---+---+---+---+
//   P present, W writable, S special (the zero page: no struct page), D dirty
//
// A non-present PTE is 0, or PTE_GUARD alone: a guard marker (6.13+).

import { Pool, pool_alloc_clean, pool_create, pool_free, pool_reserve } from "../lib/pool";
import { Mm } from "./types";

export const PTE_PRESENT: u64 = 1;
export const PTE_WRITE: u64 = 2;
export const PTE_SPECIAL: u64 = 4;
export const PTE_DIRTY: u64 = 8;
/** 6.13 guard region marker (a PTE marker): not present, faults with SIGSEGV. */
export const PTE_GUARD: u64 = 16;

export const PMD_SHIFT: u64 = 21;
export const PUD_SHIFT: u64 = 30;
export const PGDIR_SHIFT: u64 = 39;
export const PMD_SIZE: u64 = 1 << PMD_SHIFT;
export const PUD_SIZE: u64 = 1 << PUD_SHIFT;
export const PGDIR_SIZE: u64 = 1 << PGDIR_SHIFT;
export const PMD_MASK: u64 = ~(PMD_SIZE - 1);
export const PUD_MASK: u64 = ~(PUD_SIZE - 1);
export const PGDIR_MASK: u64 = ~(PGDIR_SIZE - 1);

/** level of a table: 4 PGD, 3 PUD, 2 PMD, 1 PTE */
@unmanaged export class PgTable {
  _pool: u32 = 0;
  level: u32 = 0;
  /** the first address the table covers */
  addr: u64 = 0;
  // followed by 512 u64 entries at ENTRIES
}

// @ts-ignore: decorator
@inline const ENTRIES: usize = 16;
const pool: Pool = pool_create(<u32>(ENTRIES + 512 * 8), 64);

export function pgtable_reserve(n: u32): bool { return pool_reserve(pool, n); }
export function pgtables_live(): u32 { return pool.live; }

// @ts-ignore: decorator
@inline export function entry_ptr(t: PgTable, i: u32): usize {
  return changetype<usize>(t) + ENTRIES + (<usize>i << 3);
}

// @ts-ignore: decorator
@inline function shift_of(level: u32): u64 {
  return 12 + 9 * <u64>(level - 1);
}

// @ts-ignore: decorator
@inline export function table_index(level: u32, addr: u64): u32 {
  return <u32>((addr >> shift_of(level)) & 511);
}

function table_alloc(level: u32, addr: u64): PgTable {
  // a freed table has no entries left (table_free), so only the header is cleared
  const t = changetype<PgTable>(pool_alloc_clean(pool, ENTRIES));
  t.level = level;
  // a table of level L covers 512 entries of 2^shift(L) bytes
  t.addr = addr & ~((<u64>1 << (shift_of(level) + 9)) - 1);
  return t;
}

/** True when every entry of t is 0 (what a table holds when it is freed). */
function table_empty(t: usize): bool {
  for (let i: usize = 0; i < 512; i++) if (load<u64>(t + ENTRIES + (i << 3)) != 0) return false;
  return true;
}

/**
 * Give a table back. The kernel frees a page table only once nothing under
 * it is mapped (free_pgtables' floor/ceiling rules, exit_mmap): its entries
 * are all clear, which table_alloc relies on (checked in the debug build).
 */
function table_free(t: usize): void {
  if (!ASC_NO_ASSERT) assert(table_empty(t), "page table freed with live entries");
  pool_free(pool, t);
}

/** pgd_alloc(): every mm has one. Requires pgtable_reserve(1). */
export function pgd_alloc(mm: Mm): void {
  mm.pgd = changetype<usize>(table_alloc(4, 0));
}

export function pgd_free(mm: Mm): void {
  table_free(mm.pgd);
  mm.pgd = 0;
}

/** The child table an entry points to, or NULL. */
// @ts-ignore: decorator
@inline export function child(t: PgTable, i: u32): PgTable | null {
  return changetype<PgTable | null>(<usize>load<u64>(entry_ptr(t, i)));
}

function count_table(mm: Mm, level: u32, delta: i32): void {
  if (level == 3) mm.nr_puds += delta;
  else if (level == 2) mm.nr_pmds += delta;
  else mm.nr_ptes += delta;
}

/**
 * The table of `level` covering addr, allocating the missing tables on the
 * way (pud_alloc / pmd_alloc / pte_alloc). Requires up to 3 reserved tables.
 */
export function table_alloc_walk(mm: Mm, addr: u64, level: u32): PgTable {
  let t = changetype<PgTable>(mm.pgd);
  for (let l: u32 = 4; l > level; l--) {
    const i = table_index(l, addr);
    let c = child(t, i);
    if (!c) {
      c = table_alloc(l - 1, addr);
      store<u64>(entry_ptr(t, i), <u64>changetype<usize>(c));
      count_table(mm, l - 1, 1);
    }
    t = c;
  }
  return t;
}

/** The table of `level` covering addr, or NULL if a table on the way is missing. */
export function table_lookup(mm: Mm, addr: u64, level: u32): PgTable | null {
  let t = changetype<PgTable | null>(mm.pgd);
  for (let l: u32 = 4; l > level && t; l--) t = child(t, table_index(l, addr));
  return t;
}

/** The PTE slot of addr, or 0 when its PTE table does not exist. */
export function pte_slot(mm: Mm, addr: u64): usize {
  const t = table_lookup(mm, addr, 1);
  return t ? entry_ptr(t, table_index(1, addr)) : 0;
}

/** The PTE slot of addr, allocating tables (pte_alloc). Requires 3 reserved tables. */
export function pte_slot_alloc(mm: Mm, addr: u64): usize {
  return entry_ptr(table_alloc_walk(mm, addr, 1), table_index(1, addr));
}

/** How many tables pte_slot_alloc(addr) would allocate (0..3). */
export function tables_missing(mm: Mm, addr: u64): u32 {
  let n: u32 = 0;
  let t = changetype<PgTable | null>(mm.pgd);
  for (let l: u32 = 4; l > 1; l--) {
    if (t) t = child(t, table_index(l, addr));
    if (!t) n++;
  }
  return n;
}

// ---- PTE encoding ----------------------------------------------------------------

// @ts-ignore: decorator
@inline export function pte_page(pte: u64): usize {
  return <usize>(pte >> 32);
}

// @ts-ignore: decorator
@inline export function mk_pte(page: usize, bits: u64): u64 {
  return (<u64>page << 32) | bits | PTE_PRESENT;
}

// ---- free_pgtables ------------------------------------------------------------------

// @ts-ignore: decorator
@inline function addr_end(addr: u64, end: u64, size: u64): u64 {
  const boundary = (addr + size) & ~(size - 1);
  return boundary - 1 < end - 1 ? boundary : end;
}

/** free_pte_range(): drop the PTE table an entry of a PMD table points to. */
function free_pte_range(mm: Mm, pmd: PgTable, i: u32): void {
  const t = child(pmd, i);
  store<u64>(entry_ptr(pmd, i), 0);
  table_free(changetype<usize>(t));
  mm.nr_ptes--;
}

function free_pmd_range(mm: Mm, pud: PgTable, pi: u32, addr: u64, end: u64, floor: u64, ceiling: u64): void {
  const pmd = changetype<PgTable>(child(pud, pi));
  let start = addr;
  do {
    const next = addr_end(addr, end, PMD_SIZE);
    const i = table_index(2, addr);
    if (child(pmd, i)) free_pte_range(mm, pmd, i);
    addr = next;
  } while (addr != end);

  start &= PUD_MASK;
  if (start < floor) return;
  if (ceiling) {
    ceiling &= PUD_MASK;
    if (!ceiling) return;
  }
  if (end - 1 > ceiling - 1) return;
  store<u64>(entry_ptr(pud, pi), 0);
  table_free(changetype<usize>(pmd));
  mm.nr_pmds--;
}

function free_pud_range(mm: Mm, pgd: PgTable, gi: u32, addr: u64, end: u64, floor: u64, ceiling: u64): void {
  const pud = changetype<PgTable>(child(pgd, gi));
  let start = addr;
  do {
    const next = addr_end(addr, end, PUD_SIZE);
    const i = table_index(3, addr);
    if (child(pud, i)) free_pmd_range(mm, pud, i, addr, next, floor, ceiling);
    addr = next;
  } while (addr != end);

  // the P4D level is folded into the PGD: its span is PGDIR_SIZE
  start &= PGDIR_MASK;
  if (start < floor) return;
  if (ceiling) {
    ceiling &= PGDIR_MASK;
    if (!ceiling) return;
  }
  if (end - 1 > ceiling - 1) return;
  store<u64>(entry_ptr(pgd, gi), 0);
  table_free(changetype<usize>(pud));
  mm.nr_puds--;
}

/**
 * free_pgd_range(): free the page tables of [addr, end) that no address
 * outside [floor, ceiling) can still use (ceiling 0 = the top).
 */
export function free_pgd_range(mm: Mm, addr: u64, end: u64, floor: u64, ceiling: u64): void {
  addr &= PMD_MASK;
  if (addr < floor) {
    addr += PMD_SIZE;
    if (!addr) return;
  }
  if (ceiling) {
    ceiling &= PMD_MASK;
    if (!ceiling) return;
  }
  if (end - 1 > ceiling - 1) end -= PMD_SIZE;
  if (addr > end - 1) return;
  const pgd = changetype<PgTable>(mm.pgd);
  do {
    const next = addr_end(addr, end, PGDIR_SIZE);
    const i = table_index(4, addr);
    if (child(pgd, i)) free_pud_range(mm, pgd, i, addr, next, floor, ceiling);
    addr = next;
  } while (addr != end);
}

// ---- iteration over present PTEs -------------------------------------------------------

/**
 * Walks the PTE slots of [start, end) that exist (skipping missing tables):
 *   it.init(mm, start, end); while (it.next()) { it.slot, it.addr ... }
 */
@unmanaged export class PteIter {
  mm: usize = 0;
  addr: u64 = 0;
  end: u64 = 0;
  slot: usize = 0;
  table: usize = 0;
  started: bool = false;

  init(mm: Mm, start: u64, end: u64): void {
    this.mm = changetype<usize>(mm);
    this.addr = start;
    this.end = end;
    this.table = 0;
    this.slot = 0;
    this.started = false;
  }

  /** Advance to the next existing slot; false at the end. */
  next(): bool {
    if (this.started) this.addr += 4096;
    this.started = true;
    while (this.addr < this.end) {
      const a = this.addr;
      if (this.table == 0 || (a & PMD_MASK) != changetype<PgTable>(this.table).addr) {
        // walk down; skip the whole span of the first missing table
        let t = changetype<PgTable | null>(changetype<Mm>(this.mm).pgd);
        let l: u32 = 4;
        while (l > 1) {
          const c = child(t!, table_index(l, a));
          if (!c) break;
          t = c;
          l--;
        }
        if (l > 1) {
          const span = <u64>1 << shift_of(l);
          this.addr = (a + span) & ~(span - 1);
          if (this.addr == 0) return false;
          this.table = 0;
          continue;
        }
        this.table = changetype<usize>(t);
      }
      this.slot = entry_ptr(changetype<PgTable>(this.table), table_index(1, a));
      return true;
    }
    return false;
  }
}
