// Merging VMAs: vma_merge(), is_mergeable_vma(), is_mergeable_anon_vma(),
// can_vma_merge_before/after() and __vma_adjust() (mm/mmap.c, v5.17).
//
// vma_merge() asks whether the range [addr, end), about to get the given
// attributes, can be absorbed by prev and/or next. Its eight cases
// (P = prev, N = next, A = the range, X = the VMA after N):
//
//     AAAA               AAAA                   AAAA
//   PPPPxxxxNNNN       PPPPNNNNXXXX           PPPPNNNN...
//   1: fill a hole      6: A == N, absorb N+X  7: A == N, absorb N
//   2: PPPPAAAA          5: A is the head of N  4: A is the tail of P, joins N
//   3: AAAANNNN          8: A == N, X grows down over it
//
// Page structs are never touched by a v5.17 merge: anon_vmas must already be
// identical (or absent), so every page's mapping/index stays valid.

import { PAGE_SHIFT, VM_MAYBE_GUARD, VM_SOFTDIRTY, VM_SPECIAL } from "../abi/constants";
import { fput } from "../fs/file";
import {
  anon_vma_clone, anon_vma_interval_tree_post_update_vma, anon_vma_interval_tree_pre_update_vma, chain_is_singular,
  unlink_anon_vmas,
} from "../rmap/anon_vma";
import { AnonVma } from "../rmap/anon_vma";
import { anon_vma_exclusive } from "../rmap/exclusive";
import { ANON_MERGE_5_17, ANON_MERGE_6_16, ANON_MERGE_SEED, ANON_MERGE_SEED_V2, anon_merge, kver } from "./policy";
import { engine_oom_set } from "./reserve";
import { Mm, Vma, VM_OPS_SPECIAL, vm_area_free, vma_pages } from "./types";
import { vma_bounds_changed, vma_unlink } from "./vma_tree";

/** The attributes a range is about to get (the arguments of vma_merge). */
@unmanaged export class MergeAttrs {
  vm_flags: u64 = 0;
  anon_vma: usize = 0;
  file: usize = 0;
  pgoff: u64 = 0;
  policy: u32 = 0;
  uffd_ctx: u32 = 0;
  anon_name: u32 = 0;
  /** the existing VMA the range belongs to (mprotect-like callers; 6.x vmg->middle), or null */
  middle: Vma | null = null;
  /** mremap: the VMA the range is copied from (6.x vmg->copied_from), or null */
  copied_from: Vma | null = null;
  /** which syscall path merges (MERGE_CALLER_*), for tracing */
  caller: u32 = 0;
}

/** vma_merge callers, as traced. */
export const MERGE_CALLER_MMAP: u32 = 1;
export const MERGE_CALLER_BRK: u32 = 2;
export const MERGE_CALLER_MPROTECT: u32 = 3;
export const MERGE_CALLER_MADVISE: u32 = 4;
export const MERGE_CALLER_MLOCK: u32 = 5;
export const MERGE_CALLER_MREMAP: u32 = 6;
export const MERGE_CALLER_MSEAL: u32 = 7;

/** The attributes of a new range [mmap, brk]: no anon_vma, default policy, no name. */
export function new_range_attrs(a: MergeAttrs, caller: u32, vm_flags: u64, file: usize, pgoff: u64): MergeAttrs {
  a.vm_flags = vm_flags;
  a.anon_vma = 0;
  a.file = file;
  a.pgoff = pgoff;
  a.policy = 0;
  a.uffd_ctx = 0;
  a.anon_name = 0;
  a.middle = null;
  a.copied_from = null;
  a.caller = caller;
  return a;
}

const existing_attrs = changetype<MergeAttrs>(memory.data(offsetof<MergeAttrs>(), 8));

/**
 * The attributes of [start, ...) of an existing VMA about to get newflags:
 * the VMA's own anon_vma, file, pgoff at `start`, policy, uffd ctx and name.
 */
export function existing_range_attrs(caller: u32, vma: Vma, start: u64, newflags: u64): MergeAttrs {
  const a = existing_attrs;
  a.vm_flags = newflags;
  a.anon_vma = vma.anon_vma;
  a.file = changetype<usize>(vma.vm_file);
  a.pgoff = vma.vm_pgoff + ((start - vma.vm_start) >> PAGE_SHIFT);
  a.policy = vma.vm_policy;
  a.uffd_ctx = vma.vm_userfaultfd_ctx;
  a.anon_name = vma.anon_name;
  a.middle = vma;
  a.copied_from = null;
  a.caller = caller;
  return a;
}

/** vma_next(): the VMA after prev, or the first one. */
// @ts-ignore: decorator
@inline export function vma_next(mm: Mm, prev: Vma | null): Vma | null {
  return prev ? prev.vm_next : mm.mmap;
}

/** VM_STICKY (6.19, in 6.18.y): flags a merge ignores and OR-s into the result; none before. */
export function vm_sticky(): u64 {
  return kver >= 618 ? VM_MAYBE_GUARD : 0;
}

