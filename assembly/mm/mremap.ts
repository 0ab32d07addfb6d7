// mremap(2): sys_mremap(), vma_to_resize(), vma_expandable(), mremap_to(),
// move_vma(), move_page_tables() (mm/mremap.c) and copy_vma() (mm/mmap.c),
// v5.17, in the kernel's order of checks, quirks included: an address in no
// VMA returns +EFAULT (14), growing in place never merges with the next VMA,
// and a faulted anonymous VMA keeps its pgoff when moved.
// Later releases (policy.ts kver): -EFAULT and growth merging (6.1), sealed
// VMAs refuse (6.10), and 6.17's do_mremap() with its multi-VMA moves
// (remap_move, check_prep_vma), at the end of this file. Earlier releases
// (5.10 ..): DONTUNMAP of private anonymous VMAs only (until 5.13), no VMA
// lookup before the shrink and mremap_to (until 5.16), the growth charged in
// vma_to_resize() (until 5.17). The relocate-anon
// policy adds the 2025 MREMAP_RELOCATE_ANON proposal (relocate_refusal,
// copy_vma's second merge, move_vma's re-index; docs/policies.md).

import {
  EAGAIN, EFAULT, EINVAL, ENOMEM, EPERM, MAP_FIXED, MAP_SHARED, PAGE_MASK, PAGE_SHIFT, TASK_SIZE, VM_ACCOUNT,
  VM_DONTEXPAND, VM_HUGETLB, VM_LOCKED, VM_LOCKED_CLEAR_MASK, VM_MAYSHARE, VM_PFNMAP, VM_SHARED,
} from "../abi/constants";
import { get_file } from "../fs/file";
import { anon_vma_clone, anon_vma_interval_tree_post_update_vma, anon_vma_interval_tree_pre_update_vma, unlink_anon_vmas } from "../rmap/anon_vma";
import { pgoff_update_refusal, reindex_moved, reindex_whole_vma } from "../rmap/repoint";
import { C_PGOFF_KEPT, C_PGOFF_UPDATED, EV_PGOFF, R_FILE, R_OK, count, trace_emit, tracing } from "../trace/merge_trace";
import { MERGE_CALLER_MREMAP, MergeAttrs, set_merge_excluded, set_merge_relocating, vma_merge, vma_range_attrs } from "./merge";
import { may_expand_vm, vm_stat_account } from "./mm";
import { mlock_future_ok } from "./rlimit";
import { security_vm_enough_memory_mm, vm_acct_memory, vm_unacct_memory } from "./commit";
import { STABLE_LTS, kver, relocate_anon, stable_backports } from "./policy";
import { mm_populate } from "./mlock";
import { split_vma } from "./split";
import { do_munmap } from "./munmap";
import {
  PMD_SIZE, PUD_SIZE, PgTable, child, entry_ptr, pgtable_reserve, table_alloc_walk, table_index, table_lookup,
} from "./pgtable";
import { MOVE_PGOFF_EXACT, MOVE_PGOFF_KEEP, MOVE_PGOFF_SEED_V2, move_pgoff } from "./policy";
import { engine_oom_set } from "./reserve";
import { map_count_refused, sysctl_max_map_count } from "./sysctl";
import { Mm, Vma, VM_OPS_SPECIAL, can_modify_vma, vm_area_alloc, vm_area_free, vma_is_anonymous, vma_reserve } from "./types";
import { IS_ERR_VALUE, get_unmapped_area } from "./unmapped_area";
import { find_vma, find_vma_before, find_vma_intersection, vma_bounds_changed, vma_link, vma_next } from "./vma_tree";

export const MREMAP_MAYMOVE: u32 = 1;
export const MREMAP_FIXED: u32 = 2;
export const MREMAP_DONTUNMAP: u32 = 4;
/** The 2025 proposal (relocate-anon policy only; EINVAL elsewhere, as in every released kernel). */
export const MREMAP_RELOCATE_ANON: u32 = 8;
export const MREMAP_MUST_RELOCATE_ANON: u32 = 16;
const MREMAP_RELOCATE_FLAGS: u32 = MREMAP_RELOCATE_ANON | MREMAP_MUST_RELOCATE_ANON;

/** VMA records one mremap may need: munmaps at the destination and the source (2 + 2), the copy. */
export const MREMAP_RESERVE: u32 = 6;

const attrs = changetype<MergeAttrs>(memory.data(offsetof<MergeAttrs>(), 8));

// @ts-ignore: decorator
@inline function PAGE_ALIGN(x: u64): u64 {
  return (x + 4095) & PAGE_MASK;
}

/** vma_lookup(): the VMA containing addr, or NULL. */
function vma_lookup(mm: Mm, addr: u64): Vma | null {
  const v = find_vma(mm, addr);
  return v && v.vm_start <= addr ? v : null;
}

