// anon_vma and anon_vma_chain (mm/rmap.c, v5.17): the objects through which
// rmap finds every mapping of an anonymous page, and their lifecycle:
// anon_vma_prepare (with find_mergeable_anon_vma's reuse), anon_vma_clone,
// anon_vma_fork, unlink_anon_vmas, and the per-anon_vma interval tree of AVCs
// keyed by the VMA's pgoff range (mm/interval_tree.c).
//
// Counters are v5.17's: `refcount` (object lifetime: 1 while its tree is in
// use, +1 on the root per descendant anon_vma) and `degree` (VMAs using it as
// their own anon_vma + child anon_vmas + the self-parent link of a root).
// 6.0 (2555283eb40d) splits degree into num_active_vmas (the first term) and
// num_children (the other two): vmasim keeps degree, their sum, and
// num_active_vmas, and derives num_children = degree - num_active_vmas.

import { PAGE_SHIFT, VM_ACCESS_FLAGS, VM_SOFTDIRTY } from "../abi/constants";
import { Pool, pool_alloc, pool_create, pool_free, pool_reserve, pool_retire } from "../lib/pool";
import { MERGE_PAGES_RECONNECT_V2, kver, merge_pages, vm_sticky } from "../mm/policy";
import { Vma, vma_pages } from "../mm/types";
import { C_ANON_VMAS_CREATED, C_ANON_VMAS_FREED, count } from "../trace/merge_trace";
import { vma_next, vma_prev } from "../mm/vma_tree";

@unmanaged export class AnonVma {
  _pool: u32 = 0;
  /** allocation order per kernel, from 1 */
  id: u32 = 0;
  root: AnonVma | null = null;
  parent: AnonVma | null = null;
  refcount: i32 = 0;
  degree: i32 = 0;
  /** VMAs whose own anon_vma this is (6.0's num_active_vmas; degree counts them too) */
  num_active_vmas: i32 = 0;
  /** the interval tree of AVCs */
  rb_root: Avc | null = null;
  /** number of AVCs in the tree */
  nr_avcs: u32 = 0;
  /** seed-v2: holds a leaked reference (never freed), on the anon_vmas_leaked() list */
  leaked: bool = false;
  leaked_next: AnonVma | null = null;
}

@unmanaged export class Avc {
  _pool: u32 = 0;
  id: u32 = 0;
  vma: Vma | null = null;
  anon_vma: AnonVma | null = null;
  /** the VMA's chain, newest first: same_vma_next goes to older entries */
  same_vma_prev: Avc | null = null;
  same_vma_next: Avc | null = null;
  /** interval tree node: [start, last] in pages, as inserted */
  start: u64 = 0;
  last: u64 = 0;
  rb_subtree_last: u64 = 0;
  rb_left: Avc | null = null;
  rb_right: Avc | null = null;
  rb_parent: Avc | null = null;
  rb_prio: u32 = 0;
}

const av_pool: Pool = pool_create(offsetof<AnonVma>(), 1024);
const avc_pool: Pool = pool_create(offsetof<Avc>(), 2048);
let av_seq: u32 = 0;
let avc_seq: u32 = 0;

export function anon_vma_reserve(anon_vmas: u32, avcs: u32): bool {
  return pool_reserve(av_pool, anon_vmas) && pool_reserve(avc_pool, avcs);
}
export function anon_vmas_live(): u32 { return av_pool.live; }
export function avcs_live(): u32 { return avc_pool.live; }

// ---- the interval tree ------------------------------------------------------------