/** is_mergeable_vma(): everything but the anon_vma and pgoff. */
function is_mergeable_vma(v: Vma, a: MergeAttrs): bool {
  // VM_SOFTDIRTY must not prevent merging (nor, on 6.18.y, the sticky flags)
  if ((v.vm_flags ^ a.vm_flags) & ~(VM_SOFTDIRTY | vm_sticky())) return false;
  if (changetype<usize>(v.vm_file) != a.file) return false;
  // vm_ops->close: only special mappings have one here
  if (v.vm_ops == VM_OPS_SPECIAL) return false;
  if (v.vm_userfaultfd_ctx != a.uffd_ctx) return false;
  if (v.anon_name != a.anon_name) return false;
  return true;
}

/**
 * is_mergeable_anon_vma(a1, a2, v) of v5.17: one side has no anon_vma and v
 * (the neighbour owning a2, or NULL in the both-sides test) was not forked
 * into, or both are the same anon_vma.
 */
function is_mergeable_anon_vma_5_17(a1: usize, a2: usize, v: Vma | null): bool {
  if ((a1 == 0 || a2 == 0) && (v == null || chain_is_singular(v))) return true;
  return a1 == a2;
}

/** vma_is_fork_child() (6.16): v has an anon_vma and a chain of more than one AVC. */
function vma_is_fork_child(v: Vma | null): bool {
  return v != null && v.anon_vma != 0 && !chain_is_singular(v);
}

/**
 * is_mergeable_anon_vma() for the range's anon_vma `a1` and the neighbour v
 * (whose pages stay). seed-v2 and seed add a third rule: different anon_vmas
 * merge when the one whose pages move (a1) is exclusive to this process;
 * 6.16 lets a faulted range join an unfaulted neighbour unless either side,
 * or the VMA the range was copied from, is a fork child.
 */
function anon_vma_side_ok(a: MergeAttrs, v: Vma): bool {
  const a1 = a.anon_vma;
  const a2 = v.anon_vma;
  if (anon_merge == ANON_MERGE_6_16) {
    if (!a2 && a1) return !vma_is_fork_child(a.middle) && !vma_is_fork_child(a.copied_from);
    if (a2 && !a1) return !vma_is_fork_child(v);
    return a1 == a2;
  }
  if (is_mergeable_anon_vma_5_17(a1, a2, v)) return true;
  return anon_merge != ANON_MERGE_5_17 && a1 != 0 && a2 != 0 && anon_vma_exclusive(changetype<AnonVma>(a1));
}

/**
 * The both-sides test of cases 1 and 6: prev absorbs next. v5.17 and 6.x:
 * one side none, or identical. seed-v2 tests EXCL(prev's) (its argument
 * order); seed tests the anon_vma whose pages move, next's.
 */
function anon_vma_both_ok(prev: Vma, next: Vma): bool {
  if (is_mergeable_anon_vma_5_17(prev.anon_vma, next.anon_vma, null)) return true;
  if (anon_merge == ANON_MERGE_SEED_V2) return anon_vma_exclusive(changetype<AnonVma>(prev.anon_vma));
  if (anon_merge == ANON_MERGE_SEED) return anon_vma_exclusive(changetype<AnonVma>(next.anon_vma));
  return false;
}

/** can_vma_merge_before(): can the range end where v begins? (pgoff = the pgoff of the range's end) */
function can_vma_merge_before(v: Vma, a: MergeAttrs, pgoff_end: u64): bool {
  return is_mergeable_vma(v, a) && anon_vma_side_ok(a, v) && v.vm_pgoff == pgoff_end;
}

/** can_vma_merge_after(): can the range start where v ends? */
function can_vma_merge_after(v: Vma, a: MergeAttrs): bool {
  return is_mergeable_vma(v, a) && anon_vma_side_ok(a, v) && v.vm_pgoff + vma_pages(v) == a.pgoff;
}

/**
 * vma_merge(): returns the VMA that now covers [addr, end), or NULL when
 * nothing changed (the caller then creates or splits).
 */
export function vma_merge(mm: Mm, prev: Vma | null, addr: u64, end: u64, a: MergeAttrs): Vma | null {
  const pglen = (end - addr) >> PAGE_SHIFT;
  // the caller's flags must equal the neighbour's, so this tests them too
  if (a.vm_flags & VM_SPECIAL) return null;

  let next = vma_next(mm, prev);
  let area = next;
  if (area && area.vm_end == end) next = next!.vm_next; // cases 6, 7, 8

  // can it merge with the predecessor?
  if (prev && prev.vm_end == addr && prev.vm_policy == a.policy && can_vma_merge_after(prev, a)) {
    // ... and the successor as well?
    let err: i32;
    let sticky = a.vm_flags;
    if (!dup_anon_vma_copied_from(prev, a)) return null;
    if (next && end == next.vm_start && a.policy == next.vm_policy
        && can_vma_merge_before(next, a, a.pgoff + pglen)
        && anon_vma_both_ok(prev, next)) {
      sticky |= next.vm_flags;
      err = vma_adjust(mm, prev, prev.vm_start, next.vm_end, prev.vm_pgoff, null, prev); // cases 1, 6
    } else {
      err = vma_adjust(mm, prev, prev.vm_start, end, prev.vm_pgoff, null, prev); // cases 2, 5, 7
    }
    if (!err) prev.vm_flags |= sticky & vm_sticky();
    return err ? null : prev;
  }

  // can the range be merged in front of next?
  if (next && end == next.vm_start && a.policy == next.vm_policy && can_vma_merge_before(next, a, a.pgoff + pglen)) {
    let err: i32;
    if (!dup_anon_vma_copied_from(next, a)) return null;
    if (prev && addr < prev.vm_end) {
      err = vma_adjust(mm, prev, prev.vm_start, addr, prev.vm_pgoff, null, next); // case 4
    } else {
      // cases 3, 8: in case 3 area == next; in case 8 area is removed and next grows down over it
      err = vma_adjust(mm, area!, addr, next.vm_end, next.vm_pgoff - pglen, null, next);
      area = next;
    }
    if (!err) area!.vm_flags |= a.vm_flags & vm_sticky();
    return err ? null : area;
  }
  return null;
}

