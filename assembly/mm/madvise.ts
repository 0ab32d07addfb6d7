// madvise(2) (mm/madvise.c, v5.17): the advice that change vm_flags merge
// or split like mprotect (madvise_update_vma, with ENOMEM reported as
// EAGAIN); DONTNEED zaps, REMOVE punches a hole in a shared file, POPULATE
// faults pages in; the others leave the state alone. Unmapped parts of the
// range are skipped and make the result ENOMEM at the end. Kernel config as
// Debian's: KSM, THP and MEMORY_FAILURE are built in. Other releases gate on
// kver: POPULATE_* from 5.14, the map_count ENOMEM unconverted before 5.17,
// REMOVE's VM_MAYWRITE test from 6.7, newer advice.

import {
  EACCES, EAGAIN, EINVAL, ENOMEM, EPERM, PAGE_MASK, PAGE_SHIFT, VM_DONTCOPY, VM_DONTDUMP, VM_HUGEPAGE, VM_HUGETLB,
  VM_IO, VM_LOCKED, VM_MAYSHARE, VM_MERGEABLE, VM_MIXEDMAP, VM_NOHUGEPAGE, VM_PFNMAP, VM_RAND_READ, VM_SEQ_READ,
  VM_SHARED, VM_SPECIAL, VM_WIPEONFORK, VM_WRITE, VM_DONTEXPAND, VM_MAYBE_GUARD, VM_MAYWRITE,
} from "../abi/constants";
import { anon_vma_prepare } from "../rmap/anon_vma";
import { FAULT_OOM, faultin_range, guard_install_range, guard_remove_range, zap_page_range } from "./memory";
import { MERGE_CALLER_MADVISE, existing_range_attrs, vma_merge } from "./merge";
import { PMD_MASK, PMD_SIZE } from "./pgtable";
import { STABLE_NONE, kver, stable_backports, vm_sticky } from "./policy";
import { engine_oom_set } from "./reserve";
import { reserve } from "./reserve";
import { __split_vma } from "./split";
import { map_count_refused, sysctl_max_map_count } from "./sysctl";
import { Mm, Vma, can_modify_vma, vma_is_anonymous } from "./types";
import { find_vma, find_vma_before, vma_next, vma_prev } from "./vma_tree";
import { punch_hole } from "./truncate";

export const MADV_NORMAL: i32 = 0;
export const MADV_RANDOM: i32 = 1;
export const MADV_SEQUENTIAL: i32 = 2;
export const MADV_WILLNEED: i32 = 3;
export const MADV_DONTNEED: i32 = 4;
export const MADV_FREE: i32 = 8;
export const MADV_REMOVE: i32 = 9;
export const MADV_DONTFORK: i32 = 10;
export const MADV_DOFORK: i32 = 11;
export const MADV_MERGEABLE: i32 = 12;
export const MADV_UNMERGEABLE: i32 = 13;
export const MADV_HUGEPAGE: i32 = 14;
export const MADV_NOHUGEPAGE: i32 = 15;
export const MADV_DONTDUMP: i32 = 16;
export const MADV_DODUMP: i32 = 17;
export const MADV_WIPEONFORK: i32 = 18;
export const MADV_KEEPONFORK: i32 = 19;
export const MADV_COLD: i32 = 20;
export const MADV_PAGEOUT: i32 = 21;
export const MADV_POPULATE_READ: i32 = 22;
export const MADV_POPULATE_WRITE: i32 = 23;
export const MADV_DONTNEED_LOCKED: i32 = 24; // 5.18
export const MADV_COLLAPSE: i32 = 25; // 6.1: madvise_collapse below
export const MADV_GUARD_INSTALL: i32 = 102; // 6.13
export const MADV_GUARD_REMOVE: i32 = 103; // 6.13
export const MADV_HWPOISON: i32 = 100;
export const MADV_SOFT_OFFLINE: i32 = 101;

