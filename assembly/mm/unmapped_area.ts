// Choosing where a mapping goes: get_unmapped_area() (mm/mmap.c, v5.17), the
// x86_64 arch_get_unmapped_area{,_topdown}() (arch/x86/kernel/sys_x86_64.c)
// and the gap searches unmapped_area{,_topdown}() over the gap-augmented VMA index.
// Anonymous and file mappings use no alignment here (align_mask 0: the AMD
// F15h quirk is off, and shmem's THP alignment does not apply with
// shmem_enabled=never), so the alignment arithmetic is omitted.

import {
  DEFAULT_MAP_WINDOW, EINVAL, ENOMEM, EPERM, MAP_32BIT, MAP_FIXED, PAGE_MASK, PAGE_SIZE, TASK_SIZE,
} from "../abi/constants";
import { mmap_min_addr } from "./sysctl";
import { Mm, Vma } from "./types";
import { GAP_SAT, mt_count, mt_gap, mt_is_leaf, mt_pivot, mt_slot, mt_visit } from "./mt_node";
import { find_vma, vm_start_gap, vma_prev_end } from "./vma_tree";

// @ts-ignore: decorator
@inline function is_err(addr: u64): bool {
  return addr >= <u64>(-4095);
}

// Both searches walk the index (vma_tree.ts) in address order, skipping every
// child whose largest gap is too small, and check a candidate VMA's gap as
// v5.17's unmapped_area{,_topdown}() check the node they visit: the answer is
// the lowest (highest) VMA whose gap holds `length` inside the limits. A
// child's gap starts lie at or above the pivot before it and its gap ends
// below its own pivot, which bounds the walk on both sides. The kernel's
// rbtree walk also stops at the first visited gap that ends below low_limit;
// that equals the plain rule unless a stack's guard gap reaches below its
// predecessor (vm_start_gap() is then not monotonic) and the answer depends
// on the tree's shape: the index takes the plain rule there, as the model
// does (src/model/get_unmapped_area.ts), so the answer depends on the sorted
// set alone.

/** the walk goes on to the next child */
const GO_ON: u64 = 1;
/** no VMA in this direction can qualify: -ENOMEM */
const STOP: u64 = 2;

/** a node gap that may hold `length`: exact below GAP_SAT, "maybe" at it */
// @ts-ignore: decorator
@inline function gap_pages_needed(length: u64): u32 {
  const p = length >> 12;
  return p >= <u64>GAP_SAT ? GAP_SAT : <u32>p;
}

function topdown_walk(n: usize, lo_pivot: u64, need: u32, length: u64, low_limit: u64, high_limit: u64, info_high: u64): u64 {
  mt_visit();
  const leaf = mt_is_leaf(n);
  for (let i = mt_count(n) - 1; i >= 0; i--) {
    // every gap end under slot i is below its pivot
    if (mt_pivot(n, i) <= low_limit) return STOP;
    // every gap start under slot i is at or above the pivot before it
    const lo = i > 0 ? mt_pivot(n, i - 1) : lo_pivot;
    if (lo > high_limit || mt_gap(n, i) < need) continue;
    if (!leaf) {
      const r = topdown_walk(mt_slot(n, i), lo, need, length, low_limit, high_limit, info_high);
      if (r != GO_ON) return r;
      continue;
    }
    // check_current of unmapped_area_topdown()
    const vma = changetype<Vma>(mt_slot(n, i));
    let gap_end = vm_start_gap(vma);
    const gap_start = vma_prev_end(n, i);
    if (gap_end >= low_limit && gap_start <= high_limit && gap_end > gap_start && gap_end - gap_start >= length) {
      if (gap_end > info_high) gap_end = info_high;
      return gap_end - length;
    }
  }
  return GO_ON;
}

/** unmapped_area_topdown(): the highest free range of `length` bytes in [low_limit, high_limit). */
export function unmapped_area_topdown(mm: Mm, length: u64, info_low: u64, info_high: u64): u64 {
  const gap_end = info_high;
  if (gap_end < length) return <u64>-ENOMEM;
  const high_limit = gap_end - length;
  if (info_low > high_limit) return <u64>-ENOMEM;
  const low_limit = info_low + length;

  // the gap above the highest VMA, which precedes no VMA
  if (mm.highest_vm_end <= high_limit) return gap_end - length;

  const root = mm.mm_mt;
  if (!root) return <u64>-ENOMEM;
  const r = topdown_walk(root, 0, gap_pages_needed(length), length, low_limit, high_limit, info_high);
  return r == GO_ON || r == STOP ? <u64>-ENOMEM : r;
}

function bottomup_walk(n: usize, lo_pivot: u64, need: u32, length: u64, low_limit: u64, high_limit: u64): u64 {
  mt_visit();
  const leaf = mt_is_leaf(n);
  for (let i = 0, c = mt_count(n); i < c; i++) {
    // every gap start under slot i is at or above the pivot before it
    const lo = i > 0 ? mt_pivot(n, i - 1) : lo_pivot;
    if (lo > high_limit) return STOP;
    // every gap end under slot i is below its pivot
    if (mt_pivot(n, i) <= low_limit || mt_gap(n, i) < need) continue;
    if (!leaf) {
      const r = bottomup_walk(mt_slot(n, i), lo, need, length, low_limit, high_limit);
      if (r != GO_ON) return r;
      continue;
    }
    // check_current of unmapped_area()
    const vma = changetype<Vma>(mt_slot(n, i));
    const gap_start = vma_prev_end(n, i);
    if (gap_start > high_limit) return STOP;
    const gap_end = vm_start_gap(vma);
    if (gap_end >= low_limit && gap_end > gap_start && gap_end - gap_start >= length) return gap_start;
  }
  return GO_ON;
}

/** unmapped_area(): the lowest free range of `length` bytes in [low_limit, high_limit). */
export function unmapped_area(mm: Mm, length: u64, info_low: u64, info_high: u64): u64 {
  if (info_high < length) return <u64>-ENOMEM;
  const high_limit = info_high - length;
  if (info_low > high_limit) return <u64>-ENOMEM;
  const low_limit = info_low + length;

  let gap_start: u64 = GO_ON;
  const root = mm.mm_mt;
  if (root) gap_start = bottomup_walk(root, 0, gap_pages_needed(length), length, low_limit, high_limit);
  if (gap_start == STOP) return <u64>-ENOMEM;
  if (gap_start == GO_ON) {
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