function prio(id: u32): u32 {
  let h = id * 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

function subtree_last(n: Avc): u64 {
  let m = n.last;
  const l = n.rb_left;
  if (l && l.rb_subtree_last > m) m = l.rb_subtree_last;
  const r = n.rb_right;
  if (r && r.rb_subtree_last > m) m = r.rb_subtree_last;
  return m;
}

function augment_up(n: Avc | null): void {
  while (n) {
    n.rb_subtree_last = subtree_last(n);
    n = n.rb_parent;
  }
}

function replace_child(av: AnonVma, parent: Avc | null, old: Avc, now: Avc | null): void {
  if (!parent) av.rb_root = now;
  else if (parent.rb_left == old) parent.rb_left = now;
  else parent.rb_right = now;
  if (now) now.rb_parent = parent;
}

function rotate_left(av: AnonVma, x: Avc): void {
  const y = changetype<Avc>(x.rb_right);
  const p = x.rb_parent;
  x.rb_right = y.rb_left;
  if (y.rb_left) y.rb_left!.rb_parent = x;
  y.rb_left = x;
  x.rb_parent = y;
  replace_child(av, p, x, y);
  x.rb_subtree_last = subtree_last(x);
  y.rb_subtree_last = subtree_last(y);
}

function rotate_right(av: AnonVma, x: Avc): void {
  const y = changetype<Avc>(x.rb_left);
  const p = x.rb_parent;
  x.rb_left = y.rb_right;
  if (y.rb_right) y.rb_right!.rb_parent = x;
  y.rb_right = x;
  x.rb_parent = y;
  replace_child(av, p, x, y);
  x.rb_subtree_last = subtree_last(x);
  y.rb_subtree_last = subtree_last(y);
}

/** anon_vma_interval_tree_insert(): keyed by the VMA's current pgoff range. */
export function interval_tree_insert(avc: Avc, av: AnonVma): void {
  const v = avc.vma!;
  avc.start = v.vm_pgoff;
  avc.last = v.vm_pgoff + vma_pages(v) - 1;
  avc.rb_left = null;
  avc.rb_right = null;
  let parent: Avc | null = null;
  let cur = av.rb_root;
  let left = false;
  while (cur) {
    parent = cur;
    left = avc.start < cur.start;
    cur = left ? cur.rb_left : cur.rb_right;
  }
  avc.rb_parent = parent;
  if (!parent) av.rb_root = avc;
  else if (left) parent.rb_left = avc;
  else parent.rb_right = avc;
  avc.rb_subtree_last = avc.last;
  while (avc.rb_parent && avc.rb_parent!.rb_prio < avc.rb_prio) {
    const p = avc.rb_parent!;
    if (p.rb_left == avc) rotate_right(av, p);
    else rotate_left(av, p);
  }
  augment_up(avc.rb_parent);
  av.nr_avcs++;
}

/** anon_vma_interval_tree_remove() */
export function interval_tree_remove(avc: Avc, av: AnonVma): void {
  while (avc.rb_left || avc.rb_right) {
    const l = avc.rb_left;
    const r = avc.rb_right;
    if (!r || (l && l.rb_prio > r.rb_prio)) rotate_right(av, avc);
    else rotate_left(av, avc);
  }
  const p = avc.rb_parent;
  replace_child(av, p, avc, null);
  avc.rb_parent = null;
  augment_up(p);
  av.nr_avcs--;
}

/** The i-th AVC of av's tree in key order (for snapshots; O(n)). */
export function interval_tree_first(av: AnonVma): Avc | null {
  let n = av.rb_root;
  if (!n) return null;
  while (n.rb_left) n = n.rb_left!;
  return n;
}

/** In-order successor. */
export function interval_tree_next(n: Avc): Avc | null {
  if (n.rb_right) {
    let m = n.rb_right!;
    while (m.rb_left) m = m.rb_left!;
    return m;
  }
  let c = n;
  let p = n.rb_parent;
  while (p && p.rb_right == c) {
    c = p;
    p = p.rb_parent;
  }
  return p;
}

/** Some AVC of av whose [start, last] contains pgoff, searching below n; NULL if none. */
function tree_stab(n: Avc | null, pgoff: u64, vma: Vma): Avc | null {
  if (!n || n.rb_subtree_last < pgoff) return null;
  const l = tree_stab(n.rb_left, pgoff, vma);
  if (l) return l;
  if (n.start <= pgoff && pgoff <= n.last && n.vma == vma) return n;
  if (n.start > pgoff) return null;
  return tree_stab(n.rb_right, pgoff, vma);
}

/** The rmap walk's question: does av's tree hold vma at page offset pgoff? */
export function anon_vma_covers(av: AnonVma, vma: Vma, pgoff: u64): bool {
  return tree_stab(av.rb_root, pgoff, vma) != null;
}

/** anon_vma_interval_tree_pre_update_vma(): take vma's AVCs out before its range or pgoff changes. */
export function anon_vma_interval_tree_pre_update_vma(vma: Vma): void {
  let avc = changetype<Avc | null>(vma.anon_vma_chain);
  while (avc) {
    interval_tree_remove(avc, avc.anon_vma!);
    avc = avc.same_vma_next;
  }
}

/** anon_vma_interval_tree_post_update_vma(): put them back with the new keys. */
export function anon_vma_interval_tree_post_update_vma(vma: Vma): void {
  let avc = changetype<Avc | null>(vma.anon_vma_chain);
  while (avc) {
    interval_tree_insert(avc, avc.anon_vma!);
    avc = avc.same_vma_next;
  }
}

// ---- lifecycle -------------------------------------------------------------------

/** anon_vma_alloc(): refcount 1, degree 1, its own root and parent. Requires a reservation. */
function anon_vma_alloc(): AnonVma {
  const av = changetype<AnonVma>(pool_alloc(av_pool));
  av.id = ++av_seq;
  count(C_ANON_VMAS_CREATED);
  av.refcount = 1;
  av.degree = 1;
  av.num_active_vmas = 0;
  av.root = av;
  av.parent = av;
  return av;
}

function anon_vma_free(av: AnonVma): void {
  assert(av.nr_avcs == 0, "freeing an anon_vma whose tree is not empty");
  count(C_ANON_VMAS_FREED);
  // seed-v2 leaves pages pointing to freed anon_vmas: never reuse their records
  if (merge_pages == MERGE_PAGES_RECONNECT_V2) pool_retire(av_pool, changetype<usize>(av));
  else pool_free(av_pool, changetype<usize>(av));
}

/** put_anon_vma() / __put_anon_vma(): a non-root drops its pin on the root when freed. */
export function put_anon_vma(av: AnonVma): void {
  if (--av.refcount != 0) return;
  const root = av.root!;
  anon_vma_free(av);
  if (root != av && --root.refcount == 0) anon_vma_free(root);
}

let leaked_head: AnonVma | null = null;

/**
 * seed-v2's page_get_anon_vma() without the put: av can never be freed now.
 * It may be linked to no VMA any more, so snapshots find it on this list.
 */
export function anon_vma_leak_ref(av: AnonVma): void {
  av.refcount++;
  if (av.leaked) return;
  av.leaked = true;
  av.leaked_next = leaked_head;
  leaked_head = av;
}

/** The anon_vmas holding leaked references, newest first. */
export function anon_vmas_leaked(): AnonVma | null {
  return leaked_head;
}

/** get_anon_vma() */
export function get_anon_vma(av: AnonVma): void {
  av.refcount++;
}

function avc_alloc(): Avc {
  const a = changetype<Avc>(pool_alloc(avc_pool));
  a.id = ++avc_seq;
  a.rb_prio = prio(a.id);
  return a;
}

function avc_free(a: Avc): void {
  pool_free(avc_pool, changetype<usize>(a));
}

/** anon_vma_chain_link(): the AVC goes at the head of vma's chain and into av's tree. */
function anon_vma_chain_link(vma: Vma, avc: Avc, av: AnonVma): void {
  avc.vma = vma;
  avc.anon_vma = av;
  const head = changetype<Avc | null>(vma.anon_vma_chain);
  avc.same_vma_prev = null;
  avc.same_vma_next = head;
  if (head) head.same_vma_prev = avc;
  vma.anon_vma_chain = changetype<usize>(avc);
  interval_tree_insert(avc, av);
}

function chain_del(vma: Vma, avc: Avc): void {
  if (avc.same_vma_prev) avc.same_vma_prev!.same_vma_next = avc.same_vma_next;
  else vma.anon_vma_chain = changetype<usize>(avc.same_vma_next);
  if (avc.same_vma_next) avc.same_vma_next!.same_vma_prev = avc.same_vma_prev;
  avc.same_vma_prev = null;
  avc.same_vma_next = null;
}

/** Entries of vma's anon_vma_chain. */
export function chain_length(vma: Vma): u32 {
  let n: u32 = 0;
  let a = changetype<Avc | null>(vma.anon_vma_chain);
  while (a) {
    n++;
    a = a.same_vma_next;
  }
  return n;
}

/** list_is_singular(&vma->anon_vma_chain) */
export function chain_is_singular(vma: Vma): bool {
  const a = changetype<Avc | null>(vma.anon_vma_chain);
  return a != null && a.same_vma_next == null;
}

/**
 * anon_vma_compatible(a, b): could a and b (a just below b) be mprotected
 * into one VMA? Flags may differ only in access bits and soft-dirty.
 */
function anon_vma_compatible(a: Vma, b: Vma): bool {
  return a.vm_end == b.vm_start && a.vm_policy == b.vm_policy && a.vm_file == b.vm_file
    && ((a.vm_flags ^ b.vm_flags) & ~(VM_ACCESS_FLAGS | VM_SOFTDIRTY | vm_sticky())) == 0
    && b.vm_pgoff == a.vm_pgoff + ((b.vm_start - a.vm_start) >> PAGE_SHIFT);
}

/** reusable_anon_vma(): old's anon_vma if a/b are compatible and old was not forked into. */
function reusable_anon_vma(old: Vma, a: Vma, b: Vma): AnonVma | null {
  if (anon_vma_compatible(a, b)) {
    const av = changetype<AnonVma | null>(old.anon_vma);
    if (av && chain_is_singular(old)) return av;
  }
  return null;
}

/** find_mergeable_anon_vma(): next first, then prev. */
function find_mergeable_anon_vma(vma: Vma): AnonVma | null {
  const next = vma_next(vma);
  if (next) {
    const av = reusable_anon_vma(next, vma, next);
    if (av) return av;
  }
  const prev = vma_prev(vma);
  if (prev) return reusable_anon_vma(prev, prev, vma);
  return null;
}

/**
 * anon_vma_prepare(): give vma an anon_vma (a neighbour's, or a new root).
 * False when the engine is out of memory (VM_FAULT_OOM / ENOMEM).
 */
export function anon_vma_prepare(vma: Vma): bool {
  if (vma.anon_vma) return true;
  if (!anon_vma_reserve(1, 1)) return false;
  let av = find_mergeable_anon_vma(vma);
  if (!av) av = anon_vma_alloc();
  vma.anon_vma = changetype<usize>(av);
  anon_vma_chain_link(vma, avc_alloc(), av);
  // the vma's reference, or the self-parent link of a new root
  av.degree++;
  av.num_active_vmas++;
  return true;
}

/**
 * anon_vma_clone(dst, src): link dst into every anon_vma of src's chain
 * (oldest first). At fork (dst has no anon_vma yet, src has one) reuse the
 * first anon_vma other than src's with degree < 2. False: out of memory
 * (nothing was linked).
 */
export function anon_vma_clone(dst: Vma, src: Vma): bool {
  const n = chain_length(src);
  if (n == 0) return true;
  if (!anon_vma_reserve(0, n)) return false;
  // walk from the oldest entry (the tail) to the newest
  let pavc = changetype<Avc | null>(src.anon_vma_chain);
  while (pavc && pavc.same_vma_next) pavc = pavc.same_vma_next;
  while (pavc) {
    const av = pavc.anon_vma!;
    anon_vma_chain_link(dst, avc_alloc(), av);
    if (!dst.anon_vma && src.anon_vma && anon_vma_reusable(av, src)) dst.anon_vma = changetype<usize>(av);
    pavc = pavc.same_vma_prev;
  }
  if (dst.anon_vma) {
    const dav = changetype<AnonVma>(dst.anon_vma);
    dav.degree++;
    dav.num_active_vmas++;
  }
  return true;
}

/**
 * anon_vma_clone()'s reuse test at fork. v5.17: not src's and degree < 2,
 * which also counts VMAs; 6.0 (2555283eb40d): no VMA uses it as its own and
 * fewer than two children (num_children = degree - num_active_vmas).
 */
function anon_vma_reusable(av: AnonVma, src: Vma): bool {
  if (kver >= 600) return av.num_active_vmas == 0 && av.degree - av.num_active_vmas < 2;
  return changetype<usize>(av) != src.anon_vma && av.degree < 2;
}

/**
 * anon_vma_fork(child, parent): link the child VMA into the parent's
 * anon_vmas and give it its own anon_vma (or reuse one). False: out of memory.
 */
export function anon_vma_fork(vma: Vma, pvma: Vma): bool {
  if (!pvma.anon_vma) return true;
  vma.anon_vma = 0;
  if (!anon_vma_reserve(1, chain_length(pvma) + 1)) return false;
  anon_vma_clone(vma, pvma);
  if (vma.anon_vma) return true;
  const av = anon_vma_alloc();
  const pav = changetype<AnonVma>(pvma.anon_vma);
  av.root = pav.root;
  av.parent = pav;
  // the root is pinned while any descendant lives: the lock lives there
  get_anon_vma(av.root!);
  vma.anon_vma = changetype<usize>(av);
  anon_vma_chain_link(vma, avc_alloc(), av);
  // alloc's degree 1 is this VMA's
  av.num_active_vmas = 1;
  pav.degree++;
  return true;
}

/**
 * unlink_anon_vmas(): take vma out of every anon_vma of its chain, newest
 * first, and release the anon_vmas whose tree became empty.
 */
export function unlink_anon_vmas(vma: Vma): void {
  let avc = changetype<Avc | null>(vma.anon_vma_chain);
  while (avc) {
    const next = avc.same_vma_next;
    const av = avc.anon_vma!;
    interval_tree_remove(avc, av);
    if (av.rb_root == null) {
      // keep the AVC for the second pass: the anon_vma is released there
      av.parent!.degree--;
    } else {
      chain_del(vma, avc);
      avc_free(avc);
    }
    avc = next;
  }
  if (vma.anon_vma) {
    const av = changetype<AnonVma>(vma.anon_vma);
    av.degree--;
    av.num_active_vmas--;
    vma.anon_vma = 0;
  }
  avc = changetype<Avc | null>(vma.anon_vma_chain);
  while (avc) {
    const next = avc.same_vma_next;
    put_anon_vma(avc.anon_vma!);
    chain_del(vma, avc);
    avc_free(avc);
    avc = next;
  }
}
