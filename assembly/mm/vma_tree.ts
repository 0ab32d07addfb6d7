// The per-mm VMA set: a B-tree of 16-wide nodes in linear memory (mt_node.ts)
// keyed by vm_end, each internal slot carrying its child's largest free gap.
// v5.17 keeps a sorted doubly linked list (vm_prev/vm_next, mm->mmap) and an
// augmented red-black tree (mm/mmap.c: mm_rb, vma_compute_gap,
// vma_gap_update, __vma_link_rb, vma_rb_erase, find_vma); 6.1 dropped both
// for the maple tree (lib/maple_tree.c), whose allocation-range nodes keep a
// pivot and the largest gap per child, and finds a VMA's neighbours through
// it (vma_next/vma_prev over a ma_state): this index follows that shape. The
// rules only observe the answers (find_vma, the neighbours, the
// unmapped-area search), which the sorted set alone determines.
//
//   gap(v) = vm_start_gap(v) - vm_end_gap(prev of v)   (0 if negative; from 0 for the first VMA)
//   leaf slot i:     pivot = vm_end of its VMA,   gap = gap(VMA)
//   internal slot i: pivot = last pivot of child, gap = max gap of child
//
// Every leaf is at the same depth; every node but the root holds MT_MIN..16
// slots. A VMA knows its leaf (vm_node), so link, unlink, a boundary change
// and a neighbour step start at the leaf: the neighbour is the next slot, or
// (once per leaf, 1 step in 12-14) the edge slot of the neighbouring leaf,
// reached through the parent links. There is no list: two pointers per VMA
// (8 of its 80 bytes, with the index about 100 B per VMA against 96 wanted)
// cost more than the occasional climb (measured: bench/scale.ts,
// docs/performance.md).

import { VM_GROWSDOWN } from "../abi/constants";
import {
  MT_MIN, MT_NODE_BYTES, MT_SLOTS, gap_pages, mt_copy, mt_count, mt_gap, mt_index_of, mt_is_leaf, mt_max_gap,
  mt_node_alloc, mt_node_free, mt_note_height, mt_parent, mt_pivot, mt_set_count, mt_set_gap, mt_set_parent, mt_set_pivot,
  mt_set_slot, mt_shift, mt_slot, mt_visit, mt_visits,
} from "./mt_node";
import { stack_guard_gap } from "./sysctl";
import { Mm, Vma } from "./types";

/** vm_start_gap(): a stack's guard gap below it counts as occupied. */
export function vm_start_gap(v: Vma): u64 {
  let start = v.vm_start;
  if (v.vm_flags & VM_GROWSDOWN) {
    start -= stack_guard_gap;
    if (start > v.vm_start) start = 0;
  }
  return start;
}

/** vm_end_gap(): x86 has no VM_GROWSUP, so the end is the end. */
// @ts-ignore: decorator
@inline export function vm_end_gap(v: Vma): u64 {
  return v.vm_end;
}

/** The free gap between prev (NULL: none, the gap starts at 0) and v. */
function gap_between(prev: Vma | null, v: Vma): u64 {
  let gap = vm_start_gap(v);
  if (prev) {
    const prev_end = vm_end_gap(prev);
    gap = gap > prev_end ? gap - prev_end : 0;
  }
  return gap;
}

/** vma_compute_gap(): the gap before a linked VMA. */
export function vma_compute_gap(v: Vma): u64 {
  return gap_between(vma_prev(v), v);
}

// ---- neighbours through the index ----------------------------------------------

/**
 * The VMA next to slot i of leaf n in direction dir (+1 or -1): the next
 * slot, else the edge slot of the neighbouring leaf, found by climbing to the
 * first ancestor with a sibling that way and descending its edge. NULL at the
 * ends of the tree.
 */
function leaf_step(n: usize, i: i32, dir: i32): Vma | null {
  i += dir;
  if (i >= 0 && i < mt_count(n)) return changetype<Vma>(mt_slot(n, i));
  let c = n;
  let p = mt_parent(c);
  while (p) {
    mt_visit();
    const j = mt_index_of(p, c) + dir;
    if (j >= 0 && j < mt_count(p)) {
      let d = mt_slot(p, j);
      while (!mt_is_leaf(d)) {
        mt_visit();
        d = mt_slot(d, dir > 0 ? 0 : mt_count(d) - 1);
      }
      return changetype<Vma>(mt_slot(d, dir > 0 ? 0 : mt_count(d) - 1));
    }
    c = p;
    p = mt_parent(p);
  }
  return null;
}

