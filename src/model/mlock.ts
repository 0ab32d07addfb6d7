// mlock(2), mlock2(2), munlock(2), mlockall(2), munlockall(2): mm/mlock.c
// do_mlock(), count_mm_mlocked_page_nr(), apply_vma_lock_flags(),
// mlock_fixup() (with munlock_vma_pages_range() clearing the lock bits),
// apply_mlockall_flags(), __mlock_posix_error_return(); the populate is
// mm/gup.c __mm_populate() (gup.ts) (v5.17, before the 5.18 mlock rework).
//
// RLIMIT_MEMLOCK and CAP_IPC_LOCK are the calling task's (resource.ts; the
// same rules in 6.x). mlock_fixup() leaves VM_SPECIAL and hugetlb VMAs
// alone (no flag, not counted); the gate, DAX and secretmem VMAs of the kernel
// do not exist in the model.

import {
  EAGAIN, EFAULT, EINVAL, ENOMEM, EPERM, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT, PAGE_SIZE, TASK_SIZE,
  VM_HUGETLB, VM_LOCKED, VM_LOCKONFAULT, VM_SPECIAL,
} from "../abi/constants.js";
import { can_do_mlock } from "./accounting.js";
import { __mm_populate, mm_populate } from "./gup.js";
import { vma_attrs, vma_merge } from "./merge.js";
import { anon_vma_name, find_vma, type MmStruct, type Vma } from "./mm.js";
import { capable, rlimit } from "./resource.js";
import { split_vma } from "./split.js";
import { U64_MASK, addUlong, num, pageAlignUlong, pageMaskUlong } from "./uapi.js";

const VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;
const PAGE_OFFSET_MASK = BigInt(PAGE_SIZE - 1);

/** SYSCALL mlock(start, len): do_mlock(start, len, VM_LOCKED). */
export function sys_mlock(mm: MmStruct, start: bigint, len: bigint): number {
  return do_mlock(mm, start, len, VM_LOCKED);
}

/** SYSCALL mlock2(start, len, flags): `flags` is the C int; only MLOCK_ONFAULT is known. */
export function sys_mlock2(mm: MmStruct, start: bigint, len: bigint, flagsB: bigint): number {
  const flags = Number(BigInt.asIntN(32, flagsB));
  if (flags & ~MLOCK_ONFAULT) return -EINVAL;
  let vm_flags = VM_LOCKED;
  if (flags & MLOCK_ONFAULT) vm_flags |= VM_LOCKONFAULT;
  return do_mlock(mm, start, len, vm_flags);
}

/** __mlock_posix_error_return(): POSIX wants ENOMEM for unmapped parts and EAGAIN for a lack of memory. */
function __mlock_posix_error_return(retval: number): number {
  if (retval === -EFAULT) return -ENOMEM;
  if (retval === -ENOMEM) return -EAGAIN;
  return retval;
}

/** The range of mlock/munlock: start rounded down, len grown by start's offset and rounded up (may wrap to 0). */
function lock_range(start: bigint, len: bigint): { start: bigint; len: bigint } {
  const alen = pageAlignUlong(addUlong(len, start & PAGE_OFFSET_MASK));
  return { start: pageMaskUlong(start), len: alen };
}

/** do_mlock(start, len, flags): 0 or -errno. */
function do_mlock(mm: MmStruct, startB: bigint, lenB: bigint, flags: number): number {
  if (!can_do_mlock(mm)) return -EPERM;
  const r = lock_range(startB, lenB);

  const lock_limit = Math.floor(rlimit(mm, "memlock") / PAGE_SIZE);
  const cap = capable(mm, "ipc_lock");
  let locked = num(r.len / BigInt(PAGE_SIZE)) + mm.locked_vm;
  if (locked > lock_limit && !cap) {
    // Pages of the range already locked are not counted twice.
    locked -= count_mm_mlocked_page_nr(mm, r.start, r.len);
  }
  // check against resource limits
  let error = -ENOMEM;
  if (locked <= lock_limit || cap) error = apply_vma_lock_flags(mm, r.start, r.len, flags);
  if (error) return error;

  error = __mm_populate(mm, num(r.start), num(r.len), false);
  if (error) return __mlock_posix_error_return(error);
  return 0;
}

/** count_mm_mlocked_page_nr(start, len): bytes of VM_LOCKED VMAs within [start, start + len), in pages. */
function count_mm_mlocked_page_nr(mm: MmStruct, startB: bigint, lenB: bigint): number {
  const start = num(startB);
  const end = start + num(lenB); // start + len (the kernel's unsigned sum; len is far below 2^64 here)
  let count = 0;
  for (let vma = find_vma(mm, start); vma; vma = vma.vm_next) {
    if (start >= vma.vm_end) continue;
    if (end <= vma.vm_start) break;
    if (vma.vm_flags & VM_LOCKED) {
      if (start > vma.vm_start) count -= start - vma.vm_start;
      if (end < vma.vm_end) {
        count += end - vma.vm_start;
        break;
      }
      count += vma.vm_end - vma.vm_start;
    }
  }
  return Math.floor(count / PAGE_SIZE);
}

/** SYSCALL munlock(start, len): 0 or -errno. */
export function sys_munlock(mm: MmStruct, startB: bigint, lenB: bigint): number {
  const r = lock_range(startB, lenB);
  return apply_vma_lock_flags(mm, r.start, r.len, 0);
}

/**
 * apply_vma_lock_flags(start, len, flags): give every VMA part of
 * [start, start + len) the lock flags `flags` (0 unlocks). The range must be
 * mapped without holes: -ENOMEM at the first hole (after the VMAs before it
 * were changed).
 */
