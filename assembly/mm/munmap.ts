// Unmapping: __do_munmap(), unmap_region(), free_pgtables() and
// remove_vma_list() (mm/mmap.c, mm/memory.c; v5.17). There is no merge after
// munmap: removing VMAs never joins their neighbours.

import { EINVAL, ENOMEM, EPERM, PAGE_MASK, PAGE_SHIFT, TASK_SIZE, VM_ACCOUNT, VM_LOCKED, VM_LOCKED_CLEAR_MASK } from "../abi/constants";
import { vm_unacct_memory } from "./commit";
import { fput } from "../fs/file";
import { unlink_anon_vmas } from "../rmap/anon_vma";
import { range_has_ptes, zap_page_range } from "./memory";
import { vm_stat_account } from "./mm";
import { kver } from "./policy";
import { PMD_SIZE, free_pgd_range } from "./pgtable";
import { __split_vma } from "./split";
import { map_count_refused, sysctl_max_map_count } from "./sysctl";
import { Mm, Vma, can_modify_vma, vm_area_free, vma_pages } from "./types";
import { detached_next, find_vma, find_vma_intersection, set_detached_next, vma_after, vma_next, vma_prev, vma_unlink } from "./vma_tree";

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
  let prev = vma_prev(vma);
  const sealed = kver >= 610 && range_has_sealed(vma, end);

  // split now so that only whole VMAs remain in the range
  if (start > vma.vm_start) {
    // map_count may go just above its limit temporarily, but not through a hole punch
    if (end < vma.vm_end && mm.map_count >= sysctl_max_map_count) return map_count_refused();
    // 6.x vms_gather_munmap_vmas(): a sealed first VMA is not split, but the
    // first split is done before the later VMAs' seals are checked (and stays)
    if (!can_modify_vma(vma)) return -EPERM;
    const err = __split_vma(mm, vma, start, false);
    if (err) return err;
    prev = vma;
  }
  if (sealed) return -EPERM;
  const last = find_vma(mm, end);
  if (last && end > last.vm_start) {
    const err = __split_vma(mm, last, end, true);
    if (err) return err;
  }

  // unlock_range() + detach_vmas_to_be_unmapped(): a private list (detached_next)
  vma = vma_after(mm, prev);
  let head: Vma | null = null;
  let tail: Vma | null = null;
  while (vma && vma.vm_start < end) {
    const next = vma_next(vma);
    if (vma.vm_flags & VM_LOCKED) {
      mm.locked_vm -= vma_pages(vma);
      vma.vm_flags &= VM_LOCKED_CLEAR_MASK;
    }
    vma_unlink(mm, vma);
    if (tail) set_detached_next(tail, vma);
    else head = vma;
    tail = vma;
    vma = next;
  }
  const next = vma_after(mm, prev);
  unmap_region(mm, head, prev ? prev.vm_end : 0, next ? next.vm_start : 0, start, end);
  remove_vma_list(mm, head);
  return 0;
}

/**
 * unmap_region(): zap the PTEs of the detached VMAs (a detached_next list) in [start, end), then
 * free_pgtables between floor and ceiling (0 = the top).
 */
export function unmap_region(mm: Mm, detached: Vma | null, floor: u64, ceiling: u64, start: u64, end: u64): void {
  let v = detached;
  while (v) {
    // unmap_vmas() zaps with ZAP_FLAG_DROP_MARKER: guard markers go too. A
    // VMA that never had a PTE or marker has nothing to zap (the kernel walks
    // its tables and finds them empty; the tables themselves go below).
    if (v.may_have_ptes) zap_page_range(v, start, end, true);
    else if (!ASC_NO_ASSERT) assert(!range_has_ptes(v, start, end), "unmap_region: PTEs in a VMA without may_have_ptes");
    v = detached_next(v);
  }
  free_pgtables(mm, detached, floor, ceiling);
}

/**
 * free_pgtables(): unlink the detached VMAs from their anon_vmas and free
 * the page tables of their ranges, gathering VMAs less than a PMD apart.
 */
export function free_pgtables(mm: Mm, vma: Vma | null, floor: u64, ceiling: u64): void {
  while (vma) {
    let next = detached_next(vma);
    const addr = vma.vm_start;
    unlink_anon_vmas(vma);
    while (next && next.vm_start <= vma.vm_end + PMD_SIZE) {
      vma = next;
      next = detached_next(vma);
      unlink_anon_vmas(vma);
    }
    free_pgd_range(mm, addr, vma.vm_end, floor, next ? next.vm_start : ceiling);
    vma = next;
  }
}

/** Does a VMA from vma up to end carry VM_SEALED (6.10 mseal)? */
export function range_has_sealed(vma: Vma | null, end: u64): bool {
  while (vma && vma.vm_start < end) {
    if (!can_modify_vma(vma)) return true;
    vma = vma_next(vma);
  }
  return false;
}

/** remove_vma_list(): unaccount and free the detached VMAs, giving back their commit charge. */
export function remove_vma_list(mm: Mm, vma: Vma | null): void {
  let nr_accounted: u64 = 0;
  while (vma) {
    const next = detached_next(vma);
    if (vma.vm_flags & VM_ACCOUNT) nr_accounted += vma_pages(vma);
    vm_stat_account(mm, vma.vm_flags, -<i64>vma_pages(vma));
    if (vma.vm_file) fput(vma.vm_file!);
    vm_area_free(vma);
    vma = next;
  }
  vm_unacct_memory(<i64>nr_accounted);
}

/** The pages of existing VMAs inside [start, end) (count_vma_pages_range); only those with one of `only` if given. */
export function count_vma_pages_range(mm: Mm, start: u64, end: u64, only: u64 = 0): u64 {
  let nr: u64 = 0;
  let vma = find_vma_intersection(mm, start, end);
  while (vma && vma.vm_start < end) {
    if (only && !(vma.vm_flags & only)) {
      vma = vma_next(vma);
      continue;
    }
    const s = vma.vm_start > start ? vma.vm_start : start;
    const e = vma.vm_end < end ? vma.vm_end : end;
    nr += (e - s) >> PAGE_SHIFT;
    vma = vma_next(vma);
  }
  return nr;
}
