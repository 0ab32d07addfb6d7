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
// identical (or absent), so every page's mapping/index stays valid. The seed
// policies merge different anon_vmas and re-point pages (rmap/repoint.ts).

import { PAGE_SHIFT, VM_SOFTDIRTY, VM_SPECIAL } from "../abi/constants";
import { fput } from "../fs/file";
import {
  anon_vma_clone, anon_vma_interval_tree_post_update_vma, anon_vma_interval_tree_pre_update_vma, chain_is_singular,
  unlink_anon_vmas,
} from "../rmap/anon_vma";
import { AnonVma } from "../rmap/anon_vma";
import { anon_vma_exclusive } from "../rmap/exclusive";
import {
  AV_MERGE_DIFFERENT, AV_MERGE_FAILED, AV_MERGE_NULL, AV_MERGE_SAME, C_ATTEMPTS, C_BOTH_REFUSED, C_CASE, C_FAIL, C_MERGED,
  EV_VMA_MERGE, MERGE_FAILED, R_AV_DIFFERENT, R_AV_FORKED, R_AV_SHARED, R_AV_UNFAULTED, R_CLOSE, R_FILE, R_FLAGS, R_MEMPOLICY,
  C_DEBUG_VM_WARNINGS, R_NAME, R_NO_MEMORY, R_NOT_ADJACENT, R_OK, R_PGOFF, R_SPECIAL, R_UFFD, count, trace_emit, tracing,
} from "../trace/merge_trace";
import { reconnect_pages, repoint_range } from "../rmap/repoint";
import {
  ANON_MERGE_6_16, ANON_MERGE_SEED, ANON_MERGE_SEED_V2, MERGE_PAGES_KEEP, MERGE_PAGES_RECONNECT_V2, anon_merge, kver, merge_pages, vm_sticky,
} from "./policy";
import { engine_oom_set } from "./reserve";
import { Mm, Vma, VM_OPS_SPECIAL, vm_area_free, vma_pages } from "./types";
import { vma_after, vma_bounds_changed, vma_next, vma_next_apart, vma_prev_end_if, vma_unlink } from "./vma_tree";

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

/**
 * The attributes of a range of vma (or copied from it) about to get vm_flags
 * and pgoff: vma's anon_vma, file, policy, uffd ctx and name.
 */
export function vma_range_attrs(a: MergeAttrs, caller: u32, vma: Vma, vm_flags: u64, pgoff: u64, middle: Vma | null, copied_from: Vma | null): MergeAttrs {
  a.vm_flags = vm_flags;
  a.anon_vma = vma.anon_vma;
  a.file = changetype<usize>(vma.vm_file);
  a.pgoff = pgoff;
  a.policy = vma.vm_policy;
  a.uffd_ctx = vma.vm_userfaultfd_ctx;
  a.anon_name = vma.anon_name;
  a.middle = middle;
  a.copied_from = copied_from;
  a.caller = caller;
  return a;
}

const existing_attrs = changetype<MergeAttrs>(memory.data(offsetof<MergeAttrs>(), 8));

/** The attributes of [start, ...) of an existing VMA about to get newflags (mprotect-like callers). */
export function existing_range_attrs(caller: u32, vma: Vma, start: u64, newflags: u64): MergeAttrs {
  return vma_range_attrs(existing_attrs, caller, vma, newflags, vma.vm_pgoff + ((start - vma.vm_start) >> PAGE_SHIFT), vma, null);
}

// The tests below return the series' verdict (MERGE_FAILED, AV_MERGE_*) and
// leave vmasim's finer reason in `why` (trace/merge_trace.ts).
let why: u32 = R_OK;

// @ts-ignore: decorator
@inline function refuse(reason: u32): u32 {
  why = reason;
  return reason >= R_AV_FORKED ? AV_MERGE_FAILED : MERGE_FAILED;
}

