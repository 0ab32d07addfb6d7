// Pages in address spaces (mm/memory.c, mm/rmap.c, arch/x86/mm/fault.c,
// v5.17): user accesses and the fault paths (do_anonymous_page, do_read_fault
// with fault-around, do_cow_fault, do_shared_fault, do_wp_page,
// wp_page_copy), stack expansion, the rmap bookkeeping of pages, zapping,
// copy_page_range for fork, change_protection for mprotect, and usage counts.

import { PAGE_MASK, PAGE_SHIFT, VM_EXEC, VM_GROWSDOWN, VM_LOCKED, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE } from "../abi/constants";
import { add_new_page, find_page, pagecache_reserve } from "../fs/pagecache";
import { anon_vma_interval_tree_post_update_vma, anon_vma_interval_tree_pre_update_vma, anon_vma_prepare } from "../rmap/anon_vma";
import { kver } from "./policy";
import { engine_oom_set } from "./reserve";
import { may_expand_vm, vm_stat_account } from "./mm";
import { RLIMIT_STACK, mlock_future_ok, rlimit } from "./rlimit";
import { security_vm_enough_memory_mm } from "./commit";
import { Page, PG_ANON, alloc_page, get_page, page_reserve, put_page } from "./page";
import {
  PMD_MASK, PTE_DIRTY, PTE_GUARD, PTE_PRESENT, PTE_SPECIAL, PTE_WRITE, PteIter, entry_ptr, mk_pte, pgtable_reserve,
  pte_page, pte_slot, pte_slot_alloc, table_alloc_walk, table_index, table_lookup,
} from "./pgtable";
import { mmap_min_addr, stack_guard_gap, zero_page } from "./sysctl";
import { Mm, Vma, VM_OPS_SPECIAL, vma_is_anonymous, vma_pages } from "./types";
import { find_vma, vma_bounds_changed, vma_first, vma_next, vma_prev } from "./vma_tree";

export const SIGBUS: i32 = 7;
export const SIGSEGV: i32 = 11;
/** a fault that failed because the engine is out of memory (VM_FAULT_OOM) */
export const FAULT_OOM: i32 = -1;
/** an access that vmasim does not model (the pages of [vdso] and [vvar]) */
export const FAULT_NOT_MODELLED: i32 = -2;

/** Set when a populate touched a special mapping, whose pages are not modelled (read by the host). */
export let engine_not_modelled: bool = false;

export function take_engine_not_modelled(): bool {
  const r = engine_not_modelled;
  engine_not_modelled = false;
  return r;
}

/** fault_around_bytes (mm/memory.c): 64 KiB */
const FAULT_AROUND_PAGES: u64 = 16;

/** linear_page_index() */
// @ts-ignore: decorator
@inline export function linear_page_index(vma: Vma, addr: u64): u64 {
  return ((addr - vma.vm_start) >> PAGE_SHIFT) + vma.vm_pgoff;
}

// ---- rmap of pages ------------------------------------------------------------------

/** page_add_new_anon_rmap(): a new exclusive anonymous page of vma. */
export function page_add_new_anon_rmap(page: Page, vma: Vma, addr: u64): void {
  page.mapcount = 1;
  page.flags |= PG_ANON;
  page.mapping = vma.anon_vma;
  page.index = linear_page_index(vma, addr);
}

/** page_add_file_rmap() / page_dup_rmap(): one more PTE maps the page. */
// @ts-ignore: decorator
@inline export function page_dup_rmap(page: Page): void {
  page.mapcount++;
}

/** page_remove_rmap(): page->mapping is deliberately left. */
// @ts-ignore: decorator
@inline export function page_remove_rmap(page: Page): void {
  page.mapcount--;
}

// @ts-ignore: decorator
@inline function is_anon(page: Page): bool {
  return (page.flags & PG_ANON) != 0;
}

function rss_add(mm: Mm, page: Page, delta: i64): void {
  if (is_anon(page)) mm.rss_anon = <u64>(<i64>mm.rss_anon + delta);
  else mm.rss_file = <u64>(<i64>mm.rss_file + delta);
}

