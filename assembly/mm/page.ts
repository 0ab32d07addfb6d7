// Page frames (struct page): allocation, references and the byte of content
// vmasim keeps per page. The shared zero page is not a frame here: a zero-page
// PTE is a special PTE with no page (mm/pgtable.ts), as vm_normal_page() sees it.

import { Pool, pool_alloc, pool_create, pool_free, pool_reserve } from "../lib/pool";

/** page->mapping points to an anon_vma (PAGE_MAPPING_ANON) */
export const PG_ANON: u8 = 1;
/** the page is in a file's page cache (which holds one reference) */
export const PG_CACHE: u8 = 2;

// 32 bytes a page, 40 with its PTE (issue 12: at most 48 per resident page).
// The page-cache links live in a 24-byte side record that only cached file
// pages have (fs/pagecache.ts PageCacheEntry): anonymous pages, the bulk of
// a big process, do not pay for them. flags (PG_ANON | PG_CACHE) and content
// (a byte, touch() wraps it at 256) are u8; the fields are ordered so that
// the u64 index needs no padding:
//   0 _pool  4 id  8 mapping  12 flags  13 content  (14 spare)  16 index  24 mapcount  28 refcount
@unmanaged export class Page {
  _pool: u32 = 0;
  /** allocation order per kernel, from 1 (snapshot identity) */
  id: u32 = 0;
  /** AnonVma (PG_ANON) or File */
  mapping: usize = 0;
  /** PG_ANON | PG_CACHE */
  flags: u8 = 0;
  /** the byte a user access reads and a write increments */
  content: u8 = 0;
  /** page->index: the linear page index (anon) or the file page offset */
  index: u64 = 0;
  /** page_mapcount(): PTEs mapping the page */
  mapcount: i32 = 0;
  /** page_count() */
  refcount: i32 = 0;
}

const pool: Pool = pool_create(offsetof<Page>(), 4096);
let page_seq: u32 = 0;
/** every page of every state, for kernel-wide snapshots: the live ones are walked through their owners */
export function page_reserve(n: u32): bool { return pool_reserve(pool, n); }

/** A new page with one reference (alloc_page). Requires page_reserve. */
export function alloc_page(): Page {
  const p = changetype<Page>(pool_alloc(pool));
  p.id = ++page_seq;
  p.refcount = 1;
  return p;
}

/** get_page() */
// @ts-ignore: decorator
@inline export function get_page(p: Page): void {
  p.refcount++;
}

/** put_page(): the page is freed when its last reference goes. */
export function put_page(p: Page): void {
  assert(p.refcount > 0, "put_page of a free page");
  if (--p.refcount == 0) {
    assert(p.mapcount == 0 && !(p.flags & PG_CACHE), "freeing a page still mapped or cached");
    pool_free(pool, changetype<usize>(p));
  }
}

export function pages_live(): u32 { return pool.live; }
export function pages_allocated(): u32 { return page_seq; }
