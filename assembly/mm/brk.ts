// The program break: sys_brk() and do_brk_flags() (mm/mmap.c, v5.17).
// brk returns the new break, or the old one on any failure.

import { EAGAIN, EINVAL, ENOMEM, PAGE_MASK, PAGE_SHIFT, VM_ACCOUNT, VM_DATA_DEFAULT_FLAGS, VM_EXEC, VM_LOCKED, VM_SOFTDIRTY } from "../abi/constants";
import { MERGE_CALLER_BRK, MergeAttrs, new_range_attrs, vma_merge } from "./merge";
import { may_expand_vm } from "./mm";
import { RLIMIT_DATA, RLIM_INFINITY, mlock_future_ok, rlimit } from "./rlimit";
import { security_vm_enough_memory_mm } from "./commit";
import { mm_populate } from "./mlock";
import { do_munmap } from "./munmap";
import { map_count_refused, sysctl_max_map_count } from "./sysctl";
import { Mm, VM_OPS_NONE, vm_area_alloc } from "./types";
import { IS_ERR_VALUE, get_unmapped_area } from "./unmapped_area";
import { find_vma, find_vma_before, find_vma_intersection, vm_start_gap, vma_link } from "./vma_tree";
import { MAP_FIXED } from "../abi/constants";

/** VMA records brk may need: a split when shrinking, one new VMA when growing. */
export const BRK_RESERVE: u32 = 2;

const attrs = changetype<MergeAttrs>(memory.data(offsetof<MergeAttrs>(), 8));

// @ts-ignore: decorator
@inline function PAGE_ALIGN(x: u64): u64 {
  return (x + 4095) & PAGE_MASK;
}

/** sys_brk(): requires BRK_RESERVE VMA records. */
export function sys_brk(mm: Mm, brk: u64): u64 {
  const origbrk = mm.brk;
  // without CONFIG_COMPAT_BRK the floor is start_brk
  if (brk < mm.start_brk) return origbrk;
  // check_data_rlimit(): RLIMIT_DATA covers the heap (no separate data segment is modelled)
  if (rlimit(RLIMIT_DATA) != RLIM_INFINITY && brk - mm.start_brk > rlimit(RLIMIT_DATA)) return origbrk;
  const newbrk = PAGE_ALIGN(brk);
  const oldbrk = PAGE_ALIGN(mm.brk);
  if (oldbrk == newbrk) {
    mm.brk = brk;
    return brk;
  }
  // shrinking is always allowed
  if (brk <= mm.brk) {
    mm.brk = brk;
    if (do_munmap(mm, newbrk, oldbrk - newbrk) < 0) {
      mm.brk = origbrk;
      return origbrk;
    }
    return brk;
  }
  // the heap must stay a page below the next mapping (and its guard gap)
  const next = find_vma(mm, oldbrk);
  if (next && newbrk + 4096 > vm_start_gap(next)) return origbrk;
  if (do_brk_flags(mm, oldbrk, newbrk - oldbrk, 0) < 0) return origbrk;
  mm.brk = brk;
  // mlockall(MCL_FUTURE): the new heap is populated
  if (mm.def_flags & VM_LOCKED) mm_populate(mm, oldbrk, newbrk - oldbrk, true);
  return brk;
}

/** do_brk_flags(): an anonymous private range, merged with the heap if possible. 0 or -errno. */
export function do_brk_flags(mm: Mm, addr: u64, len: u64, flags: u64): i64 {
  if (flags & ~VM_EXEC) return -EINVAL;
  flags |= VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT | mm.def_flags;
  const a = get_unmapped_area(mm, addr, len, MAP_FIXED);
  if (IS_ERR_VALUE(a)) return <i64>a;
  // a heap under mlockall(MCL_FUTURE) is locked: RLIMIT_MEMLOCK (6.1+ checks
  // it earlier, in check_brk_limits(); brk fails alike)
  if (!mlock_future_ok(mm, mm.def_flags, len)) return -EAGAIN;
  // munmap_vma_range(): clear old maps (sys_brk already guarantees a free range)
  if (find_vma_intersection(mm, addr, addr + len)) {
    if (do_munmap(mm, addr, len) != 0) return -ENOMEM;
  }
  const pages = len >> PAGE_SHIFT;
  if (!may_expand_vm(mm, flags, pages)) return -ENOMEM;
  if (mm.map_count > sysctl_max_map_count) return map_count_refused();
  if (security_vm_enough_memory_mm(mm, pages)) return -ENOMEM;

  const prev = find_vma_before(mm, addr);
  let vma = vma_merge(mm, prev, addr, addr + len, new_range_attrs(attrs, MERGE_CALLER_BRK, flags, 0, addr >> PAGE_SHIFT));
  if (!vma) {
    const v = vm_area_alloc(mm);
    v.vm_start = addr;
    v.vm_end = addr + len;
    v.vm_pgoff = addr >> PAGE_SHIFT;
    v.vm_flags = flags;
    v.vm_ops = VM_OPS_NONE;
    vma_link(mm, v, prev);
    vma = v;
  }
  mm.total_vm += pages;
  mm.data_vm += pages;
  if (flags & VM_LOCKED) mm.locked_vm += pages;
  vma.vm_flags |= VM_SOFTDIRTY;
  return 0;
}
