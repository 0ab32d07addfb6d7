// brk(2): mm/mmap.c SYSCALL brk (sys_brk), do_brk_flags(); include/linux/mm.h
// check_data_rlimit() (v5.17).
//
// Decision: min_brk = mm->start_brk (no CONFIG_COMPAT_BRK, or brk randomised).
// sys_brk returns the new break on success and the old one on any failure.
// A growth under mlockall(MCL_FUTURE) (VM_LOCKED in def_flags) is populated.

import { EINVAL, ENOMEM, MAP_FIXED, PAGE_SIZE, TASK_SIZE, VM_ACCOUNT, VM_DATA_DEFAULT_FLAGS, VM_EXEC, VM_LOCKED, VM_SOFTDIRTY } from "../abi/constants.js";
import { may_expand_vm, mlock_future_check, security_vm_enough_memory_mm } from "./accounting.js";
import { get_unmapped_area } from "./get_unmapped_area.js";
import { mm_populate } from "./gup.js";
import { vma_merge } from "./merge.js";
import { find_vma, vm_area_alloc, vm_start_gap, vma_link, type MmStruct } from "./mm.js";
import { __do_munmap, munmap_vma_range } from "./munmap.js";
import { rlimit } from "./resource.js";
import { num, pageAlignUlong } from "./uapi.js";

/** check_data_rlimit(): would a break at brk exceed RLIMIT_DATA together with the data segment? */
function check_data_rlimit(mm: MmStruct, brk: bigint): boolean {
  const rlim = rlimit(mm, "data");
  if (rlim === Infinity) return false;
  const used = brk - BigInt(mm.start_brk) + BigInt(mm.end_data - mm.start_data);
  return used > BigInt(rlim);
}

/** SYSCALL brk(brk): the new break, or the old one on failure. */
export function sys_brk(mm: MmStruct, brk: bigint): number {
  const origbrk = mm.brk;
  const min_brk = BigInt(mm.start_brk);
  if (brk < min_brk) return origbrk;

  if (check_data_rlimit(mm, brk)) return origbrk;

  // A break at or above TASK_SIZE can never be set: its page-aligned end is
  // beyond TASK_SIZE (or wraps to 0) and do_brk_flags() -> get_unmapped_area()
  // refuses it, unless the next-VMA check below refuses it first. Either way
  // the result is the old break; this shortcut keeps the arithmetic below exact.
  // (Only exception, not modelled: with start_brk == 0 a brk that wraps PAGE_ALIGN
  // to 0 would equal oldbrk and be stored.)
  if (brk > BigInt(TASK_SIZE)) return origbrk;

  const newbrk = num(pageAlignUlong(brk));
  const oldbrk = num(pageAlignUlong(BigInt(mm.brk)));
  const brkNum = num(brk);
  if (oldbrk === newbrk) {
    mm.brk = brkNum;
    return brkNum;
  }

  // Always allow shrinking brk.
  if (brkNum <= mm.brk) {
    mm.brk = brkNum;
    const ret = __do_munmap(mm, newbrk, oldbrk - newbrk);
    if (ret < 0) {
      mm.brk = origbrk;
      return origbrk;
    }
    return brkNum;
  }

  // Check against existing mmap mappings: keep one page (plus a stack's guard gap) free.
  const next = find_vma(mm, oldbrk);
  if (next && newbrk + PAGE_SIZE > vm_start_gap(next)) return origbrk;

  if (do_brk_flags(mm, oldbrk, newbrk - oldbrk, 0) < 0) return origbrk;
  mm.brk = brkNum;
  if (mm.def_flags & VM_LOCKED) mm_populate(mm, oldbrk, newbrk - oldbrk);
  return brkNum;
}

/** do_brk_flags(addr, len, flags): map [addr, addr + len) as heap. 0 or -errno. */
export function do_brk_flags(mm: MmStruct, addr: number, len: number, flags: number): number {
  const pages = len / PAGE_SIZE;

  // Until we need other flags, refuse anything except VM_EXEC.
  if ((flags & ~VM_EXEC) !== 0) return -EINVAL;
  flags = (flags | VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT | mm.def_flags) >>> 0;

  const mapped = get_unmapped_area(mm, null, addr, len, 0, MAP_FIXED);
  if (mapped < 0) return mapped;

  const err = mlock_future_check(mm, mm.def_flags, len);
  if (err) return err;

  // Clear old maps (a no-op for sys_brk, which checked the range is free).
  const r = munmap_vma_range(mm, addr, len);
  if (typeof r === "number") return -ENOMEM;
  const prev = r.prev;

  // Check against address space limits *after* clearing old maps.
  if (!may_expand_vm(mm, flags, pages)) return -ENOMEM;
  if (mm.map_count > mm.kernel.sysctl_max_map_count) return -ENOMEM;
  if (security_vm_enough_memory_mm(mm, pages)) return -ENOMEM;

  // Can we just expand an old private anonymous mapping?
  let vma = vma_merge(mm, prev, addr, addr + len, {
    vm_flags: flags, vm_flags_hi: 0, anon_vma: null, file: null, pgoff: addr / PAGE_SIZE,
    policy: null, uffd_ctx: null, anon_name: null,
  });
  if (!vma) {
    vma = vm_area_alloc(mm); // vma_set_anonymous(): vm_ops stays NULL
    vma.vm_start = addr;
    vma.vm_end = addr + len;
    vma.vm_pgoff = addr / PAGE_SIZE;
    vma.vm_flags = flags;
    vma_link(mm, vma, prev);
  }

  mm.total_vm += pages;
  mm.data_vm += pages;
  if (flags & VM_LOCKED) mm.locked_vm += pages;
  vma.vm_flags = (vma.vm_flags | VM_SOFTDIRTY) >>> 0;
  return 0;
}