// ---- faults ----------------------------------------------------------------------------

/** The page a user access finally touched (for the byte of content), or NULL for the zero page. */
let accessed_page: Page | null = null;

/** Reserve everything one fault may allocate. */
function fault_reserve(): bool {
  if (pgtable_reserve(3) && page_reserve(2) && pagecache_reserve()) return true;
  engine_oom_set();
  return false;
}

/** Install a PTE in vma at addr, in an existing or new PTE table (tables reserved by fault_reserve). */
function set_pte(vma: Vma, addr: u64, pte: u64): void {
  vma.may_have_ptes = true;
  store<u64>(pte_slot_alloc(vma.vm_mm!, addr), pte);
}

/**
 * do_anonymous_page(): a fault on an empty PTE of private anonymous memory.
 * A read maps the zero page unless the zero page is off (KernelConfig.zero_page,
 * the kernel's mm_forbids_zeropage()); then it takes a new page like a write.
 */
function do_anonymous_page(vma: Vma, addr: u64, write: bool): i32 {
  const mm = vma.vm_mm!;
  if (vma.vm_flags & VM_SHARED) return SIGBUS; // a shared mapping without vm_ops
  if (!write && zero_page) {
    // the zero page for reads: a special PTE, no page, no anon_vma
    set_pte(vma, addr, PTE_PRESENT | PTE_SPECIAL);
    accessed_page = null;
    return 0;
  }
  if (!anon_vma_prepare(vma)) {
    engine_oom_set();
    return FAULT_OOM;
  }
  const page = alloc_page();
  // writable and dirty iff VM_WRITE (6.12 do_anonymous_page): a read fault in
  // a read-only VMA maps its new page read-only and clean
  const bits: u64 = (vma.vm_flags & VM_WRITE) ? PTE_WRITE | PTE_DIRTY : 0;
  set_pte(vma, addr, mk_pte(changetype<usize>(page), bits));
  page_add_new_anon_rmap(page, vma, addr);
  mm.rss_anon++;
  accessed_page = page;
  return 0;
}

/** The page-cache page at the VMA's file offset for addr, created if needed; NULL beyond EOF (SIGBUS). */
function filemap_page(vma: Vma, addr: u64): Page | null {
  const file = vma.vm_file!;
  const index = linear_page_index(vma, addr);
  if (index >= file.size_pages) return null;
  let page = find_page(file, index);
  if (!page) page = add_new_page(file, index);
  return page;
}

/**
 * do_set_pte() for a page-cache page: writable only for a write in a shared
 * mapping, or in a shared writable mapping at all (tmpfs: no writenotify).
 */
function map_file_page(vma: Vma, addr: u64, page: Page, write: bool): void {
  const mm = vma.vm_mm!;
  get_page(page);
  let bits: u64 = write ? PTE_DIRTY : 0;
  if ((vma.vm_flags & (VM_SHARED | VM_WRITE)) == (VM_SHARED | VM_WRITE)) bits |= PTE_WRITE;
  set_pte(vma, addr, mk_pte(changetype<usize>(page), bits));
  page_dup_rmap(page);
  mm.rss_file++;
}

/**
 * do_fault_around(): map the pages already in the page cache around addr
 * (a 16-page aligned window, clipped to the VMA and to the PTE table).
 */
function do_fault_around(vma: Vma, addr: u64): void {
  const mm = vma.vm_mm!;
  const file = vma.vm_file!;
  const mask: u64 = ~(FAULT_AROUND_PAGES * 4096 - 1) & PAGE_MASK;
  let address = addr & mask;
  if (address < vma.vm_start) address = vma.vm_start;
  const off = ((addr - address) >> PAGE_SHIFT) & 511;
  const start_pgoff = linear_page_index(vma, addr) - off;
  let end_pgoff = start_pgoff - ((address >> PAGE_SHIFT) & 511) + 511;
  const vma_last = vma_pages(vma) + vma.vm_pgoff - 1;
  if (vma_last < end_pgoff) end_pgoff = vma_last;
  if (start_pgoff + FAULT_AROUND_PAGES - 1 < end_pgoff) end_pgoff = start_pgoff + FAULT_AROUND_PAGES - 1;
  // the preallocated PTE table is installed only when a page of the window is mapped
  for (let pgoff = start_pgoff; pgoff <= end_pgoff; pgoff++) {
    if (pgoff >= file.size_pages) break;
    const page = find_page(file, pgoff);
    if (!page) continue;
    const a = vma.vm_start + ((pgoff - vma.vm_pgoff) << PAGE_SHIFT);
    const slot = pte_slot(mm, a);
    if (load<u64>(slot) != 0) continue;
    map_file_page(vma, a, page, false);
  }
}