/** vma_to_resize(): the VMA for [addr, addr+old_len), or a negative errno (as u64 via the global). */
let resize_err: i64 = 0;
function vma_to_resize(mm: Mm, addr: u64, old_len: u64, new_len: u64, flags: u32): Vma | null {
  resize_err = 0;
  const vma = vma_lookup(mm, addr);
  if (!vma) { resize_err = -EFAULT; return null; }
  // "duplicate a shm area" with old_len 0 is for shared mappings only
  if (!old_len && !(vma.vm_flags & (VM_SHARED | VM_MAYSHARE))) { resize_err = -EINVAL; return null; }
  if ((flags & MREMAP_DONTUNMAP) && dontunmap_refused(vma)) { resize_err = -EINVAL; return null; }
  if (vma.vm_flags & VM_HUGETLB) { resize_err = -EINVAL; return null; }
  // no remapping across VMA boundaries
  if (old_len > vma.vm_end - addr) { resize_err = -EFAULT; return null; }
  if (new_len == old_len) return vma;
  const pgoff = ((addr - vma.vm_start) >> PAGE_SHIFT) + vma.vm_pgoff;
  if (pgoff + (new_len >> PAGE_SHIFT) < pgoff) { resize_err = -EINVAL; return null; }
  if (vma.vm_flags & (VM_DONTEXPAND | VM_PFNMAP)) { resize_err = -EFAULT; return null; }
  // a locked VMA's growth must fit under RLIMIT_MEMLOCK
  if (!mlock_future_ok(mm, vma.vm_flags, new_len - old_len)) { resize_err = -EAGAIN; return null; }
  if (!may_expand_vm(mm, vma.vm_flags, (new_len - old_len) >> PAGE_SHIFT)) { resize_err = -ENOMEM; return null; }
  if (kver < 517 && (vma.vm_flags & VM_ACCOUNT)) {
    // before 5.17 ("mm/mremap: don't account pages in vma_to_resize()") the
    // growth was charged here, before any move or expansion was tried
    const pages = (new_len - old_len) >> PAGE_SHIFT;
    if (security_vm_enough_memory_mm(mm, pages)) { resize_err = -ENOMEM; return null; }
    resize_charged = pages;
  }
  return vma;
}

/** Pages vma_to_resize() charged (before 5.17), given back when the mremap fails. */
let resize_charged: u64 = 0;

/**
 * May MREMAP_DONTUNMAP move this VMA? Not one with VM_DONTEXPAND or
 * VM_PFNMAP; before 5.13 ("mm: extend MREMAP_DONTUNMAP to non-anonymous
 * mappings", a4609387859f) only a private anonymous one (vma_to_resize(), 5.10).
 */
function dontunmap_refused(vma: Vma): bool {
  if (kver < 513) return !vma_is_anonymous(vma) || (vma.vm_flags & VM_SHARED) != 0;
  return (vma.vm_flags & (VM_DONTEXPAND | VM_PFNMAP)) != 0;
}

/** vma_expandable(): can vma grow by delta in place? */
function vma_expandable(mm: Mm, vma: Vma, delta: u64): bool {
  const end = vma.vm_end + delta;
  if (end < vma.vm_end) return false;
  if (vma_next(vma) && vma_next(vma)!.vm_start < end) return false;
  if (get_unmapped_area(mm, vma.vm_start, end - vma.vm_start, MAP_FIXED) & ~PAGE_MASK) return false;
  return true;
}

/** Set when the remapped VMA is VM_LOCKED: its growth is populated at the end. */
let locked = false;

/** sys_mremap(): the new address, or -errno; +EFAULT (14) for an address in no VMA. */
export function sys_mremap(mm: Mm, addr: u64, old_len: u64, new_len: u64, flags: u32, new_addr: u64): i64 {
  locked = false;
  resize_charged = 0;
  const r = mremap_inner(mm, addr, old_len, new_len, flags, new_addr);
  // sys_mremap()/mremap_to() before 5.17: a failure gives back vma_to_resize()'s charge
  if (resize_charged && (r < 0 || (r & 4095))) vm_unacct_memory(<i64>resize_charged);
  const ol = (old_len + 4095) & PAGE_MASK;
  const nl = (new_len + 4095) & PAGE_MASK;
  if (locked && r >= 0 && !(r & 4095) && nl > ol) mm_populate(mm, <u64>r + ol, nl - ol, true);
  return r;
}

function mremap_inner(mm: Mm, addr: u64, old_len: u64, new_len: u64, flags: u32, new_addr: u64): i64 {
  const known = MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP | (relocate_anon ? MREMAP_RELOCATE_FLAGS : 0);
  if (flags & ~known) return -EINVAL;
  // relocate-anon: relocation is about a move, so it needs MREMAP_MAYMOVE (like MREMAP_FIXED)
  if ((flags & MREMAP_RELOCATE_FLAGS) && !(flags & MREMAP_MAYMOVE)) return -EINVAL;
  if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) return -EINVAL;
  // DONTUNMAP always moves and never resizes
  if ((flags & MREMAP_DONTUNMAP) && (!(flags & MREMAP_MAYMOVE) || old_len != new_len)) return -EINVAL;
  if (addr & ~PAGE_MASK) return -EINVAL;
  old_len = PAGE_ALIGN(old_len);
  new_len = PAGE_ALIGN(new_len);
  if (!new_len) return -EINVAL;

  if (kver >= 617) return do_mremap(mm, addr, old_len, new_len, flags, new_addr);

  // 5.16 (550a7d60bd5e, "mm, hugepages: add mremap() support for hugepage
  // backed vma") looks the VMA up first; before, only vma_to_resize() does
  let vma: Vma | null = null;
  if (kver >= 516) {
    vma = find_vma(mm, addr);
    // v5.17 returns the positive EFAULT here (negative again by 6.1)
    if (!vma || vma.vm_start > addr) return kver >= 601 ? -EFAULT : EFAULT;
    // 6.10: a sealed VMA is never remapped
    if (!can_modify_vma(vma)) return -EPERM;
    if (vma.vm_flags & VM_HUGETLB) return -EINVAL;
  }

  if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) return mremap_to(mm, addr, old_len, new_addr, new_len, flags);

  // shrinking just unmaps the tail (even across VMAs and holes)
  if (old_len >= new_len) {
    const r = do_munmap(mm, addr + new_len, old_len - new_len);
    if (r < 0 && old_len != new_len) return r;
    return <i64>addr;
  }

  vma = vma_to_resize(mm, addr, old_len, new_len, flags);
  if (!vma) return resize_err;

  // old_len reaches the end of the VMA: can it grow in place?
  if (old_len == vma.vm_end - addr && vma_expandable(mm, vma, new_len - old_len)) {
    return expand_vma_in_place(mm, vma, addr, new_len - old_len);
  }

  if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
  const map_flags: u32 = (vma.vm_flags & VM_MAYSHARE) ? MAP_SHARED : 0;
  const a = get_unmapped_area(mm, 0, new_len, map_flags);
  if (IS_ERR_VALUE(a)) return <i64>a;
  return move_vma(mm, vma, addr, old_len, new_len, a, flags);
}

