// Address selection for mmap and brk:
//   mm/mmap.c get_unmapped_area(), vm_unmapped_area(), unmapped_area(),
//   unmapped_area_topdown(); arch/x86/kernel/sys_x86_64.c
//   arch_get_unmapped_area_topdown(), arch_get_unmapped_area(),
//   find_start_end(); arch/x86/mm/mmap.c mmap_address_hint_valid();
//   security/commoncap.c cap_mmap_addr() (security_mmap_addr) (v5.17).
//
// x86_64 with 4-level paging: DEFAULT_MAP_WINDOW == TASK_SIZE == TASK_SIZE_MAX,
// so the "hint above the 47-bit window" branches never trigger. No ASLR, no
// AMD F15h alignment (get_align_mask() == 0), not a 32-bit syscall. The mm
// always uses the top-down layout (no ADDR_COMPAT_LAYOUT / legacy_va_layout).
// Shared anonymous mappings use shmem_get_unmapped_area(), which for 4 KiB
// pages without shmem THP returns what the mm's allocator returns; the same
// holds for our tmpfs-like files.

import { EINVAL, ENOMEM, EPERM, MAP_32BIT, MAP_FIXED, PAGE_SIZE, TASK_SIZE } from "../abi/constants.js";
import type { KFile } from "./file.js";
import { find_vma, highest_vm_end, last_vma, vm_end_gap, vm_start_gap, type MmStruct } from "./mm.js";
import { offsetInPage, pageAlign, pageDown } from "./uapi.js";

const DEFAULT_MAP_WINDOW = TASK_SIZE;

/** struct vm_unmapped_area_info */
export interface VmUnmappedAreaInfo {
  topdown: boolean;
  length: number;
  low_limit: number;
  high_limit: number;
  align_mask: number;
  align_offset: number;
}

/**
 * get_unmapped_area(file, addr, len, pgoff, flags): the address to map at, or
 * -errno. `addr` is the (already hint-rounded) request; it may be an
 * approximate number above 2^53, see uapi.ts.
 */
export function get_unmapped_area(
  mm: MmStruct, file: KFile | null, addr: number, len: number, pgoff: number, flags: number,
): number {
  // arch_mmap_check(): nothing on x86.
  if (len > TASK_SIZE) return -ENOMEM;

  // mm->get_unmapped_area is the top-down allocator; files and shmem use equivalent ones (header).
  addr = arch_get_unmapped_area_topdown(mm, file, addr, len, pgoff, flags);
  if (addr < 0) return addr;

  if (addr > TASK_SIZE - len) return -ENOMEM;
  if (offsetInPage(addr)) return -EINVAL;
  return security_mmap_addr(mm, addr);
}

/** security_mmap_addr() -> cap_mmap_addr(): below mmap_min_addr needs CAP_SYS_RAWIO, which we lack. */
export function security_mmap_addr(mm: MmStruct, addr: number): number {
  if (addr < mm.kernel.mmap_min_addr) return -EPERM;
  return addr;
}

/** mmap_address_hint_valid(): the hint fits below TASK_SIZE and does not straddle the 47-bit window. */
function mmap_address_hint_valid(addr: number, len: number): boolean {
  if (TASK_SIZE - len < addr) return false;
  return (addr > DEFAULT_MAP_WINDOW) === (addr + len > DEFAULT_MAP_WINDOW);
}

/** x86 arch_get_unmapped_area_topdown(): hint, else top-down below mmap_base, else bottom-up. */
export function arch_get_unmapped_area_topdown(
  mm: MmStruct, file: KFile | null, addr0: number, len: number, pgoff: number, flags: number,
): number {
  if (len > TASK_SIZE) return -ENOMEM;
  if (flags & MAP_FIXED) return addr0;

  if (!(flags & MAP_32BIT)) {
    let addr = addr0;
    if (addr) {
      addr = pageDown(addr);
      if (mmap_address_hint_valid(addr, len)) {
        // A stack's guard gap counts as occupied (vm_start_gap).
        const vma = find_vma(mm, addr);
        if (!vma || addr + len <= vm_start_gap(vma)) return addr;
      }
    }

    const info: VmUnmappedAreaInfo = {
      topdown: true,
      length: len,
      low_limit: PAGE_SIZE,
      high_limit: mm.mmap_base,
      align_mask: 0, // get_align_mask() == 0, also for files
      align_offset: pgoff * PAGE_SIZE,
    };
    const found = vm_unmapped_area(mm, info);
    if (found >= 0) return found;
  }

  // A failed top-down search (or MAP_32BIT) falls back to bottom-up.
  return arch_get_unmapped_area(mm, file, addr0, len, pgoff, flags);
}

