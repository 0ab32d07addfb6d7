// The nodes of the VMA index (vma_tree.ts): fixed 272-byte records in a pool
// of linear memory, 16 slots wide, the layout chosen so that a lookup reads
// one node's pivots (two cache lines) and one slot per level.
//
//   offset   0  _pool   u32   the pool's word (lib/pool.ts)
//            4  count   u32   slots in use, 1..16
//            8  parent  u32   the parent node, 0 at the root
//           12  leaf    u32   1: slots are VMAs; 0: slots are child nodes
//           16  pivot   u64[16]  leaf: the VMA's vm_end; internal: the largest
//                                vm_end under the child (its last pivot)
//          144  slot    u32[16]  a Vma or a child node
//          208  gap     u32[16]  in pages, saturating at GAP_SAT: leaf: the
//                                free gap before the VMA (vma_compute_gap);
//                                internal: the largest gap under the child
//
// The kernel's maple tree (lib/maple_tree.c, 6.1+) keeps the same two things
// per child of an allocation-range node: a pivot and the largest gap below.

import { Pool, pool_alloc, pool_create, pool_free, pool_reserve } from "../lib/pool";

export const MT_SLOTS: i32 = 16;
/** fewest slots a node other than the root keeps (a smaller one is merged or refilled) */
export const MT_MIN: i32 = 3;
/** a gap of at least 2^32 - 1 pages (16 TiB): "large", the exact size is read from the VMAs */
export const GAP_SAT: u32 = 0xffffffff;

const PIVOT: usize = 16;
const SLOT: usize = 144;
const GAP: usize = 208;
const NODE_SIZE: u32 = 272;

const node_pool: Pool = pool_create(NODE_SIZE, 1024);
/** index nodes visited since start-up (bench/scale.ts reads it through vma_tree_stats) */
export let mt_visits: u64 = 0;

/** Count a node visit (the figure behind "nodes touched per op"). */
// @ts-ignore: decorator
@inline export function mt_visit(): void { mt_visits++; }

/** the tallest tree so far: a link splits at most one node per level, plus a new root */
let tallest: u32 = 1;

// @ts-ignore: decorator
@inline export function mt_count(n: usize): i32 { return <i32>load<u32>(n, 4); }
// @ts-ignore: decorator
@inline export function mt_set_count(n: usize, c: i32): void { store<u32>(n, <u32>c, 4); }
// @ts-ignore: decorator
@inline export function mt_parent(n: usize): usize { return <usize>load<u32>(n, 8); }
// @ts-ignore: decorator
@inline export function mt_set_parent(n: usize, p: usize): void { store<u32>(n, <u32>p, 8); }
// @ts-ignore: decorator
@inline export function mt_is_leaf(n: usize): bool { return load<u32>(n, 12) != 0; }
// @ts-ignore: decorator
@inline export function mt_pivot(n: usize, i: i32): u64 { return load<u64>(n + PIVOT + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline export function mt_set_pivot(n: usize, i: i32, v: u64): void { store<u64>(n + PIVOT + (<usize>i << 3), v); }
// @ts-ignore: decorator
@inline export function mt_slot(n: usize, i: i32): usize { return <usize>load<u32>(n + SLOT + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline export function mt_set_slot(n: usize, i: i32, v: usize): void { store<u32>(n + SLOT + (<usize>i << 2), <u32>v); }
// @ts-ignore: decorator
@inline export function mt_gap(n: usize, i: i32): u32 { return load<u32>(n + GAP + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline export function mt_set_gap(n: usize, i: i32, v: u32): void { store<u32>(n + GAP + (<usize>i << 2), v); }

/** A gap in bytes as stored in a node: pages, saturating. */
// @ts-ignore: decorator
@inline export function gap_pages(bytes: u64): u32 {
  const p = bytes >> 12;
  return p >= <u64>GAP_SAT ? GAP_SAT : <u32>p;
}

/** The largest gap under node n (the entry its parent keeps for it). */
export function mt_max_gap(n: usize): u32 {
  let m: u32 = 0;
  const c = mt_count(n);
  for (let i = 0; i < c; i++) {
    const g = mt_gap(n, i);
    if (g > m) m = g;
  }
  return m;
}

/** The slot of n holding `s` (a VMA or a child), or -1. */
export function mt_index_of(n: usize, s: usize): i32 {
  const c = mt_count(n);
  for (let i = 0; i < c; i++) if (mt_slot(n, i) == s) return i;
  return -1;
}

/** Move slots [from, count) of n up by `by` (room for insertions at `from`), or down when negative. */
export function mt_shift(n: usize, from: i32, by: i32): void {
  const c = mt_count(n);
  if (from >= c) return;
  const k = <usize>(c - from);
  memory.copy(n + PIVOT + (<usize>(from + by) << 3), n + PIVOT + (<usize>from << 3), k << 3);
  memory.copy(n + SLOT + (<usize>(from + by) << 2), n + SLOT + (<usize>from << 2), k << 2);
  memory.copy(n + GAP + (<usize>(from + by) << 2), n + GAP + (<usize>from << 2), k << 2);
}

/** Copy k slots from src[si..] to dst[di..] (the nodes differ). */
export function mt_copy(dst: usize, di: i32, src: usize, si: i32, k: i32): void {
  if (k <= 0) return;
  memory.copy(dst + PIVOT + (<usize>di << 3), src + PIVOT + (<usize>si << 3), <usize>k << 3);
  memory.copy(dst + SLOT + (<usize>di << 2), src + SLOT + (<usize>si << 2), <usize>k << 2);
  memory.copy(dst + GAP + (<usize>di << 2), src + GAP + (<usize>si << 2), <usize>k << 2);
}

/** A new empty node. Requires mt_reserve. */
export function mt_node_alloc(leaf: bool): usize {
  const n = pool_alloc(node_pool);
  store<u32>(n, leaf ? 1 : 0, 12);
  return n;
}

export function mt_node_free(n: usize): void {
  pool_free(node_pool, n);
}

/** Note a tree's height, so that reservations cover a split at every level. */
export function mt_note_height(h: u32): void {
  if (h > tallest) tallest = h;
}

/**
 * Nodes for `links` insertions: each splits at most one node per level and
 * may add a root, so the k-th of them needs at most tallest + 1 + k.
 */
export function mt_reserve(links: u32): bool {
  return links == 0 || pool_reserve(node_pool, links * (tallest + links));
}

/** Nodes for a bulk build of n VMAs (vma_tree.ts vma_link_sorted): every level filled. */
export function mt_reserve_bulk(n: u32): bool {
  let k: u32 = 0;
  let m = n;
  while (m > 1) {
    m = (m + <u32>MT_SLOTS - 1) / <u32>MT_SLOTS;
    k += m;
  }
  return pool_reserve(node_pool, k + 1);
}

export function mt_nodes_live(): u32 { return node_pool.live; }

// @ts-ignore: decorator
@inline export const MT_NODE_BYTES: u32 = NODE_SIZE;
