// The per-mm VMA set: a sorted doubly linked list (vm_prev/vm_next, mm->mmap)
// plus a search tree keyed by vm_start and augmented with the largest free gap
// of each subtree (rb_subtree_gap), as v5.17 keeps them (mm/mmap.c: mm_rb,
// vma_compute_gap, vma_gap_update, __vma_link_rb, vma_rb_erase, find_vma).
//
// The kernel's tree is a red-black tree; ours is a treap (random priorities
// derived from the VMA id, so deterministic) with parent pointers. The rules
// only observe the answers (find_vma, the unmapped-area search), which are
// fully determined by the sorted set, never the tree's shape. Every operation
// is O(log n) expected.
//
//   gap(v) = vm_start_gap(v) - vm_end_gap(v->vm_prev)   (0 if negative; from 0 for the first VMA)
//   rb_subtree_gap(v) = max(gap(v), left->rb_subtree_gap, right->rb_subtree_gap)

import { VM_GROWSDOWN } from "../abi/constants";
import { stack_guard_gap } from "./sysctl";
import { Mm, Vma } from "./types";

/** tree nodes visited since start-up (bench/scale.ts reads it through mm_tree_stats) */
export let tree_touched: u64 = 0;

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

/** vma_compute_gap() */
export function vma_compute_gap(v: Vma): u64 {
  let gap = vm_start_gap(v);
  const prev = v.vm_prev;
  if (prev) {
    const prev_end = vm_end_gap(prev);
    gap = gap > prev_end ? gap - prev_end : 0;
  }
  return gap;
}

function compute_subtree_gap(v: Vma): u64 {
  let max = vma_compute_gap(v);
  const l = v.rb_left;
  if (l && l.rb_subtree_gap > max) max = l.rb_subtree_gap;
  const r = v.rb_right;
  if (r && r.rb_subtree_gap > max) max = r.rb_subtree_gap;
  return max;
}

/**
 * Recompute rb_subtree_gap from `v` up to the root. It does not stop early
 * when a value is unchanged: a rotation may already have refreshed a node
 * whose ancestors are still stale (list and tree are updated in two steps).
 */
function augment_up(v: Vma | null): void {
  while (v) {
    tree_touched++;
    v.rb_subtree_gap = compute_subtree_gap(v);
    v = v.rb_parent;
  }
}

/** vma_gap_update(): v's own gap changed (its start, or its predecessor's end). */
export function vma_gap_update(v: Vma): void {
  augment_up(v);
}

function replace_child(mm: Mm, parent: Vma | null, old: Vma, now: Vma | null): void {
  if (!parent) mm.mm_rb = now;
  else if (parent.rb_left == old) parent.rb_left = now;
  else parent.rb_right = now;
  if (now) now.rb_parent = parent;
}

/** Rotate x's right child up over x. */
function rotate_left(mm: Mm, x: Vma): void {
  tree_touched += 2;
  const y = changetype<Vma>(x.rb_right);
  const parent = x.rb_parent;
  x.rb_right = y.rb_left;
  if (y.rb_left) changetype<Vma>(y.rb_left).rb_parent = x;
  y.rb_left = x;
  x.rb_parent = y;
  replace_child(mm, parent, x, y);
  x.rb_subtree_gap = compute_subtree_gap(x);
  y.rb_subtree_gap = compute_subtree_gap(y);
}

/** Rotate x's left child up over x. */
function rotate_right(mm: Mm, x: Vma): void {
  tree_touched += 2;
  const y = changetype<Vma>(x.rb_left);
  const parent = x.rb_parent;
  x.rb_left = y.rb_right;
  if (y.rb_right) changetype<Vma>(y.rb_right).rb_parent = x;
  y.rb_right = x;
  x.rb_parent = y;
  replace_child(mm, parent, x, y);
  x.rb_subtree_gap = compute_subtree_gap(x);
  y.rb_subtree_gap = compute_subtree_gap(y);
}

