// The records of an address space: struct vm_area_struct and struct mm_struct
// (include/linux/mm_types.h, v5.17), reduced to the fields the rules use.
// Records live in pools (lib/pool.ts); links between them are plain pointers,
// which never move.

import { File } from "../fs/file";
import { Pool, pool_alloc, pool_create, pool_free, pool_reserve } from "../lib/pool";
import { VM_SEALED } from "../abi/constants";
import { mt_reserve } from "./mt_node";

/** What vm_ops a VMA has; the rules only ask "anonymous?", "close?" and "may_split?". */
export const VM_OPS_NONE: u8 = 0;    // private anonymous (vma_is_anonymous)
export const VM_OPS_FILE: u8 = 1;    // a regular file's generic ops: no close, no may_split
export const VM_OPS_SHMEM: u8 = 2;   // shmem/memfd (also shared anonymous): no close
export const VM_OPS_SPECIAL: u8 = 3; // _install_special_mapping (vdso, vvar): close, may_split -> EINVAL

/**
 * 72 bytes (the pool rounds to 8), 90-91 per VMA with its share of the index
 * nodes at 10^5 and 10^6 VMAs (bench/run.ts engineBytesPerVmaAt; issue 12
 * asks at most 96; 88 and 106-107 before). Decided by measuring: the
 * kernel's 6.1 step is taken, no vm_prev/vm_next, the neighbours come from
 * the index (vma_tree.ts vma_next/vma_prev: a slot search, a climb at a
 * leaf's edge; slower than one load while the records are in the cache,
 * docs/performance.md); and the small fields share words: vm_ops, special
 * and may_have_ptes one, vm_policy and vm_userfaultfd_ctx (identities no
 * call sets yet, 16 bits each) another.
 */
@unmanaged export class Vma {
  _pool: u32 = 0;
  /** creation sequence number: snapshot identity */
  id: u32 = 0;
  /** [vm_start, vm_end): byte addresses, page aligned */
  vm_start: u64 = 0;
  vm_end: u64 = 0;
  /** in pages: file offset, or the anon "virtual" page index (kernel-facts §1.1) */
  vm_pgoff: u64 = 0;
  vm_flags: u64 = 0;
  /** the index leaf (mm/mt_node.ts) holding this VMA while it is linked; once detached, the next detached VMA (vma_tree.ts detached_next) */
  vm_node: usize = 0;
  vm_mm: Mm | null = null;
  vm_file: File | null = null;
  /** the anon_vma new anonymous pages go to (rmap/anon_vma.ts AnonVma); 0 = none */
  anon_vma: usize = 0;
  /** newest AVC of this VMA's anon_vma_chain (rmap/anon_vma.ts Avc); 0 = empty */
  anon_vma_chain: usize = 0;
  /** interned anon VMA name (PR_SET_VMA_ANON_NAME); 0 = none */
  anon_name: u32 = 0;
  /** VM_OPS_* */
  vm_ops: u8 = 0;
  /** special mapping kind for /proc/pid/maps naming (1 [vvar], 2 [vdso]); 0 = none */
  special: u8 = 0;
  /**
   * False only while no PTE or PTE marker can be in [vm_start, vm_end): set
   * wherever one is installed or moved in, inherited by split, fork and
   * merge, never cleared. Unmapping a VMA without it skips the page walk.
   * (Not a kernel field: the kernel walks the page tables and finds them
   * empty; it lives in a byte the record had spare.)
   */
  may_have_ptes: bool = false;
  /** NUMA mempolicy identity; 0 = default (mpol_equal compares these). No call sets one yet. */
  vm_policy: u16 = 0;
  /** userfaultfd context identity; 0 = none. No call sets one yet. */
  vm_userfaultfd_ctx: u16 = 0;
}

@unmanaged export class Mm {
  _pool: u32 = 0;
  id: u32 = 0;
  /** root node of the VMA index (mm/vma_tree.ts, mm/mt_node.ts); 0 = no VMAs */
  mm_mt: usize = 0;
  /** the VMA find_vma returned last, a linked VMA or NULL (mm->mmap_cache before 3.15) */
  mmap_cache: Vma | null = null;
  map_count: u32 = 0;
  /** vm_end_gap() of the highest VMA */
  highest_vm_end: u64 = 0;
  mmap_base: u64 = 0;
  mmap_legacy_base: u64 = 0;
  task_size: u64 = 0;
  /** counters in pages (vm_stat_account) */
  total_vm: u64 = 0;
  locked_vm: u64 = 0;
  data_vm: u64 = 0;
  exec_vm: u64 = 0;
  stack_vm: u64 = 0;
  def_flags: u64 = 0;
  start_brk: u64 = 0;
  brk: u64 = 0;
  start_stack: u64 = 0;
  /** the top-level page table (mm/pgtable.ts PgTable, level 4) */
  pgd: usize = 0;
  /** page-table pages below the PGD (mm_pgtables_bytes / PAGE_SIZE, by level) */
  nr_ptes: u32 = 0;
  nr_pmds: u32 = 0;
  nr_puds: u32 = 0;
  /** tasks using this mm (mm_users) */
  mm_users: u32 = 0;
  /** RSS counters: MM_ANONPAGES, MM_FILEPAGES + MM_SHMEMPAGES */
  rss_anon: u64 = 0;
  rss_file: u64 = 0;
  /** the list of live mms (for the file rmap and kernel-wide snapshots) */
  mm_prev: Mm | null = null;
  mm_next: Mm | null = null;
}

const vma_pool: Pool = pool_create(offsetof<Vma>(), 4096);
const mm_pool: Pool = pool_create(offsetof<Mm>(), 64);
let vma_seq: u32 = 0;
let mm_seq: u32 = 0;

/** n VMA records, and the index nodes for linking n VMAs (each new VMA is linked at most once). */
export function vma_reserve(n: u32): bool { return pool_reserve(vma_pool, n) && mt_reserve(n); }
export function mm_reserve(n: u32): bool { return pool_reserve(mm_pool, n); }

/** A zeroed VMA (vm_area_alloc). Requires vma_reserve. */
export function vm_area_alloc(mm: Mm): Vma {
  const v = changetype<Vma>(pool_alloc(vma_pool));
  v.id = ++vma_seq;
  v.vm_mm = mm;
  return v;
}

export function vm_area_free(v: Vma): void {
  pool_free(vma_pool, changetype<usize>(v));
}

export function mm_alloc(): Mm {
  const mm = changetype<Mm>(pool_alloc(mm_pool));
  mm.id = ++mm_seq;
  return mm;
}

export function mm_free(mm: Mm): void {
  pool_free(mm_pool, changetype<usize>(mm));
}

export function vmas_live(): u32 { return vma_pool.live; }
export function mms_live(): u32 { return mm_pool.live; }

/** vma_pages() */
// @ts-ignore: decorator
@inline export function vma_pages(v: Vma): u64 {
  return (v.vm_end - v.vm_start) >> 12;
}

/** vma_is_anonymous() */
// @ts-ignore: decorator
@inline export function vma_is_anonymous(v: Vma): bool {
  return v.vm_ops == VM_OPS_NONE;
}

/** can_modify_vma() (mm/vma.h, 6.10 mseal): a sealed VMA refuses changes. Never sealed before 6.10. */
// @ts-ignore: decorator
@inline export function can_modify_vma(v: Vma): bool {
  return !(v.vm_flags & VM_SEALED);
}
