// madvise(2): mm/madvise.c SYSCALL madvise -> do_madvise(),
// madvise_behavior_valid(), madvise_walk_vmas(), madvise_vma_behavior(),
// madvise_update_vma(), madvise_remove(), madvise_willneed(),
// madvise_cold(), madvise_pageout(), madvise_dontneed_free(),
// madvise_free_single_vma(), madvise_populate(); mm/ksm.c ksm_madvise();
// mm/khugepaged.c hugepage_madvise(); mm/gup.c faultin_vma_page_range()
// (v5.17; the spec's reading of v5.17-rc5, §8.3).
//
// Kernel configuration: KSM, TRANSPARENT_HUGEPAGE, MEMORY_FAILURE and SWAP
// built in (so every advice of 0-4, 8-23, 100 and 101 is valid); the process
// has no CAP_SYS_ADMIN (MADV_HWPOISON / MADV_SOFT_OFFLINE: EPERM).
//
// Decisions where the kernel's effect depends on things vmasim does not model:
// * no swap and no memory pressure: MADV_WILLNEED, MADV_COLD and MADV_PAGEOUT
//   change nothing visible (COLD / PAGEOUT only clear accessed bits and move
//   pages between LRU lists; anonymous pages cannot be paged out without
//   swap); MADV_FREE marks exclusive anonymous pages lazily freeable, which
//   only matters under pressure;
// * ksmd and khugepaged never run: MADV_MERGEABLE / MADV_HUGEPAGE only set
//   their flags (registering the mm has no visible effect).

import {
  EACCES, EAGAIN, EBADF, EFAULT, EINVAL, ENOMEM, EPERM, MADV, PAGE_SIZE, VM_DONTCOPY, VM_DONTDUMP,
  VM_DONTEXPAND, VM_HUGEPAGE, VM_HUGETLB, VM_IO, VM_LOCKED, VM_MAYSHARE, VM_MERGEABLE, VM_MIXEDMAP,
  VM_NOHUGEPAGE, VM_PFNMAP, VM_RAND_READ, VM_SEQ_READ, VM_SHARED, VM_SPECIAL, VM_WIPEONFORK, VM_WRITE,
} from "../abi/constants.js";
import { faultin_vma_page_range } from "./gup.js";
import { zap_page_range } from "./memory.js";
import { vma_attrs, vma_merge } from "./merge.js";
import { FMODE_WRITE } from "./file.js";
import { anon_vma_name, find_vma, find_vma_prev, vma_is_anonymous, type MmStruct, type Vma } from "./mm.js";
import { shmem_punch_hole } from "./shmem.js";
import { __split_vma } from "./split.js";
import { addUlong, num, offsetInPageUlong, pageAlignUlong } from "./uapi.js";

/** The `struct vm_area_struct **prev` the walk and the visitors share. */
export interface PrevRef {
  vma: Vma | null;
}

/** A madvise_walk_vmas() visitor: one VMA's part [start, end). 0 or -errno. */
export type MadviseVisit = (vma: Vma, prev: PrevRef, start: number, end: number) => number;

/** madvise_behavior_valid() (v5.17 with KSM, THP and MEMORY_FAILURE). */
export function madvise_behavior_valid(behavior: number): boolean {
  switch (behavior) {
    case MADV.dofork: case MADV.dontfork: case MADV.normal: case MADV.sequential: case MADV.random:
    case MADV.remove: case MADV.willneed: case MADV.dontneed: case MADV.free: case MADV.cold:
    case MADV.pageout: case MADV.populate_read: case MADV.populate_write:
    case MADV.mergeable: case MADV.unmergeable: // CONFIG_KSM
    case MADV.hugepage: case MADV.nohugepage: // CONFIG_TRANSPARENT_HUGEPAGE
    case MADV.dontdump: case MADV.dodump: case MADV.wipeonfork: case MADV.keeponfork:
    case MADV.soft_offline: case MADV.hwpoison: // CONFIG_MEMORY_FAILURE
      return true;
    default:
      return false; // among them MADV_DONTNEED_LOCKED (5.18), MADV_COLLAPSE (6.1), the guards (6.13)
  }
}