/** Insert v (already linked into the list) into the tree (__vma_link_rb). */
function vma_rb_insert(mm: Mm, v: Vma): void {
  v.rb_left = null;
  v.rb_right = null;
  let parent: Vma | null = null;
  let cur = mm.mm_rb;
  let left = false;
  while (cur) {
    tree_touched++;
    parent = cur;
    left = v.vm_start < cur.vm_start;
    cur = left ? cur.rb_left : cur.rb_right;
  }
  v.rb_parent = parent;
  if (!parent) mm.mm_rb = v;
  else if (left) parent.rb_left = v;
  else parent.rb_right = v;
  v.rb_subtree_gap = compute_subtree_gap(v);
  // heap order on priorities
  while (v.rb_parent && changetype<Vma>(v.rb_parent).rb_prio < v.rb_prio) {
    const p = changetype<Vma>(v.rb_parent);
    if (p.rb_left == v) rotate_right(mm, p);
    else rotate_left(mm, p);
  }
  augment_up(v.rb_parent);
}

/** Remove v from the tree (vma_rb_erase). */
function vma_rb_erase(mm: Mm, v: Vma): void {
  // rotate v down until it is a leaf
  while (v.rb_left || v.rb_right) {
    const l = v.rb_left;
    const r = v.rb_right;
    if (!r || (l && l.rb_prio > r.rb_prio)) rotate_right(mm, v);
    else rotate_left(mm, v);
  }
  const parent = v.rb_parent;
  replace_child(mm, parent, v, null);
  v.rb_parent = null;
  augment_up(parent);
}

/**
 * Link v into mm's list and tree after `prev` (NULL: at the head) and count
 * it (__vma_link + map_count++ in vma_link / __insert_vm_struct).
 */
export function vma_link(mm: Mm, v: Vma, prev: Vma | null): void {
  const next = prev ? prev.vm_next : mm.mmap;
  v.vm_prev = prev;
  v.vm_next = next;
  if (prev) prev.vm_next = v;
  else mm.mmap = v;
  if (next) next.vm_prev = v;
  v.vm_mm = mm;
  vma_rb_insert(mm, v);
  if (next) vma_gap_update(next);
  else mm.highest_vm_end = vm_end_gap(v);
  mm.map_count++;
}

/** Unlink v from mm's list and tree and uncount it (__vma_unlink_list + vma_rb_erase). */
export function vma_unlink(mm: Mm, v: Vma): void {
  const prev = v.vm_prev;
  const next = v.vm_next;
  if (prev) prev.vm_next = next;
  else mm.mmap = next;
  if (next) next.vm_prev = prev;
  vma_rb_erase(mm, v);
  if (next) vma_gap_update(next);
  else mm.highest_vm_end = prev ? vm_end_gap(prev) : 0;
  v.vm_prev = null;
  v.vm_next = null;
  mm.map_count--;
}

/**
 * The boundaries of v changed in place (its neighbours' order is unchanged):
 * refresh the gaps that depend on them.
 */
export function vma_bounds_changed(mm: Mm, v: Vma): void {
  vma_gap_update(v);
  const next = v.vm_next;
  if (next) vma_gap_update(next);
  else mm.highest_vm_end = vm_end_gap(v);
}

/** find_vma(): the first VMA with vm_end > addr, or NULL. */
export function find_vma(mm: Mm, addr: u64): Vma | null {
  let found: Vma | null = null;
  let cur = mm.mm_rb;
  while (cur) {
    tree_touched++;
    if (cur.vm_end > addr) {
      found = cur;
      if (cur.vm_start <= addr) break;
      cur = cur.rb_left;
    } else {
      cur = cur.rb_right;
    }
  }
  return found;
}

/** find_vma_intersection(): the first VMA intersecting [start, end), or NULL. */
export function find_vma_intersection(mm: Mm, start: u64, end: u64): Vma | null {
  const v = find_vma(mm, start);
  if (v && end <= v.vm_start) return null;
  return v;
}