/** vma_next(): the VMA after v (which is linked), or NULL. */
export function vma_next(v: Vma): Vma | null {
  const n = v.vm_node;
  return leaf_step(n, mt_index_of(n, changetype<usize>(v)), 1);
}

/** vma_prev(): the VMA before v (which is linked), or NULL. */
export function vma_prev(v: Vma): Vma | null {
  const n = v.vm_node;
  return leaf_step(n, mt_index_of(n, changetype<usize>(v)), -1);
}

/** The VMA after prev, or the first one when prev is NULL (vma_next(mm, prev) of v5.17's mm/mmap.c). */
export function vma_after(mm: Mm, prev: Vma | null): Vma | null {
  return prev ? vma_next(prev) : vma_first(mm);
}

/**
 * vm_end_gap() of the VMA before slot i of leaf n, 0 for none: inside the
 * leaf it is the pivot before, so the neighbour's record is not read.
 */
export function vma_prev_end(n: usize, i: i32): u64 {
  if (i > 0) return mt_pivot(n, i - 1);
  const prev = leaf_step(n, 0, -1);
  return prev ? vm_end_gap(prev) : 0;
}

/**
 * vma_merge's neighbours of a range inside the linked VMA m, when prev is
 * m's predecessor: its end from the leaf, so that a prev that does not
 * touch the range is never read. Returns the end of prev (0 for none), or
 * U64_MAX when prev is not m's predecessor (the caller then reads prev).
 */
export function vma_prev_end_if(m: Vma, prev: Vma | null): u64 {
  const n = m.vm_node;
  const i = mt_index_of(n, changetype<usize>(m));
  if (leaf_step(n, i, -1) != prev) return U64.MAX_VALUE;
  return vma_prev_end(n, i);
}

/**
 * True when the VMA after v (linked) starts above v's end, known from its
 * gap in v's leaf (a gap of 0 may still be a stack's guard gap, and at the
 * leaf's edge nothing is known: false, the caller reads the record).
 */
export function vma_next_apart(v: Vma): bool {
  const n = v.vm_node;
  const i = mt_index_of(n, changetype<usize>(v)) + 1;
  return i < mt_count(n) && mt_gap(n, i) != 0;
}

/** The first VMA of the mm (mm->mmap before 6.1), or NULL. */
export function vma_first(mm: Mm): Vma | null {
  if (!mm.mm_mt) return null;
  return changetype<Vma>(mt_slot(first_leaf(mm), 0));
}

/**
 * A detached VMA (vma_unlink'ed, about to be freed) has no leaf: vm_node
 * then threads the private lists of munmap and exit_mmap
 * (detach_vmas_to_be_unmapped kept them through vm_next). These read and
 * write that link.
 */
// @ts-ignore: decorator
@inline export function detached_next(v: Vma): Vma | null {
  return changetype<Vma | null>(v.vm_node);
}
// @ts-ignore: decorator
@inline export function set_detached_next(v: Vma, next: Vma | null): void {
  v.vm_node = changetype<usize>(next);
}

// ---- keeping the entries above a changed node right --------------------------

/**
 * Node n's slots changed: rewrite its entry in each ancestor, stopping at the
 * first parent whose entry comes out the same (everything above it is then
 * unchanged too).
 */
function propagate(n: usize): void {
  let p = mt_parent(n);
  while (p) {
    mt_visit();
    const i = mt_index_of(p, n);
    const pv = mt_pivot(n, mt_count(n) - 1);
    const g = mt_max_gap(n);
    if (mt_pivot(p, i) == pv && mt_gap(p, i) == g) return;
    mt_set_pivot(p, i, pv);
    mt_set_gap(p, i, g);
    n = p;
    p = mt_parent(p);
  }
}

/** Store v's pivot and gap (from its current bounds and predecessor) in slot i of its leaf. */
// @ts-ignore: decorator
@inline function store_entry(leaf: usize, i: i32, v: Vma): void {
  mt_set_pivot(leaf, i, v.vm_end);
  mt_set_gap(leaf, i, gap_pages(gap_between(leaf_step(leaf, i, -1), v)));
}

