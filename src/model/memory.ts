// Pages behind the VMAs (kernel-facts §6): mm/memory.c (v5.17; read on 5.15, whose
// code is the same for everything below)
//   faults:   handle_mm_fault(), handle_pte_fault(), do_anonymous_page(),
//             do_fault(), do_read_fault(), do_fault_around() (with
//             mm/filemap.c filemap_map_pages()), do_cow_fault(),
//             do_shared_fault(), finish_fault(), do_set_pte(), do_wp_page(),
//             wp_page_reuse(), wp_page_shared(), wp_page_copy();
//   zap:      unmap_vmas(), unmap_single_vma(), zap_pte_range(),
//             unmap_mapping_range() (file truncation, and with even_cows = 0
//             and zap_skip_check_mapping() for a hole punched by MADV_REMOVE),
//             zap_page_range() (MADV_DONTNEED);
//   fork:     copy_page_range() and copy_{p4d,pud,pmd,pte}_range(),
//             copy_present_pte().
//
// Rules the model follows (vmasim's decisions, all as in v5.17):
// * vm_page_prot: a private mapping's is never writable (COW); a shared one is
//   writable iff VM_WRITE (tmpfs: no write notification). A fault that writes
//   makes its PTE writable (maybe_mkwrite(): iff VM_WRITE, always true here
//   since access_error() refused writes to a VMA without VM_WRITE).
// * A read fault in private anonymous memory maps the zero page: a special PTE,
//   no struct page, no anon_vma, no rmap, no RSS.
// * do_read_fault() first maps, with fault-around, every page of a 16-page
//   window that is already in the file's page cache (filemap_map_pages()).
// * Reuse in do_wp_page(): an anonymous page with page_count() == 1 (and so
//   mapcount 1) is made writable in place, page->mapping untouched.
// * RSS: MM_ANONPAGES for anonymous pages, MM_SHMEMPAGES for page-cache pages.

import {
  PAGE_SIZE, VM_HUGETLB, VM_MAYWRITE, VM_MIXEDMAP, VM_PFNMAP, VM_SHARED, VM_WRITE,
} from "../abi/constants.js";
import { anon_vma_prepare } from "./anon_vma.js";
import type { KFile } from "./file.js";
import type { KernelModel } from "./kernel.js";
import { vma_is_anonymous, vma_list, type MmStruct, type Vma } from "./mm.js";
import { alloc_page, get_page, put_page, type Page } from "./page.js";
import {
  PTRS_PER_TABLE, pmd_alloc, pte_alloc, pte_clear, pte_lookup, ptes_in_range, pud_alloc, set_pte_at,
  tables_in_range, type Pte,
} from "./pgtable.js";
import { linear_page_index, page_add_file_rmap, page_add_new_anon_rmap, page_dup_rmap, page_remove_rmap } from "./rmap.js";
import { find_mapped_candidate, shmem_fault } from "./shmem.js";

/** What a fault ends with: handled, or the signal the access raises. */
export type FaultResult = 0 | "SIGBUS";

/** fault_around_bytes (65536) in pages. */
export const FAULT_AROUND_PAGES = 16;

/** An access the model cannot fault in (a special mapping's pages). */
export class NotModelledError extends Error {}

/** vm_normal_page() kind of a present PTE, for the RSS counters (mm_counter()). */
function inc_mm_counter(mm: MmStruct, page: Page, n: number): void {
  if (page.anon) mm.rss_anon += n;
  else mm.rss_file += n;
}