/** is_mergeable_vma() and mpol_equal(): everything but the anon_vma and pgoff. */
function is_mergeable_vma(v: Vma, a: MergeAttrs): u32 {
  // VM_SOFTDIRTY must not prevent merging (nor, on 6.18.y, the sticky flags)
  if ((v.vm_flags ^ a.vm_flags) & ~(VM_SOFTDIRTY | vm_sticky())) return R_FLAGS;
  if (changetype<usize>(v.vm_file) != a.file) return R_FILE;
  // vm_ops->close: only special mappings have one here
  if (v.vm_ops == VM_OPS_SPECIAL) return R_CLOSE;
  if (v.vm_userfaultfd_ctx != a.uffd_ctx) return R_UFFD;
  if (v.anon_name != a.anon_name) return R_NAME;
  if (v.vm_policy != a.policy) return R_MEMPOLICY;
  return R_OK;
}

/** vma_is_fork_child() (6.16): v has an anon_vma and a chain of more than one AVC. */
function vma_is_fork_child(v: Vma | null): bool {
  return v != null && v.anon_vma != 0 && !chain_is_singular(v);
}

/**
 * is_mergeable_anon_vma(a1, a2, v) of v5.17 with the series' third rule:
 * one side has no anon_vma and v (the VMA owning a2, or NULL in the
 * both-sides test) was not forked into, or both are the same anon_vma; with
 * seed-v2 and seed also two different ones when `moving` (the anon_vma whose
 * pages the policy considers moving) is exclusive to this process.
 */
function is_mergeable_anon_vma(a1: usize, a2: usize, v: Vma | null, moving: usize): u32 {
  if ((a1 == 0 || a2 == 0) && (v == null || chain_is_singular(v))) return AV_MERGE_NULL;
  if (a1 == a2) return AV_MERGE_SAME;
  if (a1 == 0 || a2 == 0) return refuse(v!.anon_vma ? R_AV_FORKED : R_AV_UNFAULTED);
  if (anon_merge != ANON_MERGE_SEED_V2 && anon_merge != ANON_MERGE_SEED) return refuse(R_AV_DIFFERENT);
  if (!anon_vma_exclusive(changetype<AnonVma>(moving))) return refuse(R_AV_SHARED);
  return AV_MERGE_DIFFERENT;
}

/**
 * is_mergeable_anon_vma() of 6.16 (879bca0a2c4f): a faulted range may join an
 * unfaulted neighbour and the reverse unless a fork child is involved (the
 * range's VMA, the VMA it was copied from, or the neighbour); otherwise the
 * anon_vmas must be identical.
 */
function is_mergeable_anon_vma_6_16(a: MergeAttrs, v: Vma): u32 {
  const src = a.anon_vma;
  const tgt = v.anon_vma;
  if (!tgt && src) {
    return vma_is_fork_child(a.middle) || vma_is_fork_child(a.copied_from) ? refuse(R_AV_FORKED) : AV_MERGE_NULL;
  }
  if (tgt && !src) return vma_is_fork_child(v) ? refuse(R_AV_FORKED) : AV_MERGE_NULL;
  if (src == tgt) return AV_MERGE_SAME;
  // relocate-anon: the moved pages will take the target's anon_vma (mremap.ts copy_vma)
  return relocating ? AV_MERGE_DIFFERENT : refuse(R_AV_DIFFERENT);
}

/**
 * relocate-anon: copy_vma() sets this around the destination merge of a
 * relocated move (docs/policies.md "relocate-anon"). The source's anon_vma is
 * exclusive and every moved page is re-indexed and re-pointed to the
 * anon_vma of the VMA that maps it after the move, so the range may join a
 * neighbour with another anon_vma.
 */
let relocating = false;
export function set_merge_relocating(on: bool): void {
  relocating = on;
}

/**
 * 6.12.y (stable only, copy_vma() in its mm/vma.c): an MREMAP_DONTUNMAP
 * destination must stay apart from its unfaulted source, which copy_vma()
 * sets here around its merge: that VMA is no neighbour.
 */
let excluded: Vma | null = null;
export function set_merge_excluded(v: Vma | null): void {
  excluded = v;
}

/**
 * can_vma_merge_before()/can_vma_merge_after() with the adjacency and
 * mempolicy tests vma_merge makes first: may v (prev when is_prev, else
 * next) absorb the range of pglen pages? v's record is read only when adjacent.
 */
