// Merge tracing: counters of every merge attempt and its outcome (always on),
// and, when the host enables it, a ring buffer of merge events that the host
// drains (src/engine/trace.ts). Reasons are finer than the series'
// tracepoint (kernel-facts §11.6), which the host can still print in its format.

import { raw_alloc } from "../lib/alloc";

// The series' enum vma_merge_res (mm/internal.h in the seed; MERGE_OK aliases AV_MERGE_NULL).
export const MERGE_FAILED: u32 = 0;
export const AV_MERGE_FAILED: u32 = 1;
export const AV_MERGE_NULL: u32 = 2;
export const AV_MERGE_SAME: u32 = 3;
export const AV_MERGE_DIFFERENT: u32 = 4;

// Why one side of a merge failed, in the order vmasim tests them: a reason
// means every test before it passed.
export const R_OK: u32 = 0;
export const R_NOT_ADJACENT: u32 = 1; // no VMA there, or not touching the range
export const R_SPECIAL: u32 = 2; // VM_SPECIAL (VM_IO, VM_DONTEXPAND, VM_PFNMAP, VM_MIXEDMAP)
export const R_FLAGS: u32 = 3;
export const R_FILE: u32 = 4;
export const R_CLOSE: u32 = 5; // vm_ops->close
export const R_UFFD: u32 = 6;
export const R_NAME: u32 = 7; // anon VMA name
export const R_MEMPOLICY: u32 = 8;
export const R_PGOFF: u32 = 9; // pgoff not continuous
export const R_AV_FORKED: u32 = 10; // one side has no anon_vma, the other's VMA is a fork child
export const R_AV_UNFAULTED: u32 = 11; // a faulted range next to an unfaulted VMA (v5.17's empty-chain rule)
export const R_AV_DIFFERENT: u32 = 12; // two anon_vmas, and the policy never merges different ones
export const R_AV_SHARED: u32 = 13; // two anon_vmas, the one whose pages move is shared with another process
export const R_MAPPED_TWICE: u32 = 14; // mremap: a page of the VMA is mapped more than once
export const R_NO_MEMORY: u32 = 15; // the engine ran out of memory applying it
export const NR_REASONS: u32 = 16;

// Counter slots (f64), read by the host.
export const C_ATTEMPTS: u32 = 0; // vma_merge calls
export const C_MERGED: u32 = 1; // ... that merged
export const C_CASE: u32 = 2; // 2..9: merges by case 1..8
export const C_FAIL: u32 = 10; // 10..25: failed calls by reason (the side that got furthest)
export const C_BOTH_REFUSED: u32 = 26; // merges with one side only because prev and next could not join
export const C_PAGES_REINDEXED: u32 = 27;
export const C_PAGES_REPOINTED: u32 = 28;
export const C_ANON_VMAS_CREATED: u32 = 29;
export const C_ANON_VMAS_FREED: u32 = 30;
export const C_ANON_VMA_REFS_LEAKED: u32 = 31; // seed-v2's page_get_anon_vma without a put
export const C_DEBUG_VM_WARNINGS: u32 = 32; // a CONFIG_DEBUG_VM assertion of the series would fire
export const C_PGOFF_UPDATED: u32 = 33; // mremap moves of faulted anon VMAs that took the new pgoff
export const C_PGOFF_KEPT: u32 = 34; // ... that kept the old one under a policy that updates
export const C_MAP_COUNT_LIMIT: u32 = 35; // operations refused because of vm.max_map_count
export const NR_COUNTERS: u32 = 36;

const counters = memory.data(<i32>NR_COUNTERS * 8, 8);

// @ts-ignore: decorator
@inline export function count(slot: u32, n: u32 = 1): void {
  const p = counters + (<usize>slot << 3);
  store<f64>(p, load<f64>(p) + <f64>n);
}

export function merge_counters(): usize { return counters; }

// ---- events ----------------------------------------------------------------------

export const EV_VMA_MERGE: u32 = 1; // one vma_merge call
export const EV_PGOFF: u32 = 2; // copy_vma of a move: the series' vm_pgoff_merge and why a pgoff was kept

/**
 * f64 slots per event: kind | caller << 8, mm handle, addr, end, result,
 * prev, next, both. vma_merge: result = the merge case (0: none); prev, next,
 * both = verdict | reason << 8. EV_PGOFF: result = faulted | updated << 1 |
 * merged << 2; prev = why a faulted VMA kept its pgoff.
 */
export const EVENT_SLOTS: u32 = 8;

let ring: usize = 0;
let ring_cap: u32 = 0;
let ring_head: u32 = 0; // next to write (counts up, never wraps)
let ring_tail: u32 = 0; // next to read
let ring_lost: u32 = 0;

/** Enable events with room for `cap` of them (rounded up to a power of two); false when out of memory. 0 disables. */
export function trace_enable(cap: u32): bool {
  if (cap == 0) {
    ring_cap = 0;
    return true;
  }
  if (cap > 1 << 24) cap = 1 << 24;
  cap = <u32>1 << (32 - clz(cap - 1));
  if (cap > ring_cap) {
    const p = raw_alloc(<usize>cap * EVENT_SLOTS * 8);
    if (!p) return false;
    ring = p;
  }
  ring_cap = cap;
  ring_head = ring_tail = 0;
  return true;
}

// @ts-ignore: decorator
@inline export function tracing(): bool { return ring_cap != 0; }

/** Events waiting; the host copies them from trace_event(i) and calls trace_consume. */
export function trace_pending(): u32 { return ring_head - ring_tail; }
export function trace_event(i: u32): usize {
  return ring + <usize>((ring_tail + i) & (ring_cap - 1)) * EVENT_SLOTS * 8;
}
export function trace_consume(n: u32): void { ring_tail += n; }
export function trace_take_lost(): u32 {
  const n = ring_lost;
  ring_lost = 0;
  return n;
}
/** Room left: the batch stops early when an op could overflow it. */
export function trace_room(): u32 { return ring_cap - (ring_head - ring_tail); }

export function trace_emit(kind: u32, caller: u32, mm: u32, addr: u64, end: u64, result: u32, prev: u32, next: u32, both: u32): void {
  if (ring_head - ring_tail >= ring_cap) {
    ring_lost++;
    return;
  }
  const e = ring + <usize>(ring_head & (ring_cap - 1)) * EVENT_SLOTS * 8;
  ring_head++;
  store<f64>(e, <f64>(kind | (caller << 8)), 0);
  store<f64>(e, <f64>mm, 8);
  store<f64>(e, <f64>addr, 16);
  store<f64>(e, <f64>end, 24);
  store<f64>(e, <f64>result, 32);
  store<f64>(e, <f64>prev, 40);
  store<f64>(e, <f64>next, 48);
  store<f64>(e, <f64>both, 56);
}
