// The anon_vma side of the VMA layer, reduced to what the VMA rules read:
//   include/linux/rmap.h struct anon_vma / struct anon_vma_chain,
//   mm/rmap.c anon_vma_clone(), unlink_anon_vmas(); include/linux/rmap.h
//   anon_vma_merge() (v5.17).
//
// In this layer no VMA ever gets an anon_vma (there are no page faults yet), so
// every chain is empty and these functions only run on empty chains. They keep
// the kernel's shapes (the chain is newest-first; anon_vma_clone() gives the
// destination one AVC per anon_vma of the source, in the same order) so that
// the memory layer can extend them in place: interval trees, degree,
// refcounts, anon_vma reuse in anon_vma_clone(), anon_vma_prepare(), fork.

import type { Vma } from "./mm.js";

export interface AnonVma {
  /** Identity shown in snapshots (VmaSnapshot.anonVma), > 0. */
  readonly id: number;
  /** Root of the fork tree (itself for a fresh anon_vma). */
  root: AnonVma;
}

export interface AnonVmaChain {
  vma: Vma;
  anon_vma: AnonVma;
}

/** list_is_singular(&vma->anon_vma_chain) */
export function anon_vma_chain_is_singular(vma: Vma): boolean {
  return vma.anon_vma_chain.length === 1;
}

/** anon_vma_clone(dst, src): link dst into every anon_vma src is linked into. 0 or -errno. */
export function anon_vma_clone(dst: Vma, src: Vma): number {
  // The kernel walks src's chain from its tail (the root's AVC) to its head and
  // adds each new AVC at the head of dst's chain, so dst ends up in src's order.
  for (let i = src.anon_vma_chain.length - 1; i >= 0; i--) {
    dst.anon_vma_chain.unshift({ vma: dst, anon_vma: src.anon_vma_chain[i].anon_vma });
  }
  return 0;
}

/** unlink_anon_vmas(vma): drop all of vma's AVCs (the VMA is going away). */
export function unlink_anon_vmas(vma: Vma): void {
  vma.anon_vma_chain = [];
}

/** anon_vma_merge(vma, next): in 5.17 only a debug check that the anon_vmas agree, then unlink next. */
export function anon_vma_merge(vma: Vma, next: Vma): void {
  void vma;
  unlink_anon_vmas(next);
}