/** expand_vma_in_place(): grow vma (which ends at addr + old_len) by delta. */
function expand_vma_in_place(mm: Mm, vma: Vma, addr: u64, delta: u64): i64 {
  const pages = delta >> PAGE_SHIFT;
  let charged: u64 = 0;
  // before 5.17 vma_to_resize() charged the growth already
  if (kver >= 517 && (vma.vm_flags & VM_ACCOUNT)) {
    if (security_vm_enough_memory_mm(mm, pages)) return -ENOMEM;
    charged = pages;
  }
  if (kver >= 601) {
    // 6.1 (ca3d76b0aa80): the extension is merged, with the next VMA too if it now touches
    const merged = vma_merge_extend(mm, vma, delta);
    if (!merged) {
      vm_unacct_memory(<i64>charged);
      return -ENOMEM;
    }
    vma = merged;
  } else {
    // vma_adjust without a merge: the grown VMA never joins the next one
    anon_vma_interval_tree_pre_update_vma(vma);
    vma.vm_end = vma.vm_end + delta;
    anon_vma_interval_tree_post_update_vma(vma);
    vma_bounds_changed(mm, vma);
  }
  vm_stat_account(mm, vma.vm_flags, <i64>pages);
  if (vma.vm_flags & VM_LOCKED) {
    mm.locked_vm += pages;
    locked = true;
  }
  return <i64>addr;
}

/**
 * vma_merge_extend() (mm/vma.c, 6.1+): a new range [vm_end, vm_end + delta)
 * with vma's attributes, merged as a new range with vma as prev (no middle,
 * so no fork-child test on it). The grown VMA, or NULL.
 */
function vma_merge_extend(mm: Mm, vma: Vma, delta: u64): Vma | null {
  const a = vma_range_attrs(attrs, MERGE_CALLER_MREMAP, vma, vma.vm_flags, vma.vm_pgoff + ((vma.vm_end - vma.vm_start) >> PAGE_SHIFT), null, null);
  return vma_merge(mm, vma, vma.vm_end, vma.vm_end + delta, a);
}

/** mremap_to(): MREMAP_FIXED and/or MREMAP_DONTUNMAP. */
function mremap_to(mm: Mm, addr: u64, old_len: u64, new_addr: u64, new_len: u64, flags: u32): i64 {
  if (new_addr & ~PAGE_MASK) return -EINVAL;
  if (new_len > TASK_SIZE || new_addr > TASK_SIZE - new_len) return -EINVAL;
  // the old and new ranges must not overlap
  if (addr + old_len > new_addr && new_addr + new_len > addr) return -EINVAL;
  // stay 4 maps below the limit even if both ends split in 3
  if (<i64>mm.map_count + 2 >= <i64>sysctl_max_map_count - 3) return map_count_refused();
  const cleared = unmap_for_move(mm, addr, old_len, new_len, new_addr, flags);
  if (cleared) return cleared;
  if (old_len > new_len) old_len = new_len;
  const vma = vma_to_resize(mm, addr, old_len, new_len, flags);
  if (!vma) return resize_err;
  if ((flags & MREMAP_DONTUNMAP) && !may_expand_vm(mm, vma.vm_flags, old_len >> PAGE_SHIFT)) return -ENOMEM;
  let map_flags: u32 = 0;
  if (flags & MREMAP_FIXED) map_flags |= MAP_FIXED;
  if (vma.vm_flags & VM_MAYSHARE) map_flags |= MAP_SHARED;
  const a = get_unmapped_area(mm, new_addr, new_len, map_flags);
  if (IS_ERR_VALUE(a)) return <i64>a;
  if (!(flags & MREMAP_FIXED)) new_addr = a;
  return move_vma(mm, vma, addr, old_len, new_len, new_addr, flags);
}

/** copy_vma()'s result: the new VMA; `copy_vma_src` is the (maybe merged) source. */
let copy_vma_src: Vma | null = null;
/** seed: copy_vma gave a faulted VMA the destination's pgoff; move_vma re-indexes the moved pages */
let reindex_after_move = false;

/**
 * The pgoff the destination of a move of [old_addr, old_addr+len) of vma
 * gets: v5.17 gives an unfaulted anonymous VMA the destination's linear
 * pgoff "to increase its chance of merging"; seed-v2 and seed do the same for
 * a faulted one whose pages are exclusive (seed-v2's update_faulted_pgoff
 * also re-indexes the whole source VMA's pages right away).
 */
