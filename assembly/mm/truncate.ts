// Shrinking a file (mm/truncate.c truncate_pagecache, v5.17): every mapping
// of the pages beyond the new end is zapped, private copy-on-write copies
// included (unmap_mapping_range with even_cows), then the page cache drops
// them. Mappings are found by walking every mm: vmasim keeps no i_mmap tree,
// and truncation is rare.

import { File } from "../fs/file";
import { truncate_inode_pages } from "../fs/pagecache";
import { zap_page_range } from "./memory";
import { mm_list } from "./mm";
import { vma_pages } from "./types";

/** truncate_pagecache() for a file shrinking to `size_pages`. */
export function truncate_pagecache(file: File, size_pages: u64): void {
  let mm = mm_list;
  while (mm) {
    let v = mm.mmap;
    while (v) {
      if (v.vm_file == file && v.vm_pgoff + vma_pages(v) > size_pages) {
        const first = v.vm_pgoff > size_pages ? v.vm_pgoff : size_pages;
        zap_page_range(v, v.vm_start + ((first - v.vm_pgoff) << 12), v.vm_end);
      }
      v = v.vm_next;
    }
    mm = mm.mm_next;
  }
  truncate_inode_pages(file, size_pages);
}