function side_verdict(v: Vma | null, adjacent: bool, a: MergeAttrs, is_prev: bool, pglen: u64): u32 {
  why = R_OK;
  if (!v || !adjacent || v == excluded) return refuse(R_NOT_ADJACENT);
  const r = is_mergeable_vma(v, a);
  if (r != R_OK) return refuse(r);
  // pgoff continuity of that side
  const pgoff_ok = is_prev ? v.vm_pgoff + vma_pages(v) == a.pgoff : v.vm_pgoff == a.pgoff + pglen;
  if (!pgoff_ok) return refuse(R_PGOFF);
  // the anon_vma whose pages would move into v is the range's
  return anon_merge == ANON_MERGE_6_16 ? is_mergeable_anon_vma_6_16(a, v)
    : is_mergeable_anon_vma(a.anon_vma, v.anon_vma, v, a.anon_vma);
}

/**
 * The both-sides test of cases 1 and 6 (prev absorbs next): one side
 * without anon_vma, or identical ones. seed-v2 calls it with prev's anon_vma
 * first and so tests EXCL(prev's); seed tests next's, whose pages move.
 */
function both_verdict(prev: Vma, next: Vma): u32 {
  const moving = anon_merge == ANON_MERGE_SEED_V2 ? prev.anon_vma : next.anon_vma;
  why = R_OK;
  return is_mergeable_anon_vma(prev.anon_vma, next.anon_vma, null, moving);
}

/**
 * 6.1 .. 6.11: mmap_region() does not call vma_merge() but tests next first
 * and then prev with next's anon_vma, and vma_expand()s the winner
 * (mm/mmap.c, 6.1, Liam Howlett's maple tree conversion; 6.12's
 * vma_merge_new_range() in mm/vma.c tests prev first again). So when both
 * sides accept the range but not each other, the range joins next.
 */
function mmap_next_first(a: MergeAttrs, existing: bool): bool {
  return kver >= 601 && kver < 612 && a.caller == MERGE_CALLER_MMAP && !existing;
}

/**
 * mmap_region()'s prev test when next accepted the range (6.1 .. 6.11):
 * can_vma_merge_after(prev, ..., next->anon_vma), so prev's own chain must
 * be singular when one side has no anon_vma (an unfaulted prev fails).
 */
function next_first_verdict(prev: Vma, next: Vma): u32 {
  why = R_OK;
  return is_mergeable_anon_vma(next.anon_vma, prev.anon_vma, prev, next.anon_vma);
}

// @ts-ignore: decorator
@inline function ok(verdict: u32): bool {
  return verdict >= AV_MERGE_NULL;
}

/**
 * vma_merge(): returns the VMA that now covers [addr, end), or NULL when
 * nothing changed (the caller then creates or splits). Every call is counted
 * and, when tracing, recorded with both sides' verdicts and reasons.
 */