/** The child (or VMA) in slot s now lives in node n. */
// @ts-ignore: decorator
@inline function adopt(n: usize, s: usize): void {
  if (mt_is_leaf(n)) changetype<Vma>(s).vm_node = n;
  else mt_set_parent(s, n);
}

function adopt_range(n: usize, from: i32, to: i32): void {
  for (let i = from; i < to; i++) adopt(n, mt_slot(n, i));
}

function height(mm: Mm): u32 {
  let h: u32 = 0;
  let n = mm.mm_mt;
  while (n) {
    h++;
    n = mt_is_leaf(n) ? 0 : mt_slot(n, 0);
  }
  return h;
}

// ---- insertion -------------------------------------------------------------

/**
 * Node n and its siblings are full: split it around a new slot (s, pv, g) at
 * index i. n keeps the lower 8, the returned new sibling the upper 9. (With
 * spill_insert first, the middle split fills nodes best: 14 of 16 for runs
 * of mappings at rising or falling addresses, 12 for random ones.)
 */
function split_insert(n: usize, i: i32, s: usize, pv: u64, g: u32): usize {
  const total = MT_SLOTS + 1;
  const keep = total >> 1;
  const m = mt_node_alloc(mt_is_leaf(n));
  mt_visit();
  if (i < keep) {
    // the new slot stays in n: move [keep-1, 16) out, then insert
    const moved = MT_SLOTS - (keep - 1);
    mt_copy(m, 0, n, keep - 1, moved);
    mt_set_count(m, moved);
    mt_set_count(n, keep - 1);
    mt_shift(n, i, 1);
    mt_set_pivot(n, i, pv);
    mt_set_slot(n, i, s);
    mt_set_gap(n, i, g);
    mt_set_count(n, keep);
    adopt(n, s);
  } else {
    // the new slot goes to m at i - keep
    const j = i - keep;
    mt_copy(m, 0, n, keep, j);
    mt_set_pivot(m, j, pv);
    mt_set_slot(m, j, s);
    mt_set_gap(m, j, g);
    mt_copy(m, j + 1, n, i, MT_SLOTS - i);
    mt_set_count(m, total - keep);
    mt_set_count(n, keep);
  }
  adopt_range(m, 0, mt_count(m));
  return m;
}

/** Put slot (s, pv, g) at index i of node n, which has room. */
function put(n: usize, i: i32, s: usize, pv: u64, g: u32): void {
  mt_shift(n, i, 1);
  mt_set_pivot(n, i, pv);
  mt_set_slot(n, i, s);
  mt_set_gap(n, i, g);
  mt_set_count(n, mt_count(n) + 1);
  adopt(n, s);
}

/** Rewrite parent p's entry j from its child. */
// @ts-ignore: decorator
@inline function entry_from_child(p: usize, j: i32): void {
  const c = mt_slot(p, j);
  mt_set_pivot(p, j, mt_pivot(c, mt_count(c) - 1));
  mt_set_gap(p, j, mt_max_gap(c));
}

/**
 * Node n is full: make room by moving some of its slots to a sibling with
 * room (the fuller-nodes idea of the B*-tree), then insert. False when both
 * siblings are (nearly) full too, or n is the root: then n is split.
 */
function spill_insert(n: usize, i: i32, s: usize, pv: u64, g: u32): bool {
  const p = mt_parent(n);
  if (!p) return false;
  const j = mt_index_of(p, n);
  const l = j > 0 ? mt_slot(p, j - 1) : 0;
  const r = j + 1 < mt_count(p) ? mt_slot(p, j + 1) : 0;
  const lc = l ? mt_count(l) : MT_SLOTS;
  const rc = r ? mt_count(r) : MT_SLOTS;
  mt_visit();
  if (lc <= rc && lc <= MT_SLOTS - 2) {
    // n's first k slots go to the end of l
    const k = (MT_SLOTS - lc) >> 1;
    mt_copy(l, lc, n, 0, k);
    mt_set_count(l, lc + k);
    adopt_range(l, lc, lc + k);
    mt_shift(n, k, -k);
    mt_set_count(n, MT_SLOTS - k);
    if (i >= k) put(n, i - k, s, pv, g);
    else put(l, lc + i, s, pv, g);
    entry_from_child(p, j - 1);
    entry_from_child(p, j);
  } else if (rc <= MT_SLOTS - 2) {
    // n's last k slots go to the front of r
    const k = (MT_SLOTS - rc) >> 1;
    mt_shift(r, 0, k);
    mt_copy(r, 0, n, MT_SLOTS - k, k);
    mt_set_count(r, rc + k);
    adopt_range(r, 0, k);
    mt_set_count(n, MT_SLOTS - k);
    if (i <= MT_SLOTS - k) put(n, i, s, pv, g);
    else put(r, i - (MT_SLOTS - k), s, pv, g);
    entry_from_child(p, j);
    entry_from_child(p, j + 1);
  } else {
    return false;
  }
  propagate(p);
  return true;
}

