// mm/mmap.c: __vma_adjust() (v5.17) — change a VMA's range and pgoff, and
// either insert the other half of a split, or (for vma_merge) move the
// boundary with the next VMA / swallow the next VMA(s).
//
// The anon_vma interval trees are updated around the change exactly where the
// kernel does (pre/post update of vma, and of next when its start moves),
// under the anon_vma of vma, or of next if vma has none and next moves. The
// file's i_mmap tree and the rbtree gap bookkeeping are not modelled. Pages
// and page tables are never touched by a 5.17 merge or split; the seed
// policies re-point pages that change VMA (the policy's merge_pages(): for a
// boundary move here, for a removed VMA in anon_vma_merge()).

import { PAGE_SIZE } from "../abi/constants.js";
import {
  anon_vma_clone, anon_vma_interval_tree_post_update_vma, anon_vma_interval_tree_pre_update_vma, anon_vma_merge,
} from "./anon_vma.js";
import { __insert_vm_struct, __vma_unlink_list, type Vma } from "./mm.js";
import { fput } from "./shmem.js";

/**
 * __vma_adjust(vma, start, end, pgoff, insert, expand): 0 or -errno.
 * `insert` is the new half from __split_vma(); `expand` is the VMA that
 * vma_merge() grows (it tells case 8 — grow `next` down over `vma` — apart).
 */
export function __vma_adjust(
  vma: Vma, start: number, end: number, pgoff: number, insert: Vma | null, expand: Vma | null,
): number {
  const mm = vma.vm_mm;
  let next = vma.vm_next;
  let adjust_next = 0; // bytes; > 0 moves next's start up (case 5), < 0 down (case 4)
  let remove_next = 0; // 1: remove next; 2: remove next and the one after (case 6); 3: swapped (case 8)

  if (next && !insert) {
    let exporter: Vma | null = null;
    let importer: Vma | null = null;

    if (end >= next.vm_end) {
      // vma swallows next: cases 1, 6, 7 (and 8, where next swallows vma).
      if (next === expand) {
        // Case 8: the survivor is next, which grows down over vma; swap the
        // roles so that `vma` is the survivor and `next` the one removed.
        remove_next = 3;
        const t = vma;
        vma = next;
        next = t;
      } else {
        remove_next = end > next.vm_end ? 2 : 1;
        end = next.vm_end; // case 6 is done in two passes; first pass ends at next's end
      }
      exporter = next;
      importer = vma;
      // Case 6 with a victim without anon_vma: import from the VMA after it.
      if (remove_next === 2 && !next.anon_vma) exporter = next.vm_next;
    } else if (end > next.vm_start) {
      // Case 5: vma grows into the head of next.
      adjust_next = end - next.vm_start;
      exporter = next;
      importer = vma;
    } else if (end < vma.vm_end) {
      // Case 4: vma shrinks and next grows down into its tail.
      adjust_next = -(vma.vm_end - end);
      exporter = vma;
      importer = next;
    }

    // The VMA that takes over pages must have the anon_vma of the one giving them.
    if (exporter && exporter.anon_vma && importer && !importer.anon_vma) {
      importer.anon_vma = exporter.anon_vma;
      const err = anon_vma_clone(importer, exporter);
      if (err) return err;
    }
  }

  // The addresses a boundary move hands over: case 5 the head of next to vma,
  // case 4 the tail of vma to next (for the policy's merge_pages()).
  const handed = adjust_next > 0 ? { from: next!, to: vma, start: next!.vm_start, end: next!.vm_start + adjust_next }
    : adjust_next < 0 ? { from: vma, to: next!, start: end, end: vma.vm_end }
    : null;

  for (;;) {
    // again:
    const anon_vma = vma.anon_vma ?? (adjust_next ? next!.anon_vma : null);
    if (anon_vma) {
      anon_vma_interval_tree_pre_update_vma(vma);
      if (adjust_next) anon_vma_interval_tree_pre_update_vma(next!);
    }

    vma.vm_start = start;
    vma.vm_end = end;
    vma.vm_pgoff = pgoff;
    if (adjust_next) {
      next!.vm_start += adjust_next;
      next!.vm_pgoff += adjust_next / PAGE_SIZE;
    }

    if (remove_next) {
      __vma_unlink_list(mm, next!);
    } else if (insert) {
      __insert_vm_struct(mm, insert);
    }

    if (anon_vma) {
      anon_vma_interval_tree_post_update_vma(vma);
      if (adjust_next) anon_vma_interval_tree_post_update_vma(next!);
    }
    if (handed) mm.kernel.rules.merge_pages(handed.to, handed.from, handed.start, handed.end, false);

    if (!remove_next) break;

    const victim = next!;
    if (victim.vm_file) fput(victim.vm_file);
    if (victim.anon_vma) anon_vma_merge(vma, victim);
    mm.map_count--;
    // mpol_put(vma_policy(next)), vm_area_free(next): nothing more to release in the model.

    if (remove_next !== 2) break;
    // Case 6, second pass: remove the VMA after the first victim too.
    remove_next = 1;
    next = vma.vm_next;
    end = next!.vm_end;
  }
  return 0;
}

/** vma_adjust(): __vma_adjust() without an `expand` hint. */
export function vma_adjust(vma: Vma, start: number, end: number, pgoff: number, insert: Vma | null): number {
  return __vma_adjust(vma, start, end, pgoff, insert, null);
}