/**
 * SYSCALL madvise(start, len_in, behavior) -> do_madvise(): 0 or -errno.
 * `behavior` is the C `int`: the low 32 bits of the register, signed.
 */
export function sys_madvise(mm: MmStruct, start: bigint, len_in: bigint, behaviorB: bigint): number {
  const behavior = Number(BigInt.asIntN(32, behaviorB));
  if (!madvise_behavior_valid(behavior)) return -EINVAL;
  if (offsetInPageUlong(start)) return -EINVAL;
  const len = pageAlignUlong(len_in);
  // Check to see whether len was rounded up from small -ve to zero.
  if (len_in !== 0n && len === 0n) return -EINVAL;
  const end = addUlong(start, len);
  if (end < start) return -EINVAL;
  if (end === start) return 0;

  // madvise_inject_error(): CAP_SYS_ADMIN only.
  if (behavior === MADV.hwpoison || behavior === MADV.soft_offline) return -EPERM;

  return madvise_walk_vmas(mm, num(start), num(end), (vma, prev, s, e) => madvise_vma_behavior(vma, prev, s, e, behavior));
}

/**
 * madvise_walk_vmas(): visit every VMA part of [start, end). Unmapped gaps
 * are skipped but make the result -ENOMEM at the end; a visitor's error stops
 * the walk at once (earlier VMAs stay changed). A visitor that dropped the
 * mmap lock (MADV_REMOVE) sets prev to null: the walk then goes on with
 * find_vma().
 */
export function madvise_walk_vmas(mm: MmStruct, start: number, end: number, visit: MadviseVisit): number {
  let unmapped_error = 0;
  const found = find_vma_prev(mm, start);
  let vma = found.vma;
  const prev: PrevRef = { vma: found.prev };
  if (vma && start > vma.vm_start) prev.vma = vma;

  for (;;) {
    // Still start < end.
    if (!vma) return -ENOMEM;

    // Here start < (end|vma->vm_end).
    if (start < vma.vm_start) {
      unmapped_error = -ENOMEM;
      start = vma.vm_start;
      if (start >= end) break;
    }

    // Here vma->vm_start <= start < (end|vma->vm_end).
    const tmp = Math.min(vma.vm_end, end);
    const error = visit(vma, prev, start, tmp);
    if (error) return error;
    start = tmp;
    const p = prev.vma;
    if (p && start < p.vm_end) start = p.vm_end;
    if (start >= end) break;
    vma = p ? p.vm_next : find_vma(mm, start);
  }
  return unmapped_error;
}

/**
 * madvise_update_vma(vma, prev, start, end, new_flags, anon_name): give
 * [start, end) of vma the flags and the anon name — by vma_merge(), else by
 * splitting (each split refused with -ENOMEM once map_count has reached the
 * limit). 0 or -errno.
 */
export function madvise_update_vma(
  vma: Vma, prev: PrevRef, start: number, end: number, new_flags: number, anon_name: string | null,
): number {
  const mm = vma.vm_mm;
  if (new_flags === vma.vm_flags && anon_vma_name(vma) === anon_name) {
    prev.vma = vma;
    return 0;
  }

  const pgoff = vma.vm_pgoff + (start - vma.vm_start) / PAGE_SIZE;
  const merged = vma_merge(mm, prev.vma, start, end, vma_attrs(vma, new_flags, pgoff, anon_name));
  prev.vma = merged;
  if (merged) {
    vma = merged;
  } else {
    prev.vma = vma;
    if (start !== vma.vm_start) {
      if (mm.map_count >= mm.kernel.sysctl_max_map_count) return -ENOMEM;
      const error = __split_vma(mm, vma, start, true);
      if (error) return error;
    }
    if (end !== vma.vm_end) {
      if (mm.map_count >= mm.kernel.sysctl_max_map_count) return -ENOMEM;
      const error = __split_vma(mm, vma, end, false);
      if (error) return error;
    }
  }

  // success:
  vma.vm_flags = new_flags >>> 0;
  // replace_anon_vma_name(): only anonymous VMAs carry a name (a file VMA's storage is its i_mmap node).
  if (!vma.vm_file) vma.anon_name = anon_name;
  return 0;
}

