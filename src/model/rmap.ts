// The reverse map of pages (kernel-facts §1.5, §6.2):
//   mm/rmap.c page_add_new_anon_rmap() (__page_set_anon_rmap() with
//   exclusive = 1), page_add_file_rmap(), page_remove_rmap(), rmap_walk_anon();
//   include/linux/rmap.h page_dup_rmap(); include/linux/pagemap.h
//   linear_page_index(); mm/internal.h vma_address() (v5.17).
//
// page_remove_rmap() leaves page->mapping alone: it is cleared only when the
// page is freed (page.ts). The anon_vma lifecycle lives in anon_vma.ts; its
// types and functions are re-exported here for the VMA-layer files.

import { PAGE_SIZE } from "../abi/constants.js";
import type { AnonVma } from "./anon_vma.js";
import type { KFile } from "./file.js";
import type { Vma } from "./mm.js";
import type { Page } from "./page.js";

export {
  AnonVma, AnonVmaChain, anon_vma_chain_is_singular, anon_vma_clone, anon_vma_fork, anon_vma_merge,
  anon_vma_prepare, unlink_anon_vmas,
} from "./anon_vma.js";

/** linear_page_index(vma, address): the page index of address in vma's pgoff space. */
export function linear_page_index(vma: Vma, address: number): number {
  return (address - vma.vm_start) / PAGE_SIZE + vma.vm_pgoff;
}

/** page_add_new_anon_rmap(): a new page's first mapping: mapcount 1, mapping = vma->anon_vma, index = linear index. */
export function page_add_new_anon_rmap(page: Page, vma: Vma, address: number): void {
  if (!vma.anon_vma) throw new Error("page_add_new_anon_rmap: VMA without anon_vma (BUG)");
  page.mapcount = 1;
  page.anon = true;
  page.mapping = vma.anon_vma;
  page.index = linear_page_index(vma, address);
}

/** page_dup_rmap() (fork): one more mapping of a page that is already mapped. */
export function page_dup_rmap(page: Page): void {
  page.mapcount++;
}

/** page_add_file_rmap(): one more mapping of a page-cache page. */
export function page_add_file_rmap(page: Page): void {
  page.mapcount++;
}

/** page_remove_rmap(): one mapping fewer; page->mapping stays. */
export function page_remove_rmap(page: Page): void {
  if (page.mapcount <= 0) throw new Error(`page_remove_rmap: page ${page.id} is not mapped (BUG)`);
  page.mapcount--;
}

/** Where rmap_walk_anon() looks for a page: one entry per AVC of its anon_vma whose interval holds page->index. */
export interface RmapTarget {
  vma: Vma;
  /** vma_address(page, vma) */
  address: number;
}

/**
 * rmap_walk_anon(page): the VMAs (and addresses) the reverse map visits for an
 * anonymous page — the AVCs of page->mapping's interval tree whose pgoff
 * interval contains page->index, in tree order (by key). The callback in the
 * kernel then checks the PTE at that address; callers here do the same.
 */
export function rmap_walk_anon(page: Page): RmapTarget[] {
  if (!page.anon || !page.mapping) return [];
  const anon_vma = page.mapping as AnonVma;
  const out: RmapTarget[] = [];
  const avcs = [...anon_vma.rb_root].sort((a, b) => a.pgoff - b.pgoff || a.start - b.start);
  for (const avc of avcs) {
    if (page.index < avc.pgoff || page.index > avc.last) continue;
    out.push({ vma: avc.vma, address: avc.vma.vm_start + (page.index - avc.vma.vm_pgoff) * PAGE_SIZE });
  }
  return out;
}

/** page_mapping() for a page-cache page: its file (address_space); null for anonymous pages. */
export function page_file(page: Page): KFile | null {
  return page.anon ? null : (page.mapping as KFile | null);
}
