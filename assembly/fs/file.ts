// Open files (struct file) that VMAs can map: regular files created by the
// host (scenario temp files, the binaries of a process image), memfds, and
// the shmem objects that MAP_SHARED|MAP_ANONYMOUS creates (mm/shmem.c
// shmem_zero_setup). A VMA holds a reference (get_file/fput); the host holds
// one on the files it created. A file's identity is `id` (monotonic, never
// reused), which is what snapshots report.

import { Pool, pool_alloc, pool_create, pool_free, pool_reserve } from "../lib/pool";
import { raw_alloc } from "../lib/alloc";
import { truncate_inode_pages } from "./pagecache";

export const FILE_REGULAR: u32 = 0;
export const FILE_SHMEM: u32 = 1;

export const FMODE_READ: u32 = 1;
export const FMODE_WRITE: u32 = 2;

@unmanaged export class File {
  _pool: u32 = 0;
  id: u32 = 0;
  size_pages: u64 = 0;
  f_count: u32 = 0;
  f_mode: u32 = 0;
  kind: u32 = 0;
  /** newest PageCacheEntry of this file's page cache (fs/pagecache.ts), 0 = none */
  pages: usize = 0;
}

const pool: Pool = pool_create(offsetof<File>(), 256);
let next_id: u32 = 1;
/** id -> File, 0 when freed; grows by doubling */
let table: usize = 0;
let table_cap: u32 = 0;

function table_set(id: u32, f: usize): bool {
  if (id >= table_cap) {
    let cap = table_cap == 0 ? <u32>256 : table_cap * 2;
    while (cap <= id) cap *= 2;
    const t = raw_alloc(<usize>cap << 2);
    if (t == 0) return false;
    if (table != 0) memory.copy(t, table, <usize>table_cap << 2);
    table = t;
    table_cap = cap;
  }
  store<u32>(table + (<usize>id << 2), <u32>f);
  return true;
}

/** Reserve room for `n` new files (see lib/pool.ts). */
export function file_reserve(n: u32): bool {
  if (!pool_reserve(pool, n)) return false;
  // make sure the id table can take them too
  const last = next_id + n;
  if (last >= table_cap) return table_set(last, 0);
  return true;
}

/** A new open file with one reference. Requires file_reserve. */
export function file_create(size_pages: u64, f_mode: u32, kind: u32): File {
  const f = changetype<File>(pool_alloc(pool));
  f.id = next_id++;
  f.size_pages = size_pages;
  f.f_count = 1;
  f.f_mode = f_mode;
  f.kind = kind;
  table_set(f.id, changetype<usize>(f));
  return f;
}

export function file_by_id(id: u32): File | null {
  if (id == 0 || id >= table_cap) return null;
  return changetype<File | null>(<usize>load<u32>(table + (<usize>id << 2)));
}

export function get_file(f: File): File {
  f.f_count++;
  return f;
}

export function fput(f: File): void {
  assert(f.f_count > 0, "fput of a file with no reference");
  if (--f.f_count == 0) {
    // the last reference of an unlinked file: its inode and page cache go
    truncate_inode_pages(f, 0);
    table_set(f.id, 0);
    pool_free(pool, changetype<usize>(f));
  }
}

/** The highest file id handed out so far. */
export function file_max_id(): u32 {
  return next_id - 1;
}

export function files_live(): u32 {
  return pool.live;
}
