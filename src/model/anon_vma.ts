// The anon_vma lifecycle of v5.17 (kernel-facts §5):
//   include/linux/rmap.h struct anon_vma / struct anon_vma_chain,
//   get_anon_vma(), put_anon_vma(), anon_vma_prepare(), anon_vma_merge();
//   mm/rmap.c anon_vma_alloc(), anon_vma_free(), anon_vma_chain_link(),
//   __anon_vma_prepare(), anon_vma_clone(), anon_vma_fork(),
//   unlink_anon_vmas(), __put_anon_vma(); mm/interval_tree.c
//   anon_vma_interval_tree_insert()/remove(); mm/mmap.c
//   anon_vma_interval_tree_pre_update_vma()/post_update_vma().
// Read on a 5.x mm/rmap.c with the same anon_vma code as v5.17 (the `degree`
// counter of 3.19-6.0 and the fork-only reuse test `!dst->anon_vma &&
// src->anon_vma`); v5.17 itself is not stored in the reference index.
//
// The counters (v5.17 semantics, not the 6.x num_children / num_active_vmas):
// * refcount: 1 from anon_vma_alloc(), dropped by unlink_anon_vmas() when the
//   anon_vma's interval tree becomes empty; +1 on the root for every anon_vma
//   anon_vma_fork() creates under it, dropped when that one is freed.
// * degree: 1 from anon_vma_alloc() — for a root the "self-parent link", for
//   a fork child the child VMA that takes it —, +1 for each VMA that makes it
//   its own anon_vma afterwards (__anon_vma_prepare(), anon_vma_clone() when
//   dst->anon_vma is set at the end), +1 on the parent for each anon_vma
//   anon_vma_fork() creates; unlink_anon_vmas() takes 1 from the parent of
//   every anon_vma whose tree empties (from itself for a root) and 1 from the
//   VMA's own anon_vma.
//
// Identities: anon_vma_alloc() takes the next anon_vma id of the kernel, from 1.
//
// The interval tree (anon_vma->rb_root) is kept as a set of AVCs, each with
// the key it was inserted under (the VMA's range and pgoff at that moment).
// Every change of a linked VMA's vm_start, vm_end or vm_pgoff goes through
// anon_vma_interval_tree_pre_update_vma() / post_update_vma() as in the kernel,
// so a stale key in a snapshot is a model bug the checker reports.

import { PAGE_SIZE } from "../abi/constants.js";
import type { KernelModel } from "./kernel.js";
import { find_mergeable_anon_vma } from "./merge.js";
import type { Vma } from "./mm.js";

export class AnonVma {
  readonly kernel: KernelModel;
  /** Identity shown in snapshots (VmaSnapshot.anonVma), > 0. */
  readonly id: number;
  /** Root of the fork tree (itself for a fresh anon_vma). */
  root: AnonVma;
  /** The anon_vma this one was forked from (itself for a fresh anon_vma). */
  parent: AnonVma;
  refcount = 1;
  degree = 1;
  /** rb_root: the AVCs linked to this anon_vma, in insertion order (the key is in each AVC). */
  readonly rb_root = new Set<AnonVmaChain>();
  /** false once anon_vma_free() ran (pages may still point here in a buggy policy). */
  live = true;
  /** Where it lives: a freed anon_vma's slot is reused (KernelModel.freeAnonVmaSlots). */
  slot = 0;

  constructor(kernel: KernelModel, id: number) {
    this.kernel = kernel;
    this.id = id;
    this.root = this;
    this.parent = this;
  }
}

export class AnonVmaChain {
  vma: Vma;
  anon_vma: AnonVma;
  /** The interval-tree key recorded by the last insertion: the VMA's range and pgoff then. */
  start = 0;
  end = 0;
  pgoff = 0;

  constructor(vma: Vma, anon_vma: AnonVma) {
    this.vma = vma;
    this.anon_vma = anon_vma;
  }

