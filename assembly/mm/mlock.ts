// Locking memory and populating it: mlock/mlock2/munlock through
// apply_vma_lock_flags() and mlock_fixup() (mm/mlock.c), and __mm_populate()
// with populate_vma_page_range() (mm/gup.c), v5.17. RLIMIT_MEMLOCK and
// CAP_IPC_LOCK are the calling task's (rlimit.ts): can_do_mlock() first
// (EPERM), then the limit on locked_vm (mlock: ENOMEM; mlockall(MCL_CURRENT):
// ENOMEM when total_vm alone exceeds it). Same rules in 6.x.

import { kver, vm_sticky } from "./policy";
import { EINVAL, ENOMEM, EPERM, PAGE_MASK, PAGE_SHIFT, VM_HUGETLB, VM_IO, VM_LOCKED, VM_LOCKED_CLEAR_MASK, VM_LOCKONFAULT, VM_PFNMAP, VM_SPECIAL } from "../abi/constants";
import { FAULT_OOM, faultin_range } from "./memory";
import { MERGE_CALLER_MLOCK, existing_range_attrs, vma_merge } from "./merge";
import { reserve } from "./reserve";
import { CAP_IPC_LOCK, RLIMIT_MEMLOCK, can_do_mlock, capable, rlimit } from "./rlimit";
import { split_vma } from "./split";
import { Mm, VM_OPS_SPECIAL, Vma } from "./types";
import { find_vma, vma_first, vma_next, vma_prev } from "./vma_tree";

export const MLOCK_ONFAULT: u32 = 1;

let pprev: Vma | null = null;

/** mlock_fixup(): give [start, end) of vma the lock flags in newflags. */
function mlock_fixup(mm: Mm, vma: Vma, start: u64, end: u64, newflags: u64): i64 {
  const lock = (newflags & VM_LOCKED) != 0;
  const old_flags = vma.vm_flags;
  // special, hugetlb (and gate, DAX, secretmem) VMAs are left alone and not counted
  if (newflags == vma.vm_flags || (vma.vm_flags & VM_SPECIAL) || (vma.vm_flags & VM_HUGETLB)) {
    pprev = vma;
    return 0;
  }
  let ret: i64 = 0;
  const merged = vma_merge(mm, pprev, start, end, existing_range_attrs(MERGE_CALLER_MLOCK, vma, start, newflags));
  if (merged) {
    vma = merged;
  } else {
    if (start != vma.vm_start) {
      ret = split_vma(mm, vma, start, true);
      if (ret) { pprev = vma; return ret; }
    }
    if (end != vma.vm_end) {
      ret = split_vma(mm, vma, end, false);
      if (ret) { pprev = vma; return ret; }
    }
  }
  let nr_pages = <i64>((end - start) >> PAGE_SHIFT);
  if (!lock) nr_pages = -nr_pages;
  else if (old_flags & VM_LOCKED) nr_pages = 0;
  mm.locked_vm = <u64>(<i64>mm.locked_vm + nr_pages);
  // munlock_vma_pages_range() clears the flags
  // (a merge may have given the survivor sticky flags on 6.18.y: they stay)
  if (lock) vma.vm_flags = newflags | (vma.vm_flags & vm_sticky());
  else vma.vm_flags &= VM_LOCKED_CLEAR_MASK;
  pprev = vma;
  return 0;
}

/** apply_vma_lock_flags(): [start, start+len) must be mapped without holes. */
function apply_vma_lock_flags(mm: Mm, start: u64, len: u64, flags: u64): i64 {
  const end = start + len;
  if (end < start) return -EINVAL;
  if (end == start) return 0;
  let vma = find_vma(mm, start);
  if (!vma || vma.vm_start > start) return -ENOMEM;
  pprev = start > vma.vm_start ? vma : vma_prev(vma);
  let nstart = start;
  while (true) {
    const newflags = (vma.vm_flags & VM_LOCKED_CLEAR_MASK) | flags;
    let tmp = vma.vm_end;
    if (tmp > end) tmp = end;
    if (!reserve(2, 0)) return -ENOMEM;
    const err = mlock_fixup(mm, vma, nstart, tmp, newflags);
    if (err) return err;
    nstart = tmp;
    const p = pprev!;
    if (nstart < p.vm_end) nstart = p.vm_end;
    if (nstart >= end) return 0;
    vma = vma_next(p);
    if (!vma || vma.vm_start != nstart) return -ENOMEM;
  }
}

/**
 * __mm_populate(): fault in [start, start+len) VMA by VMA. Returns 0 or the
 * first error (-EFAULT for an inaccessible page, -ENOMEM for a hole) unless
 * ignore_errors; FAULT_OOM when the engine ran out of memory.
 */
export function mm_populate(mm: Mm, start: u64, len: u64, ignore_errors: bool): i64 {
  const end = start + len;
  let nstart = start;
  let vma: Vma | null = null;
  while (nstart < end) {
    if (!vma || nstart >= vma.vm_end) vma = vma ? vma_next(vma) : find_vma(mm, nstart);
    if (!vma || vma.vm_start >= end) break;
    let nend = end < vma.vm_end ? end : vma.vm_end;
    if (vma.vm_flags & (VM_IO | VM_PFNMAP)) { nstart = nend; continue; }
    // the pages of special mappings ([vdso]) are not modelled: not populated
    if (vma.vm_ops == VM_OPS_SPECIAL) { nstart = nend; continue; }
    if (nstart < vma.vm_start) nstart = vma.vm_start;
    const r = populate_vma_page_range(vma, nstart, nend);
    if (r == FAULT_OOM) return FAULT_OOM;
    if (r < 0) {
      if (ignore_errors) { nstart = nend; continue; }
      return r;
    }
    nstart = nstart + (<u64>r << PAGE_SHIFT);
  }
  return 0;
}

