// Changing protection: do_mprotect_pkey() and mprotect_fixup()
// (mm/mprotect.c, v5.17). Each VMA of the range is changed in turn: merged
// with a neighbour if possible, else split off; a hole in the range stops the
// walk with ENOMEM after the earlier VMAs were already changed.

import {
  EACCES, EINVAL, ENOMEM, EPERM, PAGE_MASK, PAGE_SHIFT, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ,
  PROT_SEM, PROT_WRITE, VM_ACCESS_FLAGS, VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_HUGETLB, VM_LOCKED, VM_NORESERVE,
  VM_PKEY_MASK, VM_READ, VM_SHARED, VM_WRITE,
} from "../abi/constants";
import { change_protection } from "./memory";
import { populate_vma_page_range } from "./mlock";
import { MERGE_CALLER_MPROTECT, existing_range_attrs, vma_merge } from "./merge";
import { may_expand_vm, vm_stat_account } from "./mm";
import { security_vm_enough_memory_mm, vm_unacct_memory } from "./commit";
import { calc_vm_prot_bits } from "./mmap";
import { reserve } from "./reserve";
import { split_vma } from "./split";
import { kver, vm_sticky } from "./policy";
import { Mm, Vma, can_modify_vma, vma_is_anonymous } from "./types";
import { find_vma, vma_next, vma_prev } from "./vma_tree";

/** VMA records one mprotect_fixup may need (two splits). */
export const MPROTECT_FIXUP_RESERVE: u32 = 2;

/** mprotect_fixup's *pprev, shared with the walk in sys_mprotect */
let pprev: Vma | null = null;

/** mprotect_fixup(): give [start, end) of vma the flags newflags. 0 or -errno. */
function mprotect_fixup(mm: Mm, vma: Vma, start: u64, end: u64, newflags: u64): i64 {
  const oldflags = vma.vm_flags;
  const nrpages = (end - start) >> PAGE_SHIFT;
  // 6.10 mseal: checked VMA by VMA (6.12+), so earlier VMAs were already changed
  if (!can_modify_vma(vma)) return -EPERM;
  if (newflags == oldflags) {
    pprev = vma;
    return 0;
  }
  // making a private mapping writable commits memory (only what is not
  // charged yet); in 5.17 the charge is never given back: VM_ACCOUNT stays
  // when it becomes read-only again
  let charged: u64 = 0;
  if (newflags & VM_WRITE) {
    if (!may_expand_vm(mm, newflags, nrpages) && may_expand_vm(mm, oldflags, nrpages)) return -ENOMEM;
    if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) {
      charged = nrpages;
      if (security_vm_enough_memory_mm(mm, charged)) return -ENOMEM;
      newflags |= VM_ACCOUNT;
    }
  } else if (kver >= 605 && (oldflags & VM_ACCOUNT) && vma_is_anonymous(vma) && !vma.anon_vma) {
    // 6.5: an unfaulted anonymous VMA has no pages to back, so it is unaccounted
    newflags &= ~VM_ACCOUNT;
  }
  const merged = vma_merge(mm, pprev, start, end, existing_range_attrs(MERGE_CALLER_MPROTECT, vma, start, newflags));
  if (merged) {
    vma = merged;
  } else {
    pprev = vma;
    if (start != vma.vm_start) {
      const err = split_vma(mm, vma, start, true);
      if (err) {
        vm_unacct_memory(<i64>charged);
        return err;
      }
    }
    if (end != vma.vm_end) {
      const err = split_vma(mm, vma, end, false);
      if (err) {
        vm_unacct_memory(<i64>charged);
        return err;
      }
    }
  }
  pprev = vma;
  // a merge may have given the survivor sticky flags (6.18.y): they stay
  vma.vm_flags = newflags | (vma.vm_flags & vm_sticky());
  // 6.5: the charge of a VMA that lost VM_ACCOUNT goes back
  if ((oldflags & VM_ACCOUNT) && !(newflags & VM_ACCOUNT)) vm_unacct_memory(<i64>nrpages);
  change_protection(vma, start, end, newflags);
  // a private VM_LOCKED VMA becoming writable: break COW now, not at the next write
  if ((oldflags & (VM_WRITE | VM_SHARED | VM_LOCKED)) == VM_LOCKED && (newflags & VM_WRITE)) {
    populate_vma_page_range(vma, start, end);
  }
  vm_stat_account(mm, oldflags, -<i64>nrpages);
  vm_stat_account(mm, newflags, <i64>nrpages);
  return 0;
}

/**
 * mprotect(2). 0 or -errno. Reserves the records of each VMA's fixup before
 * touching it; if the engine is out of memory the walk stops there with
 * -ENOMEM (the engine flags it, see reserve.ts).
 */
export function sys_mprotect(mm: Mm, start: u64, len: u64, prot: u32): i64 {
  const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
  if (grows == (PROT_GROWSDOWN | PROT_GROWSUP)) return -EINVAL;
  if (start & ~PAGE_MASK) return -EINVAL;
  if (len == 0) return 0;
  len = (len + 4095) & PAGE_MASK;
  let end = start + len;
  if (end <= start) return -ENOMEM;
  // arch_validate_prot(): only READ|WRITE|EXEC|SEM
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) return -EINVAL;

  let vma = find_vma(mm, start);
  if (!vma) return -ENOMEM;
  if (grows & PROT_GROWSDOWN) {
    if (vma.vm_start >= end) return -ENOMEM;
    start = vma.vm_start;
    if (!(vma.vm_flags & VM_GROWSDOWN)) return -EINVAL;
  } else {
    if (vma.vm_start > start) return -ENOMEM;
    // PROT_GROWSUP: x86 has no VM_GROWSUP VMAs
    if (grows & PROT_GROWSUP) return -EINVAL;
  }
  pprev = start > vma.vm_start ? vma : vma_prev(vma);

  let nstart = start;
  while (true) {
    // each call passes all of r/w/x: what is not passed is cleared (pkey bits too)
    let newflags = calc_vm_prot_bits(prot);
    newflags |= vma.vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC | VM_PKEY_MASK);
    // VM_MAY* shifted right by 4 are the access bits that may be set
    if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) return -EACCES;
    let tmp = vma.vm_end;
    if (tmp > end) tmp = end;
    if (!reserve(MPROTECT_FIXUP_RESERVE, 0)) return -ENOMEM;
    const err = mprotect_fixup(mm, vma, nstart, tmp, newflags);
    if (err) return err;
    nstart = tmp;
    const p = pprev!;
    if (nstart < p.vm_end) nstart = p.vm_end;
    if (nstart >= end) return 0;
    vma = vma_next(p);
    if (!vma || vma.vm_start != nstart) return -ENOMEM;
  }
}