export function vma_merge(mm: Mm, prev: Vma | null, addr: u64, end: u64, a: MergeAttrs): Vma | null {
  const pglen = (end - addr) >> PAGE_SHIFT;
  count(C_ATTEMPTS);
  // the caller's flags must equal the neighbour's, so this tests them too
  if (a.vm_flags & VM_SPECIAL) {
    merge_done(mm, a, addr, end, 0, refuse(R_SPECIAL), why, MERGE_FAILED, why, MERGE_FAILED, why);
    return null;
  }

  // A neighbour that does not touch the range is told from the index (the
  // pivot before the range's VMA, the gap after it): its record, one cache
  // miss at a random address among many VMAs, is read only when adjacent.
  let next: Vma | null;
  let prev_adjacent: bool;
  const m = a.middle;
  const prev_end = m != null && prev != m ? vma_prev_end_if(m, prev) : U64.MAX_VALUE;
  if (prev_end != U64.MAX_VALUE) {
    next = m; // the VMA after prev
    prev_adjacent = prev != null && prev_end == addr;
  } else {
    next = vma_after(mm, prev);
    prev_adjacent = prev != null && prev.vm_end == addr;
  }
  if (!ASC_NO_ASSERT) assert(prev_adjacent == (prev != null && prev.vm_end == addr), "vma_merge: prev adjacency");
  let area = next;
  // the range is (part of) an existing VMA: mprotect-like callers
  const existing = area != null && area.vm_start < end;
  let next_adjacent: bool;
  if (area && area.vm_end == end) {
    next = vma_next(area); // cases 6, 7, 8
    next_adjacent = next != null && !vma_next_apart(area) && end == next.vm_start;
  } else {
    next_adjacent = next != null && end == next.vm_start;
  }
  if (!ASC_NO_ASSERT) assert(next_adjacent == (next != null && end == next.vm_start), "vma_merge: next adjacency");

  let merge_prev = side_verdict(prev, prev_adjacent, a, true, pglen);
  let why_prev = why;
  const merge_next = side_verdict(next, next_adjacent, a, false, pglen);
  const why_next = why;
  let merge_both = MERGE_FAILED;
  let why_both = R_NOT_ADJACENT;
  if (ok(merge_prev) && ok(merge_next)) {
    merge_both = mmap_next_first(a, existing) ? next_first_verdict(prev!, next!) : both_verdict(prev!, next!);
    why_both = ok(merge_both) ? R_OK : why;
  }
  // 6.1 .. 6.11 mmap_region: a prev that cannot take next along is not used
  if (mmap_next_first(a, existing) && ok(merge_next) && !ok(merge_both)) {
    merge_prev = refuse(why_both);
    why_prev = why_both;
  }

  let merged: Vma | null = null;
  let kase: u32 = 0;
  let err: i32 = 0;
  if (ok(merge_prev)) {
    const p = prev!;
    let sticky = a.vm_flags;
    if (!dup_anon_vma_copied_from(p, a, ok(merge_both) ? next : null)) {
      err = -1;
    } else if (ok(merge_both)) {
      kase = existing ? 6 : 1;
      sticky |= next!.vm_flags;
      err = vma_adjust(mm, p, p.vm_start, next!.vm_end, p.vm_pgoff, null, p);
    } else {
      kase = !existing ? 2 : area!.vm_end == end ? 7 : 5;
      err = vma_adjust(mm, p, p.vm_start, end, p.vm_pgoff, null, p);
    }
    if (!err) p.vm_flags |= sticky & vm_sticky();
    merged = p;
  } else if (ok(merge_next)) {
    const n = next!;
    if (!dup_anon_vma_copied_from(n, a, null)) {
      err = -1;
    } else if (prev && addr < prev.vm_end) {
      kase = 4;
      err = vma_adjust(mm, prev, prev.vm_start, addr, prev.vm_pgoff, null, n);
    } else {
      // cases 3, 8: in case 3 area == next; in case 8 area is removed and next grows down over it
      kase = existing ? 8 : 3;
      err = vma_adjust(mm, area!, addr, n.vm_end, n.vm_pgoff - pglen, null, n);
    }
    if (!err) n.vm_flags |= a.vm_flags & vm_sticky();
    merged = n;
  }
  if (err) {
    merged = null;
    kase = 0;
  }
  merge_done(mm, a, addr, end, kase, merge_prev, err ? R_NO_MEMORY : why_prev, merge_next, err ? R_NO_MEMORY : why_next,
    merge_both, why_both);
  return merged;
}

/** Count a vma_merge call and record its event. */
function merge_done(mm: Mm, a: MergeAttrs, addr: u64, end: u64, kase: u32, vp: u32, rp: u32, vn: u32, rn: u32, vb: u32, rb: u32): void {
  if (kase) {
    count(C_MERGED);
    count(C_CASE + kase - 1);
    if ((kase == 2 || kase == 5 || kase == 7) && vb == AV_MERGE_FAILED) count(C_BOTH_REFUSED);
  } else {
    // the side that got further names the failure
    count(C_FAIL + (rp > rn ? rp : rn));
  }
  if (tracing()) {
    trace_emit(EV_VMA_MERGE, a.caller, <u32>changetype<usize>(mm), addr, end, kase, vp | (rp << 8), vn | (rn << 8), vb | (rb << 8));
  }
}

/**
 * vma_expand()'s dup_anon_vma(target, vmg->copied_from) (6.16, 879bca0a2c4f):
 * an mremap destination merging into a VMA without anon_vma brings the moved
 * pages' anon_vma along (unless a relocated range also absorbs a faulted next,
 * whose anon_vma the target takes: `removed_next`). False (engine out of memory) when that failed.
 */