  /** The last page index of the key ([pgoff, last] is the interval). */
  get last(): number {
    return this.pgoff + (this.end - this.start) / PAGE_SIZE - 1;
  }
}

/** anon_vma_alloc(): refcount 1, degree 1, root = parent = itself. */
export function anon_vma_alloc(kernel: KernelModel): AnonVma {
  const av = new AnonVma(kernel, kernel.nextAnonVmaId++);
  av.slot = kernel.freeAnonVmaSlots.pop() ?? kernel.nextAnonVmaSlot++;
  kernel.anon_vmas.set(av.id, av);
  return av;
}

/** anon_vma_free() */
function anon_vma_free(av: AnonVma): void {
  if (av.refcount !== 0) throw new Error(`anon_vma_free: anon_vma ${av.id} still referenced (BUG)`);
  av.live = false;
  av.kernel.anon_vmas.delete(av.id);
  // seed-v2 leaves pages pointing to freed anon_vmas: their memory is never reused
  if (av.kernel.policy !== "seed-v2") av.kernel.freeAnonVmaSlots.push(av.slot);
}

/** get_anon_vma() */
export function get_anon_vma(av: AnonVma): void {
  av.refcount++;
}

/** put_anon_vma(): the last reference frees it, and then drops its root's pin (__put_anon_vma()). */
export function put_anon_vma(av: AnonVma): void {
  av.refcount--;
  if (av.refcount > 0) return;
  const root = av.root;
  anon_vma_free(av);
  if (root !== av) {
    root.refcount--;
    if (root.refcount === 0) anon_vma_free(root);
  }
}

/** anon_vma_interval_tree_insert(): record the VMA's current range and pgoff as the key. */
export function anon_vma_interval_tree_insert(avc: AnonVmaChain): void {
  avc.start = avc.vma.vm_start;
  avc.end = avc.vma.vm_end;
  avc.pgoff = avc.vma.vm_pgoff;
  avc.anon_vma.rb_root.add(avc);
}

/** anon_vma_interval_tree_remove() */
export function anon_vma_interval_tree_remove(avc: AnonVmaChain): void {
  avc.anon_vma.rb_root.delete(avc);
}

/** anon_vma_interval_tree_pre_update_vma(): take all of vma's AVCs out before its range or pgoff changes. */
export function anon_vma_interval_tree_pre_update_vma(vma: Vma): void {
  for (const avc of vma.anon_vma_chain) anon_vma_interval_tree_remove(avc);
}

/** anon_vma_interval_tree_post_update_vma(): put them back under the new key. */
export function anon_vma_interval_tree_post_update_vma(vma: Vma): void {
  for (const avc of vma.anon_vma_chain) anon_vma_interval_tree_insert(avc);
}

/** anon_vma_chain_link(): a new AVC at the head of vma's chain, and into anon_vma's tree. */
function anon_vma_chain_link(vma: Vma, anon_vma: AnonVma): void {
  const avc = new AnonVmaChain(vma, anon_vma);
  vma.anon_vma_chain.unshift(avc);
  anon_vma_interval_tree_insert(avc);
}

/** list_is_singular(&vma->anon_vma_chain) */
export function anon_vma_chain_is_singular(vma: Vma): boolean {
  return vma.anon_vma_chain.length === 1;
}

/** anon_vma_prepare(): make sure vma has an anon_vma. 0 (allocation failures are not modelled). */
export function anon_vma_prepare(vma: Vma): number {
  if (vma.anon_vma) return 0;
  return __anon_vma_prepare(vma);
}

/**
 * __anon_vma_prepare(): reuse a neighbour's anon_vma (find_mergeable_anon_vma:
 * next first, then prev) or allocate a new root; link vma to it; degree++
 * ("vma reference or self-parent link for new root").
 */