function moved_pgoff(mm: Mm, vma: Vma, old_addr: u64, len: u64, new_addr: u64, pgoff: u64): u64 {
  reindex_after_move = false;
  pgoff_why = R_OK;
  if (!vma_is_anonymous(vma)) return pgoff;
  if (!vma.anon_vma) return new_addr >> PAGE_SHIFT;
  if (move_pgoff == MOVE_PGOFF_KEEP) return pgoff;
  const v2 = move_pgoff == MOVE_PGOFF_SEED_V2;
  pgoff_why = v2 ? pgoff_update_refusal(mm, vma, vma.vm_start, vma.vm_end) : pgoff_update_refusal(mm, vma, old_addr, old_addr + len);
  if (pgoff_why != R_OK) {
    count(C_PGOFF_KEPT);
    return pgoff;
  }
  count(C_PGOFF_UPDATED);
  if (v2) reindex_whole_vma(mm, vma, new_addr >> PAGE_SHIFT);
  else reindex_after_move = true;
  return new_addr >> PAGE_SHIFT;
}
/** why moved_pgoff kept the old pgoff of a faulted VMA (R_OK: it did not) */
let pgoff_why: u32 = R_OK;

/**
 * relocate-anon: may the move of [addr, addr+len) of vma relocate its pages?
 * R_OK, or why not (docs/policies.md "relocate-anon"): only an anonymous
 * VMA can be relocated (R_FILE otherwise); an unfaulted one needs nothing (its
 * pgoff follows the address anyway); a faulted one needs its anon_vma not
 * shared with a fork parent or child (EXCL) and every page of the range
 * mapped once.
 */
function relocate_refusal(mm: Mm, vma: Vma, addr: u64, len: u64): u32 {
  if (!vma_is_anonymous(vma)) return R_FILE;
  if (!vma.anon_vma) return R_OK;
  return pgoff_update_refusal(mm, vma, addr, addr + len);
}

/**
 * MREMAP_MUST_RELOCATE_ANON: -EFAULT when the VMA at addr cannot be
 * relocated, checked before anything changes; else 0.
 */
function must_relocate_check(mm: Mm, vma: Vma | null, addr: u64, len: u64, flags: u32): i64 {
  if (!(flags & MREMAP_MUST_RELOCATE_ANON) || !vma) return 0;
  return relocate_refusal(mm, vma, addr, len) == R_OK ? 0 : -EFAULT;
}

/**
 * copy_vma(): the destination VMA of a move, with the pgoff moved_pgoff
 * chose, merged with its neighbours if possible. relocate-anon: when
 * reloc_pgoff >= 0 (the move may be relocated) and no ordinary merge happens,
 * the range takes reloc_pgoff and is merged again allowing a neighbour with
 * another anon_vma. NULL when the engine ran out of memory. keep_source:
 * MREMAP_DONTUNMAP.
 */
function copy_vma(mm: Mm, vma: Vma, addr: u64, len: u64, pgoff: u64, reloc_pgoff: i64, keep_source: bool): Vma | null {
  const vma_start = vma.vm_start;
  copy_vma_src = vma;
  const faulted = vma.anon_vma != 0;
  if (find_vma_intersection(mm, addr, addr + len)) return null; // cannot happen: the range was cleared
  const prev = find_vma_before(mm, addr);
  // 6.1.y / 6.12.y (stable only; copy_vma() in their mm/mmap.c and mm/vma.c):
  // a kept unfaulted source must stay apart from its destination: 6.1.y does
  // not merge a destination adjacent to it at all, 6.12.y leaves it out of
  // the neighbours
  const apart = stable_backports == STABLE_LTS && keep_source && vma_is_anonymous(vma) && !faulted;
  const self_adjacent = addr == vma.vm_end || vma.vm_start == addr + len;
  let merged: Vma | null = null;
  if (!(apart && kver < 612 && self_adjacent)) {
    if (apart && kver >= 612) set_merge_excluded(vma);
    merged = vma_merge(mm, prev, addr, addr + len, vma_range_attrs(attrs, MERGE_CALLER_MREMAP, vma, vma.vm_flags, pgoff, null, vma));
    set_merge_excluded(null);
  }
  let relocated = false;
  if (!merged && reloc_pgoff >= 0) {
    // relocate-anon: no ordinary merge, so the range is relocated: the
    // destination's linear pgoff, and a neighbour with another anon_vma may
    // take it (its moved pages are re-pointed in move_vma)
    relocated = true;
    pgoff = <u64>reloc_pgoff;
    reindex_after_move = true;
    count(C_PGOFF_UPDATED);
    set_merge_relocating(true);
    merged = vma_merge(mm, prev, addr, addr + len, vma_range_attrs(attrs, MERGE_CALLER_MREMAP, vma, vma.vm_flags, pgoff, null, vma));
    set_merge_relocating(false);
  }
  if (tracing() && vma_is_anonymous(vma)) {
    // the series' vm_pgoff_merge (after a merge) and why a faulted VMA kept its pgoff
    const updated = !faulted || relocated || (move_pgoff != MOVE_PGOFF_KEEP && pgoff_why == R_OK);
    trace_emit(EV_PGOFF, MERGE_CALLER_MREMAP, <u32>changetype<usize>(mm), addr, addr + len,
      (faulted ? 1 : 0) | (updated ? 2 : 0) | (merged ? 4 : 0), pgoff_why, 0, 0);
  }
  if (merged) {
    // the source itself may have been merged into the new VMA (unfaulted, or re-based by a seed policy or relocated)
    if (vma_start >= merged.vm_start && vma_start < merged.vm_end) copy_vma_src = merged;
    return merged;
  }
  const nv = vm_area_alloc(mm);
  nv.vm_start = addr;
  nv.vm_end = addr + len;
  nv.vm_pgoff = pgoff;
  nv.vm_flags = vma.vm_flags;
  nv.vm_ops = vma.vm_ops;
  nv.anon_vma = vma.anon_vma;
  nv.anon_name = vma.anon_name;
  nv.vm_policy = vma.vm_policy;
  nv.vm_userfaultfd_ctx = vma.vm_userfaultfd_ctx;
  nv.special = vma.special;
  nv.vm_file = vma.vm_file;
  if (!anon_vma_clone(nv, vma)) {
    vm_area_free(nv);
    engine_oom_set();
    return null;
  }
  if (nv.vm_file) get_file(nv.vm_file!);
  vma_link(mm, nv, prev);
  return nv;
}

