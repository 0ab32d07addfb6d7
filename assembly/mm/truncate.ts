// Shrinking a file (mm/truncate.c truncate_pagecache, v5.17): every mapping
// of the pages beyond the new end is zapped, private copy-on-write copies
// included (unmap_mapping_range with even_cows), then the page cache drops
// them. Mappings are found by walking every mm: vmasim keeps no i_mmap tree,
// and truncation is rare.

import { File } from "../fs/file";
import { truncate_inode_pages, truncate_inode_range } from "../fs/pagecache";
import { zap_file_pages, zap_page_range } from "./memory";
import { mm_list } from "./mm";
import { vma_pages } from "./types";
import { vma_first, vma_next } from "./vma_tree";

/** truncate_pagecache() for a file shrinking to `size_pages`. */
export function truncate_pagecache(file: File, size_pages: u64): void {
  let mm = mm_list;
  while (mm) {
    let v = vma_first(mm);
    while (v) {
      if (v.vm_file == file && v.vm_pgoff + vma_pages(v) > size_pages) {
        const first = v.vm_pgoff > size_pages ? v.vm_pgoff : size_pages;
        zap_page_range(v, v.vm_start + ((first - v.vm_pgoff) << 12), v.vm_end);
      }
      v = vma_next(v);
    }
    mm = mm.mm_next;
  }
  truncate_inode_pages(file, size_pages);
}

/**
 * A hole punched in a shmem file (MADV_REMOVE -> fallocate PUNCH_HOLE):
 * shared mappings of the pages lose them (private copies stay), and the page
 * cache drops them.
 */
export function punch_hole(file: File, first: u64, pages: u64): void {
  const last = first + pages; // exclusive
  let mm = mm_list;
  while (mm) {
    let v = vma_first(mm);
    while (v) {
      if (v.vm_file == file && v.vm_pgoff < last && v.vm_pgoff + vma_pages(v) > first) {
        const lo = v.vm_pgoff > first ? v.vm_pgoff : first;
        const hi = v.vm_pgoff + vma_pages(v) < last ? v.vm_pgoff + vma_pages(v) : last;
        zap_file_pages(v, v.vm_start + ((lo - v.vm_pgoff) << 12), v.vm_start + ((hi - v.vm_pgoff) << 12));
      }
      v = vma_next(v);
    }
    mm = mm.mm_next;
  }
  truncate_inode_range(file, first, last);
}