/** madvise_behavior_valid(): v5.17's advice, plus DONTNEED_LOCKED (5.18) and the guards (6.13). */
function behavior_valid(b: i32): bool {
  // 5.14 (4ca9b3859dac, "mm/madvise: introduce MADV_POPULATE_(READ|WRITE)"): EINVAL before
  if (b == MADV_POPULATE_READ || b == MADV_POPULATE_WRITE) return kver >= 514;
  if (b == MADV_DONTNEED_LOCKED) return kver >= 518;
  if (b == MADV_GUARD_INSTALL || b == MADV_GUARD_REMOVE) return kver >= 613;
  // 6.1: MADV_COLLAPSE (Zach O'Keefe's series; in 6.1's mm/madvise.c madvise_behavior_valid)
  if (b == MADV_COLLAPSE) return kver >= 601;
  return (b >= 0 && b <= 4) || (b >= 8 && b <= 23) || b == MADV_HWPOISON || b == MADV_SOFT_OFFLINE;
}

/**
 * madvise_collapse() (6.1, mm/khugepaged.c) as far as vmasim's mappings go:
 * hugepage_vma_check() (6.12: thp_vma_allowable_order()) wants no
 * VM_NOHUGEPAGE, no special or hugetlb VMA, room in the VMA for an aligned
 * PMD (transhuge_vma_suitable() at vm_end - PMD_SIZE) and, for anonymous
 * memory, an anon_vma: else EINVAL. A range holding no aligned PMD then
 * collapses nothing and succeeds. Collapsing a real PMD (and file or shmem
 * THP) is not modelled: EINVAL.
 */
function madvise_collapse(vma: Vma, start: u64, end: u64): i64 {
  if (vma.vm_flags & (VM_NOHUGEPAGE | VM_SPECIAL | VM_HUGETLB)) return -EINVAL;
  if (vma.vm_end < PMD_SIZE || ((vma.vm_end - PMD_SIZE) & PMD_MASK) < vma.vm_start) return -EINVAL;
  if (!vma_is_anonymous(vma) || !vma.anon_vma) return -EINVAL;
  const hstart = (start + PMD_SIZE - 1) & PMD_MASK;
  const hend = end & PMD_MASK;
  return hstart >= hend ? 0 : -EINVAL;
}

/** is_discard() (6.10 mseal): the advice a sealed read-only anonymous VMA refuses. */
function is_discard(b: i32): bool {
  return b == MADV_FREE || b == MADV_DONTNEED || b == MADV_DONTNEED_LOCKED || b == MADV_REMOVE
    || b == MADV_DONTFORK || b == MADV_WIPEONFORK || b == MADV_GUARD_INSTALL;
}

/** can_madvise_modify(): a sealed private anonymous VMA without VM_WRITE refuses discarding advice. */
function can_madvise_modify(vma: Vma, behavior: i32): bool {
  if (can_modify_vma(vma) || !is_discard(behavior)) return true;
  // file mappings keep their data in the file; writable memory could be zeroed anyway
  if (vma.vm_file || (vma.vm_flags & VM_SHARED)) return true;
  return (vma.vm_flags & VM_WRITE) != 0;
}

/**
 * madvise_remove()'s write test: a shared VMA that is writable now; from 6.7
 * ("mm: drop the assumption that VM_SHARED always implies writable",
 * vma_is_shared_maywrite()) one that may be made writable (VM_MAYWRITE), so a
 * shared mapping mprotected read-only may still punch holes. Debian's 5.10.262
 * and 6.1.192 carry the change as a stable backport (policy.ts stable_backports).
 */
function remove_may_write(vma: Vma): bool {
  const w = kver >= 607 || stable_backports != STABLE_NONE ? VM_MAYWRITE : VM_WRITE;
  return (vma.vm_flags & (VM_SHARED | w)) == (VM_SHARED | w);
}