/** Put slot (s, pv, g) at index i of node n, splitting upwards as needed. */
function insert_slot(mm: Mm, n: usize, i: i32, s: usize, pv: u64, g: u32): void {
  while (true) {
    mt_visit();
    if (mt_count(n) < MT_SLOTS) {
      put(n, i, s, pv, g);
      propagate(n);
      return;
    }
    if (spill_insert(n, i, s, pv, g)) return;
    const m = split_insert(n, i, s, pv, g);
    const p = mt_parent(n);
    if (!p) {
      const root = mt_node_alloc(false);
      mt_set_pivot(root, 0, mt_pivot(n, mt_count(n) - 1));
      mt_set_slot(root, 0, n);
      mt_set_gap(root, 0, mt_max_gap(n));
      mt_set_pivot(root, 1, mt_pivot(m, mt_count(m) - 1));
      mt_set_slot(root, 1, m);
      mt_set_gap(root, 1, mt_max_gap(m));
      mt_set_count(root, 2);
      mt_set_parent(n, root);
      mt_set_parent(m, root);
      mm.mm_mt = root;
      mt_note_height(height(mm));
      return;
    }
    const j = mt_index_of(p, n);
    mt_set_pivot(p, j, mt_pivot(n, mt_count(n) - 1));
    mt_set_gap(p, j, mt_max_gap(n));
    n = p;
    i = j + 1;
    s = m;
    pv = mt_pivot(m, mt_count(m) - 1);
    g = mt_max_gap(m);
  }
}

/** The leftmost leaf. */
function first_leaf(mm: Mm): usize {
  let n = mm.mm_mt;
  while (!mt_is_leaf(n)) {
    mt_visit();
    n = mt_slot(n, 0);
  }
  return n;
}

/** Insert v into the index after prev (NULL: first); next is the VMA after prev before the insertion. */
function mt_insert(mm: Mm, v: Vma, prev: Vma | null, next: Vma | null): void {
  if (!mm.mm_mt) {
    const leaf = mt_node_alloc(true);
    mt_set_count(leaf, 1);
    mt_set_slot(leaf, 0, changetype<usize>(v));
    mt_set_pivot(leaf, 0, v.vm_end);
    mt_set_gap(leaf, 0, gap_pages(gap_between(null, v)));
    v.vm_node = leaf;
    mm.mm_mt = leaf;
    return;
  }
  const leaf = prev ? prev.vm_node : first_leaf(mm);
  const i = prev ? mt_index_of(leaf, changetype<usize>(prev)) + 1 : 0;
  // the successor's gap now ends at v: when it shares the leaf (it then sits
  // at i), rewrite it before the insertion so that one walk up covers both
  const next_here = next != null && next.vm_node == leaf;
  if (next_here) mt_set_gap(leaf, i, gap_pages(gap_between(v, next!)));
  insert_slot(mm, leaf, i, changetype<usize>(v), v.vm_end, gap_pages(gap_between(prev, v)));
  if (next && !next_here) refresh(next);
}

// ---- removal ---------------------------------------------------------------