export function __anon_vma_prepare(vma: Vma): number {
  let anon_vma = find_mergeable_anon_vma(vma);
  if (!anon_vma) anon_vma = anon_vma_alloc(vma.vm_mm.kernel);
  vma.anon_vma = anon_vma;
  anon_vma_chain_link(vma, anon_vma);
  anon_vma.degree++;
  return 0;
}

/**
 * anon_vma_clone(dst, src): link dst into every anon_vma src is linked into,
 * walking src's chain from its oldest AVC (the root's) to its newest, each new
 * AVC going to the head of dst's chain (so dst ends up in src's order).
 * Only from anon_vma_fork() (dst->anon_vma NULL, src->anon_vma set) an
 * anon_vma of degree < 2 other than src's own is reused as dst's anon_vma —
 * the first such one met. dst->anon_vma, if set at the end, gets degree++.
 * 0 (the ENOMEM path is not modelled).
 */
export function anon_vma_clone(dst: Vma, src: Vma): number {
  const srcChain = [...src.anon_vma_chain];
  for (let i = srcChain.length - 1; i >= 0; i--) {
    const anon_vma = srcChain[i].anon_vma;
    anon_vma_chain_link(dst, anon_vma);
    if (!dst.anon_vma && src.anon_vma && anon_vma !== src.anon_vma && anon_vma.degree < 2) {
      dst.anon_vma = anon_vma;
    }
  }
  if (dst.anon_vma) dst.anon_vma.degree++;
  return 0;
}

/**
 * anon_vma_fork(vma, pvma): the child VMA joins all of the parent VMA's
 * anon_vmas (maybe reusing one, see anon_vma_clone), else gets a new anon_vma
 * whose root is the parent's root (pinned) and whose parent is pvma's
 * anon_vma (degree++). Nothing when pvma has no anon_vma.
 */
export function anon_vma_fork(vma: Vma, pvma: Vma): number {
  if (!pvma.anon_vma) return 0;
  vma.anon_vma = null; // drop the pointer vm_area_dup() copied
  anon_vma_clone(vma, pvma);
  if (vma.anon_vma) return 0; // an existing anon_vma was reused

  const anon_vma = anon_vma_alloc(vma.vm_mm.kernel);
  anon_vma.root = pvma.anon_vma.root;
  anon_vma.parent = pvma.anon_vma;
  get_anon_vma(anon_vma.root);
  vma.anon_vma = anon_vma;
  anon_vma_chain_link(vma, anon_vma);
  anon_vma.parent.degree++;
  return 0;
}

/**
 * unlink_anon_vmas(vma): take vma's AVCs out of their trees (newest first);
 * an anon_vma whose tree empties costs its parent one degree and is put
 * afterwards (which may free it and drop its root's pin); vma's own anon_vma
 * loses one degree and vma->anon_vma becomes NULL.
 */
export function unlink_anon_vmas(vma: Vma): void {
  const emptied: AnonVmaChain[] = [];
  for (const avc of vma.anon_vma_chain) {
    const anon_vma = avc.anon_vma;
    anon_vma_interval_tree_remove(avc);
    if (anon_vma.rb_root.size === 0) {
      anon_vma.parent.degree--;
      emptied.push(avc); // left on the list, put below
    }
  }
  if (vma.anon_vma) {
    vma.anon_vma.degree--;
    vma.anon_vma = null;
  }
  vma.anon_vma_chain = emptied;
  for (const avc of emptied) put_anon_vma(avc.anon_vma);
  vma.anon_vma_chain = [];
}

/**
 * anon_vma_merge(vma, next): next is being removed by a merge into vma. In
 * 5.17 a debug check that the anon_vmas agree; the policy's merge_pages()
 * (seed-v2: its VM_BUG_ON and reconnect_pages()); then unlink_anon_vmas(next).
 */
export function anon_vma_merge(vma: Vma, next: Vma): void {
  vma.vm_mm.kernel.rules.merge_pages(vma, next, next.vm_start, next.vm_end, true);
  unlink_anon_vmas(next);
}