/**
 * populate_vma_page_range(): fault the pages in, with write faults for
 * private writable mappings (to break COW). For VM_LOCKONFAULT v5.17 still
 * goes through __get_user_pages with FOLL_MLOCK but without FOLL_POPULATE:
 * the VMA's flags are checked (so PROT_NONE fails), no page is faulted in.
 * 5.18 (Hugh Dickins' mlock rework, FOLL_POPULATE and FOLL_MLOCK deleted)
 * skips such a VMA altogether, PROT_NONE included.
 * Returns the pages done, or a negative error.
 */
export function populate_vma_page_range(vma: Vma, start: u64, end: u64): i64 {
  if (kver >= 518 && (vma.vm_flags & VM_LOCKONFAULT)) return <i64>((end - start) >> PAGE_SHIFT);
  return faultin_range(vma, start, end, false, true, (vma.vm_flags & VM_LOCKONFAULT) != 0);
}

/** count_mm_mlocked_page_nr(): pages of [start, start+len) already in VM_LOCKED VMAs. */
function count_mm_mlocked_page_nr(mm: Mm, start: u64, len: u64): u64 {
  const end = start + len < start ? <u64>0xffffffffffffffff : start + len;
  let count: u64 = 0;
  let vma = find_vma(mm, start);
  while (vma && vma.vm_start < end) {
    const v = vma;
    if (v.vm_flags & VM_LOCKED) {
      if (start > v.vm_start) count -= start - v.vm_start;
      if (end < v.vm_end) {
        count += end - v.vm_start;
        break;
      }
      count += v.vm_end - v.vm_start;
    }
    vma = vma_next(v);
  }
  return count >> PAGE_SHIFT;
}

/** mlock / mlock2: 0 or -errno. */
export function do_mlock(mm: Mm, start: u64, len: u64, flags: u32): i64 {
  if (flags & ~MLOCK_ONFAULT) return -EINVAL;
  let vm_flags: u64 = VM_LOCKED;
  if (flags & MLOCK_ONFAULT) vm_flags |= VM_LOCKONFAULT;
  if (!can_do_mlock()) return -EPERM;
  len = (len + (start & ~PAGE_MASK) + 4095) & PAGE_MASK;
  start &= PAGE_MASK;
  const lock_limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
  let locked = (len >> PAGE_SHIFT) + mm.locked_vm;
  // pages of the range locked already are not counted twice
  if (locked > lock_limit && !capable(CAP_IPC_LOCK)) locked -= count_mm_mlocked_page_nr(mm, start, len);
  if (locked > lock_limit && !capable(CAP_IPC_LOCK)) return -ENOMEM;
  const err = apply_vma_lock_flags(mm, start, len, vm_flags);
  if (err) return err;
  const r = mm_populate(mm, start, len, false);
  if (r == FAULT_OOM) return -ENOMEM;
  // __mlock_posix_error_return(): EFAULT becomes ENOMEM, ENOMEM becomes EAGAIN
  if (r == -14) return -ENOMEM;
  if (r == -ENOMEM) return -11;
  return r;
}

/** munlock: 0 or -errno. */
export function do_munlock(mm: Mm, start: u64, len: u64): i64 {
  len = (len + (start & ~PAGE_MASK) + 4095) & PAGE_MASK;
  start &= PAGE_MASK;
  return apply_vma_lock_flags(mm, start, len, 0);
}

export const MCL_CURRENT: u32 = 1;
export const MCL_FUTURE: u32 = 2;
export const MCL_ONFAULT: u32 = 4;

/** mlockall(): lock every VMA (MCL_CURRENT) and/or future ones (MCL_FUTURE). 0 or -errno. */
export function do_mlockall(mm: Mm, flags: u32): i64 {
  if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT) return -EINVAL;
  if (!can_do_mlock()) return -EPERM;
  // MCL_CURRENT: the whole address space must fit under RLIMIT_MEMLOCK
  if ((flags & MCL_CURRENT) && mm.total_vm > (rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT) && !capable(CAP_IPC_LOCK)) return -ENOMEM;
  apply_mlockall_flags(mm, flags);
  if (flags & MCL_CURRENT) {
    if (mm_populate(mm, 0, 0x7ffffffff000, true) == FAULT_OOM) return -ENOMEM;
  }
  return 0;
}

/** munlockall() */
export function do_munlockall(mm: Mm): i64 {
  apply_mlockall_flags(mm, 0);
  return 0;
}

/** apply_mlockall_flags(): def_flags for the future, mlock_fixup of every VMA for the present (errors ignored). */
function apply_mlockall_flags(mm: Mm, flags: u32): void {
  mm.def_flags &= VM_LOCKED_CLEAR_MASK;
  if (flags & MCL_FUTURE) {
    mm.def_flags |= VM_LOCKED;
    if (flags & MCL_ONFAULT) mm.def_flags |= VM_LOCKONFAULT;
    if (!(flags & MCL_CURRENT)) return;
  }
  let to_add: u64 = 0;
  if (flags & MCL_CURRENT) {
    to_add |= VM_LOCKED;
    if (flags & MCL_ONFAULT) to_add |= VM_LOCKONFAULT;
  }
  let vma = vma_first(mm);
  pprev = null;
  while (vma) {
    const newflags = (vma.vm_flags & VM_LOCKED_CLEAR_MASK) | to_add;
    if (!reserve(2, 0)) return;
    mlock_fixup(mm, vma, vma.vm_start, vma.vm_end, newflags);
    vma = vma_next(pprev!);
  }
}
