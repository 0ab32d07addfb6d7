// Unmapping: __do_munmap() and its helpers (mm/mmap.c, v5.17). There is no
// merge after munmap: removing VMAs never joins their neighbours.

import { EINVAL, ENOMEM, PAGE_MASK, PAGE_SHIFT, TASK_SIZE, VM_LOCKED } from "../abi/constants";
import { fput } from "../fs/file";
import { vm_stat_account } from "./mm";
import { __split_vma } from "./split";
import { sysctl_max_map_count } from "./sysctl";
import { Mm, Vma, vm_area_free, vma_pages } from "./types";
import { find_vma, find_vma_intersection, vma_unlink } from "./vma_tree";

/** VMA records an unmap may need: two splits. */
export const MUNMAP_RESERVE: u32 = 2;

/**
 * __do_munmap(): 0 or -errno. Requires MUNMAP_RESERVE reserved VMA records.
 */
export function do_munmap(mm: Mm, start: u64, len: u64): i64 {
  if ((start & ~PAGE_MASK) || start > TASK_SIZE || len > TASK_SIZE - start) return -EINVAL;
  len = (len + 4095) & PAGE_MASK;
  const end = start + len;
  if (len == 0) return -EINVAL;

  let vma = find_vma_intersection(mm, start, end);
  if (!vma) return 0;
  let prev = vma.vm_prev;

  // split now so that only whole VMAs remain in the range
  if (start > vma.vm_start) {
    // map_count may go just above its limit temporarily, but not through a hole punch
    if (end < vma.vm_end && mm.map_count >= sysctl_max_map_count) return -ENOMEM;
    const err = __split_vma(mm, vma, start, false);
    if (err) return err;
    prev = vma;
  }
  const last = find_vma(mm, end);
  if (last && end > last.vm_start) {
    const err = __split_vma(mm, last, end, true);
    if (err) return err;
  }

  // detach and free every VMA in [start, end)
  vma = prev ? prev.vm_next : mm.mmap;
  while (vma && vma.vm_start < end) {
    const next = vma.vm_next;
    remove_vma(mm, vma);
    vma = next;
  }
  return 0;
}

/**
 * Detach one whole VMA and release it: munlock accounting (unlock_range),
 * vm_stat_account(-pages), file reference, the record (remove_vma_list).
 * Page tables and anon_vma unlinking arrive with the memory layer.
 */
export function remove_vma(mm: Mm, vma: Vma): void {
  const pages = vma_pages(vma);
  if (vma.vm_flags & VM_LOCKED) mm.locked_vm -= pages;
  vma_unlink(mm, vma);
  vm_stat_account(mm, vma.vm_flags, -<i64>pages);
  if (vma.vm_file) fput(vma.vm_file!);
  vm_area_free(vma);
}

/** The pages of existing VMAs inside [start, end) (count_vma_pages_range). */
export function count_vma_pages_range(mm: Mm, start: u64, end: u64): u64 {
  let nr: u64 = 0;
  let vma = find_vma_intersection(mm, start, end);
  while (vma && vma.vm_start < end) {
    const s = vma.vm_start > start ? vma.vm_start : start;
    const e = vma.vm_end < end ? vma.vm_end : end;
    nr += (e - s) >> PAGE_SHIFT;
    vma = vma.vm_next;
  }
  return nr;
}