/** The last VMA that starts below addr (the `prev` of find_vma_links), or NULL. */
export function find_vma_before(mm: Mm, addr: u64): Vma | null {
  let found: Vma | null = null;
  let cur = mm.mm_rb;
  while (cur) {
    tree_touched++;
    if (cur.vm_start < addr) {
      found = cur;
      cur = cur.rb_right;
    } else {
      cur = cur.rb_left;
    }
  }
  return found;
}

/** The last VMA of the mm, or NULL. */
export function vma_last(mm: Mm): Vma | null {
  let cur = mm.mm_rb;
  if (!cur) return null;
  while (cur.rb_right) cur = changetype<Vma>(cur.rb_right);
  return cur;
}

/**
 * Checks the list, the tree order, parent links, heap order and every
 * rb_subtree_gap. Returns 0 when consistent, else a code naming the first
 * violation (used by the host checker through the `mm_check` export).
 */
export function vma_tree_check(mm: Mm): i32 {
  let count: u32 = 0;
  let prev: Vma | null = null;
  let v = mm.mmap;
  while (v) {
    if (v.vm_prev != prev) return 1;
    if (v.vm_start >= v.vm_end) return 2;
    if (prev && prev.vm_end > v.vm_start) return 3;
    if (v.vm_mm != mm) return 4;
    count++;
    prev = v;
    v = v.vm_next;
  }
  if (count != mm.map_count) return 5;
  if (mm.highest_vm_end != (prev ? vm_end_gap(prev) : 0)) return 6;
  const root = mm.mm_rb;
  if (root && root.rb_parent) return 7;
  const n = check_subtree(root, 0, 0xffffffffffffffff);
  if (n < 0) return -n;
  if (<u32>n != count) return 8;
  return 0;
}

function check_subtree(v: Vma | null, lo: u64, hi: u64): i32 {
  if (!v) return 0;
  if (v.vm_start < lo || v.vm_start > hi) return -9;
  const l = v.rb_left;
  const r = v.rb_right;
  if (l && (l.rb_parent != v || l.rb_prio > v.rb_prio)) return -10;
  if (r && (r.rb_parent != v || r.rb_prio > v.rb_prio)) return -10;
  if (v.rb_subtree_gap != compute_subtree_gap(v)) return -11;
  const a = check_subtree(l, lo, v.vm_start);
  if (a < 0) return a;
  const b = check_subtree(r, v.vm_start, hi);
  if (b < 0) return b;
  return a + b + 1;
}

function depth_walk(v: Vma | null, d: u32, acc: usize): void {
  if (!v) return;
  store<f64>(acc, load<f64>(acc) + <f64>d);
  if (<f64>d > load<f64>(acc, 8)) store<f64>(acc, <f64>d, 8);
  depth_walk(v.rb_left, d + 1, acc);
  depth_walk(v.rb_right, d + 1, acc);
}

const stats_buf = memory.data(8 * 8, 8);

/**
 * The index's shape, for bench/scale.ts: f64s at the returned address:
 * VMAs, the mean and the largest depth of a VMA's node (root = 1), tree
 * nodes, bytes of tree nodes outside the VMA records, nodes visited so far.
 */
export function vma_tree_stats(mm: Mm): usize {
  memory.fill(stats_buf, 0, 64);
  const acc = stats_buf + 48;
  depth_walk(mm.mm_rb, 1, acc);
  store<f64>(stats_buf, <f64>mm.map_count, 0);
  store<f64>(stats_buf, mm.map_count ? load<f64>(acc) / <f64>mm.map_count : 0, 8);
  store<f64>(stats_buf, load<f64>(acc, 8), 16);
  store<f64>(stats_buf, <f64>mm.map_count, 24);
  store<f64>(stats_buf, 0, 32);
  store<f64>(stats_buf, <f64>tree_touched, 40);
  return stats_buf;
}
