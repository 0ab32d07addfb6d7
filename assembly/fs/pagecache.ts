// The page cache: file pages by (file, index), looked up through a hash table
// and listed per file (so that a file's pages can be dropped when it goes or
// shrinks). The cache holds one reference on each of its pages.
//
// The links are not in struct page (mm/page.ts): each cached page has a
// PageCacheEntry, 24 bytes that only file pages pay for (the kernel keeps
// them in the mapping's xarray instead). It repeats page->index so that a
// lookup's chain walk reads entries only (without it, a shmem write fault
// among 10^6 cached pages took 1.2x as long: one more cache miss a hop). A
// file's list is singly linked, newest first: pages leave the cache only
// through the truncate walks below, which know the previous entry.

import { raw_alloc } from "../lib/alloc";
import { Pool, pool_alloc, pool_create, pool_free, pool_reserve } from "../lib/pool";
import { Page, PG_CACHE, alloc_page, put_page } from "../mm/page";
import { File } from "./file";

@unmanaged export class PageCacheEntry {
  _pool: u32 = 0;
  page: Page | null = null;
  /** the next entry of this hash bucket */
  hash_next: PageCacheEntry | null = null;
  /** the next older entry of the same file (File.pages is the newest) */
  file_next: PageCacheEntry | null = null;
  /** page->index again: a hash chain is walked without reading the pages */
  index: u64 = 0;
}

const entry_pool: Pool = pool_create(offsetof<PageCacheEntry>(), 4096);

let buckets: usize = 0;
let nbuckets: u32 = 0;
let count: u32 = 0;

function bucket_of(file: File, index: u64): usize {
  let h = <u64>file.id * 0x9e3779b97f4a7c15 ^ index * 0xbf58476d1ce4e5b9;
  h ^= h >> 31;
  return buckets + ((<usize>(h & <u64>(nbuckets - 1))) << 2);
}

/** Grow the hash table and the entry pool so that one more page fits. False: out of memory. */
export function pagecache_reserve(): bool {
  if (!pool_reserve(entry_pool, 1)) return false;
  if (count + 1 <= nbuckets) return true;
  const n = nbuckets == 0 ? <u32>1024 : nbuckets * 2;
  const b = raw_alloc(<usize>n << 2);
  if (b == 0) return false;
  const old = buckets;
  const oldn = nbuckets;
  buckets = b;
  nbuckets = n;
  for (let i: u32 = 0; i < oldn; i++) {
    let e = changetype<PageCacheEntry | null>(<usize>load<u32>(old + (<usize>i << 2)));
    while (e) {
      const next = e.hash_next;
      const slot = bucket_of(changetype<File>(e.page!.mapping), e.index);
      e.hash_next = changetype<PageCacheEntry | null>(<usize>load<u32>(slot));
      store<u32>(slot, <u32>changetype<usize>(e));
      e = next;
    }
  }
  return true;
}

/** find_get_page() without the reference: the cached page at index, or NULL. */
export function find_page(file: File, index: u64): Page | null {
  if (nbuckets == 0) return null;
  let e = changetype<PageCacheEntry | null>(<usize>load<u32>(bucket_of(file, index)));
  while (e) {
    if (e.index == index && e.page!.mapping == changetype<usize>(file)) return e.page;
    e = e.hash_next;
  }
  return null;
}

/** A new zero-filled page at index, in the cache (shmem_getpage's allocation). Requires pagecache_reserve and page_reserve. */
export function add_new_page(file: File, index: u64): Page {
  const p = alloc_page(); // the cache's reference
  p.flags = PG_CACHE;
  p.mapping = changetype<usize>(file);
  p.index = index;
  const e = changetype<PageCacheEntry>(pool_alloc(entry_pool));
  e.page = p;
  e.index = index;
  const slot = bucket_of(file, index);
  e.hash_next = changetype<PageCacheEntry | null>(<usize>load<u32>(slot));
  store<u32>(slot, <u32>changetype<usize>(e));
  e.file_next = changetype<PageCacheEntry | null>(file.pages);
  file.pages = changetype<usize>(e);
  count++;
  return p;
}

/** The newest entry of the file's cache, or NULL; then PageCacheEntry.file_next. */
// @ts-ignore: decorator
@inline export function pagecache_first(file: File): PageCacheEntry | null {
  return changetype<PageCacheEntry | null>(file.pages);
}

/** delete_from_page_cache() of e, whose predecessor in the file's list is prev (NULL: e is the newest); drops the cache's reference. */
function delete_entry(file: File, prev: PageCacheEntry | null, e: PageCacheEntry): void {
  const p = e.page!;
  const slot = bucket_of(file, e.index);
  let cur = changetype<PageCacheEntry | null>(<usize>load<u32>(slot));
  if (cur == e) {
    store<u32>(slot, <u32>changetype<usize>(e.hash_next));
  } else {
    while (cur && cur.hash_next != e) cur = cur.hash_next;
    if (cur) cur.hash_next = e.hash_next;
  }
  if (prev) prev.file_next = e.file_next;
  else file.pages = changetype<usize>(e.file_next);
  pool_free(entry_pool, changetype<usize>(e));
  p.flags &= ~PG_CACHE;
  count--;
  put_page(p);
}

/** Drop the cached pages with first <= index < last (they are unmapped by then). */
export function truncate_inode_range(file: File, first: u64, last: u64): void {
  let prev: PageCacheEntry | null = null;
  let e = pagecache_first(file);
  while (e) {
    const next = e.file_next;
    const index = e.index;
    if (index >= first && index < last) delete_entry(file, prev, e);
    else prev = e;
    e = next;
  }
}

/** truncate_inode_pages(): drop the cached pages at or beyond `from` (they are unmapped by then). */
export function truncate_inode_pages(file: File, from: u64): void {
  truncate_inode_range(file, from, U64.MAX_VALUE);
}