/** do_read_fault() */
function do_read_fault(vma: Vma, addr: u64): i32 {
  const mm = vma.vm_mm!;
  do_fault_around(vma, addr);
  const slot = pte_slot(mm, addr);
  if (slot == 0 || load<u64>(slot) == 0) {
    const page = filemap_page(vma, addr);
    if (!page) return SIGBUS;
    map_file_page(vma, addr, page, false);
  }
  accessed_page = changetype<Page>(pte_page(load<u64>(pte_slot(mm, addr))));
  return 0;
}

/** do_cow_fault(): a write to a private file mapping: an anonymous copy of the file page. */
function do_cow_fault(vma: Vma, addr: u64): i32 {
  const mm = vma.vm_mm!;
  if (!anon_vma_prepare(vma)) {
    engine_oom_set();
    return FAULT_OOM;
  }
  // the copy is allocated before the page-cache page is looked up
  const cow = alloc_page();
  const page = filemap_page(vma, addr);
  if (!page) {
    put_page(cow);
    return SIGBUS;
  }
  cow.content = page.content;
  let bits = PTE_DIRTY;
  if (vma.vm_flags & VM_WRITE) bits |= PTE_WRITE;
  set_pte(vma, addr, mk_pte(changetype<usize>(cow), bits));
  page_add_new_anon_rmap(cow, vma, addr);
  mm.rss_anon++;
  accessed_page = cow;
  return 0;
}

/** do_shared_fault(): a write to a shared file mapping maps the page-cache page writable. */
function do_shared_fault(vma: Vma, addr: u64): i32 {
  const page = filemap_page(vma, addr);
  if (!page) return SIGBUS;
  map_file_page(vma, addr, page, true);
  accessed_page = page;
  return 0;
}

/** wp_page_copy(): replace the PTE's page (or the zero page) by a private anonymous copy. */
function wp_page_copy(vma: Vma, addr: u64, slot: usize, old: Page | null): i32 {
  const mm = vma.vm_mm!;
  if (!anon_vma_prepare(vma)) {
    engine_oom_set();
    return FAULT_OOM;
  }
  const page = alloc_page();
  if (old) page.content = old.content;
  let bits = PTE_DIRTY;
  if (vma.vm_flags & VM_WRITE) bits |= PTE_WRITE;
  store<u64>(slot, mk_pte(changetype<usize>(page), bits));
  page_add_new_anon_rmap(page, vma, addr);
  if (old) {
    if (!is_anon(old)) {
      mm.rss_file--;
      mm.rss_anon++;
    }
    page_remove_rmap(old);
    put_page(old);
  } else {
    mm.rss_anon++;
  }
  accessed_page = page;
  return 0;
}

/** do_wp_page(): a write to a present, write-protected PTE. */
function do_wp_page(vma: Vma, addr: u64, slot: usize): i32 {
  const pte = load<u64>(slot);
  if (pte & PTE_SPECIAL) return wp_page_copy(vma, addr, slot, null); // the zero page
  const page = changetype<Page>(pte_page(pte));
  if (is_anon(page)) {
    // the only reference is ours: reuse it. 5.17 leaves page->mapping; 6.1 and
    // 6.12 move it to this VMA's anon_vma (page_move_anon_rmap() /
    // folio_move_anon_rmap(), a no-op for a page already exclusive to the VMA)
    if (page.refcount == 1) {
      if (kver >= 601) page.mapping = changetype<usize>(vma.anon_vma);
      store<u64>(slot, pte | PTE_WRITE | PTE_DIRTY);
      accessed_page = page;
      return 0;
    }
    return wp_page_copy(vma, addr, slot, page);
  }
  if ((vma.vm_flags & (VM_WRITE | VM_SHARED)) == (VM_WRITE | VM_SHARED)) {
    store<u64>(slot, pte | PTE_WRITE | PTE_DIRTY); // wp_page_shared
    accessed_page = page;
    return 0;
  }
  return wp_page_copy(vma, addr, slot, page);
}