/** Remove slot i of node n, merging or refilling nodes that fall below MT_MIN. */
function remove_slot(mm: Mm, n: usize, i: i32): void {
  mt_shift(n, i + 1, -1);
  mt_set_count(n, mt_count(n) - 1);
  while (true) {
    mt_visit();
    const p = mt_parent(n);
    if (!p) {
      // the root: empty, or an internal node with a single child
      if (mt_count(n) == 0) {
        mt_node_free(n);
        mm.mm_mt = 0;
      } else if (!mt_is_leaf(n) && mt_count(n) == 1) {
        const c = mt_slot(n, 0);
        mt_set_parent(c, 0);
        mm.mm_mt = c;
        mt_node_free(n);
      }
      return;
    }
    if (mt_count(n) >= MT_MIN) {
      propagate(n);
      return;
    }
    // too few slots: join with a sibling, or even out the two
    const j = mt_index_of(p, n);
    const lj = j > 0 ? j - 1 : j;
    const l = mt_slot(p, lj);
    const r = mt_slot(p, lj + 1);
    const lc = mt_count(l);
    const rc = mt_count(r);
    mt_visit();
    if (lc + rc <= MT_SLOTS) {
      mt_copy(l, lc, r, 0, rc);
      mt_set_count(l, lc + rc);
      adopt_range(l, lc, lc + rc);
      mt_node_free(r);
      mt_set_pivot(p, lj, mt_pivot(l, lc + rc - 1));
      mt_set_gap(p, lj, mt_max_gap(l));
      mt_shift(p, lj + 2, -1);
      mt_set_count(p, mt_count(p) - 1);
      n = p; // the parent lost a slot
      continue;
    }
    const half = (lc + rc) >> 1;
    if (lc < half) {
      // move r's first (half - lc) slots to the end of l
      const k = half - lc;
      mt_copy(l, lc, r, 0, k);
      mt_set_count(l, half);
      mt_shift(r, k, -k);
      mt_set_count(r, rc - k);
      adopt_range(l, lc, half);
    } else {
      // move l's last (lc - half) slots to the front of r
      const k = lc - half;
      mt_shift(r, 0, k);
      mt_copy(r, 0, l, half, k);
      mt_set_count(r, rc + k);
      mt_set_count(l, half);
      adopt_range(r, 0, k);
    }
    mt_set_pivot(p, lj, mt_pivot(l, mt_count(l) - 1));
    mt_set_gap(p, lj, mt_max_gap(l));
    mt_set_pivot(p, lj + 1, mt_pivot(r, mt_count(r) - 1));
    mt_set_gap(p, lj + 1, mt_max_gap(r));
    propagate(p);
    return;
  }
}

// ---- the API ---------------------------------------------------------------

/** Re-store v's pivot and gap in its leaf and walk up once. */
function refresh(v: Vma): void {
  const leaf = v.vm_node;
  mt_visit();
  store_entry(leaf, mt_index_of(leaf, changetype<usize>(v)), v);
  propagate(leaf);
}

/** vma_gap_update(): v's own gap changed (its start, or its predecessor's end). */
export function vma_gap_update(v: Vma): void {
  refresh(v);
}

/**
 * Link v into mm's index after `prev` (NULL: first) and count it (__vma_link
 * + map_count++ in vma_link / __insert_vm_struct).
 */
export function vma_link(mm: Mm, v: Vma, prev: Vma | null): void {
  const next = vma_after(mm, prev);
  v.vm_mm = mm;
  mt_insert(mm, v, prev, next);
  if (!next) mm.highest_vm_end = vm_end_gap(v);
  mm.map_count++;
}

/**
 * Unlink v from mm's index and uncount it (__vma_unlink_list +
 * vma_rb_erase). Its vm_node is 0 afterwards (see detached_next).
 */
export function vma_unlink(mm: Mm, v: Vma): void {
  const leaf = v.vm_node;
  const i = mt_index_of(leaf, changetype<usize>(v));
  const prev = leaf_step(leaf, i, -1);
  const next = leaf_step(leaf, i, 1);
  // the successor's gap now starts at prev: when it shares the leaf (at i + 1), rewrite it first
  const next_here = next != null && next.vm_node == leaf;
  if (next_here) mt_set_gap(leaf, i + 1, gap_pages(gap_between(prev, next!)));
  remove_slot(mm, leaf, i);
  v.vm_node = 0;
  if (next && !next_here) refresh(next);
  if (!next) mm.highest_vm_end = prev ? vm_end_gap(prev) : 0;
  if (mm.mmap_cache == v) mm.mmap_cache = prev;
  mm.map_count--;
}

/**
 * Link a detached_next chain of n VMAs in address order into mm, which has
 * none, in one pass per level: leaves of up to 16 VMAs, then the levels
 * above (each node but the root gets at least 8 slots). dup_mmap's way to
 * fill the child, in place of one vma_link per VMA (6.8's dup_mmap copies
 * the parent's maple tree whole, __mt_dup). Requires mt_reserve_bulk(n).
 */