function dup_anon_vma_copied_from(target: Vma, a: MergeAttrs, removed_next: Vma | null): bool {
  const src = a.copied_from;
  if (kver < 616 || !src || !src.anon_vma || target.anon_vma) return true;
  // vma_expand() first takes the anon_vma of a next it removes (vma_adjust
  // imports it); only a relocated range can bring a different one
  if (relocating && removed_next && removed_next.anon_vma) return true;
  target.anon_vma = src.anon_vma;
  if (anon_vma_clone(target, src)) return true;
  target.anon_vma = 0;
  engine_oom_set();
  return false;
}

/**
 * anon_vma_merge(): vma absorbed next. v5.17 only unlinks next's chain (the
 * anon_vmas are identical); the seed policies first re-point next's pages
 * when the anon_vmas differ.
 */
function anon_vma_merge(mm: Mm, vma: Vma, next: Vma): void {
  if (merge_pages != MERGE_PAGES_KEEP && vma.anon_vma && vma.anon_vma != next.anon_vma) {
    if (merge_pages == MERGE_PAGES_RECONNECT_V2) {
      // the patch's VM_BUG_ON: the removed VMA's pages must be exclusive
      if (!anon_vma_exclusive(changetype<AnonVma>(next.anon_vma))) count(C_DEBUG_VM_WARNINGS);
      reconnect_pages(mm, vma, next);
    } else {
      repoint_range(mm, next.vm_start, next.vm_end, vma.anon_vma);
    }
  }
  unlink_anon_vmas(next);
}

/** Free a VMA that a merge removed (the tail of __vma_adjust's removal step). */
function remove_merged(mm: Mm, vma: Vma, victim: Vma): void {
  vma_unlink(mm, victim);
  if (victim.anon_vma) anon_vma_merge(mm, vma, victim);
  if (victim.vm_file) fput(victim.vm_file!);
  vm_area_free(victim);
}

/**
 * Cases 4 and 5 hand the pages between vma's new end and next's old start
 * (or the reverse) to the other VMA without removing one: seed re-points
 * them; seed-v2 does not, and the kernel would warn under CONFIG_DEBUG_VM.
 */
function boundary_pages(mm: Mm, vma: Vma, next: Vma, end: u64, adjust_next: i64): void {
  if (merge_pages == MERGE_PAGES_KEEP || !vma.anon_vma || !next.anon_vma || vma.anon_vma == next.anon_vma) return;
  if (merge_pages == MERGE_PAGES_RECONNECT_V2) {
    count(C_DEBUG_VM_WARNINGS);
  } else if (adjust_next > 0) {
    repoint_range(mm, next.vm_start, end, vma.anon_vma); // case 5: the head of next joins vma
  } else {
    repoint_range(mm, end, vma.vm_end, next.anon_vma); // case 4: the tail of vma joins next
  }
}

/**
 * __vma_adjust() without an insert (split_vma does its own insertion, see
 * split.ts): set vma to [start, end) with pgoff, and remove or shift `next`
 * as the merge case requires. `expand` is the VMA that grows. 0, or -1 when
 * importing the anon_vma ran out of memory (nothing changed).
 */
export function vma_adjust(mm: Mm, vma: Vma, start: u64, end: u64, pgoff: u64, insert: Vma | null, expand: Vma | null): i32 {
  let next = vma_next(vma);
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
      if (remove_next == 2 && !next.anon_vma) exporter = vma_next(next);
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
  if (adjust_next != 0) boundary_pages(mm, vma, next!, end, adjust_next);
  while (true) {
    if (remove_next != 0 || adjust_next != 0) {
      // the survivor takes over the victim's range (or a part of next's): and any PTEs in it
      const ptes = vma.may_have_ptes || next!.may_have_ptes;
      vma.may_have_ptes = ptes;
      next!.may_have_ptes = ptes;
    }
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
    remove_merged(mm, vma, next!);
    vma_bounds_changed(mm, vma);
    if (remove_next == 2) {
      // case 6: now remove the VMA after the first victim too
      remove_next = 1;
      next = vma_next(vma);
      end = next!.vm_end;
      continue;
    }
    return 0;
  }
}