/**
 * __handle_mm_fault() after the VMA checks: the PUD and PMD tables are
 * allocated first (even if the fault then fails), then handle_pte_fault().
 */
function handle_mm_fault(vma: Vma, addr: u64, write: bool): i32 {
  const mm = vma.vm_mm!;
  // special mappings fault in kernel pages (vdso) or PFNs (vvar): not modelled
  if (vma.vm_ops == VM_OPS_SPECIAL) return FAULT_NOT_MODELLED;
  table_alloc_walk(mm, addr, 2);
  const slot = pte_slot(mm, addr);
  const pte: u64 = slot ? load<u64>(slot) : 0;
  if (!(pte & PTE_PRESENT)) {
    // handle_pte_marker(): a guard region faults with SIGSEGV
    if (pte & PTE_GUARD) return SIGSEGV;
    if (vma_is_anonymous(vma)) return do_anonymous_page(vma, addr, write);
    if (!write) return do_read_fault(vma, addr);
    if (!(vma.vm_flags & VM_SHARED)) return do_cow_fault(vma, addr);
    return do_shared_fault(vma, addr);
  }
  if (write && !(pte & PTE_WRITE)) return do_wp_page(vma, addr, slot);
  accessed_page = (pte & PTE_SPECIAL) ? null : changetype<Page>(pte_page(pte));
  return 0;
}

/**
 * expand_stack() -> expand_downwards(): grow a VM_GROWSDOWN VMA down to
 * address. False when the guard gap, mmap_min_addr or a limit forbids it.
 */
function expand_downwards(vma: Vma, address: u64): bool {
  const mm = vma.vm_mm!;
  address &= PAGE_MASK;
  if (address < mmap_min_addr) return false;
  const prev = vma_prev(vma);
  // the guard gap to a previous mapping that is not a stack and is accessible
  if (prev && !(prev.vm_flags & VM_GROWSDOWN) && (prev.vm_flags & (VM_READ | VM_WRITE | VM_EXEC))) {
    if (address - prev.vm_end < stack_guard_gap) return false;
  }
  if (!anon_vma_prepare(vma)) {
    engine_oom_set();
    return false;
  }
  if (address >= vma.vm_start) return true;
  const size = vma.vm_end - address;
  const grow = (vma.vm_start - address) >> PAGE_SHIFT;
  // acct_stack_growth(): RLIMIT_AS on the growth, RLIMIT_STACK on the size,
  // RLIMIT_MEMLOCK on a locked stack's growth (no CAP_IPC_LOCK)
  if (!may_expand_vm(mm, vma.vm_flags, grow)) return false;
  if (size > rlimit(RLIMIT_STACK)) return false;
  if (!mlock_future_ok(mm, vma.vm_flags, grow << PAGE_SHIFT)) return false;
  // the commit charge comes last: it is what a later refusal would have to undo
  if (security_vm_enough_memory_mm(mm, grow)) return false;
  if (vma.vm_flags & VM_LOCKED) mm.locked_vm += grow;
  vm_stat_account(mm, vma.vm_flags, <i64>grow);
  anon_vma_interval_tree_pre_update_vma(vma);
  vma.vm_start = address;
  vma.vm_pgoff -= grow;
  anon_vma_interval_tree_post_update_vma(vma);
  vma_bounds_changed(mm, vma);
  return true;
}

/**
 * A one-byte user access at addr (do_user_addr_fault + access_error + the
 * fault): 0, SIGSEGV or SIGBUS; FAULT_OOM when the engine ran out of memory.
 * After success the accessed page is in `accessed_page` (NULL: the zero page).
 */