export function vma_link_sorted(mm: Mm, head: Vma | null, n: u32): void {
  if (n == 0) return;
  // the nodes of a level are chained through their parent field until the level above is built
  let m = n;
  let k = (m + <u32>MT_SLOTS - 1) / <u32>MT_SLOTS;
  let first: usize = 0;
  let last: usize = 0;
  let v = head;
  let prev: Vma | null = null;
  for (let j: u32 = 0; j < k; j++) {
    const cnt = <i32>(m / k + (j < m % k ? 1 : 0));
    const leaf = mt_node_alloc(true);
    for (let i = 0; i < cnt; i++) {
      const cur = v!;
      v = detached_next(cur);
      mt_set_slot(leaf, i, changetype<usize>(cur));
      mt_set_pivot(leaf, i, cur.vm_end);
      mt_set_gap(leaf, i, gap_pages(gap_between(prev, cur)));
      cur.vm_node = leaf;
      cur.vm_mm = mm;
      prev = cur;
    }
    mt_set_count(leaf, cnt);
    if (last) mt_set_parent(last, leaf);
    else first = leaf;
    last = leaf;
  }
  m = k;
  while (m > 1) {
    k = (m + <u32>MT_SLOTS - 1) / <u32>MT_SLOTS;
    let child = first;
    first = 0;
    last = 0;
    for (let j: u32 = 0; j < k; j++) {
      const cnt = <i32>(m / k + (j < m % k ? 1 : 0));
      const node = mt_node_alloc(false);
      for (let i = 0; i < cnt; i++) {
        const next_child = mt_parent(child);
        mt_set_slot(node, i, child);
        mt_set_pivot(node, i, mt_pivot(child, mt_count(child) - 1));
        mt_set_gap(node, i, mt_max_gap(child));
        mt_set_parent(child, node);
        child = next_child;
      }
      mt_set_count(node, cnt);
      if (last) mt_set_parent(last, node);
      else first = node;
      last = node;
    }
    m = k;
  }
  mm.mm_mt = first;
  mt_note_height(height(mm));
  mm.highest_vm_end = vm_end_gap(prev!);
  mm.map_count += n;
}

/**
 * Empty mm's index at once (exit_mmap's __mt_destroy, 6.1+): its VMAs, in
 * address order, become a detached_next chain (returned), every node is
 * freed. Instead of one vma_unlink per VMA.
 */
export function vma_tree_destroy(mm: Mm): Vma | null {
  const root = mm.mm_mt;
  if (!root) return null;
  destroy_head = null;
  destroy_tail = null;
  destroy_node(root);
  mm.mm_mt = 0;
  mm.map_count = 0;
  mm.highest_vm_end = 0;
  mm.mmap_cache = null;
  return destroy_head;
}

let destroy_head: Vma | null = null;
let destroy_tail: Vma | null = null;

function destroy_node(n: usize): void {
  const c = mt_count(n);
  if (mt_is_leaf(n)) {
    for (let i = 0; i < c; i++) {
      const v = changetype<Vma>(mt_slot(n, i));
      v.vm_node = 0;
      if (destroy_tail) set_detached_next(destroy_tail!, v);
      else destroy_head = v;
      destroy_tail = v;
    }
  } else {
    for (let i = 0; i < c; i++) destroy_node(mt_slot(n, i));
  }
  mt_node_free(n);
}

/**
 * The boundaries of v changed in place (its neighbours' order is unchanged):
 * refresh its pivot and gap and its successor's gap, in one walk up when
 * they share a leaf.
 */
export function vma_bounds_changed(mm: Mm, v: Vma): void {
  const leaf = v.vm_node;
  const i = mt_index_of(leaf, changetype<usize>(v));
  mt_visit();
  store_entry(leaf, i, v);
  const next = leaf_step(leaf, i, 1);
  if (next && next.vm_node == leaf) {
    mt_set_gap(leaf, i + 1, gap_pages(gap_between(v, next)));
    propagate(leaf);
    return;
  }
  propagate(leaf);
  if (next) refresh(next);
  else mm.highest_vm_end = vm_end_gap(v);
}

/** The first slot of n whose pivot is above addr, or count. */
// @ts-ignore: decorator
@inline function slot_above(n: usize, addr: u64): i32 {
  const c = mt_count(n);
  let i = 0;
  while (i < c && mt_pivot(n, i) <= addr) i++;
  return i;
}

/**
 * find_vma(): the first VMA with vm_end > addr, or NULL. The VMA found last
 * answers first when it or its list neighbour is the answer (an operation
 * looks up the same address or the range around it several times), as
 * mm->mmap_cache did before 3.15 (mm/mmap.c find_vma, v3.14) and the
 * per-thread vmacache until 6.1 (mm/vmacache.c).
 */