/** madvise_vma_behavior(): one advice on [start, end) of vma. 0 or -errno. */
function madvise_vma_behavior(vma: Vma, prev: PrevRef, start: number, end: number, behavior: number): number {
  let new_flags = vma.vm_flags;

  switch (behavior) {
    case MADV.remove:
      return madvise_remove(vma, prev, start, end);
    case MADV.willneed:
      // madvise_willneed(): swap-in of anonymous / shmem ranges (no swap), or
      // readahead of a file whose pages are all in memory already.
      prev.vma = vma;
      return 0;
    case MADV.cold:
    case MADV.pageout:
      prev.vma = vma;
      if (!can_madv_lru_vma(vma)) return -EINVAL;
      return 0; // no visible effect without swap (header)
    case MADV.free:
    case MADV.dontneed:
      return madvise_dontneed_free(vma, prev, start, end, behavior);
    case MADV.populate_read:
    case MADV.populate_write:
      return madvise_populate(vma, prev, start, end, behavior);
    case MADV.normal:
      new_flags = new_flags & ~VM_RAND_READ & ~VM_SEQ_READ;
      break;
    case MADV.sequential:
      new_flags = (new_flags & ~VM_RAND_READ) | VM_SEQ_READ;
      break;
    case MADV.random:
      new_flags = (new_flags & ~VM_SEQ_READ) | VM_RAND_READ;
      break;
    case MADV.dontfork:
      new_flags |= VM_DONTCOPY;
      break;
    case MADV.dofork:
      if (vma.vm_flags & VM_IO) return -EINVAL;
      new_flags &= ~VM_DONTCOPY;
      break;
    case MADV.wipeonfork:
      // MADV_WIPEONFORK is only supported on anonymous memory.
      if (vma.vm_file || (vma.vm_flags & VM_SHARED)) return -EINVAL;
      new_flags |= VM_WIPEONFORK;
      break;
    case MADV.keeponfork:
      new_flags &= ~VM_WIPEONFORK;
      break;
    case MADV.dontdump:
      new_flags |= VM_DONTDUMP;
      break;
    case MADV.dodump:
      if (!(vma.vm_flags & VM_HUGETLB) && (new_flags & VM_SPECIAL)) return -EINVAL;
      new_flags &= ~VM_DONTDUMP;
      break;
    case MADV.mergeable:
    case MADV.unmergeable:
      new_flags = ksm_madvise(behavior, new_flags);
      break;
    case MADV.hugepage:
      // hugepage_madvise(); khugepaged_enter_vma_merge() registers the mm (no visible effect).
      new_flags = (new_flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
      break;
    case MADV.nohugepage:
      new_flags = (new_flags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
      break;
  }

  const error = madvise_update_vma(vma, prev, start, end, new_flags >>> 0, anon_vma_name(vma));
  // madvise() returns EAGAIN if kernel resources, such as slab, are temporarily unavailable.
  return error === -ENOMEM ? -EAGAIN : error;
}

/** ksm_madvise() on the flags: the new flags (0 errors: no KSM pages to unmerge in the model). */
function ksm_madvise(advice: number, vm_flags: number): number {
  if (advice === MADV.mergeable) {
    // Be somewhat over-protective for now: just ignore the advice.
    if (vm_flags & (VM_MERGEABLE | VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_HUGETLB | VM_MIXEDMAP)) {
      return vm_flags;
    }
    // (vma_is_dax(): never; __ksm_enter() registers the mm.)
    return (vm_flags | VM_MERGEABLE) >>> 0;
  }
  if (!(vm_flags & VM_MERGEABLE)) return vm_flags; // just ignore the advice
  // unmerge_ksm_pages(): there are no KSM pages.
  return (vm_flags & ~VM_MERGEABLE) >>> 0;
}

/** can_madv_lru_vma(): not VM_LOCKED, VM_HUGETLB or VM_PFNMAP. */
function can_madv_lru_vma(vma: Vma): boolean {
  return !(vma.vm_flags & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP));
}

/**
 * madvise_dontneed_free(): MADV_DONTNEED zaps the range (the VMA, its
 * anon_vma and chain and the page tables stay); MADV_FREE needs an anonymous
 * VMA and has no visible effect without memory pressure.
 */
function madvise_dontneed_free(vma: Vma, prev: PrevRef, start: number, end: number, behavior: number): number {
  prev.vma = vma;
  if (!can_madv_lru_vma(vma)) return -EINVAL;
  // (userfaultfd_remove(): no userfaultfd in the model)
  if (behavior === MADV.dontneed) {
    zap_page_range(vma, start, end);
    return 0;
  }
  // madvise_free_single_vma(): MADV_FREE works for only anon vma at the moment.
  if (!vma_is_anonymous(vma)) return -EINVAL;
  return 0;
}

/**
 * madvise_remove(): punch a hole in the file behind a shared writable
 * mapping (vfs_fallocate(PUNCH_HOLE | KEEP_SIZE) -> shmem_fallocate()). The
 * mmap lock is dropped meanwhile, so prev becomes null.
 */
function madvise_remove(vma: Vma, prev: PrevRef, start: number, end: number): number {
  prev.vma = null; // tell the walk we drop mmap_lock
  if (vma.vm_flags & VM_LOCKED) return -EINVAL;
  const f = vma.vm_file;
  if (!f) return -EINVAL;
  if ((vma.vm_flags & (VM_SHARED | VM_WRITE)) !== (VM_SHARED | VM_WRITE)) return -EACCES;
  // vfs_fallocate(): the file is open for writing (FMODE_WRITE: else -EBADF), a regular tmpfs file.
  if (!(f.f_mode & FMODE_WRITE)) return -EBADF;
  const first = vma.vm_pgoff + (start - vma.vm_start) / PAGE_SIZE;
  shmem_punch_hole(vma.vm_mm.kernel, f, first, (end - start) / PAGE_SIZE);
  return 0;
}

/**
 * madvise_populate(): fault [start, end) in, readable or writable, like GUP
 * without FOLL_FORCE; -EINVAL for an incompatible VMA, -EFAULT when a fault
 * raises SIGBUS / SIGSEGV.
 */
function madvise_populate(vma: Vma, prev: PrevRef, start: number, end: number, behavior: number): number {
  const write = behavior === MADV.populate_write;
  const mm = vma.vm_mm;
  prev.vma = vma;
  let v: Vma | null = vma;
  while (start < end) {
    if (!v || start >= v.vm_end) {
      const f = find_vma(mm, start);
      v = f && f.vm_start <= start ? f : null; // vma_lookup()
      if (!v) return -ENOMEM;
    }
    const tmp_end = Math.min(end, v.vm_end);
    const pages = faultin_vma_page_range(v, start, tmp_end, write);
    if (pages < 0) {
      switch (pages) {
        case -EINVAL: // incompatible mappings / permissions
          return -EINVAL;
        case -EFAULT: // VM_FAULT_SIGBUS or VM_FAULT_SIGSEGV
          return -EFAULT;
        default:
          return -ENOMEM;
      }
    }
    start += pages * PAGE_SIZE;
  }
  return 0;
}