function user_access(mm: Mm, addr: u64, write: bool): i32 {
  let vma = find_vma(mm, addr);
  if (!vma) return SIGSEGV;
  if (vma.vm_start > addr) {
    if (!(vma.vm_flags & VM_GROWSDOWN)) return SIGSEGV;
    if (!fault_reserve()) return FAULT_OOM;
    if (!expand_downwards(vma, addr)) return SIGSEGV;
  }
  // access_error(): writes need VM_WRITE; any access needs some access bit
  if (write) {
    if (!(vma.vm_flags & VM_WRITE)) return SIGSEGV;
  } else if (!(vma.vm_flags & (VM_READ | VM_WRITE | VM_EXEC))) {
    return SIGSEGV;
  }
  if (!fault_reserve()) return FAULT_OOM;
  return handle_mm_fault(vma, addr & PAGE_MASK, write);
}

/** The scenario's `touch`: a write does *p = *p + 1. 0, SIGSEGV, SIGBUS or FAULT_OOM. */
export function touch(mm: Mm, addr: u64, write: bool): i32 {
  const r = user_access(mm, addr, write);
  if (r == 0 && write) {
    const p = accessed_page!;
    p.content = (p.content + 1) & 0xff;
  }
  return r;
}

/** The scenario's `peek`: the byte (0..255), or -SIGSEGV / -SIGBUS / FAULT_OOM. */
export function peek(mm: Mm, addr: u64): i32 {
  const r = user_access(mm, addr, false);
  if (r == FAULT_OOM || r == FAULT_NOT_MODELLED) return r;
  if (r != 0) return -r;
  const p = accessed_page;
  return p ? <i32>p.content : 0;
}

// ---- zap, copy, protection ---------------------------------------------------------------

const it = changetype<PteIter>(memory.data(offsetof<PteIter>(), 8));
const it2 = changetype<PteIter>(memory.data(offsetof<PteIter>(), 8));

/**
 * zap_pte_range() over [start, end) of vma: clear every PTE, drop the pages'
 * maps. Guard markers stay unless drop_markers (unmap_vmas' ZAP_FLAG_DROP_MARKER).
 */
export function zap_page_range(vma: Vma, start: u64, end: u64, drop_markers: bool = false): void {
  const mm = vma.vm_mm!;
  if (start < vma.vm_start) start = vma.vm_start;
  if (end > vma.vm_end) end = vma.vm_end;
  it.init(mm, start, end);
  while (it.next()) {
    const pte = load<u64>(it.slot);
    if (!(pte & PTE_PRESENT)) {
      if (drop_markers && pte) store<u64>(it.slot, 0);
      continue;
    }
    store<u64>(it.slot, 0);
    if (pte & PTE_SPECIAL) continue;
    const page = changetype<Page>(pte_page(pte));
    rss_add(mm, page, -1);
    page_remove_rmap(page);
    put_page(page);
  }
}

/** Is any PTE or PTE marker set in vma's part of [start, end)? (The checks of may_have_ptes.) */
export function range_has_ptes(vma: Vma, start: u64, end: u64): bool {
  if (start < vma.vm_start) start = vma.vm_start;
  if (end > vma.vm_end) end = vma.vm_end;
  it.init(vma.vm_mm!, start, end);
  while (it.next()) if (load<u64>(it.slot)) return true;
  return false;
}

/** 17 when a VMA of mm without may_have_ptes has a PTE or marker in its range, else 0 (mm_check). */
export function may_have_ptes_check(mm: Mm): i32 {
  let v = vma_first(mm);
  while (v) {
    if (!v.may_have_ptes && range_has_ptes(v, v.vm_start, v.vm_end)) return 17;
    v = vma_next(v);
  }
  return 0;
}

