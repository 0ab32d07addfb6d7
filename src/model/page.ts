// struct page, reduced to what the rmap and fault rules read and write:
//   include/linux/mm_types.h struct page (mapping, index, _mapcount,
//   _refcount); include/linux/mm.h get_page(), put_page(), page_mapcount(),
//   page_count(); mm/page_alloc.c free_pages_prepare() (page->mapping is
//   cleared when the page is freed) (v5.17).
//
// Identities: every struct page the model allocates (a new anonymous page, a
// COW copy, the copy page of do_cow_fault, a page-cache page created by a
// fault) takes the next id of its kernel, from 1; the shared zero page is id 0,
// is never allocated, listed or counted, and a PTE mapping it holds `null`.
// Content: vmasim keeps one byte per page; new pages hold 0.

import type { AnonVma } from "./anon_vma.js";
import type { KFile } from "./file.js";
import type { KernelModel } from "./kernel.js";

export class Page {
  readonly kernel: KernelModel;
  readonly id: number;
  /** PageAnon(): page->mapping has PAGE_MAPPING_ANON set (an anon_vma). */
  anon = false;
  /** page->mapping: the anon_vma (anon), the file's address_space (page cache), or NULL. */
  mapping: AnonVma | KFile | null = null;
  /** page->index */
  index = 0;
  /** page_mapcount() = _mapcount + 1 */
  mapcount = 0;
  /** page_count() */
  refcount = 1;
  /** the one byte of content */
  content = 0;
  /** still on the kernel's list of live pages */
  live = true;

  constructor(kernel: KernelModel, id: number) {
    this.kernel = kernel;
    this.id = id;
  }
}

/** alloc_page() (alloc_zeroed_user_highpage_movable, alloc_page_vma, shmem_alloc_page): refcount 1, content 0. */
export function alloc_page(kernel: KernelModel): Page {
  const page = new Page(kernel, kernel.nextPageId++);
  kernel.pages.set(page.id, page);
  return page;
}

/** get_page() */
export function get_page(page: Page): void {
  page.refcount++;
}

/** put_page(): the last reference frees the page (free_pages_prepare() clears page->mapping). */
export function put_page(page: Page): void {
  if (page.refcount <= 0) throw new Error(`put_page: page ${page.id} has no reference (BUG)`);
  page.refcount--;
  if (page.refcount === 0) {
    page.mapping = null;
    page.live = false;
    page.kernel.pages.delete(page.id);
  }
}
