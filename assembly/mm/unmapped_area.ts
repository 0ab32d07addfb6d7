// Choosing where a mapping goes: get_unmapped_area() (mm/mmap.c, v5.17), the
// x86_64 arch_get_unmapped_area{,_topdown}() (arch/x86/kernel/sys_x86_64.c)
// and the gap searches unmapped_area{,_topdown}() over the augmented VMA tree.
// Anonymous and file mappings use no alignment here (align_mask 0: the AMD
// F15h quirk is off, and shmem's THP alignment does not apply with
// shmem_enabled=never), so the alignment arithmetic is omitted.

import {
  DEFAULT_MAP_WINDOW, EINVAL, ENOMEM, EPERM, MAP_32BIT, MAP_FIXED, PAGE_MASK, PAGE_SIZE, TASK_SIZE,
} from "../abi/constants";
import { mmap_min_addr } from "./sysctl";
import { Mm, Vma } from "./types";
import { find_vma, vm_end_gap, vm_start_gap } from "./vma_tree";

// @ts-ignore: decorator
@inline function is_err(addr: u64): bool {
  return addr >= <u64>(-4095);
}

/** unmapped_area_topdown(): the highest free range of `length` bytes in [low_limit, high_limit). */
export function unmapped_area_topdown(mm: Mm, length: u64, info_low: u64, info_high: u64): u64 {
  let gap_end = info_high;
  if (gap_end < length) return <u64>-ENOMEM;
  const high_limit = gap_end - length;
  if (info_low > high_limit) return <u64>-ENOMEM;
  const low_limit = info_low + length;

  // the gap above the highest VMA, which precedes no VMA
  let gap_start = mm.highest_vm_end;
  if (gap_start <= high_limit) return gap_end - length;

  let vma = mm.mm_rb;
  if (!vma || vma.rb_subtree_gap < length) return <u64>-ENOMEM;
  while (true) {
    // visit the right subtree (higher addresses) first if it looks promising
    let prev = vma.vm_prev;
    gap_start = prev ? vm_end_gap(prev) : 0;
    const right = vma.rb_right;
    if (gap_start <= high_limit && right && right.rb_subtree_gap >= length) {
      vma = right;
      continue;
    }
    // check_current, then the left subtree, else climb to the next candidate
    while (true) {
      gap_end = vm_start_gap(vma);
      if (gap_end < low_limit) return <u64>-ENOMEM;
      if (gap_start <= high_limit && gap_end > gap_start && gap_end - gap_start >= length) {
        if (gap_end > info_high) gap_end = info_high;
        return gap_end - length;
      }
      const left = vma.rb_left;
      if (left && left.rb_subtree_gap >= length) {
        vma = left;
        break; // back to the outer loop: visit its right side first
      }
      // go up until we arrive from a right child
      let node = vma;
      while (true) {
        const parent = node.rb_parent;
        if (!parent) return <u64>-ENOMEM;
        const from_right = parent.rb_right == node;
        node = parent;
        if (from_right) break;
      }
      vma = node;
      prev = vma.vm_prev;
      gap_start = prev ? vm_end_gap(prev) : 0;
    }
  }
}

/** unmapped_area(): the lowest free range of `length` bytes in [low_limit, high_limit). */
export function unmapped_area(mm: Mm, length: u64, info_low: u64, info_high: u64): u64 {
  if (info_high < length) return <u64>-ENOMEM;
  const high_limit = info_high - length;
  if (info_low > high_limit) return <u64>-ENOMEM;
  const low_limit = info_low + length;

  let gap_start: u64 = 0;
  let gap_end: u64 = 0;
  let found = false;
  let vma = mm.mm_rb;
  // descend: true = visit the node (try its left subtree first); false = check_current
  let descend = true;
  if (!vma || vma.rb_subtree_gap < length) vma = null; // go straight to check_highest
  while (vma) {
    if (descend) {
      // visit the left subtree (lower addresses) first if it looks promising
      gap_end = vm_start_gap(vma);
      const left = vma.rb_left;
      if (gap_end >= low_limit && left && left.rb_subtree_gap >= length) {
        vma = left;
        continue;
      }
      const prev = vma.vm_prev;
      gap_start = prev ? vm_end_gap(prev) : 0;
    }
    // check_current
    if (gap_start > high_limit) return <u64>-ENOMEM;
    if (gap_end >= low_limit && gap_end > gap_start && gap_end - gap_start >= length) {
      found = true;
      break;
    }
    const right = vma.rb_right;
    if (right && right.rb_subtree_gap >= length) {
      vma = right;
      descend = true;
      continue;
    }
    // go up until we arrive from a left child; at the root: check_highest
    let node = vma;
    let next: Vma | null = null;
    while (true) {
      const parent = node.rb_parent;
      if (!parent) break;
      const from_left = parent.rb_left == node;
      node = parent;
      if (from_left) {
        next = node;
        break;
      }
    }
    vma = next;
    if (next) {
      const prev = next.vm_prev;
      gap_start = prev ? vm_end_gap(prev) : 0;
      gap_end = vm_start_gap(next);
      descend = false;
    }
  }
  if (!found) {
    // check_highest: the gap above every VMA
    gap_start = mm.highest_vm_end;
    if (gap_start > high_limit) return <u64>-ENOMEM;
  }
  if (gap_start < info_low) gap_start = info_low;
  return gap_start;
}