export function find_vma(mm: Mm, addr: u64): Vma | null {
  const c = mm.mmap_cache;
  if (c) {
    // the neighbours' ends are the leaf's pivots: no neighbour record is read
    if (addr < c.vm_end) {
      if (addr >= c.vm_start) return c;
      const leaf = c.vm_node;
      const i = mt_index_of(leaf, changetype<usize>(c));
      if (i > 0 && mt_pivot(leaf, i - 1) <= addr) return c;
    } else {
      const leaf = c.vm_node;
      const i = mt_index_of(leaf, changetype<usize>(c)) + 1;
      if (i < mt_count(leaf) && mt_pivot(leaf, i) > addr) {
        const next = changetype<Vma>(mt_slot(leaf, i));
        mm.mmap_cache = next;
        return next;
      }
    }
    // at a leaf's edge, or further away: the walk from the root
  }
  let n = mm.mm_mt;
  if (!n) return null;
  while (true) {
    mt_visit();
    const i = slot_above(n, addr);
    if (i == mt_count(n)) return null;
    if (mt_is_leaf(n)) {
      const v = changetype<Vma>(mt_slot(n, i));
      mm.mmap_cache = v;
      return v;
    }
    n = mt_slot(n, i);
  }
}

/** find_vma_intersection(): the first VMA intersecting [start, end), or NULL. */
export function find_vma_intersection(mm: Mm, start: u64, end: u64): Vma | null {
  const v = find_vma(mm, start);
  if (v && end <= v.vm_start) return null;
  return v;
}

/** The last VMA that starts below addr (the `prev` of find_vma_links), or NULL. */
export function find_vma_before(mm: Mm, addr: u64): Vma | null {
  const v = find_vma(mm, addr);
  if (!v) return vma_last(mm);
  return v.vm_start < addr ? v : vma_prev(v);
}

/** The last VMA of the mm, or NULL. */
export function vma_last(mm: Mm): Vma | null {
  let n = mm.mm_mt;
  if (!n) return null;
  while (true) {
    mt_visit();
    const s = mt_slot(n, mt_count(n) - 1);
    if (mt_is_leaf(n)) return changetype<Vma>(s);
    n = s;
  }
}

// ---- checking ----------------------------------------------------------------

/** the VMA the in-order walk of the index saw last, and the VMAs seen */
let check_last: Vma | null = null;
let check_count: u32 = 0;
let check_leaf_depth: i32 = 0;

/**
 * Checks the index: every node live and within its fill bounds, parent and
 * leaf links, every leaf at one depth, the VMAs in address order without
 * overlap, each pivot and gap equal to what the VMAs give, and the
 * neighbour steps (vma_next/vma_prev) agreeing with the in-order walk.
 * Returns 0 when consistent, else a code naming the first violation (the
 * host checker reads it through the `mm_check` export):
 *   1 vma_prev/vma_next disagree with the in-order walk   2 empty VMA
 *   4 vm_mm            5 map_count         6 highest_vm_end
 *   7 root has a parent                    8 no index but map_count > 0
 *   9 VMAs out of address order or overlapping (3 before the list went)
 *   10 parent / vm_node link               11 gap
 *   12 fill bounds     13 leaves at different depths
 *   14 pivot           15 a node is not a live record
 *   16 mmap_cache holds a VMA that is not linked in this mm
 */
export function vma_tree_check(mm: Mm): i32 {
  const c = mm.mmap_cache;
  if (c && (c.vm_mm != mm || !c.vm_node)) return 16;
  const root = mm.mm_mt;
  if (!root) {
    if (mm.map_count != 0) return 8;
    return mm.highest_vm_end != 0 ? 6 : 0;
  }
  if (mt_parent(root)) return 7;
  check_last = null;
  check_count = 0;
  check_leaf_depth = -1;
  const r = check_node(mm, root, 1, true);
  if (r) return r;
  if (check_count != mm.map_count) return 5;
  if (mm.highest_vm_end != vm_end_gap(check_last!)) return 6;
  return 0;
}