/** is_cow_mapping(): private and may become writable. */
export function is_cow_mapping(flags: number): boolean {
  return (flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
}

/** Is vm_page_prot writable? Only for shared mappings with VM_WRITE (private ones are COW). */
export function vm_page_prot_writable(vma: Vma): boolean {
  return (vma.vm_flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE);
}

// ---------------------------------------------------------------------------
// Faults

/**
 * handle_mm_fault(vma, address, write) after do_user_addr_fault()'s checks
 * (or from __get_user_pages()). __handle_mm_fault() allocates the PUD and PMD
 * tables for the address first — they stay even when the fault then ends in
 * SIGBUS (v5.17; "tables only when a PTE is installed" holds in v5.17 for PTE
 * tables only). The PTE table is left to whoever
 * installs a PTE (handle_pte_fault(): "Leave __pte_alloc() until later").
 */
export function handle_mm_fault(vma: Vma, address: number, write: boolean): FaultResult {
  address -= address % PAGE_SIZE;
  pmd_alloc(vma.vm_mm, address); // pud_alloc() + pmd_alloc()
  return handle_pte_fault(vma, address, write);
}

/** handle_pte_fault(): no PTE -> do_anonymous_page() / do_fault(); present and write-protected -> do_wp_page(). */
function handle_pte_fault(vma: Vma, address: number, write: boolean): FaultResult {
  const pte = pte_lookup(vma.vm_mm, address);
  if (!pte) {
    if (vma_is_anonymous(vma)) return do_anonymous_page(vma, address, write);
    return do_fault(vma, address, write);
  }
  if (write && !pte.write) return do_wp_page(vma, address, pte);
  return 0; // a spurious fault: the PTE already allows the access
}

/** do_anonymous_page(): the zero page for a read, a new zeroed anonymous page for a write. */
function do_anonymous_page(vma: Vma, address: number, write: boolean): FaultResult {
  const mm = vma.vm_mm;
  // (VM_SHARED without vm_ops cannot exist here: shared anonymous memory has shmem's vm_ops.)
  if (!write) {
    set_pte_at(mm, address, { page: null, write: false });
    return 0;
  }
  anon_vma_prepare(vma);
  const page = alloc_page(mm.kernel);
  mm.rss_anon++;
  page_add_new_anon_rmap(page, vma, address);
  set_pte_at(mm, address, { page, write: (vma.vm_flags & VM_WRITE) !== 0 });
  return 0;
}

/** do_fault(): read -> do_read_fault(), private write -> do_cow_fault(), shared write -> do_shared_fault(). */
function do_fault(vma: Vma, address: number, write: boolean): FaultResult {
  if (!vma.vm_ops || !vma.vm_ops.shmem_fault || !vma.vm_file) {
    throw new NotModelledError(
      `fault at 0x${address.toString(16)} in a ${vma.vm_ops?.name ?? "?"} VMA (${vma.special ?? "no file"}): not modelled`,
    );
  }
  if (!write) return do_read_fault(vma, address);
  if (!(vma.vm_flags & VM_SHARED)) return do_cow_fault(vma, address);
  return do_shared_fault(vma, address);
}

/**
 * do_set_pte(): map a page-cache page (or, for a private write, the COW copy
 * as a new anonymous page) at address.
 */
function do_set_pte(vma: Vma, page: Page, address: number, write: boolean): void {
  const mm = vma.vm_mm;
  const writable = write ? (vma.vm_flags & VM_WRITE) !== 0 : vm_page_prot_writable(vma);
  if (write && !(vma.vm_flags & VM_SHARED)) {
    mm.rss_anon++;
    page_add_new_anon_rmap(page, vma, address);
  } else {
    mm.rss_file++;
    page_add_file_rmap(page);
  }
  set_pte_at(mm, address, { page, write: writable });
}

/**
 * do_fault_around() + filemap_map_pages(): map the pages of a window of
 * FAULT_AROUND_PAGES around address that are in the page cache already and
 * whose PTE is none. The window is aligned to its size, clipped to the VMA
 * and to the PTE table. Returns true if it mapped `address` itself.
 */
function do_fault_around(vma: Vma, address: number): boolean {
  const file = vma.vm_file!;
  const nr_pages = FAULT_AROUND_PAGES;
  const pgoff = linear_page_index(vma, address);

  let start = address - (address % (nr_pages * PAGE_SIZE));
  start = Math.max(start, vma.vm_start);
  const off = ((address - start) / PAGE_SIZE) % PTRS_PER_TABLE;
  const start_pgoff = pgoff - off;
  let end_pgoff = start_pgoff - ((start / PAGE_SIZE) % PTRS_PER_TABLE) + PTRS_PER_TABLE - 1;
  end_pgoff = Math.min(end_pgoff, vma.vm_pgoff + (vma.vm_end - vma.vm_start) / PAGE_SIZE - 1, start_pgoff + nr_pages - 1);

  let mappedFaulting = false;
  for (let index = start_pgoff; index <= end_pgoff; index++) {
    const page = find_mapped_candidate(file, index);
    if (!page) continue;
    const addr = vma.vm_start + (index - vma.vm_pgoff) * PAGE_SIZE;
    if (pte_lookup(vma.vm_mm, addr)) continue;
    if (addr === address) mappedFaulting = true;
    get_page(page);
    do_set_pte(vma, page, addr, false);
  }
  return mappedFaulting;
}

/** do_read_fault(): fault-around first; then the page-cache page at the index (created if need be). */
function do_read_fault(vma: Vma, address: number): FaultResult {
  if (vma.vm_ops!.map_pages && FAULT_AROUND_PAGES > 1) {
    if (do_fault_around(vma, address)) return 0; // VM_FAULT_NOPAGE: fault-around mapped it
  }
  const page = shmem_fault(vma.vm_mm.kernel, vma.vm_file!, linear_page_index(vma, address));
  if (page === "SIGBUS") return "SIGBUS";
  finish_fault(vma, page, address, false);
  return 0;
}

/**
 * do_cow_fault(): a write to a page of a private file mapping that has no PTE:
 * anon_vma_prepare(), allocate the copy page (before the page-cache lookup, so
 * it takes its id even when the lookup fails), get the page-cache page
 * (SIGBUS beyond EOF: the copy is freed), copy it, map the copy.
 */
function do_cow_fault(vma: Vma, address: number): FaultResult {
  const kernel = vma.vm_mm.kernel;
  anon_vma_prepare(vma);
  const cow_page = alloc_page(kernel);
  const page = shmem_fault(kernel, vma.vm_file!, linear_page_index(vma, address));
  if (page === "SIGBUS") {
    put_page(cow_page);
    return "SIGBUS";
  }
  cow_page.content = page.content;
  finish_fault(vma, cow_page, address, true);
  put_page(page);
  return 0;
}

/** do_shared_fault(): a write to a page of a shared mapping that has no PTE: map the page-cache page writable. */
function do_shared_fault(vma: Vma, address: number): FaultResult {
  const page = shmem_fault(vma.vm_mm.kernel, vma.vm_file!, linear_page_index(vma, address));
  if (page === "SIGBUS") return "SIGBUS";
  // (shmem has no ->page_mkwrite)
  finish_fault(vma, page, address, true);
  return 0;
}

/** finish_fault(): install the PTE if it is still none (it always is: no concurrency in the model). */
function finish_fault(vma: Vma, page: Page, address: number, write: boolean): void {
  if (pte_lookup(vma.vm_mm, address)) {
    put_page(page); // VM_FAULT_NOPAGE
    return;
  }
  do_set_pte(vma, page, address, write);
}

/**
 * do_wp_page(): a write to a present, write-protected PTE. The zero page and
 * shared anonymous pages are copied (wp_page_copy()); an anonymous page only
 * this PTE holds is reused; a page-cache page is made writable in a shared
 * writable mapping (wp_page_shared()) and copied in a private one.
 */
function do_wp_page(vma: Vma, address: number, pte: Pte): FaultResult {
  const page = pte.page;
  if (!page) {
    // The zero page: vm_normal_page() is NULL. (The shared-writable branch,
    // wp_pfn_shared(), needs a PFN mapping: none in the model.)
    return wp_page_copy(vma, address, pte);
  }
  if (page.anon) {
    // PageKsm() never; page_count() first, then (under the page lock) mapcount and count again.
    if (page.refcount === 1 && page.mapcount === 1) {
      wp_page_reuse(vma, pte);
      return 0;
    }
  } else if ((vma.vm_flags & (VM_WRITE | VM_SHARED)) === (VM_WRITE | VM_SHARED)) {
    wp_page_reuse(vma, pte); // wp_page_shared(): no ->page_mkwrite, so just make it writable
    return 0;
  }
  get_page(page);
  return wp_page_copy(vma, address, pte);
}

/** wp_page_reuse(): make the PTE writable (maybe_mkwrite()). */
function wp_page_reuse(vma: Vma, pte: Pte): void {
  if (vma.vm_flags & VM_WRITE) pte.write = true;
}

/**
 * wp_page_copy(): anon_vma_prepare(), a new page (zeroed for the zero page, a
 * copy otherwise) mapped writable as a new anonymous page of this VMA; the old
 * page loses this mapping and its reference (and do_wp_page()'s extra one).
 */
function wp_page_copy(vma: Vma, address: number, pte: Pte): FaultResult {
  const mm = vma.vm_mm;
  const old_page = pte.page;
  anon_vma_prepare(vma);
  const new_page = alloc_page(mm.kernel);
  new_page.content = old_page ? old_page.content : 0;

  if (old_page) {
    if (!old_page.anon) {
      mm.rss_file--;
      mm.rss_anon++;
    }
  } else {
    mm.rss_anon++;
  }
  page_add_new_anon_rmap(new_page, vma, address);
  set_pte_at(mm, address, { page: new_page, write: (vma.vm_flags & VM_WRITE) !== 0 });
  if (old_page) {
    page_remove_rmap(old_page);
    put_page(old_page); // the reference the old PTE held
    put_page(old_page); // do_wp_page()'s get_page()
  }
  return 0;
}

// ---------------------------------------------------------------------------
// Zap

/** zap_pte_range() over [start, end) of one VMA: clear every present PTE, drop its page's mapping and reference. */
function zap_range(mm: MmStruct, start: number, end: number): void {
  for (const { addr, pte } of ptes_in_range(mm, start, end)) {
    pte_clear(mm, addr);
    const page = pte.page;
    if (!page) continue; // the zero page
    inc_mm_counter(mm, page, -1);
    page_remove_rmap(page);
    put_page(page);
  }
}

/** unmap_single_vma(): the part of [start, end) inside vma. */
function unmap_single_vma(vma: Vma, start: number, end: number): void {
  const s = Math.max(start, vma.vm_start);
  const e = Math.min(end, vma.vm_end);
  if (s >= e) return;
  zap_range(vma.vm_mm, s, e);
}

/** unmap_vmas(): zap [start, end) in every VMA of a (detached) list. Page tables stay. */
export function unmap_vmas(vmas: Vma[], start: number, end: number): void {
  for (const vma of vmas) unmap_single_vma(vma, start, end);
}

/**
 * unmap_mapping_range(mapping, holebegin, 0, even_cows = 1) for a file
 * shrinking to `fromIndex` pages: in every VMA of every mm that maps the file,
 * zap the PTEs of file pages at or beyond fromIndex — page-cache pages and
 * the private COW copies of them alike.
 */
export function unmap_mapping_range(kernel: KernelModel, file: KFile, fromIndex: number): void {
  for (const mm of kernel.live_mms()) {
    for (const vma of vma_list(mm)) {
      if (vma.vm_file !== file) continue;
      const vba = vma.vm_pgoff;
      const vea = vba + (vma.vm_end - vma.vm_start) / PAGE_SIZE - 1;
      if (vea < fromIndex) continue;
      const zba = Math.max(fromIndex, vba);
      unmap_single_vma(vma, vma.vm_start + (zba - vba) * PAGE_SIZE, vma.vm_end);
    }
  }
}

/**
 * zap_page_range(vma, start, end) (MADV_DONTNEED): zap the PTEs of [start,
 * end) inside vma — anonymous pages, page-cache pages and zero-page PTEs
 * alike. Page tables, the anon_vma and its chain stay.
 */
export function zap_page_range(vma: Vma, start: number, end: number): void {
  unmap_single_vma(vma, start, end);
}

/**
 * unmap_mapping_range(mapping, first, nr, even_cows = 0) for a hole punched in
 * a file (shmem_fallocate(FALLOC_FL_PUNCH_HOLE)): in every VMA of every mm
 * that maps the file, zap the PTEs of file pages [first, first + nr) that map
 * the file's own page-cache pages (page_rmapping() == the mapping); private
 * COW copies (anonymous pages) are skipped, as zap_skip_check_mapping() does.
 */
export function unmap_mapping_pages(kernel: KernelModel, file: KFile, first: number, nr: number): void {
  const last = first + nr; // exclusive
  for (const mm of kernel.live_mms()) {
    for (const vma of vma_list(mm)) {
      if (vma.vm_file !== file) continue;
      const vba = vma.vm_pgoff;
      const vea = vba + (vma.vm_end - vma.vm_start) / PAGE_SIZE; // exclusive
      if (vea <= first || vba >= last) continue;
      const s = vma.vm_start + (Math.max(first, vba) - vba) * PAGE_SIZE;
      const e = vma.vm_start + (Math.min(last, vea) - vba) * PAGE_SIZE;
      for (const { addr, pte } of ptes_in_range(mm, s, e)) {
        const page = pte.page;
        if (page && page.anon) continue; // a COW copy: not this mapping's page
        pte_clear(mm, addr);
        if (!page) continue;
        inc_mm_counter(mm, page, -1);
        page_remove_rmap(page);
        put_page(page);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Fork

/**
 * copy_page_range(dst_vma, src_vma): nothing unless the parent VMA has an
 * anon_vma (or is PFNMAP / MIXEDMAP / hugetlb): "a page fault will fill them
 * correctly". Otherwise the child gets a PUD / PMD / PTE table wherever the
 * parent has one intersecting the VMA (copy_{pud,pmd,pte}_range allocate the
 * destination table before looking at the source entries), and a copy of
 * every present PTE: a normal page gets a reference and page_dup_rmap(), and
 * in a COW mapping a writable PTE is write-protected in parent and child.
 */
export function copy_page_range(dst_vma: Vma, src_vma: Vma): void {
  if (!(src_vma.vm_flags & (VM_HUGETLB | VM_PFNMAP | VM_MIXEDMAP)) && !src_vma.anon_vma) return;
  const src_mm = src_vma.vm_mm;
  const dst_mm = dst_vma.vm_mm;
  const start = src_vma.vm_start;
  const end = src_vma.vm_end;
  const cow = is_cow_mapping(src_vma.vm_flags);

  for (const t of tables_in_range(src_mm, start, end, 3)) pud_alloc(dst_mm, Math.max(t.addr, start));
  for (const t of tables_in_range(src_mm, start, end, 2)) pmd_alloc(dst_mm, Math.max(t.addr, start));
  for (const t of tables_in_range(src_mm, start, end, 1)) pte_alloc(dst_mm, Math.max(t.addr, start));

  for (const { addr, pte } of ptes_in_range(src_mm, start, end)) {
    // copy_present_pte()
    const page = pte.page;
    if (page) {
      get_page(page);
      page_dup_rmap(page);
      inc_mm_counter(dst_mm, page, 1);
    }
    if (cow && pte.write) pte.write = false; // ptep_set_wrprotect() in the parent
    set_pte_at(dst_mm, addr, { page, write: pte.write });
  }
}
