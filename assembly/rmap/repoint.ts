// What the seed policies do to pages (docs/policies.md): re-pointing pages to
// the anon_vma of the VMA that now maps them (page->mapping) and re-indexing
// pages moved by mremap (page->index). seed-v2's functions are the patches'
// reconnect_pages() and update_faulted_pgoff(), defects included; seed's do
// the same for exactly the pages that change VMA.

import { PAGE_SHIFT } from "../abi/constants";
import { PG_ANON, Page } from "../mm/page";
import { PMD_SIZE, PTE_PRESENT, PTE_SPECIAL, entry_ptr, pte_page, table_index, table_lookup } from "../mm/pgtable";
import { Mm, Vma } from "../mm/types";
import { C_ANON_VMA_REFS_LEAKED, C_PAGES_REINDEXED, C_PAGES_REPOINTED, R_AV_SHARED, R_MAPPED_TWICE, R_OK, count } from "../trace/merge_trace";
import { record_is_live } from "../lib/pool";
import { AnonVma, anon_vma_leak_ref } from "./anon_vma";
import { anon_vma_exclusive } from "./exclusive";

let walk_page: Page | null = null;

/**
 * The first address in [addr, end) whose PTE maps a normal page (the zero
 * page and empty slots are skipped), with the page in walk_page; end if none.
 */
function next_page(mm: Mm, addr: u64, end: u64): u64 {
  while (addr < end) {
    const span_end = (addr | (PMD_SIZE - 1)) + 1;
    const stop = span_end < end ? span_end : end;
    const t = table_lookup(mm, addr, 1);
    if (!t) {
      addr = stop;
      continue;
    }
    for (; addr < stop; addr += 4096) {
      const pte = load<u64>(entry_ptr(t, table_index(1, addr)));
      if ((pte & PTE_PRESENT) && !(pte & PTE_SPECIAL)) {
        walk_page = changetype<Page>(pte_page(pte));
        return addr;
      }
    }
  }
  return end;
}

// @ts-ignore: decorator
@inline function page_anon_vma(p: Page): usize {
  return p.flags & PG_ANON ? p.mapping : 0;
}

/** Point every anonymous page mapped in [start, end) at av (seed: the pages a merge hands over). */
export function repoint_range(mm: Mm, start: u64, end: u64, av: usize): void {
  for (let addr = next_page(mm, start, end); addr < end; addr = next_page(mm, addr + 4096, end)) {
    const p = walk_page!;
    const cur = page_anon_vma(p);
    if (cur && cur != av) {
      p.mapping = av;
      count(C_PAGES_REPOINTED);
    }
  }
}

/**
 * reconnect_pages(vma, old) (seed-v2): every anonymous page mapped in old's
 * range moves to vma's anon_vma; page_get_anon_vma's reference on the page's
 * old anon_vma is never dropped.
 */
export function reconnect_pages(mm: Mm, vma: Vma, old: Vma): void {
  const end = old.vm_end;
  for (let addr = next_page(mm, old.vm_start, end); addr < end; addr = next_page(mm, addr + 4096, end)) {
    const p = walk_page!;
    const cur = page_anon_vma(p);
    // page_get_anon_vma() finds nothing when an earlier defect freed the page's anon_vma
    if (!cur || !record_is_live(cur)) continue;
    anon_vma_leak_ref(changetype<AnonVma>(cur));
    count(C_ANON_VMA_REFS_LEAKED);
    if (cur != vma.anon_vma) {
      p.mapping = vma.anon_vma;
      count(C_PAGES_REPOINTED);
    }
  }
}

/** No page mapped in [start, end) is mapped more than once. */
function none_mapped_twice(mm: Mm, start: u64, end: u64): bool {
  for (let addr = next_page(mm, start, end); addr < end; addr = next_page(mm, addr + 4096, end)) {
    if (walk_page!.mapcount > 1) return false;
  }
  return true;
}

/**
 * May a move of [start, end) of the faulted anonymous VMA vma take a new
 * pgoff? R_OK, or why not: its anon_vma is shared with another process, or a
 * page is mapped more than once. seed-v2 tests the whole VMA, seed the range.
 */
export function pgoff_update_refusal(mm: Mm, vma: Vma, start: u64, end: u64): u32 {
  if (!anon_vma_exclusive(changetype<AnonVma>(vma.anon_vma))) return R_AV_SHARED;
  return none_mapped_twice(mm, start, end) ? R_OK : R_MAPPED_TWICE;
}

/**
 * update_faulted_pgoff()'s rewrite (seed-v2): the page at vma.vm_start + i
 * pages gets index new_pgoff + i, for the whole VMA, whatever part moves.
 */
export function reindex_whole_vma(mm: Mm, vma: Vma, new_pgoff: u64): void {
  const end = vma.vm_end;
  for (let addr = next_page(mm, vma.vm_start, end); addr < end; addr = next_page(mm, addr + 4096, end)) {
    const p = walk_page!;
    const index = new_pgoff + ((addr - vma.vm_start) >> PAGE_SHIFT);
    if (p.index != index) {
      p.index = index;
      count(C_PAGES_REINDEXED);
    }
  }
}

/**
 * seed: the anonymous pages now mapped in [start, end) of vma (just moved
 * there) get vma's linear index and anon_vma.
 */
export function reindex_moved(mm: Mm, vma: Vma, start: u64, end: u64): void {
  for (let addr = next_page(mm, start, end); addr < end; addr = next_page(mm, addr + 4096, end)) {
    const p = walk_page!;
    if (!page_anon_vma(p)) continue;
    const index = vma.vm_pgoff + ((addr - vma.vm_start) >> PAGE_SHIFT);
    if (p.index != index) {
      p.index = index;
      count(C_PAGES_REINDEXED);
    }
    if (p.mapping != vma.anon_vma) {
      p.mapping = vma.anon_vma;
      count(C_PAGES_REPOINTED);
    }
  }
}