/** get_extent(): the next step of a table walk, bounded by both sides' table spans. */
function get_extent(size: u64, old_addr: u64, old_end: u64, new_addr: u64): u64 {
  const mask = ~(size - 1);
  let next = (old_addr + size) & mask;
  let extent = next - old_addr;
  if (extent > old_end - old_addr) extent = old_end - old_addr;
  next = (new_addr + size) & mask;
  if (extent > next - new_addr) extent = next - new_addr;
  return extent;
}

/**
 * move_page_tables(): move the PTEs of [old_addr, old_addr+len) to new_addr.
 * Whole PMD tables (1 GiB) or PTE tables (2 MiB) move when both sides are
 * aligned and the destination slot is empty (HAVE_MOVE_PUD/PMD); otherwise
 * PTE by PTE. Pages are not touched. Returns the length moved.
 */
function move_page_tables(mm: Mm, old_addr: u64, new_addr: u64, len: u64): u64 {
  if (!len) return 0;
  const old_end = old_addr + len;
  let extent: u64 = 0;
  for (; old_addr < old_end; old_addr += extent, new_addr += extent) {
    extent = get_extent(PUD_SIZE, old_addr, old_end, new_addr);
    // get_old_pud(): the PUD entry for old_addr, if it points to a PMD table
    const old_pud_table = table_lookup(mm, old_addr, 3);
    if (!old_pud_table || !child(old_pud_table, table_index(3, old_addr))) continue;
    if (!pgtable_reserve(3)) {
      engine_oom_set();
      break;
    }
    const new_pud_table = table_alloc_walk(mm, new_addr, 3);
    if (extent == PUD_SIZE && !child(new_pud_table, table_index(3, new_addr))) {
      move_entry(old_pud_table, old_addr, new_pud_table, new_addr, 3);
      continue;
    }
    extent = get_extent(PMD_SIZE, old_addr, old_end, new_addr);
    const old_pmd_table = table_lookup(mm, old_addr, 2);
    if (!old_pmd_table || !child(old_pmd_table, table_index(2, old_addr))) continue;
    const new_pmd_table = table_alloc_walk(mm, new_addr, 2);
    if (extent == PMD_SIZE && !child(new_pmd_table, table_index(2, new_addr))) {
      move_entry(old_pmd_table, old_addr, new_pmd_table, new_addr, 2);
      continue;
    }
    const new_pte_table = table_alloc_walk(mm, new_addr, 1);
    const old_pte_table = changetype<PgTable>(child(old_pmd_table, table_index(2, old_addr)));
    // move_ptes()
    for (let off: u64 = 0; off < extent; off += 4096) {
      const src = entry_ptr(old_pte_table, table_index(1, old_addr + off));
      const pte = load<u64>(src);
      if (!pte) continue;
      store<u64>(src, 0);
      store<u64>(entry_ptr(new_pte_table, table_index(1, new_addr + off)), pte);
    }
  }
  return len + old_addr - old_end;
}

/** Move one table entry (a whole lower table) between table slots of `level`. */
function move_entry(from: PgTable, old_addr: u64, to: PgTable, new_addr: u64, level: u32): void {
  const src = entry_ptr(from, table_index(level, old_addr));
  const t = changetype<PgTable>(<usize>load<u64>(src));
  store<u64>(src, 0);
  // the moved table now covers the new addresses
  retag(t, new_addr);
  store<u64>(entry_ptr(to, table_index(level, new_addr)), <u64>changetype<usize>(t));
}

/** A moved table and its descendants cover new addresses: update their `addr`. */
function retag(t: PgTable, addr: u64): void {
  const span = t.level == 1 ? PMD_SIZE : PUD_SIZE;
  t.addr = addr & ~(span - 1);
  if (t.level == 1) return;
  for (let i: u32 = 0; i < 512; i++) {
    const c = child(t, i);
    if (c) retag(c, t.addr + (<u64>i << 21));
  }
}

