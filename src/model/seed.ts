// The rules of the series "Removing limitations of merging anonymous VMAs"
// (RFC v2, kernel-facts §11; docs/policies.md), as the switch points of policy.ts
// call them. Two readings:
//
// seed-v2, the patches as posted (kernel-facts §11.2-11.5):
//   mm/rmap.c rbt_no_children() (and the root test of its callers: EXCL),
//   page_get_anon_vma(), reconnect_pages(), the VM_BUG_ON of anon_vma_merge();
//   mm/mmap.c update_faulted_pgoff().
// seed, the intended semantics (kernel-facts §11.8-11.9 "intended"): the same EXCL
//   test on the anon_vma whose pages move; every page that changes VMA is
//   re-pointed (merges, cases 4 and 5 included) and, after an mremap move,
//   re-indexed and re-pointed per moved PTE.
//
// Everything the rules do to pages is counted in the kernel's page_rewrites:
// pages whose index changed, pages whose mapping changed, anon_vma references
// taken and never dropped (seed-v2), VM_BUG_ONs a CONFIG_DEBUG_VM kernel would
// hit (seed-v2).

import { PAGE_SIZE } from "../abi/constants.js";
import { get_anon_vma, type AnonVma } from "./anon_vma.js";
import type { MmStruct, Vma } from "./mm.js";
import type { Page } from "./page.js";
import { ptes_in_range } from "./pgtable.js";
import { linear_page_index } from "./rmap.js";

/**
 * rbt_no_children(av): av has degree <= 1, or no VMA in its interval tree
 * uses another anon_vma as its own (no fork child, no VMA that reused an
 * older anon_vma). The whole tree is walked, as the patch does.
 */
export function rbt_no_children(av: AnonVma): boolean {
  if (av.degree <= 1) return true;
  for (const avc of av.rb_root) if (avc.vma.anon_vma !== av) return false;
  return true;
}

/**
 * EXCL(av) (docs/policies.md "Exclusivity"): av exists, is its own root and
 * rbt_no_children(av) — the series' "pages not shared with another process".
 */
export function anon_vma_exclusive(av: AnonVma | null): boolean {
  return av !== null && av.root === av && rbt_no_children(av);
}

/** The normal pages mapped by the present PTEs of [start, end) of mm, in address order (follow_page() over the range). */
function pages_in_range(mm: MmStruct, start: number, end: number): { addr: number; page: Page }[] {
  const out: { addr: number; page: Page }[] = [];
  for (const { addr, pte } of ptes_in_range(mm, start, end)) if (pte.page) out.push({ addr, page: pte.page });
  return out;
}

/** page->mapping = anon_vma (page_move_anon_rmap()), counted when it changes. */
function set_page_anon_vma(page: Page, anon_vma: AnonVma): void {
  if (page.mapping === anon_vma) return;
  page.mapping = anon_vma;
  page.kernel.page_rewrites.pagesRepointed++;
}

/** page->index = index, counted when it changes. */
function set_page_index(page: Page, index: number): void {
  if (page.index === index) return;
  page.index = index;
  page.kernel.page_rewrites.pagesReindexed++;
}

// ---------------------------------------------------------------------------
// seed-v2: the patches as posted

/**
 * page_get_anon_vma(page): the page's anon_vma with a reference taken, or
 * null for a page that is not anonymous or not mapped, or whose anon_vma has
 * no reference left (freed: atomic_inc_not_zero() fails).
 */
function page_get_anon_vma(page: Page): AnonVma | null {
  if (!page.anon || !page.mapping || page.mapcount === 0) return null;
  const anon_vma = page.mapping as AnonVma;
  if (anon_vma.refcount === 0) return null;
  get_anon_vma(anon_vma);
  return anon_vma;
}

/**
 * The VM_BUG_ON of seed-v2's anon_vma_merge(vma, next): different anon_vmas
 * merge only if next's is exclusive. A production kernel goes on: counted.
 */
export function anon_vma_merge_debug_check(vma: Vma, next: Vma): void {
  if (vma.anon_vma && next.anon_vma && vma.anon_vma !== next.anon_vma && !anon_vma_exclusive(next.anon_vma)) {
    vma.vm_mm.kernel.page_rewrites.debugVmWarnings++;
  }
}