function check_node(mm: Mm, n: usize, depth: i32, is_root: bool): i32 {
  if (load<u32>(n) != 0x4c495645) return 15; // lib/pool.ts RECORD_LIVE
  const c = mt_count(n);
  const leaf = mt_is_leaf(n);
  if (c > MT_SLOTS || c < 1) return 12;
  if (!is_root && c < MT_MIN) return 12;
  if (is_root && !leaf && c < 2) return 12;
  if (leaf) {
    if (check_leaf_depth < 0) check_leaf_depth = depth;
    else if (check_leaf_depth != depth) return 13;
    // the VMAs and their order first, then what the slots say of them
    const first = check_last;
    for (let i = 0; i < c; i++) {
      const v = changetype<Vma>(mt_slot(n, i));
      const prev = check_last;
      if (v.vm_node != n) return 10;
      if (v.vm_start >= v.vm_end) return 2;
      if (prev && prev.vm_end > v.vm_start) return 9;
      if (v.vm_mm != mm) return 4;
      check_last = v;
    }
    let prev = first;
    for (let i = 0; i < c; i++) {
      const v = changetype<Vma>(mt_slot(n, i));
      if (mt_pivot(n, i) != v.vm_end) return 14;
      if (vma_prev(v) != prev || (prev && vma_next(prev) != v)) return 1;
      if (mt_gap(n, i) != gap_pages(gap_between(prev, v))) return 11;
      prev = v;
      check_count++;
    }
    return 0;
  }
  for (let i = 0; i < c; i++) {
    const ch = mt_slot(n, i);
    if (mt_parent(ch) != n) return 10;
    const r = check_node(mm, ch, depth + 1, false);
    if (r) return r;
    if (mt_pivot(n, i) != mt_pivot(ch, mt_count(ch) - 1)) return 14;
    if (mt_gap(n, i) != mt_max_gap(ch)) return 11;
  }
  return 0;
}

// ---- measuring and testing -----------------------------------------------------

const stats_buf = memory.data(8 * 8, 8);

function count_nodes(n: usize): u32 {
  if (mt_is_leaf(n)) return 1;
  let k: u32 = 1;
  for (let i = 0, c = mt_count(n); i < c; i++) k += count_nodes(mt_slot(n, i));
  return k;
}

/**
 * The index's shape, for bench/scale.ts: f64s at the returned address:
 * VMAs, the mean and the largest depth of a VMA (root = 1; every leaf is at
 * the same depth), nodes, bytes of index nodes, index nodes visited so far.
 */
export function vma_tree_stats(mm: Mm): usize {
  const h = <f64>height(mm);
  const nodes = mm.mm_mt ? count_nodes(mm.mm_mt) : 0;
  store<f64>(stats_buf, <f64>mm.map_count, 0);
  store<f64>(stats_buf, h, 8);
  store<f64>(stats_buf, h, 16);
  store<f64>(stats_buf, <f64>nodes, 24);
  store<f64>(stats_buf, <f64>nodes * <f64>MT_NODE_BYTES, 32);
  store<f64>(stats_buf, <f64>mt_visits, 40);
  return stats_buf;
}

/**
 * Damage mm's index on purpose so that tests can see vma_tree_check catch it
 * (test/engine/internal.test.ts). kind: 1 a leaf pivot, 2 a gap in the root,
 * 3 two VMAs of a leaf swapped, 4 a leaf's count below MT_MIN, 5 a child's
 * parent link, 6 a VMA's vm_node. Returns 0, or -1 when the tree is too small.
 */
export function vma_tree_corrupt(mm: Mm, kind: i32): i32 {
  const root = mm.mm_mt;
  if (!root || mt_is_leaf(root)) return -1;
  const leaf = first_leaf(mm);
  if (mt_count(leaf) < 2) return -1;
  if (kind == 1) mt_set_pivot(leaf, 1, mt_pivot(leaf, 1) + 4096);
  else if (kind == 2) mt_set_gap(root, 0, mt_gap(root, 0) ^ 1);
  else if (kind == 3) {
    const a = mt_slot(leaf, 0);
    mt_set_slot(leaf, 0, mt_slot(leaf, 1));
    mt_set_slot(leaf, 1, a);
  } else if (kind == 4) mt_set_count(leaf, MT_MIN - 1);
  else if (kind == 5) mt_set_parent(mt_slot(root, 1), mt_slot(root, 0));
  else if (kind == 6) changetype<Vma>(mt_slot(leaf, 1)).vm_node = mt_slot(root, 1);
  else return -1;
  return 0;
}