/** move_vma(): copy the VMA to new_addr, move its PTEs, unmap the old range. */
function move_vma(mm: Mm, vma: Vma, old_addr: u64, old_len: u64, new_len: u64, new_addr: u64, flags: u32): i64 {
  const vm_flags = vma.vm_flags;
  // avoid failing later in do_munmap, which may split one VMA into three
  if (mm.map_count >= sysctl_max_map_count - 3) return map_count_refused();
  // vm_ops->may_split: special mappings refuse to be split. Before 5.11 there
  // was no such hook, but x86's vdso_mremap()/vvar_mremap() (5.10) refuse any
  // destination not of the whole mapping's size, after the move: EINVAL too
  if (vma.vm_ops == VM_OPS_SPECIAL && (vma.vm_start != old_addr || vma.vm_end != old_addr + old_len)) return -EINVAL;
  // 6.1.y / 6.12.y (stable only; move_vma() in their mm/mremap.c): a locked
  // VMA is split around the range first, so that only the range's part
  // loses VM_LOCKED when MREMAP_DONTUNMAP keeps it
  if (stable_backports == STABLE_LTS && (flags & MREMAP_DONTUNMAP) && (vma.vm_flags & VM_LOCKED)) {
    let err: i64 = 0;
    if (vma.vm_start != old_addr) err = split_vma(mm, vma, old_addr, true);
    if (!err && vma.vm_end != old_addr + old_len) err = split_vma(mm, vma, old_addr + old_len, false);
    if (err) return err;
  }
  // the growth, or all of new_len when the old range stays (MREMAP_DONTUNMAP);
  // mode 2 checks even a charge of 0 pages
  // (before 5.17 vma_to_resize() charged the growth, and a DONTUNMAP move
  // was charged after it succeeded, unchecked: 5.10 move_vma())
  const to_account: u64 = kver < 517 ? 0 : (flags & MREMAP_DONTUNMAP) ? new_len : new_len - old_len;
  if (kver >= 517 && (vm_flags & VM_ACCOUNT) && security_vm_enough_memory_mm(mm, to_account >> PAGE_SHIFT)) return -ENOMEM;
  const new_pgoff = vma.vm_pgoff + ((old_addr - vma.vm_start) >> PAGE_SHIFT);
  const src_anon_vma = vma.anon_vma;
  const pgoff = moved_pgoff(mm, vma, old_addr, old_len, new_addr, new_pgoff);
  // relocate-anon: a faulted anonymous VMA moved with a relocation flag
  let reloc_pgoff: i64 = -1;
  if ((flags & MREMAP_RELOCATE_FLAGS) && vma_is_anonymous(vma) && src_anon_vma) {
    const why = relocate_refusal(mm, vma, old_addr, old_len);
    if (why == R_OK) {
      reloc_pgoff = <i64>(new_addr >> PAGE_SHIFT);
    } else {
      // MREMAP_MUST_RELOCATE_ANON was refused before anything changed; this is the silent fallback
      pgoff_why = why;
      count(C_PGOFF_KEPT);
    }
  }
  const had_ptes = vma.may_have_ptes;
  const new_vma = copy_vma(mm, vma, new_addr, new_len, pgoff, reloc_pgoff, (flags & MREMAP_DONTUNMAP) != 0);
  if (!new_vma) {
    if (vm_flags & VM_ACCOUNT) vm_unacct_memory(<i64>(to_account >> PAGE_SHIFT));
    return -ENOMEM;
  }
  vma = copy_vma_src!;
  // the PTEs move into new_vma (and back into vma if the move fails)
  if (had_ptes) new_vma.may_have_ptes = vma.may_have_ptes = true;
  const moved = move_page_tables(mm, old_addr, new_addr, old_len);
  let err: i64 = 0;
  if (moved < old_len) {
    // move back what moved and unmap the new range instead; the growth was
    // charged for nothing (the new VMA's unmap gives back only its concealed share)
    err = -ENOMEM;
    if ((vm_flags & VM_ACCOUNT) && !(flags & MREMAP_DONTUNMAP)) vm_unacct_memory(<i64>(to_account >> PAGE_SHIFT));
    move_page_tables(mm, new_addr, old_addr, moved);
    vma = new_vma;
    old_len = new_len;
    old_addr = new_addr;
    new_addr = <u64>err;
  } else if (reindex_after_move || (move_pgoff == MOVE_PGOFF_EXACT && src_anon_vma && new_vma.anon_vma != src_anon_vma)) {
    // seed: the moved pages take the new VMA's index, and its anon_vma when the
    // destination merged into a VMA with another one (a private file VMA's COW
    // pages keep their file pgoff, yet may merge so: docs/policies.md D1);
    // relocate-anon: the same for a relocated move
    reindex_moved(mm, new_vma, new_addr, new_addr + old_len);
  }
  // conceal VM_ACCOUNT so that unmapping the old range does not undo the charge
  let excess: u64 = 0;
  let split = false;
  if ((vm_flags & VM_ACCOUNT) && !(flags & MREMAP_DONTUNMAP)) {
    vma.vm_flags &= ~VM_ACCOUNT;
    excess = vma.vm_end - vma.vm_start - old_len;
    if (old_addr > vma.vm_start && old_addr + old_len < vma.vm_end) split = true;
  }
  vm_stat_account(mm, vma.vm_flags, <i64>(new_len >> PAGE_SHIFT));

  if (!err && (flags & MREMAP_DONTUNMAP)) {
    if (kver < 517 && (vm_flags & VM_ACCOUNT)) dontunmap_account_5_10(vma, new_vma, old_addr, old_len, new_len);
    // the old VMA stays, unlocked; its anon_vma links are no longer needed
    vma.vm_flags &= VM_LOCKED_CLEAR_MASK;
    if (new_vma != vma && vma.vm_start == old_addr && vma.vm_end == old_addr + old_len) {
      unlink_anon_vmas(vma);
      // 6.1.y / 6.12.y (stable only; move_vma() in their mm/mremap.c): the now
      // unfaulted anonymous VMA takes the pgoff of a new one at its address
      if (stable_backports == STABLE_LTS && vma_is_anonymous(vma) && !vma.vm_file) vma.vm_pgoff = vma.vm_start >> PAGE_SHIFT;
    }
    return <i64>new_addr;
  }
  if (do_munmap(mm, old_addr, old_len) < 0) {
    // unable to split the VMA: keep the accounts right
    if ((vm_flags & VM_ACCOUNT) && !(flags & MREMAP_DONTUNMAP)) vm_acct_memory(<i64>(old_len >> PAGE_SHIFT));
    excess = 0;
  }
  if (vm_flags & VM_LOCKED) {
    mm.locked_vm += new_len >> PAGE_SHIFT;
    locked = true;
  }
  // restore VM_ACCOUNT on the one or two pieces left
  if (excess) {
    vma.vm_flags |= VM_ACCOUNT;
    if (split) vma_next(vma)!.vm_flags |= VM_ACCOUNT;
  }
  return <i64>new_addr;
}