/** is_valid_guard_vma(): no guards in special, hugetlb or (when installing) locked VMAs. */
function is_valid_guard_vma(vma: Vma, allow_locked: bool): bool {
  let disallowed = VM_SPECIAL | VM_HUGETLB;
  if (!allow_locked) disallowed |= VM_LOCKED;
  return !(vma.vm_flags & disallowed);
}

let pprev: Vma | null = null;

/**
 * Before 5.17 madvise_behavior() (mm/madvise.c) returned the map_count
 * limit's ENOMEM as it is, past the ENOMEM-to-EAGAIN conversion; 5.17's
 * madvise_vma_behavior() ("mm: rearrange madvise code to allow for reuse",
 * which split out madvise_update_vma()) converts it too.
 */
let limit_enomem = false;
function limit_refused(): i64 {
  limit_enomem = kver < 517;
  return map_count_refused();
}

/** -ENOMEM as madvise reports it: EAGAIN ("kernel resources temporarily unavailable"), but see limit_refused. */
function madvise_enomem(err: i64): i64 {
  if (err != -ENOMEM) return err;
  return limit_enomem ? err : -EAGAIN;
}

/** madvise_update_vma(): merge or split like mprotect; anon name unchanged. */
export function madvise_update_vma(mm: Mm, vma: Vma, start: u64, end: u64, new_flags: u64, anon_name: u32): i64 {
  limit_enomem = false;
  if (new_flags == vma.vm_flags && anon_name == vma.anon_name) {
    pprev = vma;
    return 0;
  }
  if (!reserve(2, 0)) return -ENOMEM;
  const a = existing_range_attrs(MERGE_CALLER_MADVISE, vma, start, new_flags);
  a.anon_name = anon_name;
  const merged = vma_merge(mm, pprev, start, end, a);
  if (merged) {
    vma = merged;
  } else {
    pprev = vma;
    if (start != vma.vm_start) {
      if (mm.map_count >= sysctl_max_map_count) return limit_refused();
      const err = __split_vma(mm, vma, start, true);
      if (err) return err;
    }
    if (end != vma.vm_end) {
      if (mm.map_count >= sysctl_max_map_count) return limit_refused();
      const err = __split_vma(mm, vma, end, false);
      if (err) return err;
    }
  }
  pprev = vma;
  // a merge may have given the survivor sticky flags (6.18.y): they stay
  vma.vm_flags = new_flags | (vma.vm_flags & vm_sticky());
  // names live on anonymous VMAs only (file VMAs share that storage)
  if (!vma.vm_file) vma.anon_name = anon_name;
  return 0;
}

