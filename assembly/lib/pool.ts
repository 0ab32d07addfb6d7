// Pools of fixed-size records (VMAs, mms, files, later anon_vmas, AVCs, page
// frames), addressed by pointers that never move: a pool grows by whole chunks
// and recycles freed records through a free list threaded through each
// record's first word. A record's first word is therefore reserved (declare it
// as `_pool: u32` first in every record class): LIVE while in use, the next
// free record | 1 while free.
//
// Every syscall first reserves the records it may need (pool_reserve); after a
// successful reservation pool_alloc cannot fail, so an operation never stops
// half-way for lack of memory.

import { raw_alloc } from "./alloc";

// @ts-ignore: decorator
@inline export const RECORD_LIVE: u32 = 0x4c495645; // "LIVE"

@unmanaged export class Pool {
  /** bytes per record (a multiple of 8) */
  size: u32 = 0;
  /** records per chunk */
  per_chunk: u32 = 0;
  /** first free record, 0 = none */
  free_head: usize = 0;
  free_count: u32 = 0;
  /** next unused record in the current chunk, and how many remain there */
  bump: usize = 0;
  bump_left: u32 = 0;
  live: u32 = 0;
  /** records ever carved from chunks */
  capacity: u32 = 0;
  chunks: u32 = 0;
}

/** A new pool descriptor (called once per record type at start-up). */
export function pool_create(size: u32, per_chunk: u32): Pool {
  const p = changetype<Pool>(raw_alloc(offsetof<Pool>()));
  p.size = (size + 7) & ~7;
  p.per_chunk = per_chunk;
  return p;
}

/** Make sure `n` records can be allocated without failing. False: out of memory. */
export function pool_reserve(pool: Pool, n: u32): bool {
  if (pool.free_count + pool.bump_left >= n) return true;
  // The remaining records of the current chunk are leaked into the free list
  // first so that no capacity is lost when a new chunk is started.
  while (pool.bump_left > 0) {
    const r = pool.bump;
    pool.bump += pool.size;
    pool.bump_left--;
    pool.capacity++;
    store<u32>(r, <u32>pool.free_head | 1);
    pool.free_head = r;
    pool.free_count++;
  }
  let per = pool.per_chunk;
  if (per < n) per = n;
  const chunk = raw_alloc(<usize>per * pool.size);
  if (chunk == 0) return false;
  pool.bump = chunk;
  pool.bump_left = per;
  pool.chunks++;
  return true;
}

/** A zeroed record with its first word set to RECORD_LIVE. Requires a prior reservation. */
export function pool_alloc(pool: Pool): usize {
  let r: usize;
  if (pool.free_head != 0) {
    r = pool.free_head;
    pool.free_head = <usize>(load<u32>(r) & ~1);
    pool.free_count--;
    memory.fill(r, 0, pool.size);
  } else {
    assert(pool.bump_left > 0, "pool_alloc without reservation");
    r = pool.bump;
    pool.bump += pool.size;
    pool.bump_left--;
    pool.capacity++;
  }
  store<u32>(r, RECORD_LIVE);
  pool.live++;
  return r;
}

/**
 * pool_alloc() for a pool whose records come back to it zeroed beyond their
 * first `header` bytes (page tables: every entry is cleared before a table
 * is freed), so only the header is cleared: a page table is 4 KiB that
 * would otherwise be written twice. Requires a prior reservation.
 */
export function pool_alloc_clean(pool: Pool, header: usize): usize {
  let r: usize;
  if (pool.free_head != 0) {
    r = pool.free_head;
    pool.free_head = <usize>(load<u32>(r) & ~1);
    pool.free_count--;
    memory.fill(r, 0, header);
  } else {
    assert(pool.bump_left > 0, "pool_alloc without reservation");
    r = pool.bump;
    pool.bump += pool.size;
    pool.bump_left--;
    pool.capacity++;
  }
  store<u32>(r, RECORD_LIVE);
  pool.live++;
  return r;
}

export function pool_free(pool: Pool, r: usize): void {
  assert(load<u32>(r) == RECORD_LIVE, "pool_free of a record that is not live");
  store<u32>(r, <u32>pool.free_head | 1);
  pool.free_head = r;
  pool.free_count++;
  pool.live--;
}

// @ts-ignore: decorator
@inline const RECORD_RETIRED: u32 = 0x44454144; // "DEAD"

/**
 * Free a record for good: it is never handed out again, so a stale pointer
 * to it (a policy's known defect, e.g. seed-v2's dangling page->mapping)
 * still reads its fields and is still recognisably dead.
 */
export function pool_retire(pool: Pool, r: usize): void {
  assert(load<u32>(r) == RECORD_LIVE, "pool_retire of a record that is not live");
  store<u32>(r, RECORD_RETIRED);
  pool.live--;
}

// @ts-ignore: decorator
@inline export function record_is_retired(r: usize): bool {
  return r != 0 && load<u32>(r) == RECORD_RETIRED;
}

// @ts-ignore: decorator
@inline export function record_is_live(r: usize): bool {
  return r != 0 && load<u32>(r) == RECORD_LIVE;
}