/**
 * A DONTUNMAP move of an accounted VMA before 5.17 ("mm/mremap: don't
 * account pages in vma_to_resize()" moved the charge into move_vma() and
 * left VM_ACCOUNT alone): 5.10's move_vma() charges new_len unchecked, and
 * its "restore VM_ACCOUNT on the pieces" step runs although nothing was
 * unmapped: when the old range was strictly inside vma (and vma was not
 * merged into the new one), the VMA after vma gains VM_ACCOUNT.
 */
function dontunmap_account_5_10(vma: Vma, new_vma: Vma, old_addr: u64, old_len: u64, new_len: u64): void {
  vm_acct_memory(<i64>(new_len >> PAGE_SHIFT));
  const split = old_addr > vma.vm_start && old_addr + old_len < vma.vm_end && new_vma != vma;
  if (split && vma_next(vma)) vma_next(vma)!.vm_flags |= VM_ACCOUNT;
}

/** Reserve what one mremap may need up front (VMA records; tables are reserved per step). */
export function mremap_reserve(): bool {
  if (vma_reserve(MREMAP_RESERVE)) return true;
  engine_oom_set();
  return false;
}

// ---- 6.17: do_mremap() with multi-VMA moves ---------------------------------------------------

/** vrm_overlaps(): do [addr, addr+old_len) and [new_addr, new_addr+new_len) overlap? */
function vrm_overlaps(addr: u64, old_len: u64, new_addr: u64, new_len: u64): bool {
  return addr + old_len > new_addr && new_addr + new_len > addr;
}

/**
 * do_mremap() (6.17): check_mremap_params(), then either remap_move() (a
 * MREMAP_FIXED move of the same size, which may span VMAs and gaps) or one
 * VMA's check_prep_vma() and mremap_to()/mremap_at().
 */