/** x86 arch_get_unmapped_area(): the legacy bottom-up allocator. */
export function arch_get_unmapped_area(
  mm: MmStruct, file: KFile | null, addr: number, len: number, pgoff: number, flags: number,
): number {
  void file;
  if (flags & MAP_FIXED) return addr;

  // find_start_end()
  let begin: number;
  let end: number;
  if (flags & MAP_32BIT) {
    begin = 0x40000000;
    end = 0x80000000;
  } else {
    begin = mm.mmap_legacy_base;
    end = TASK_SIZE; // task_size_64bit(): DEFAULT_MAP_WINDOW == TASK_SIZE_MAX here
  }

  if (len > end) return -ENOMEM;

  if (addr) {
    addr = pageAlign(addr);
    const vma = find_vma(mm, addr);
    if (end - len >= addr && (!vma || addr + len <= vm_start_gap(vma))) return addr;
  }

  return vm_unmapped_area(mm, {
    topdown: false,
    length: len,
    low_limit: begin,
    high_limit: end,
    align_mask: 0,
    align_offset: pgoff * PAGE_SIZE,
  });
}

/** vm_unmapped_area() */
export function vm_unmapped_area(mm: MmStruct, info: VmUnmappedAreaInfo): number {
  return info.topdown ? unmapped_area_topdown(mm, info) : unmapped_area(mm, info);
}

/**
 * unmapped_area(): the lowest address a >= low_limit with [a, a + length)
 * inside one free gap and a + length <= high_limit.
 *
 * The kernel walks its augmented rbtree in address order and stops early once
 * a gap starts above high_limit; the gap before VMA v is
 * [vm_end_gap(v->vm_prev) or 0, vm_start_gap(v)), and the last gap is
 * [highest_vm_end, ∞). Walking the list visits the same gaps in the same order.
 * (The rbtree's pruning also skips subtrees via vm_start_gap, which is not
 * monotonic when a stack's guard gap reaches below its predecessor; in that
 * tree-shape-dependent corner the model takes the plain rule: the lowest gap
 * that fits.)
 */
export function unmapped_area(mm: MmStruct, info: VmUnmappedAreaInfo): number {
  const length = info.length + info.align_mask;
  if (info.high_limit < length) return -ENOMEM;
  const high_limit = info.high_limit - length; // highest acceptable gap start
  if (info.low_limit > high_limit) return -ENOMEM;
  const low_limit = info.low_limit + length; // lowest acceptable gap end

  let gap_start = -1;
  for (let vma = mm.mmap; vma; vma = vma.vm_next) {
    const start = vma.vm_prev ? vm_end_gap(vma.vm_prev) : 0;
    const end = vm_start_gap(vma);
    if (start > high_limit) return -ENOMEM;
    if (end >= low_limit && end > start && end - start >= length) {
      gap_start = start;
      break;
    }
  }
  if (gap_start < 0) {
    // The gap above the highest VMA.
    gap_start = highest_vm_end(mm);
    if (gap_start > high_limit) return -ENOMEM;
  }

  if (gap_start < info.low_limit) gap_start = info.low_limit;
  gap_start += (info.align_offset - gap_start) & info.align_mask;
  return gap_start;
}

/**
 * unmapped_area_topdown(): the highest address a with [a, a + length) inside
 * one free gap, low_limit <= a and a + length <= high_limit. First the gap
 * above the highest VMA, then the gaps from high to low addresses; the first
 * that fits is taken and the mapping is put at its top (clipped to
 * high_limit). Same note on the rbtree's pruning as for unmapped_area(): the
 * kernel's walk stops at the first gap that ends below low_limit, which is
 * exact unless a guard gap makes vm_start_gap() non-monotonic; the model then
 * keeps looking for the highest gap that fits.
 */
export function unmapped_area_topdown(mm: MmStruct, info: VmUnmappedAreaInfo): number {
  const length = info.length + info.align_mask;
  let gap_end = info.high_limit;
  if (gap_end < length) return -ENOMEM;
  const high_limit = gap_end - length; // highest acceptable gap start
  if (info.low_limit > high_limit) return -ENOMEM;
  const low_limit = info.low_limit + length; // lowest acceptable gap end

  const top = highest_vm_end(mm);
  if (!(top <= high_limit)) {
    let found = false;
    for (let vma = last_vma(mm); vma; vma = vma.vm_prev) {
      const start = vma.vm_prev ? vm_end_gap(vma.vm_prev) : 0;
      const end = vm_start_gap(vma);
      if (end >= low_limit && start <= high_limit && end > start && end - start >= length) {
        gap_end = end;
        found = true;
        break;
      }
    }
    if (!found) return -ENOMEM;
    if (gap_end > info.high_limit) gap_end = info.high_limit;
  }

  gap_end -= info.length;
  gap_end -= (gap_end - info.align_offset) & info.align_mask;
  return gap_end;
}
