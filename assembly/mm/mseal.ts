// mseal(2) (mm/mseal.c, 6.10; its per-VMA form since 6.12): do_mseal(),
// range_contains_unmapped() and mseal_apply(). A sealed VMA carries VM_SEALED;
// the checks that refuse changing it live with each syscall (can_modify_vma in
// types.ts: munmap, mremap, mprotect, mmap MAP_FIXED; madvise's
// can_madvise_modify). Sealing merges and splits like mprotect.

import { EINVAL, ENOMEM, ENOSYS, PAGE_MASK, VM_SEALED } from "../abi/constants";
import { MERGE_CALLER_MSEAL, existing_range_attrs, vma_merge } from "./merge";
import { kver } from "./policy";
import { reserve } from "./reserve";
import { split_vma } from "./split";
import { Mm, Vma } from "./types";
import { find_vma, vma_next, vma_prev } from "./vma_tree";

/** range_contains_unmapped(): is any page of [start, end) in no VMA? */
function range_contains_unmapped(mm: Mm, start: u64, end: u64): bool {
  let prev_end = start;
  let vma = find_vma(mm, start);
  while (vma && vma.vm_start < end) {
    if (vma.vm_start > prev_end) return true;
    prev_end = vma.vm_end;
    vma = vma_next(vma);
  }
  return prev_end < end;
}

/** vma_modify_flags() for sealing: merge [start, end) of vma, else split it off. The VMA, or null (err set). */
let modify_err: i64 = 0;
function vma_modify_flags(mm: Mm, prev: Vma | null, vma: Vma, start: u64, end: u64, newflags: u64): Vma | null {
  modify_err = 0;
  if (!reserve(2, 0)) {
    modify_err = -ENOMEM;
    return null;
  }
  const merged = vma_merge(mm, prev, start, end, existing_range_attrs(MERGE_CALLER_MSEAL, vma, start, newflags));
  if (merged) return merged;
  if (vma.vm_start < start) {
    const err = split_vma(mm, vma, start, true);
    if (err) { modify_err = err; return null; }
  }
  if (vma.vm_end > end) {
    const err = split_vma(mm, vma, end, false);
    if (err) { modify_err = err; return null; }
  }
  return vma;
}

/** mseal_apply(): seal every VMA part of [start, end) (known to have no gap). 0 or -errno. */
function mseal_apply(mm: Mm, start: u64, end: u64): i64 {
  const first = find_vma(mm, start)!;
  let prev: Vma | null = start > first.vm_start ? first : vma_prev(first);
  let vma: Vma | null = first;
  let curr_start = start;
  while (vma && vma.vm_start < end) {
    let v = vma;
    const curr_end = v.vm_end < end ? v.vm_end : end;
    if (!(v.vm_flags & VM_SEALED)) {
      const m = vma_modify_flags(mm, prev, v, curr_start, curr_end, v.vm_flags | VM_SEALED);
      if (!m) return modify_err;
      m.vm_flags |= VM_SEALED;
      v = m;
    }
    prev = v;
    curr_start = curr_end;
    vma = vma_next(v);
  }
  return 0;
}

/** do_mseal(): 0 or -errno; ENOSYS before 6.10. */
export function do_mseal(mm: Mm, start: u64, len_in: u64, flags: u64): i64 {
  if (kver < 610) return -ENOSYS;
  if (flags) return -EINVAL;
  if (start & ~PAGE_MASK) return -EINVAL;
  const len = (len_in + 4095) & PAGE_MASK;
  // a small negative length rounded up to zero
  if (len_in && !len) return -EINVAL;
  const end = start + len;
  if (end < start) return -EINVAL;
  if (end == start) return 0;
  if (range_contains_unmapped(mm, start, end)) return -ENOMEM;
  return mseal_apply(mm, start, end);
}
