// The reverse map walk for anonymous pages (mm/rmap.c rmap_walk_anon and
// mm/internal.h vma_address, v5.17): from a page, through its anon_vma's
// interval tree, to every VMA that may map it and the address there. The
// checker uses it to prove that rmap reaches every mapping of every page;
// the seed policies will use it to re-point pages.

import { Page, PG_ANON } from "../mm/page";
import { PTE_PRESENT, PTE_SPECIAL, pte_page, pte_slot } from "../mm/pgtable";
import { Vma } from "../mm/types";
import { AnonVma, Avc } from "./anon_vma";

/** vma_address(): where vma maps page offset pgoff, or u64 max when outside the VMA (-EFAULT). */
export function vma_address(vma: Vma, pgoff: u64): u64 {
  const addr = vma.vm_start + ((pgoff - vma.vm_pgoff) << 12);
  if (pgoff < vma.vm_pgoff || addr >= vma.vm_end) return 0xffffffffffffffff;
  return addr;
}

/**
 * rmap_walk_anon() counting the mappings it finds: every AVC of the page's
 * anon_vma whose pgoff range holds page->index gives a VMA and an address;
 * the mapping counts if that address's PTE maps this very page
 * (page_vma_mapped_walk). A correct rmap finds page_mapcount() mappings.
 */
export function rmap_walk_anon_count(page: Page): u32 {
  if (!(page.flags & PG_ANON)) return 0;
  const av = changetype<AnonVma>(page.mapping);
  return walk(av.rb_root, page);
}

function walk(n: Avc | null, page: Page): u32 {
  if (!n || n.rb_subtree_last < page.index) return 0;
  let found = walk(n.rb_left, page);
  if (n.start <= page.index && page.index <= n.last) {
    const vma = n.vma!;
    const addr = vma_address(vma, page.index);
    if (addr != 0xffffffffffffffff) {
      const slot = pte_slot(vma.vm_mm!, addr);
      if (slot) {
        const pte = load<u64>(slot);
        if ((pte & PTE_PRESENT) && !(pte & PTE_SPECIAL) && pte_page(pte) == changetype<usize>(page)) found++;
      }
    }
  }
  if (n.start <= page.index) found += walk(n.rb_right, page);
  return found;
}