function apply_vma_lock_flags(mm: MmStruct, startB: bigint, lenB: bigint, flags: number): number {
  const endB = (startB + lenB) & U64_MASK;
  if (endB < startB) return -EINVAL;
  if (endB === startB) return 0;
  const start = num(startB);
  const end = num(endB);

  let vma = find_vma(mm, start);
  if (!vma || vma.vm_start > start) return -ENOMEM;

  const prev: { vma: Vma | null } = { vma: vma.vm_prev };
  if (start > vma.vm_start) prev.vma = vma;

  for (let nstart = start; ;) {
    const newflags = ((vma.vm_flags & ~VM_LOCKED_MASK) | flags) >>> 0;
    // Here vma.vm_start <= nstart < vma.vm_end.
    const tmp = Math.min(vma.vm_end, end);
    const error = mlock_fixup(vma, prev, nstart, tmp, newflags);
    if (error) return error;
    nstart = tmp;
    const p = prev.vma!;
    if (nstart < p.vm_end) nstart = p.vm_end;
    if (nstart >= end) return 0;
    const next = p.vm_next;
    if (!next || next.vm_start !== nstart) return -ENOMEM;
    vma = next;
  }
}

/**
 * mlock_fixup(vma, prev, start, end, newflags): give [start, end) of vma the
 * lock flags in newflags by vma_merge() or split_vma(), and count locked_vm.
 * prev.vma becomes the VMA covering the range. 0 or -errno.
 */
function mlock_fixup(vma: Vma, prev: { vma: Vma | null }, start: number, end: number, newflags: number): number {
  const mm = vma.vm_mm;
  const lock = (newflags & VM_LOCKED) !== 0;
  const old_flags = vma.vm_flags;

  // Don't set VM_LOCKED or VM_LOCKONFAULT and don't count.
  if (newflags === vma.vm_flags || (vma.vm_flags & VM_SPECIAL) || (vma.vm_flags & VM_HUGETLB)) {
    prev.vma = vma;
    return 0;
  }

  const pgoff = vma.vm_pgoff + (start - vma.vm_start) / PAGE_SIZE;
  const merged = vma_merge(mm, prev.vma, start, end, vma_attrs(vma, newflags, pgoff, anon_vma_name(vma)));
  if (merged) {
    vma = merged;
  } else {
    if (start !== vma.vm_start) {
      const ret = split_vma(mm, vma, start, true);
      if (ret) {
        prev.vma = vma;
        return ret;
      }
    }
    if (end !== vma.vm_end) {
      const ret = split_vma(mm, vma, end, false);
      if (ret) {
        prev.vma = vma;
        return ret;
      }
    }
  }

  // success: keep track of the amount of locked VM.
  let nr_pages = (end - start) / PAGE_SIZE;
  if (!lock) nr_pages = -nr_pages;
  else if (old_flags & VM_LOCKED) nr_pages = 0;
  mm.locked_vm += nr_pages;

  if (lock) vma.vm_flags = newflags;
  else vma.vm_flags = (vma.vm_flags & ~VM_LOCKED_MASK) >>> 0; // munlock_vma_pages_range()
  prev.vma = vma;
  return 0;
}

/** SYSCALL mlockall(flags): `flags` is the C int. 0 or -errno. */
export function sys_mlockall(mm: MmStruct, flagsB: bigint): number {
  const flags = Number(BigInt.asIntN(32, flagsB));
  if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags === MCL_ONFAULT) return -EINVAL;
  if (!can_do_mlock(mm)) return -EPERM;

  const lock_limit = Math.floor(rlimit(mm, "memlock") / PAGE_SIZE);
  let ret = -ENOMEM;
  if (!(flags & MCL_CURRENT) || mm.total_vm <= lock_limit || capable(mm, "ipc_lock")) ret = apply_mlockall_flags(mm, flags);
  if (!ret && (flags & MCL_CURRENT)) mm_populate(mm, 0, TASK_SIZE);
  return ret;
}

/** SYSCALL munlockall(): 0. */
export function sys_munlockall(mm: MmStruct): number {
  return apply_mlockall_flags(mm, 0);
}

/**
 * apply_mlockall_flags(flags): def_flags for the future (MCL_FUTURE), and
 * mlock_fixup() of every whole VMA for the present (errors ignored). 0.
 */
function apply_mlockall_flags(mm: MmStruct, flags: number): number {
  mm.def_flags = (mm.def_flags & ~VM_LOCKED_MASK) >>> 0;
  if (flags & MCL_FUTURE) {
    mm.def_flags = (mm.def_flags | VM_LOCKED) >>> 0;
    if (flags & MCL_ONFAULT) mm.def_flags = (mm.def_flags | VM_LOCKONFAULT) >>> 0;
    if (!(flags & MCL_CURRENT)) return 0;
  }

  let to_add = 0;
  if (flags & MCL_CURRENT) {
    to_add |= VM_LOCKED;
    if (flags & MCL_ONFAULT) to_add |= VM_LOCKONFAULT;
  }

  const prev: { vma: Vma | null } = { vma: null };
  for (let vma: Vma | null = mm.mmap; vma; vma = prev.vma!.vm_next) {
    const newflags = ((vma.vm_flags & ~VM_LOCKED_MASK) | to_add) >>> 0;
    // Ignore errors.
    mlock_fixup(vma, prev, vma.vm_start, vma.vm_end, newflags);
  }
  return 0;
}