function do_mremap(mm: Mm, addr: u64, old_len: u64, new_len: u64, flags: u32, new_addr: u64): i64 {
  // check_mremap_params() (the lengths are page-aligned already)
  const implies_new_addr = (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0;
  if (new_len > TASK_SIZE) return -EINVAL;
  if (implies_new_addr) {
    if (new_addr > TASK_SIZE - new_len) return -EINVAL;
    if (new_addr & ~PAGE_MASK) return -EINVAL;
    if (!(flags & MREMAP_MAYMOVE)) return -EINVAL;
    if ((flags & MREMAP_DONTUNMAP) && old_len != new_len) return -EINVAL;
    if (vrm_overlaps(addr, old_len, new_addr, new_len)) return -EINVAL;
    // stay 4 maps below the limit even if both ends split in 3
    if (<i64>mm.map_count + 2 >= <i64>sysctl_max_map_count - 3) return map_count_refused();
  }
  // vrm_move_only()
  if ((flags & MREMAP_FIXED) && old_len == new_len) return remap_move(mm, addr, old_len, new_addr, flags);
  const vma = vma_lookup(mm, addr);
  const err = check_prep_vma(mm, vma, addr, old_len, new_len, flags);
  if (err) return err;
  if (implies_new_addr) {
    const refused = must_relocate_check(mm, vma, addr, old_len < new_len ? old_len : new_len, flags);
    if (refused) return refused;
    return mremap_to_617(mm, addr, old_len, new_len, new_addr, flags);
  }
  // mremap_at()
  if (old_len == new_len) return <i64>addr;
  if (old_len > new_len) {
    // shrinking just unmaps the tail (even across VMAs and holes)
    const r = do_munmap(mm, addr + new_len, old_len - new_len);
    return r ? r : <i64>addr;
  }
  // expand_vma()
  if (old_len == vma!.vm_end - addr && vma_expandable(mm, vma!, new_len - old_len)) {
    return expand_vma_in_place(mm, vma!, addr, new_len - old_len);
  }
  if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
  const refused = must_relocate_check(mm, vma, addr, old_len, flags);
  if (refused) return refused;
  const map_flags: u32 = (vma!.vm_flags & VM_MAYSHARE) ? MAP_SHARED : 0;
  const a = get_unmapped_area(mm, 0, new_len, map_flags);
  if (IS_ERR_VALUE(a)) return <i64>a;
  return move_vma(mm, vma!, addr, old_len, new_len, a, flags);
}

/**
 * check_prep_vma() (6.17): the checks on the one VMA at addr; those about
 * growing or moving only when something new will be mapped.
 */
function check_prep_vma(mm: Mm, vma: Vma | null, addr: u64, old_len: u64, new_len: u64, flags: u32): i64 {
  if (!vma) return -EFAULT;
  if (!can_modify_vma(vma)) return -EPERM;
  if (vma.vm_flags & VM_HUGETLB) return -EINVAL;
  // vrm_will_map_new(): an expansion or an explicit new address
  if (new_len <= old_len && !(flags & (MREMAP_FIXED | MREMAP_DONTUNMAP))) return 0;
  // "duplicate a shm area" with old_len 0 is for shared mappings only
  if (!old_len && !(vma.vm_flags & (VM_SHARED | VM_MAYSHARE))) return -EINVAL;
  if ((flags & MREMAP_DONTUNMAP) && (vma.vm_flags & (VM_DONTEXPAND | VM_PFNMAP))) return -EINVAL;
  // a shrink may cross VMA boundaries in the part it unmaps
  const len = old_len > new_len ? new_len : old_len;
  if (len > vma.vm_end - addr) return -EFAULT;
  if (new_len == len) return 0;
  const pgoff = ((addr - vma.vm_start) >> PAGE_SHIFT) + vma.vm_pgoff;
  if (pgoff + (new_len >> PAGE_SHIFT) < pgoff) return -EINVAL;
  if (vma.vm_flags & (VM_DONTEXPAND | VM_PFNMAP)) return -EFAULT;
  // a locked VMA's growth must fit under RLIMIT_MEMLOCK
  if (!mlock_future_ok(mm, vma.vm_flags, new_len - len)) return -EAGAIN;
  if (!may_expand_vm(mm, vma.vm_flags, (new_len - len) >> PAGE_SHIFT)) return -ENOMEM;
  return 0;
}

/**
 * The unmaps that start mremap_to(): the destination (MREMAP_FIXED; a sealed
 * VMA there refuses), then the tail of a shrinking move. 0 or -errno.
 */
function unmap_for_move(mm: Mm, addr: u64, old_len: u64, new_len: u64, new_addr: u64, flags: u32): i64 {
  if (flags & MREMAP_FIXED) {
    const r = do_munmap(mm, new_addr, new_len);
    if (r) return r;
  }
  if (old_len > new_len) return do_munmap(mm, addr + new_len, old_len - new_len);
  return 0;
}

/** mremap_to() (6.17): the parameters and the VMA were checked before. */
function mremap_to_617(mm: Mm, addr: u64, old_len: u64, new_len: u64, new_addr: u64, flags: u32): i64 {
  const cleared = unmap_for_move(mm, addr, old_len, new_len, new_addr, flags);
  if (cleared) return cleared;
  if (old_len > new_len) old_len = new_len;
  // the unmaps may have split the VMA: look it up again
  const vma = vma_lookup(mm, addr);
  if (!vma) return -EFAULT;
  if ((flags & MREMAP_DONTUNMAP) && !may_expand_vm(mm, vma.vm_flags, old_len >> PAGE_SHIFT)) return -ENOMEM;
  // vrm_set_new_addr()
  let map_flags: u32 = 0;
  if (flags & MREMAP_FIXED) map_flags |= MAP_FIXED;
  if (vma.vm_flags & VM_MAYSHARE) map_flags |= MAP_SHARED;
  const a = get_unmapped_area(mm, new_addr, new_len, map_flags);
  if (IS_ERR_VALUE(a)) return <i64>a;
  return move_vma(mm, vma, addr, old_len, new_len, a, flags);
}

/**
 * remap_move() (6.17): move every VMA part of [start, start+len) to
 * new_addr, keeping the gaps between them. The range must start in a VMA;
 * userfaultfd-armed VMAs move only alone. Parts already moved stay moved
 * when a later one fails.
 */
function remap_move(mm: Mm, start: u64, len: u64, new_addr: u64, flags: u32): i64 {
  const end = start + len;
  let target = new_addr;
  let res: i64 = -EFAULT;
  let seen = false;
  let last_end: u64 = 0;
  if (flags & MREMAP_MUST_RELOCATE_ANON) {
    // relocate-anon: every part must be relocatable before any part moves
    let v = find_vma(mm, start);
    while (v && v.vm_start < end) {
      const a = v.vm_start > start ? v.vm_start : start;
      if (must_relocate_check(mm, v, a, (v.vm_end < end ? v.vm_end : end) - a, flags)) return -EFAULT;
      v = vma_next(v);
    }
  }
  let vma = find_vma(mm, start);
  while (vma && vma.vm_start < end) {
    const a = vma.vm_start > start ? vma.vm_start : start;
    const l = (vma.vm_end < end ? vma.vm_end : end) - a;
    // no gap at the start of the range
    if (!seen && start < vma.vm_start) return -EFAULT;
    const offset = seen ? vma.vm_start - last_end : 0;
    last_end = vma.vm_end;
    // vma_multi_allowed(): uffd needs the lock dropped, so it moves alone
    if (vma.vm_userfaultfd_ctx && (seen || vma.vm_end < end)) return -EFAULT;
    if (!mremap_reserve()) return -ENOMEM;
    let r = check_prep_vma(mm, vma, a, l, l, flags);
    if (!r) r = mremap_to_617(mm, a, l, l, target + offset, flags);
    if (r < 0) return r;
    if (!seen) res = r;
    seen = true;
    target = <u64>r + l;
    // the VMA iterator resumes after the VMA just handled (DONTUNMAP leaves it in
    // place), and only below end: a destination merged into the source VMA
    // (DONTUNMAP of an unfaulted piece) must not be visited again
    vma = last_end < end ? find_vma(mm, last_end) : null;
  }
  return res;
}