/** Zap only the page-cache pages of [start, end) (unmap_mapping_range without even_cows). */
export function zap_file_pages(vma: Vma, start: u64, end: u64): void {
  const mm = vma.vm_mm!;
  it.init(mm, start, end);
  while (it.next()) {
    const pte = load<u64>(it.slot);
    if (!(pte & PTE_PRESENT) || (pte & PTE_SPECIAL)) continue;
    const page = changetype<Page>(pte_page(pte));
    if (is_anon(page)) continue;
    store<u64>(it.slot, 0);
    rss_add(mm, page, -1);
    page_remove_rmap(page);
    put_page(page);
  }
}

/**
 * copy_page_range(): fork copies the PTEs of a VMA that has an anon_vma
 * (or is PFNMAP/MIXEDMAP/HUGETLB). The child gets a table wherever the
 * parent has one in the range; COW pages become read-only in both.
 * False when the engine ran out of memory.
 */
export function copy_page_range(dst: Vma, src: Vma): bool {
  const dmm = dst.vm_mm!;
  const smm = src.vm_mm!;
  const cow = (src.vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
  if (src.may_have_ptes) dst.may_have_ptes = true;
  let addr = src.vm_start;
  const end = src.vm_end;
  while (addr < end) {
    // one PMD span (one PTE table) at a time
    let next = (addr + (<u64>1 << 21)) & PMD_MASK;
    if (next > end || next == 0) next = end;
    const spt = table_lookup(smm, addr, 1);
    if (spt) {
      if (!pgtable_reserve(3)) {
        engine_oom_set();
        return false;
      }
      const dpt = table_alloc_walk(dmm, addr, 1);
      for (let a = addr; a < next; a += 4096) {
        const sslot = entry_ptr(spt, table_index(1, a));
        let pte = load<u64>(sslot);
        if (!(pte & PTE_PRESENT)) {
          // copy_nonpresent_pte(): a guard marker is copied as is
          if (pte & PTE_GUARD) store<u64>(entry_ptr(dpt, table_index(1, a)), pte);
          continue;
        }
        if (!(pte & PTE_SPECIAL)) {
          const page = changetype<Page>(pte_page(pte));
          get_page(page);
          page_dup_rmap(page);
          rss_add(dmm, page, 1);
        }
        if (cow && (pte & PTE_WRITE)) {
          pte &= ~PTE_WRITE;
          store<u64>(sslot, pte);
        }
        store<u64>(entry_ptr(dpt, table_index(1, a)), pte);
      }
    } else {
      // mirror upper tables the parent has without a PTE table here
      if (!mirror_upper_tables(dmm, smm, addr)) return false;
    }
    addr = next;
  }
  return true;
}

/** copy_pud_range/copy_pmd_range allocate the child's PUD/PMD tables where the parent has them. */
function mirror_upper_tables(dmm: Mm, smm: Mm, addr: u64): bool {
  const pud = table_lookup(smm, addr, 3);
  if (!pud) return true;
  if (!pgtable_reserve(2)) {
    engine_oom_set();
    return false;
  }
  table_alloc_walk(dmm, addr, 3);
  const pmd = table_lookup(smm, addr, 2);
  if (pmd) table_alloc_walk(dmm, addr, 2);
  return true;
}

/**
 * change_protection() for mprotect: the present PTEs of [start, end) in vma
 * take the new write permission. A private mapping's PTEs are read-only
 * (copy-on-write) whatever the flags; a shared one is writable iff VM_WRITE.
 */
export function change_protection(vma: Vma, start: u64, end: u64, newflags: u64): void {
  const mm = vma.vm_mm!;
  const writable = (newflags & (VM_SHARED | VM_WRITE)) == (VM_SHARED | VM_WRITE);
  it2.init(mm, start, end);
  while (it2.next()) {
    const pte = load<u64>(it2.slot);
    if (!(pte & PTE_PRESENT)) continue;
    store<u64>(it2.slot, writable && !(pte & PTE_SPECIAL) ? pte | PTE_WRITE : pte & ~PTE_WRITE);
  }
}

/** Resident, anonymous and smaps-Locked pages of vma (see VmaUsage). */
export function vma_usage(vma: Vma, out: usize): void {
  const mm = vma.vm_mm!;
  let rss: u64 = 0;
  let anon: u64 = 0;
  let pss_locked: u64 = 0;
  it2.init(mm, vma.vm_start, vma.vm_end);
  while (it2.next()) {
    const pte = load<u64>(it2.slot);
    if (!(pte & PTE_PRESENT) || (pte & PTE_SPECIAL)) continue;
    const page = changetype<Page>(pte_page(pte));
    rss++;
    if (is_anon(page)) anon++;
    if (vma.vm_flags & VM_LOCKED) {
      let pss: u64 = <u64>4096 << 12;
      if (page.refcount != 1 && page.mapcount >= 2) pss /= <u64>page.mapcount;
      pss_locked += pss;
    }
  }
  store<f64>(out, <f64>rss, 0);
  store<f64>(out, <f64>anon, 8);
  store<f64>(out, <f64>(((pss_locked >> 12) >> 10) / 4), 16);
}

/**
 * __get_user_pages() for populating [start, end) of vma (one VMA): each page
 * not yet mapped with the access is faulted in. `mlock_populate`: the
 * populate_vma_page_range flags (write faults for private writable mappings,
 * FOLL_FORCE when accessible); otherwise MADV_POPULATE_(READ|WRITE), whose
 * incompatible mappings give -EINVAL. Returns the pages done (if any), else
 * -EFAULT / -EINVAL, or FAULT_OOM.
 */
export function faultin_range(vma: Vma, start: u64, end: u64, write: bool, mlock_populate: bool, no_fault: bool = false): i64 {
  const mm = vma.vm_mm!;
  const flags = vma.vm_flags;
  let force = false;
  if (mlock_populate) {
    write = (flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
    force = (flags & (VM_READ | VM_WRITE | VM_EXEC)) != 0;
  }
  // check_vma_flags()
  let bad = false;
  if (flags & ((<u64>0x4000) | (<u64>0x400))) bad = true; // VM_IO | VM_PFNMAP
  else if (write) {
    if (!(flags & VM_WRITE)) bad = !force || (flags & (VM_SHARED | VM_MAYWRITE)) != VM_MAYWRITE;
  } else if (!(flags & VM_READ)) {
    bad = !force || !(flags & (<u64>0x10)); // VM_MAYREAD
  }
  if (bad) return mlock_populate ? -14 : -22;
  if (no_fault) return <i64>((end - start) >> 12);
  let done: i64 = 0;
  for (let addr = start; addr < end; addr += 4096) {
    const slot = pte_slot(mm, addr);
    const pte: u64 = slot ? load<u64>(slot) : 0;
    if ((pte & PTE_PRESENT) && (!write || (pte & PTE_WRITE))) {
      done++;
      continue;
    }
    if (!fault_reserve()) return FAULT_OOM;
    const r = handle_mm_fault(vma, addr, write);
    if (r == FAULT_OOM) return FAULT_OOM;
    if (r == FAULT_NOT_MODELLED) {
      engine_not_modelled = true;
      return -14;
    }
    if (r != 0) return done > 0 ? done : -14; // VM_FAULT_SIGBUS / SIGSEGV: -EFAULT
    done++;
  }
  return done;
}

// ---- guard regions (6.13) -----------------------------------------------------------------

/**
 * madvise_guard_install()'s page walk over [start, end) of vma: zap what is
 * there, then put a guard marker in every PTE. False when out of memory.
 */
export function guard_install_range(vma: Vma, start: u64, end: u64): bool {
  const mm = vma.vm_mm!;
  zap_page_range(vma, start, end);
  for (let addr = start; addr < end; addr += 4096) {
    if (!pgtable_reserve(3)) {
      engine_oom_set();
      return false;
    }
    set_pte(vma, addr, PTE_GUARD);
  }
  return true;
}

/** madvise_guard_remove()'s page walk: clear the guard markers of [start, end) (nothing else). */
export function guard_remove_range(vma: Vma, start: u64, end: u64): void {
  const mm = vma.vm_mm!;
  it.init(mm, start, end);
  while (it.next()) {
    if (load<u64>(it.slot) == PTE_GUARD) store<u64>(it.slot, 0);
  }
}