/**
 * reconnect_pages(vma, old) (seed-v2, from anon_vma_merge() before old is
 * unlinked): when both have anon_vmas and they differ, every present normal
 * anonymous page of old's range gets page->mapping = vma->anon_vma, index
 * unchanged. page_get_anon_vma() takes a reference on the page's anon_vma
 * that is never dropped (counted as leaked).
 */
export function reconnect_pages(vma: Vma, old: Vma): void {
  if (!vma.anon_vma || !old.anon_vma || vma.anon_vma === old.anon_vma) return;
  for (const { page } of pages_in_range(old.vm_mm, old.vm_start, old.vm_end)) {
    const anon_vma = page_get_anon_vma(page);
    if (!anon_vma) continue; // not anonymous (or its anon_vma is gone)
    page.kernel.page_rewrites.anonVmaRefsLeaked++;
    set_page_anon_vma(page, vma.anon_vma);
  }
}

/**
 * update_faulted_pgoff(vma, new_addr) (seed-v2's copy_vma()): if
 * EXCL(vma->anon_vma) and no normal page mapped in the whole of vma has
 * mapcount > 1, the page at vma->vm_start + i pages gets index
 * (new_addr >> 12) + i — relative to vm_start, not to the moved range — and
 * the new VMA's pgoff is new_addr >> 12 (returned). Otherwise null: v5.17's
 * pgoff, nothing rewritten.
 */
export function update_faulted_pgoff(vma: Vma, new_addr: number): number | null {
  if (!anon_vma_exclusive(vma.anon_vma)) return null;
  const pages = pages_in_range(vma.vm_mm, vma.vm_start, vma.vm_end);
  if (pages.some(({ page }) => page.mapcount > 1)) return null;
  const pgoff = new_addr / PAGE_SIZE;
  for (const { addr, page } of pages) set_page_index(page, pgoff + (addr - vma.vm_start) / PAGE_SIZE);
  return pgoff;
}

// ---------------------------------------------------------------------------
// seed: the series as intended

/**
 * The pages of [start, end), which now belong to `to`, join to's anon_vma
 * (index unchanged: a merge needs continuous pgoffs). For every range a merge
 * hands from one VMA to another with a different anon_vma: a removed VMA
 * (cases 1, 6, 7, 8), the head of next (case 5), the tail of prev (case 4).
 */
export function repoint_pages(to: Vma, from: Vma, start: number, end: number): void {
  if (!to.anon_vma || !from.anon_vma || to.anon_vma === from.anon_vma) return;
  for (const { page } of pages_in_range(to.vm_mm, start, end)) {
    if (page.anon) set_page_anon_vma(page, to.anon_vma);
  }
}

/**
 * The pgoff a moved faulted anonymous VMA takes (seed's copy_vma()): new_addr
 * >> 12 when EXCL(vma->anon_vma) and no normal page in the moved range
 * [old_addr, old_addr + old_len) has mapcount > 1; else null (v5.17's). The
 * pages are rewritten after the move (move_pages_exact).
 */
export function can_update_faulted_pgoff(vma: Vma, old_addr: number, old_len: number, new_addr: number): number | null {
  if (!anon_vma_exclusive(vma.anon_vma)) return null;
  if (pages_in_range(vma.vm_mm, old_addr, old_addr + old_len).some(({ page }) => page.mapcount > 1)) return null;
  return new_addr / PAGE_SIZE;
}

/**
 * After move_page_tables() put the PTEs of the moved range at [new_addr,
 * new_addr + len) in new_vma: every anonymous page there gets new_vma's
 * linear index and new_vma's anon_vma. Done when the pgoff was updated, and
 * also when the destination merge joined a VMA with another anon_vma (the
 * merge decision allows it only for an exclusive source; a private file
 * VMA keeps its pgoff but its anonymous pages still change anon_vma).
 */
export function move_pages_exact(new_vma: Vma, new_addr: number, len: number, src_anon_vma: AnonVma | null, pgoff_updated: boolean): void {
  if (!pgoff_updated && (!src_anon_vma || !new_vma.anon_vma || new_vma.anon_vma === src_anon_vma)) return;
  for (const { addr, page } of pages_in_range(new_vma.vm_mm, new_addr, new_addr + len)) {
    if (!page.anon) continue;
    set_page_index(page, linear_page_index(new_vma, addr));
    if (new_vma.anon_vma) set_page_anon_vma(page, new_vma.anon_vma);
  }
}