/** madvise_vma_behavior(): one VMA's part [start, end). */
function vma_behavior(mm: Mm, vma: Vma, start: u64, end: u64, behavior: i32): i64 {
  let new_flags = vma.vm_flags;
  if (!can_madvise_modify(vma, behavior)) return -EPERM;
  switch (behavior) {
    case MADV_GUARD_INSTALL: {
      // madvise_guard_install(): no split, page table markers only
      pprev = vma;
      if (!is_valid_guard_vma(vma, false)) return -EINVAL;
      // the sticky flag of 6.18.y (6.19's VM_MAYBE_GUARD)
      if (kver >= 618) vma.vm_flags |= VM_MAYBE_GUARD;
      // markers make the range non-empty: fork must copy the page tables.
      // Before 6.18.y that took an anon_vma on every VMA; with VM_MAYBE_GUARD
      // fork copies them on that flag (vma_needs_copy(), mm/memory.c) and only
      // an anonymous VMA gets an anon_vma (madvise_guard_install(), mm/madvise.c)
      if ((kver < 618 || vma_is_anonymous(vma)) && !anon_vma_prepare(vma)) {
        engine_oom_set();
        return -ENOMEM;
      }
      return guard_install_range(vma, start, end) ? 0 : -ENOMEM;
    }
    case MADV_GUARD_REMOVE:
      pprev = vma;
      if (!is_valid_guard_vma(vma, true)) return -EINVAL;
      guard_remove_range(vma, start, end);
      return 0;
    case MADV_REMOVE: {
      // the lock is dropped: the walk then goes on with find_vma
      pprev = null;
      if (vma.vm_flags & VM_LOCKED) return -EINVAL;
      if (!vma.vm_file) return -EINVAL;
      if (!remove_may_write(vma)) return -EACCES;
      punch_hole(vma.vm_file!, vma.vm_pgoff + ((start - vma.vm_start) >> PAGE_SHIFT), (end - start) >> PAGE_SHIFT);
      return 0;
    }
    case MADV_COLLAPSE:
      pprev = vma;
      return madvise_collapse(vma, start, end);
    case MADV_WILLNEED:
      // readahead: no effect on tmpfs/anonymous memory without swap
      pprev = vma;
      return 0;
    case MADV_COLD: case MADV_PAGEOUT:
      pprev = vma;
      if (vma.vm_flags & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP)) return -EINVAL;
      // no swap: nothing can be paged out
      return 0;
    case MADV_FREE: case MADV_DONTNEED: case MADV_DONTNEED_LOCKED: {
      pprev = vma;
      // madvise_dontneed_free_valid_vma(): DONTNEED_LOCKED may zap locked pages
      let forbidden = VM_HUGETLB | VM_PFNMAP;
      if (behavior != MADV_DONTNEED_LOCKED) forbidden |= VM_LOCKED;
      if (vma.vm_flags & forbidden) return -EINVAL;
      if (behavior != MADV_FREE) {
        zap_page_range(vma, start, end);
        return 0;
      }
      // MADV_FREE marks exclusive anonymous pages lazily freeable: without
      // memory pressure they stay mapped
      if (!vma_is_anonymous(vma)) return -EINVAL;
      return 0;
    }
    case MADV_POPULATE_READ: case MADV_POPULATE_WRITE: {
      pprev = vma;
      // v5.17 madvise_populate(): a short count goes on from the page that
      // failed, whose second fault then gives the error (a private file page
      // beyond EOF allocates and frees its copy twice)
      for (let at = start; at < end;) {
        const r = faultin_range(vma, at, end, behavior == MADV_POPULATE_WRITE, false);
        if (r == FAULT_OOM) return -ENOMEM;
        if (r < 0) return r; // -EINVAL (incompatible mapping) or -EFAULT (SIGBUS/SIGSEGV)
        at += <u64>r << PAGE_SHIFT;
      }
      return 0;
    }
    case MADV_NORMAL: new_flags &= ~(VM_RAND_READ | VM_SEQ_READ); break;
    case MADV_SEQUENTIAL: new_flags = (new_flags & ~VM_RAND_READ) | VM_SEQ_READ; break;
    case MADV_RANDOM: new_flags = (new_flags & ~VM_SEQ_READ) | VM_RAND_READ; break;
    case MADV_DONTFORK: new_flags |= VM_DONTCOPY; break;
    case MADV_DOFORK:
      if (vma.vm_flags & VM_IO) return -EINVAL;
      new_flags &= ~VM_DONTCOPY;
      break;
    case MADV_WIPEONFORK:
      // anonymous private memory only
      if (vma.vm_file || (vma.vm_flags & VM_SHARED)) return -EINVAL;
      new_flags |= VM_WIPEONFORK;
      break;
    case MADV_KEEPONFORK: new_flags &= ~VM_WIPEONFORK; break;
    case MADV_DONTDUMP: new_flags |= VM_DONTDUMP; break;
    case MADV_DODUMP:
      if (!(vma.vm_flags & VM_HUGETLB) && (new_flags & VM_SPECIAL)) return -EINVAL;
      new_flags &= ~VM_DONTDUMP;
      break;
    case MADV_MERGEABLE:
      // ksm_madvise(): silently ignored for shared, special or hugetlb VMAs
      if (!(new_flags & (VM_MERGEABLE | VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_HUGETLB | VM_MIXEDMAP))) {
        new_flags |= VM_MERGEABLE;
      }
      break;
    case MADV_UNMERGEABLE: new_flags &= ~VM_MERGEABLE; break;
    case MADV_HUGEPAGE: new_flags = (new_flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE; break;
    case MADV_NOHUGEPAGE: new_flags = (new_flags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE; break;
  }
  return madvise_enomem(madvise_update_vma(mm, vma, start, end, new_flags, vma.anon_name));
}

/** do_madvise(): 0 or -errno. */
export function do_madvise(mm: Mm, start: u64, len_in: u64, behavior: i32): i64 {
  if (!behavior_valid(behavior)) return -EINVAL;
  if (start & ~PAGE_MASK) return -EINVAL;
  const len = (len_in + 4095) & PAGE_MASK;
  // a small negative length rounded up to zero
  if (len_in && !len) return -EINVAL;
  const end = start + len;
  if (end < start) return -EINVAL;
  if (end == start) return 0;
  // madvise_inject_error(): CAP_SYS_ADMIN only
  if (behavior == MADV_HWPOISON || behavior == MADV_SOFT_OFFLINE) return -EPERM;
  if (kver >= 609 && (behavior == MADV_POPULATE_READ || behavior == MADV_POPULATE_WRITE)) {
    return madvise_populate(mm, start, end, behavior == MADV_POPULATE_WRITE);
  }
  return madvise_walk_vmas(mm, start, end, behavior, 0, false);
}

/**
 * madvise_populate() of 6.9 (631426ba1d45, populate outside the VMA walk):
 * fault in from start onwards; the first address in no VMA ends it with
 * ENOMEM, so a hole stops everything after it (5.17 skipped holes).
 */
function madvise_populate(mm: Mm, start: u64, end: u64, write: bool): i64 {
  while (start < end) {
    const vma = find_vma(mm, start);
    if (!vma || start < vma.vm_start) return -ENOMEM;
    const tmp = end < vma.vm_end ? end : vma.vm_end;
    const r = faultin_range(vma, start, tmp, write, false);
    if (r == FAULT_OOM) return -ENOMEM;
    if (r < 0) return r; // -EINVAL (incompatible mapping) or -EFAULT (SIGBUS/SIGSEGV)
    // a short count goes on from the page that failed (its second fault gives the error)
    start += <u64>r << PAGE_SHIFT;
  }
  return 0;
}

/**
 * madvise_walk_vmas(): visit each VMA part of [start, end); gaps make the
 * result ENOMEM at the end. `name` mode applies an anon name (prctl).
 */
export function madvise_walk_vmas(mm: Mm, start: u64, end: u64, behavior: i32, anon_name: u32, name: bool): i64 {
  let unmapped_error: i64 = 0;
  let vma = find_vma(mm, start);
  pprev = vma ? vma_prev(vma) : find_vma_before(mm, start);
  if (vma && start > vma.vm_start) pprev = vma;
  while (true) {
    if (!vma) return -ENOMEM;
    if (start < vma.vm_start) {
      unmapped_error = -ENOMEM;
      start = vma.vm_start;
      if (start >= end) break;
    }
    let tmp = vma.vm_end;
    if (end < tmp) tmp = end;
    let err: i64;
    if (name) {
      // madvise_vma_anon_name(): file VMAs have no anon name
      if (vma.vm_file) return -9; // EBADF
      err = madvise_update_vma(mm, vma, start, tmp, vma.vm_flags, anon_name);
      if (err == -ENOMEM) err = -EAGAIN;
    } else {
      err = vma_behavior(mm, vma, start, tmp, behavior);
    }
    if (err) return err;
    start = tmp;
    if (pprev && start < pprev!.vm_end) start = pprev!.vm_end;
    if (start >= end) break;
    vma = pprev ? vma_next(pprev!) : find_vma(mm, start);
  }
  return unmapped_error;
}
