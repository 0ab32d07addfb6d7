// The page cache: file pages by (file, index), looked up through a hash table
// and listed per file (so that a file's pages can be dropped when it goes or
// shrinks). The cache holds one reference on each of its pages.

import { raw_alloc } from "../lib/alloc";
import { Page, PG_CACHE, alloc_page, put_page } from "../mm/page";
import { File } from "./file";

let buckets: usize = 0;
let nbuckets: u32 = 0;
let count: u32 = 0;

function bucket_of(file: File, index: u64): usize {
  let h = <u64>file.id * 0x9e3779b97f4a7c15 ^ index * 0xbf58476d1ce4e5b9;
  h ^= h >> 31;
  return buckets + ((<usize>(h & <u64>(nbuckets - 1))) << 2);
}

/** Grow the hash table so that one more page fits. False: out of memory. */
export function pagecache_reserve(): bool {
  if (count + 1 <= nbuckets) return true;
  const n = nbuckets == 0 ? <u32>1024 : nbuckets * 2;
  const b = raw_alloc(<usize>n << 2);
  if (b == 0) return false;
  const old = buckets;
  const oldn = nbuckets;
  buckets = b;
  nbuckets = n;
  for (let i: u32 = 0; i < oldn; i++) {
    let p = changetype<Page | null>(<usize>load<u32>(old + (<usize>i << 2)));
    while (p) {
      const next = p.hash_next;
      const slot = bucket_of(changetype<File>(p.mapping), p.index);
      p.hash_next = changetype<Page | null>(<usize>load<u32>(slot));
      store<u32>(slot, <u32>changetype<usize>(p));
      p = next;
    }
  }
  return true;
}

/** find_get_page() without the reference: the cached page at index, or NULL. */
export function find_page(file: File, index: u64): Page | null {
  if (nbuckets == 0) return null;
  let p = changetype<Page | null>(<usize>load<u32>(bucket_of(file, index)));
  while (p) {
    if (p.mapping == changetype<usize>(file) && p.index == index) return p;
    p = p.hash_next;
  }
  return null;
}

/** A new zero-filled page at index, in the cache (shmem_getpage's allocation). Requires pagecache_reserve and page_reserve. */
export function add_new_page(file: File, index: u64): Page {
  const p = alloc_page(); // the cache's reference
  p.flags = PG_CACHE;
  p.mapping = changetype<usize>(file);
  p.index = index;
  const slot = bucket_of(file, index);
  p.hash_next = changetype<Page | null>(<usize>load<u32>(slot));
  store<u32>(slot, <u32>changetype<usize>(p));
  p.file_next = changetype<Page | null>(file.pages);
  if (file.pages) changetype<Page>(file.pages).file_prev = p;
  file.pages = changetype<usize>(p);
  count++;
  return p;
}

/** Remove a page from the cache and drop the cache's reference. */
export function delete_from_page_cache(p: Page): void {
  const file = changetype<File>(p.mapping);
  const slot = bucket_of(file, p.index);
  let cur = changetype<Page | null>(<usize>load<u32>(slot));
  if (cur == p) {
    store<u32>(slot, <u32>changetype<usize>(p.hash_next));
  } else {
    while (cur && cur.hash_next != p) cur = cur.hash_next;
    if (cur) cur.hash_next = p.hash_next;
  }
  p.hash_next = null;
  if (p.file_prev) p.file_prev!.file_next = p.file_next;
  else file.pages = changetype<usize>(p.file_next);
  if (p.file_next) p.file_next!.file_prev = p.file_prev;
  p.file_prev = null;
  p.file_next = null;
  p.flags &= ~PG_CACHE;
  count--;
  put_page(p);
}

/** truncate_inode_pages(): drop the cached pages at or beyond `from` (they are unmapped by then). */
export function truncate_inode_pages(file: File, from: u64): void {
  let p = changetype<Page | null>(file.pages);
  while (p) {
    const next = p.file_next;
    if (p.index >= from) delete_from_page_cache(p);
    p = next;
  }
}

/** Drop the cached pages with first <= index < last (they are unmapped by then). */
export function truncate_inode_range(file: File, first: u64, last: u64): void {
  let p = changetype<Page | null>(file.pages);
  while (p) {
    const next = p.file_next;
    if (p.index >= first && p.index < last) delete_from_page_cache(p);
    p = next;
  }
}