/**
 * vma_expand()'s dup_anon_vma(target, vmg->copied_from) (6.16, 879bca0a2c4f):
 * an mremap destination merging into a VMA without anon_vma brings the moved
 * pages' anon_vma along. False (engine out of memory) when that failed.
 */
function dup_anon_vma_copied_from(target: Vma, a: MergeAttrs): bool {
  const src = a.copied_from;
  if (kver < 616 || !src || !src.anon_vma || target.anon_vma) return true;
  target.anon_vma = src.anon_vma;
  if (anon_vma_clone(target, src)) return true;
  target.anon_vma = 0;
  engine_oom_set();
  return false;
}

/** Free a VMA that a merge removed (the tail of __vma_adjust's removal step). */
function remove_merged(mm: Mm, victim: Vma): void {
  vma_unlink(mm, victim);
  // anon_vma_merge(): in v5.17 just unlink_anon_vmas (the anon_vmas are identical)
  if (victim.anon_vma) unlink_anon_vmas(victim);
  if (victim.vm_file) fput(victim.vm_file!);
  vm_area_free(victim);
}

/**
 * __vma_adjust() without an insert (split_vma does its own insertion, see
 * split.ts): set vma to [start, end) with pgoff, and remove or shift `next`
 * as the merge case requires. `expand` is the VMA that grows. 0, or -1 when
 * importing the anon_vma ran out of memory (nothing changed).
 */
export function vma_adjust(mm: Mm, vma: Vma, start: u64, end: u64, pgoff: u64, insert: Vma | null, expand: Vma | null): i32 {
  let next = vma.vm_next;
  let remove_next = 0;
  let adjust_next: i64 = 0;
  if (next && !insert) {
    let exporter: Vma | null = null;
    let importer: Vma | null = null;
    if (end >= next.vm_end) {
      if (next == expand) {
        // case 8: next survives and grows down over vma
        remove_next = 3;
        const t = vma;
        vma = next;
        next = t;
      } else {
        // cases 1, 6, 7 (remove_next 2 is case 6: trim to next for the first pass)
        remove_next = end > next.vm_end ? 2 : 1;
        end = next.vm_end;
      }
      exporter = next;
      importer = vma;
      // a middle VMA without anon_vma: import from the one after it
      if (remove_next == 2 && !next.anon_vma) exporter = next.vm_next;
    } else if (end > next.vm_start) {
      adjust_next = <i64>(end - next.vm_start); // case 5: the boundary moves up
      exporter = next;
      importer = vma;
    } else if (end < vma.vm_end) {
      adjust_next = -<i64>(vma.vm_end - end); // case 4: the boundary moves down
      exporter = vma;
      importer = next;
    }
    // the VMA that takes over pages must be in their anon_vma
    if (exporter && exporter.anon_vma && !importer!.anon_vma) {
      importer!.anon_vma = exporter.anon_vma;
      if (!anon_vma_clone(importer!, exporter)) {
        importer!.anon_vma = 0;
        engine_oom_set();
        return -1;
      }
    }
  }
  while (true) {
    anon_vma_interval_tree_pre_update_vma(vma);
    if (adjust_next != 0) anon_vma_interval_tree_pre_update_vma(next!);
    vma.vm_start = start;
    vma.vm_end = end;
    vma.vm_pgoff = pgoff;
    if (adjust_next != 0) {
      const n = next!;
      n.vm_start = <u64>(<i64>n.vm_start + adjust_next);
      n.vm_pgoff = <u64>(<i64>n.vm_pgoff + (adjust_next >> <i64>PAGE_SHIFT));
    }
    anon_vma_interval_tree_post_update_vma(vma);
    if (adjust_next != 0) anon_vma_interval_tree_post_update_vma(next!);
    if (remove_next == 0) {
      vma_bounds_changed(mm, vma);
      if (adjust_next != 0) vma_bounds_changed(mm, next!);
      return 0;
    }
    remove_merged(mm, next!);
    vma_bounds_changed(mm, vma);
    if (remove_next == 2) {
      // case 6: now remove the VMA after the first victim too
      remove_next = 1;
      next = vma.vm_next;
      end = next!.vm_end;
      continue;
    }
    return 0;
  }
}