/** mmap_address_hint_valid() (arch/x86/kernel/sys_x86_64.c) */
function mmap_address_hint_valid(addr: u64, len: u64): bool {
  if (TASK_SIZE - len < addr) return false;
  return (addr > DEFAULT_MAP_WINDOW) == (addr + len > DEFAULT_MAP_WINDOW);
}

/** arch_get_unmapped_area() for x86_64: the bottom-up allocator (legacy layout and fallback). */
function arch_get_unmapped_area(mm: Mm, addr: u64, len: u64, flags: u32): u64 {
  if (flags & MAP_FIXED) return addr;
  // find_start_end(): MAP_32BIT uses [1 GiB, 2 GiB), else [mmap_legacy_base, the 47-bit window)
  let begin = mm.mmap_legacy_base;
  let end = DEFAULT_MAP_WINDOW;
  if (flags & MAP_32BIT) {
    begin = 0x40000000;
    end = 0x80000000;
  }
  if (len > end) return <u64>-ENOMEM;
  if (addr) {
    addr = (addr + PAGE_SIZE - 1) & PAGE_MASK;
    const vma = find_vma(mm, addr);
    if (end - len >= addr && (!vma || addr + len <= vm_start_gap(vma))) return addr;
  }
  return unmapped_area(mm, len, begin, end);
}

/** arch_get_unmapped_area_topdown() for x86_64 (the default layout). */
function arch_get_unmapped_area_topdown(mm: Mm, addr0: u64, len: u64, flags: u32): u64 {
  if (len > TASK_SIZE) return <u64>-ENOMEM;
  if (flags & MAP_FIXED) return addr0;
  if (flags & MAP_32BIT) return arch_get_unmapped_area(mm, addr0, len, flags);
  let addr = addr0;
  if (addr) {
    addr &= PAGE_MASK;
    if (mmap_address_hint_valid(addr, len)) {
      const vma = find_vma(mm, addr);
      if (!vma || addr + len <= vm_start_gap(vma)) return addr;
    }
  }
  let high = mm.mmap_base;
  if (addr > DEFAULT_MAP_WINDOW) high += TASK_SIZE - DEFAULT_MAP_WINDOW;
  const r = unmapped_area_topdown(mm, len, PAGE_SIZE, high);
  if (!is_err(r)) return r;
  return arch_get_unmapped_area(mm, addr0, len, flags);
}

/**
 * get_unmapped_area(): where [addr, addr+len) goes. Returns the address or a
 * negative errno (as u64). For MAP_FIXED `addr` is validated, not moved.
 */
export function get_unmapped_area(mm: Mm, addr: u64, len: u64, flags: u32): u64 {
  if (len > TASK_SIZE) return <u64>-ENOMEM;
  const a = arch_get_unmapped_area_topdown(mm, addr, len, flags);
  if (is_err(a)) return a;
  if (a > TASK_SIZE - len) return <u64>-ENOMEM;
  if (a & ~PAGE_MASK) return <u64>-EINVAL;
  // security_mmap_addr(): cap_mmap_addr refuses addresses below mmap_min_addr
  // (the simulated process has no CAP_SYS_RAWIO)
  if (a < mmap_min_addr) return <u64>-EPERM;
  return a;
}

/** True when a u64 syscall result encodes -errno. */
export function IS_ERR_VALUE(x: u64): bool {
  return is_err(x);
}
