// mm/mmap.c: munmap(2) and its helpers (v5.17): __vm_munmap() argument
// checks, __do_munmap(), do_munmap(), unlock_range(),
// detach_vmas_to_be_unmapped(), unmap_region(), remove_vma_list(),
// remove_vma(), munmap_vma_range().

import { EINVAL, ENOMEM, TASK_SIZE, VM_ACCOUNT, VM_LOCKED, VM_LOCKONFAULT } from "../abi/constants.js";
import { vm_stat_account, vm_unacct_memory } from "./accounting.js";
import { unmap_vmas } from "./memory.js";
import { __vma_unlink_list, find_vma, find_vma_links, vma_next, vma_pages, type MmStruct, type Vma } from "./mm.js";
import { free_pgtables } from "./pgtable.js";
import { fput } from "./shmem.js";
import { __split_vma } from "./split.js";
import { num, offsetInPageUlong, pageAlignUlong } from "./uapi.js";

/** SYSCALL munmap(addr, len) -> __vm_munmap(): 0 or -errno. */
export function sys_munmap(mm: MmStruct, start: bigint, len: bigint): number {
  const taskSize = BigInt(TASK_SIZE);
  if (offsetInPageUlong(start) || start > taskSize || len > taskSize - start) return -EINVAL;
  const alen = pageAlignUlong(len); // cannot wrap: len <= TASK_SIZE here
  if (alen === 0n) return -EINVAL;
  return __do_munmap(mm, num(start), num(alen));
}

/**
 * __do_munmap() after its argument checks (start page aligned, start + len
 * within TASK_SIZE, len page aligned and non-zero). 0 or -errno.
 */
export function __do_munmap(mm: MmStruct, start: number, len: number): number {
  const end = start + len;

  // The first VMA overlapping [start, end); unmapping nothing succeeds.
  let vma = find_vma(mm, start);
  if (!vma || vma.vm_start >= end) return 0;
  let prev = vma.vm_prev;

  // Split off the part below start.
  if (start > vma.vm_start) {
    // Make sure map_count on return will not exceed its limit; but let it go
    // just above temporarily (the tail split below is not checked).
    if (end < vma.vm_end && mm.map_count >= mm.kernel.sysctl_max_map_count) return -ENOMEM;
    const err = __split_vma(mm, vma, start, false);
    if (err) return err;
    prev = vma;
  }

  // Split off the part above end.
  const last = find_vma(mm, end);
  if (last && end > last.vm_start) {
    const err = __split_vma(mm, last, end, true);
    if (err) return err;
  }
  vma = vma_next(mm, prev)!;

  if (mm.locked_vm) unlock_range(mm, vma, end);

  const detached = detach_vmas_to_be_unmapped(mm, vma, end);
  unmap_region(mm, detached, prev, start, end);
  remove_vma_list(mm, detached);
  return 0;
}

/** do_munmap(): __do_munmap() without downgrading the mmap lock. */
export function do_munmap(mm: MmStruct, start: number, len: number): number {
  return __do_munmap(mm, start, len);
}

/** unlock_range(): munlock every VM_LOCKED VMA from `start` up to `limit`. */
export function unlock_range(mm: MmStruct, start: Vma | null, limit: number): void {
  for (let v = start; v && v.vm_start < limit; v = v.vm_next) {
    if (v.vm_flags & VM_LOCKED) {
      mm.locked_vm -= vma_pages(v);
      // munlock_vma_pages_all() clears the lock bits of the VMA.
      v.vm_flags = (v.vm_flags & ~(VM_LOCKED | VM_LOCKONFAULT)) >>> 0;
    }
  }
}

/** detach_vmas_to_be_unmapped(): unlink the VMAs from vma up to end; returns them in order. */
export function detach_vmas_to_be_unmapped(mm: MmStruct, vma: Vma, end: number): Vma[] {
  const out: Vma[] = [];
  let v: Vma | null = vma;
  while (v && v.vm_start < end) {
    const next: Vma | null = v.vm_next;
    __vma_unlink_list(mm, v);
    mm.map_count--;
    out.push(v);
    v = next;
  }
  return out;
}

/**
 * unmap_region(): zap the PTEs of [start, end) in the detached VMAs, then
 * free_pgtables() between the VMA before them (floor = its end, or 0) and the
 * one after them (ceiling = its start, or 0 = the top), which also unlinks the
 * detached VMAs from their anon_vmas.
 */
export function unmap_region(mm: MmStruct, vmas: Vma[], prev: Vma | null, start: number, end: number): void {
  const next = vma_next(mm, prev);
  unmap_vmas(vmas, start, end);
  free_pgtables(mm, vmas, prev ? prev.vm_end : 0, next ? next.vm_start : 0);
}

/** remove_vma_list(): per VMA undo the statistics and the commit charge, then remove_vma(). */
export function remove_vma_list(mm: MmStruct, vmas: Vma[]): void {
  let nr_accounted = 0;
  for (const v of vmas) {
    const nrpages = vma_pages(v);
    if (v.vm_flags & VM_ACCOUNT) nr_accounted += nrpages;
    vm_stat_account(mm, v.vm_flags, -nrpages);
    remove_vma(v);
  }
  vm_unacct_memory(mm, nr_accounted);
}

/** remove_vma(): vm_ops->close (nothing to do in the model), fput, mpol_put, free. */
export function remove_vma(vma: Vma): void {
  if (vma.vm_file) fput(vma.vm_file);
}

/**
 * munmap_vma_range(): unmap whatever overlaps [start, start + len) (mmap_region,
 * do_brk_flags). Returns the VMA that will precede the range, or -ENOMEM if an
 * unmap failed (any failure, e.g. -EINVAL from a special mapping's may_split,
 * becomes -ENOMEM).
 */
export function munmap_vma_range(mm: MmStruct, start: number, len: number): { prev: Vma | null } | number {
  for (;;) {
    const links = find_vma_links(mm, start, start + len);
    if (!links.overlap) return { prev: links.prev };
    if (do_munmap(mm, start, len)) return -ENOMEM;
  }
}
