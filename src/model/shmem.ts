// The page cache of the model's files, all of which are on tmpfs:
//   mm/shmem.c shmem_fault() / shmem_getpage_gfp(SGP_CACHE),
//   shmem_setattr() (size changes), shmem_fallocate(FALLOC_FL_PUNCH_HOLE)
//   with shmem_truncate_range(), shmem_evict_inode(); mm/filemap.c the page
//   lookups of filemap_map_pages() (next_uptodate_page()); fs/file_table.c
//   get_file() / fput() (v5.17).
//
// A page-cache page holds one reference for the cache and one per PTE mapping
// it; it is zero-filled when created (a hole in a tmpfs file reads as zeros)
// and leaves the cache only when the file shrinks below it or the shmem object
// of a shared anonymous mapping is released.

import { PAGE_SIZE } from "../abi/constants.js";
import type { KFile } from "./file.js";
import type { KernelModel } from "./kernel.js";
import { unmap_mapping_pages, unmap_mapping_range } from "./memory.js";
import { alloc_page, get_page, put_page, type Page } from "./page.js";

/** get_file() */
export function get_file(file: KFile): KFile {
  file.f_count++;
  return file;
}

/** fput(): the last reference to a shmem object evicts its inode and its pages. */
export function fput(file: KFile): void {
  if (file.f_count <= 0) throw new Error(`fput: file ${file.id} has no reference (BUG)`);
  file.f_count--;
  if (file.f_count === 0 && file.shmemZero) shmem_evict_inode(file);
}

/**
 * shmem_fault() for the page at `index`: the page-cache page (found, or created
 * zero-filled), with one reference for the caller; "SIGBUS" at or beyond EOF.
 */
export function shmem_fault(kernel: KernelModel, file: KFile, index: number): Page | "SIGBUS" {
  if (index >= file.sizePages) return "SIGBUS";
  let page = file.i_pages.get(index);
  if (!page) {
    page = alloc_page(kernel); // the cache's reference
    page.mapping = file;
    page.index = index;
    file.i_pages.set(index, page);
  }
  get_page(page); // the caller's (it becomes the PTE's)
  return page;
}

/**
 * The lookup of filemap_map_pages() (fault-around): the page at `index` if it
 * is in the cache and below EOF (next_uptodate_page() skips the rest), else
 * null. No reference is taken here; the caller takes one if it maps the page.
 */
export function find_mapped_candidate(file: KFile, index: number): Page | null {
  if (index >= file.sizePages) return null;
  return file.i_pages.get(index) ?? null;
}

/** Drop every cached page at or above `from` (truncate_inode_pages_range / shmem_undo_range). */
function truncate_inode_pages(file: KFile, from: number): void {
  const idx = [...file.i_pages.keys()].filter((i) => i >= from).sort((a, b) => a - b);
  for (const i of idx) {
    const page = file.i_pages.get(i)!;
    file.i_pages.delete(i);
    put_page(page); // the cache's reference; mapped pages were zapped before
  }
}

/**
 * shmem_setattr(ATTR_SIZE): set the size; when the file shrinks, unmap the
 * range beyond the new EOF from every VMA of the file — private COW copies
 * included (unmap_mapping_range(..., even_cows = 1)) —, drop the cached pages
 * there, and unmap again (as the kernel does for racing COWs; a no-op here).
 */
export function shmem_setattr_size(kernel: KernelModel, file: KFile, sizePages: number): void {
  const old = file.sizePages;
  file.sizePages = sizePages;
  if (sizePages < old) {
    const holebegin = sizePages * PAGE_SIZE;
    unmap_mapping_range(kernel, file, sizePages);
    truncate_inode_pages(file, Math.ceil(holebegin / PAGE_SIZE));
    unmap_mapping_range(kernel, file, sizePages);
  }
}

/** shmem_evict_inode(): the whole page cache goes. */
function shmem_evict_inode(file: KFile): void {
  truncate_inode_pages(file, 0);
}

/**
 * shmem_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) of the pages
 * [first, first + nr): unmap them from every mapping of the file except the
 * private COW copies (even_cows = 0: "hole-punching leaves COWed pages"),
 * then drop them from the page cache (shmem_truncate_range()). The size stays.
 */
export function shmem_punch_hole(kernel: KernelModel, file: KFile, first: number, nr: number): void {
  if (nr <= 0) return;
  unmap_mapping_pages(kernel, file, first, nr);
  const idx = [...file.i_pages.keys()].filter((i) => i >= first && i < first + nr).sort((a, b) => a - b);
  for (const i of idx) {
    const page = file.i_pages.get(i)!;
    file.i_pages.delete(i);
    put_page(page); // the cache's reference; the mappings of it were zapped above
  }
}
