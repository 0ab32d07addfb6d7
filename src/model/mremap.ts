// mremap(2): mm/mremap.c SYSCALL mremap (sys_mremap), vma_to_resize(),
// vma_expandable(), mremap_to(), move_vma(), move_page_tables() with
// get_extent(); mm/mmap.c copy_vma() (v5.17; read on the v5.17-rc5 text the
// spec quotes, checked against the 5.15-6.x mremap.c whose move_page_tables()
// step structure — PUD lookup, alloc_new_pud(), NORMAL_PUD move, then the PMD
// level — is unchanged from 5.13 to 6.x).
//
// Rules the model follows, all as in v5.17:
// * an address in no VMA returns the positive value EFAULT (14);
// * shrinking (old_len >= new_len) is a munmap of the tail, across VMAs and
//   holes alike; growing in place is vma_adjust() without vma_merge(): the
//   grown VMA never joins the next one;
// * a move puts the destination VMA through vma_merge() (copy_vma()); an
//   anonymous VMA without anon_vma takes pgoff = new_addr >> 12 there, a
//   faulted one keeps the pgoff of the moved range, so its pages keep a
//   valid index (the seed policies may re-base it: the policy's move_pgoff()
//   and, after the PTEs moved, move_pages()); the source may be merged into
//   the destination (an unfaulted VMA moved next to itself), in which case
//   the merged VMA becomes the source;
// * move_page_tables() with HAVE_MOVE_PUD and HAVE_MOVE_PMD (x86): a whole PMD
//   table moves when a 1 GiB step is aligned on both sides and the
//   destination PUD entry is empty, a whole PTE table likewise for 2 MiB,
//   otherwise PTEs move one by one; pages are never touched; destination
//   tables are allocated even when nothing ends up moved into them;
// * VM_ACCOUNT is concealed on the source while its range is unmapped (the
//   charge moves with the pages) and restored on the one or two pieces left;
// * MREMAP_DONTUNMAP keeps the source VMA (its PTEs gone), clears VM_LOCKED /
//   VM_LOCKONFAULT on the whole of it without touching locked_vm, and drops
//   its anon_vma links when it is exactly the moved range;
// * after a VM_LOCKED move or in-place growth the new part is populated
//   (mm_populate(), errors ignored).
//
// Not modelled (no such VMA can exist in the model): hugetlb VMAs (their
// alignment rules and move_hugetlb_page_tables()); userfaultfd events; KSM
// unmerging (ksm_madvise(MADV_UNMERGEABLE) on a copy of the flags: no
// visible effect); allocation failures (so move_page_tables() always moves
// everything and the "move back" error path never runs); vm_ops->mremap of
// the special mappings ([vdso]'s only records the new address: returns 0).

import {
  EAGAIN, EFAULT, EINVAL, ENOMEM, MAP_FIXED, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE,
  PAGE_SIZE, TASK_SIZE, VM_ACCOUNT, VM_DONTEXPAND, VM_LOCKED, VM_LOCKONFAULT, VM_MAYSHARE, VM_PFNMAP, VM_SHARED,
} from "../abi/constants.js";
import { may_expand_vm, security_vm_enough_memory_mm, vm_acct_memory, vm_stat_account, vm_unacct_memory } from "./accounting.js";
import { vma_adjust } from "./adjust.js";
import { anon_vma_clone, unlink_anon_vmas } from "./anon_vma.js";
import { get_unmapped_area } from "./get_unmapped_area.js";
import { mm_populate } from "./gup.js";
import { vma_attrs, vma_merge } from "./merge.js";
import {
  anon_vma_name, find_vma, find_vma_links, vm_area_dup, vma_is_anonymous, vma_link, type MmStruct, type Vma,
} from "./mm.js";
import { sys_munmap } from "./munmap.js";
import {
  PMD_SIZE, PUD_SIZE, alloc_new_pmd, alloc_new_pud, get_old_pmd, get_old_pud, move_normal_pmd, move_normal_pud,
  move_ptes, pte_alloc,
} from "./pgtable.js";
import { capable, rlimit } from "./resource.js";
import { get_file } from "./shmem.js";
import { U64_MASK, addUlong, isErr, low32, num, offsetInPage, offsetInPageUlong, pageAlignUlong } from "./uapi.js";

const TASK_SIZE_B = BigInt(TASK_SIZE);
const PAGE_SHIFT_B = 12n;

/** vma_lookup(): the VMA containing addr, or null. */
function vma_lookup(mm: MmStruct, addr: number): Vma | null {
  const vma = find_vma(mm, addr);
  return vma && vma.vm_start <= addr ? vma : null;
}

/** What sys_mremap() carries between its helpers: the kernel's `bool *locked` (and new_addr for the populate). */
interface MremapState {
  locked: boolean;
}

/**
 * SYSCALL mremap(addr, old_len, new_len, flags, new_addr): the new address,
 * -errno, or +EFAULT (14) when addr is in no VMA.
 */
export function sys_mremap(mm: MmStruct, addrB: bigint, old_lenB: bigint, new_lenB: bigint, flagsB: bigint, new_addrB: bigint): number {
  // (untagged_addr(): no tagged addresses on x86 in 5.17)
  if (flagsB & ~BigInt(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP) & U64_MASK) return -EINVAL;
  const flags = low32(flagsB);
  if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) return -EINVAL;
  // MREMAP_DONTUNMAP is always a move and it does not allow resizing.
  if ((flags & MREMAP_DONTUNMAP) && (!(flags & MREMAP_MAYMOVE) || old_lenB !== new_lenB)) return -EINVAL;
  if (offsetInPageUlong(addrB)) return -EINVAL;

  const old_len = pageAlignUlong(old_lenB);
  const new_len = pageAlignUlong(new_lenB);
  // A zero old_len is the legacy "duplicate a shared mapping" case; a zero new_len is nonsense.
  if (new_len === 0n) return -EINVAL;

  // addr is page aligned; anything at or above TASK_SIZE is in no VMA.
  const vma = addrB < TASK_SIZE_B ? find_vma(mm, num(addrB)) : null;
  if (!vma || BigInt(vma.vm_start) > addrB) return EFAULT; // (sic: positive)
  const addr = num(addrB);
  // (is_vm_hugetlb_page(vma): never, see the header)

  const st: MremapState = { locked: false };
  let new_addr = 0;
  let ret: number;

  if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) {
    ret = mremap_to(mm, addr, old_len, new_addrB, new_len, st, flags);
    new_addr = ret;
  } else if (old_len >= new_len) {
    // Always allow a shrinking remap: that just unmaps the unnecessary pages.
    // __do_munmap() checks its own arguments (addr + new_len may be beyond TASK_SIZE).
    const retval = sys_munmap(mm, addUlong(addrB, new_len), old_len - new_len);
    ret = retval < 0 && old_len !== new_len ? retval : addr;
  } else {
    ret = mremap_grow(mm, addr, old_len, new_len, st, flags);
    new_addr = ret;
  }

  // offset_in_page(ret): every error, and the +EFAULT above.
  if (isErr(ret) || offsetInPage(ret)) st.locked = false;
  if (st.locked && new_len > old_len) mm_populate(mm, new_addr + num(old_len), num(new_len - old_len));
  return ret;
}

/** The growing part of sys_mremap(): in place if possible, else moved with MREMAP_MAYMOVE. */
function mremap_grow(mm: MmStruct, addr: number, old_len: bigint, new_len: bigint, st: MremapState, flags: number): number {
  const r = vma_to_resize(mm, addr, old_len, new_len, flags);
  if (typeof r === "number") return r;
  const vma = r;

  // old_len exactly to the end of the area: can we just expand the current mapping?
  if (old_len === BigInt(vma.vm_end - addr) && vma_expandable(mm, vma, new_len - old_len)) {
    const pages = num((new_len - old_len) >> PAGE_SHIFT_B);
    if (vma.vm_flags & VM_ACCOUNT) {
      if (security_vm_enough_memory_mm(mm, pages)) return -ENOMEM;
    }
    // vma_adjust() without insert: no vma_merge(), so the grown VMA never joins its successor.
    if (vma_adjust(vma, vma.vm_start, addr + num(new_len), vma.vm_pgoff, null)) {
      vm_unacct_memory(mm, pages);
      return -ENOMEM;
    }
    vm_stat_account(mm, vma.vm_flags, pages);
    if (vma.vm_flags & VM_LOCKED) {
      mm.locked_vm += pages;
      st.locked = true;
    }
    return addr;
  }

  // We weren't able to just expand or shrink the area: create a new one and move it.
  if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
  const map_flags = vma.vm_flags & VM_MAYSHARE ? MAP_SHARED : 0;
  const pgoff = vma.vm_pgoff + (addr - vma.vm_start) / PAGE_SIZE;
  const new_addr = get_unmapped_area(mm, vma.vm_file, 0, num(new_len), pgoff, map_flags);
  if (isErr(new_addr)) return new_addr;
  return move_vma(mm, vma, addr, num(old_len), num(new_len), new_addr, st, flags);
}

/**
 * vma_to_resize(addr, old_len, new_len, flags): the VMA holding
 * [addr, addr + old_len) if it may become new_len long, else -errno.
 */
function vma_to_resize(mm: MmStruct, addr: number, old_len: bigint, new_len: bigint, flags: number): Vma | number {
  const vma = vma_lookup(mm, addr);
  if (!vma) return -EFAULT;

  // !old_len "duplicates" a mapping: meaningless (and refused) for private mappings.
  if (old_len === 0n && !(vma.vm_flags & (VM_SHARED | VM_MAYSHARE))) return -EINVAL;

  if ((flags & MREMAP_DONTUNMAP) && (vma.vm_flags & (VM_DONTEXPAND | VM_PFNMAP))) return -EINVAL;

  // We can't remap across vm area boundaries.
  if (old_len > BigInt(vma.vm_end - addr)) return -EFAULT;

  if (new_len === old_len) return vma;

  // Need to be careful about a growing mapping (pgoff < 2^52 and new_len >> 12 < 2^52: never wraps).
  const pgoff = BigInt(vma.vm_pgoff + (addr - vma.vm_start) / PAGE_SIZE);
  if (((pgoff + (new_len >> PAGE_SHIFT_B)) & U64_MASK) < pgoff) return -EINVAL;

  if (vma.vm_flags & (VM_DONTEXPAND | VM_PFNMAP)) return -EFAULT;

  if (vma.vm_flags & VM_LOCKED) {
    // (new_len > old_len here: mremap_to() cut old_len down to new_len before calling.)
    const locked = BigInt(mm.locked_vm) * BigInt(PAGE_SIZE) + (new_len - old_len);
    const limit = rlimit(mm, "memlock");
    if (limit !== Infinity && locked > BigInt(limit) && !capable(mm, "ipc_lock")) return -EAGAIN;
  }

  if (!may_expand_vm(mm, vma.vm_flags, num((new_len - old_len) >> PAGE_SHIFT_B))) return -ENOMEM;
  return vma;
}

/** vma_expandable(vma, delta): may vma grow by delta in place? */
function vma_expandable(mm: MmStruct, vma: Vma, delta: bigint): boolean {
  const end = BigInt(vma.vm_end) + delta;
  if (end > U64_MASK) return false; // overflow
  if (vma.vm_next && BigInt(vma.vm_next.vm_start) < end) return false; // intersection
  const r = get_unmapped_area(mm, null, vma.vm_start, num(end - BigInt(vma.vm_start)), 0, MAP_FIXED);
  if (isErr(r) || offsetInPage(r)) return false;
  return true;
}

/** mremap_to(): MREMAP_FIXED and/or MREMAP_DONTUNMAP. The new address or -errno. */
function mremap_to(
  mm: MmStruct, addr: number, old_len: bigint, new_addrB: bigint, new_len: bigint, st: MremapState, flags: number,
): number {
  if (offsetInPageUlong(new_addrB)) return -EINVAL;
  if (new_len > TASK_SIZE_B || new_addrB > TASK_SIZE_B - new_len) return -EINVAL;

  // Ensure the old/new locations do not overlap (C arithmetic: addr + old_len may wrap).
  const addrB = BigInt(addr);
  if (addUlong(addrB, old_len) > new_addrB && new_addrB + new_len > addrB) return -EINVAL;

  // move_vma() needs 4 maps below the limit; both ends may split in 3: 2 more.
  if (mm.map_count + 2 >= mm.kernel.sysctl_max_map_count - 3) return -ENOMEM;

  let new_addr = num(new_addrB);
  if (flags & MREMAP_FIXED) {
    const ret = sys_munmap(mm, new_addrB, new_len);
    if (ret) return ret;
  }

  if (old_len >= new_len) {
    const ret = sys_munmap(mm, addUlong(addrB, new_len), old_len - new_len);
    if (ret && old_len !== new_len) return ret;
    old_len = new_len;
  }

  const r = vma_to_resize(mm, addr, old_len, new_len, flags);
  if (typeof r === "number") return r;
  const vma = r;

  // MREMAP_DONTUNMAP expands by old_len since old_len == new_len.
  if ((flags & MREMAP_DONTUNMAP) && !may_expand_vm(mm, vma.vm_flags, num(old_len >> PAGE_SHIFT_B))) return -ENOMEM;

  let map_flags = 0;
  if (flags & MREMAP_FIXED) map_flags |= MAP_FIXED;
  if (vma.vm_flags & VM_MAYSHARE) map_flags |= MAP_SHARED;
  // Without MREMAP_FIXED new_addr is a hint (no round_hint_to_min(): a hint
  // below mmap_min_addr that is free is refused by security_mmap_addr()).
  const ret = get_unmapped_area(mm, vma.vm_file, new_addr, num(new_len), vma.vm_pgoff + (addr - vma.vm_start) / PAGE_SIZE, map_flags);
  if (isErr(ret)) return ret;
  if (!(flags & MREMAP_FIXED)) new_addr = ret;

  return move_vma(mm, vma, addr, num(old_len), num(new_len), new_addr, st, flags);
}

/**
 * move_vma(vma, old_addr, old_len, new_len, new_addr): give [old_addr,
 * old_addr + old_len) of vma a new VMA of new_len at new_addr, move its page
 * tables there, then unmap the old range (unless MREMAP_DONTUNMAP).
 */
function move_vma(
  mm: MmStruct, vma: Vma, old_addr: number, old_len: number, new_len: number, new_addr: number,
  st: MremapState, flags: number,
): number {
  let to_account = new_len - old_len;
  const vm_flags = vma.vm_flags;

  // We'd prefer to avoid failure later on in do_munmap, which may split one VMA into three.
  if (mm.map_count >= mm.kernel.sysctl_max_map_count - 3) return -ENOMEM;

  if (flags & MREMAP_DONTUNMAP) to_account = new_len;

  if (vma.vm_ops && vma.vm_ops.may_split) {
    let err = 0;
    if (vma.vm_start !== old_addr) err = vma.vm_ops.may_split(vma, old_addr);
    if (!err && vma.vm_end !== old_addr + old_len) err = vma.vm_ops.may_split(vma, old_addr + old_len);
    if (err) return err;
  }

  // ksm_madvise(MADV_UNMERGEABLE) on a copy of vm_flags: no KSM pages in the model.

  if (vm_flags & VM_ACCOUNT) {
    if (security_vm_enough_memory_mm(mm, to_account / PAGE_SIZE)) return -ENOMEM;
  }

  const new_pgoff = vma.vm_pgoff + (old_addr - vma.vm_start) / PAGE_SIZE;
  const src_anon_vma = vma.anon_vma;
  const copied = copy_vma(vma, new_addr, new_len, new_pgoff, old_addr, old_len);
  if (!copied) {
    if (vm_flags & VM_ACCOUNT) vm_unacct_memory(mm, to_account / PAGE_SIZE);
    return -ENOMEM;
  }
  const new_vma = copied.new_vma;
  vma = copied.vma;

  move_page_tables(vma, old_addr, new_vma, new_addr, old_len);
  // (moved_len < old_len only on allocation failure; vm_ops->mremap of [vdso] returns 0.)
  // The policy's rewrite of the moved pages (seed: index and anon_vma per moved PTE).
  mm.kernel.rules.move_pages(new_vma, new_addr, old_len, src_anon_vma, copied.anon_pgoff_updated);

  // Conceal VM_ACCOUNT so the old reservation is not undone.
  let excess = 0;
  let split = false;
  if ((vm_flags & VM_ACCOUNT) && !(flags & MREMAP_DONTUNMAP)) {
    vma.vm_flags = (vma.vm_flags & ~VM_ACCOUNT) >>> 0;
    excess = vma.vm_end - vma.vm_start - old_len;
    if (old_addr > vma.vm_start && old_addr + old_len < vma.vm_end) split = true;
  }

  // total_vm is raised by new_len now; do_munmap() takes old_len off again.
  vm_stat_account(mm, vma.vm_flags, new_len / PAGE_SIZE);

  if (flags & MREMAP_DONTUNMAP) {
    // We always clear VM_LOCKED[ONFAULT] on the old VMA (all of it; locked_vm is left alone).
    vma.vm_flags = (vma.vm_flags & ~(VM_LOCKED | VM_LOCKONFAULT)) >>> 0;
    // Its anon_vma links are no longer needed once its page tables have moved.
    if (new_vma !== vma && vma.vm_start === old_addr && vma.vm_end === old_addr + old_len) unlink_anon_vmas(vma);
    return new_addr;
  }

  // do_munmap() checks its arguments: old_len 0 (the "duplicate a shared
  // mapping" case) is -EINVAL, and the old VMA stays whole.
  if (sys_munmap(mm, BigInt(old_addr), BigInt(old_len)) < 0) {
    // OOM: unable to split vma, just get accounts right.
    if (vm_flags & VM_ACCOUNT) vm_acct_memory(mm.kernel, old_len / PAGE_SIZE);
    excess = 0;
  }

  if (vm_flags & VM_LOCKED) {
    mm.locked_vm += new_len / PAGE_SIZE;
    st.locked = true;
  }

  // Restore VM_ACCOUNT if one or two pieces of vma are left.
  if (excess) {
    vma.vm_flags = (vma.vm_flags | VM_ACCOUNT) >>> 0;
    if (split) vma.vm_next!.vm_flags = (vma.vm_next!.vm_flags | VM_ACCOUNT) >>> 0;
  }
  return new_addr;
}

/**
 * copy_vma(&vma, addr, len, pgoff): the VMA [addr, addr + len) will be, by
 * vma_merge() with the VMAs around addr or as a new copy of vma; and the
 * source, which is the merged VMA if the source itself was merged into it.
 * [old_addr, old_addr + old_len) is the range being moved (for the policy's
 * move_pgoff(); the kernel's copy_vma() of the series derives it).
 * anon_pgoff_updated: a faulted anonymous VMA got a new pgoff (seed policies).
 */
export function copy_vma(
  vma: Vma, addr: number, len: number, pgoff: number, old_addr: number, old_len: number,
): { new_vma: Vma; vma: Vma; anon_pgoff_updated: boolean } | null {
  const vma_start = vma.vm_start;
  const mm = vma.vm_mm;
  let faulted_in_anon_vma = true;
  let anon_pgoff_updated = false;

  // If anonymous vma has not yet been faulted, update new pgoff to match
  // the new location, to increase its chance of merging.
  if (vma_is_anonymous(vma) && !vma.anon_vma) {
    pgoff = addr / PAGE_SIZE;
    faulted_in_anon_vma = false;
  } else if (vma_is_anonymous(vma)) {
    // A faulted one keeps its pgoff in 5.17; the seed policies may re-base it.
    const updated = mm.kernel.rules.move_pgoff(vma, old_addr, old_len, addr);
    if (updated !== null) {
      pgoff = updated;
      anon_pgoff_updated = true;
    }
  }

  const links = find_vma_links(mm, addr, addr + len);
  if (links.overlap) return null; // should never get here
  const prev = links.prev;

  let new_vma = vma_merge(mm, prev, addr, addr + len, vma_attrs(vma, vma.vm_flags, pgoff, anon_vma_name(vma)));
  if (new_vma) {
    // The source may have been merged into new_vma: only possible when it
    // took the destination's linear pgoff (unfaulted, or re-based by a seed policy).
    if (vma_start >= new_vma.vm_start && vma_start < new_vma.vm_end) {
      if (faulted_in_anon_vma && !anon_pgoff_updated) throw new Error("copy_vma: a faulted VMA merged with itself (BUG)");
      vma = new_vma;
    }
    return { new_vma, vma, anon_pgoff_updated };
  }

  new_vma = vm_area_dup(vma);
  new_vma.vm_start = addr;
  new_vma.vm_end = addr + len;
  new_vma.vm_pgoff = pgoff;
  // vma_dup_policy(): the pointer was copied. anon_vma_clone(): new_vma has
  // vma's anon_vma already, so no reuse; it joins all of vma's anon_vmas.
  anon_vma_clone(new_vma, vma);
  if (new_vma.vm_file) get_file(new_vma.vm_file);
  // vm_ops->open(): none of the modelled vm_ops has one.
  vma_link(mm, new_vma, prev);
  return { new_vma, vma, anon_pgoff_updated };
}

/** get_extent(size, old_addr, old_end, new_addr): the step, bounded by both sides' table spans and the end. */
function get_extent(size: number, old_addr: number, old_end: number, new_addr: number): number {
  let extent = Math.floor(old_addr / size) * size + size - old_addr;
  if (extent > old_end - old_addr) extent = old_end - old_addr;
  const next = Math.floor(new_addr / size) * size + size;
  if (extent > next - new_addr) extent = next - new_addr;
  return extent;
}

/**
 * move_page_tables(vma, old_addr, new_vma, new_addr, len) on x86_64 (4-level,
 * HAVE_MOVE_PUD, HAVE_MOVE_PMD, no huge pages): the length moved (always len).
 */
export function move_page_tables(vma: Vma, old_addr: number, new_vma: Vma, new_addr: number, len: number): number {
  if (!len) return 0;
  const mm = vma.vm_mm;
  const old_end = old_addr + len;
  for (let extent = 0; old_addr < old_end; old_addr += extent, new_addr += extent) {
    // If extent is PUD-sized, try to speed up the move by moving at the PUD level.
    extent = get_extent(PUD_SIZE, old_addr, old_end, new_addr);
    if (!get_old_pud(mm, old_addr)) continue;
    alloc_new_pud(mm, new_addr);
    if (extent === PUD_SIZE) {
      if (move_normal_pud(mm, old_addr, new_addr)) continue;
    }

    extent = get_extent(PMD_SIZE, old_addr, old_end, new_addr);
    if (!get_old_pmd(mm, old_addr)) continue;
    alloc_new_pmd(mm, new_addr);
    if (extent === PMD_SIZE) {
      // If the extent is PMD-sized, try to speed the move by moving at the PMD level.
      if (move_normal_pmd(mm, old_addr, new_addr)) continue;
    }
    pte_alloc(new_vma.vm_mm, new_addr);
    move_ptes(mm, old_addr, new_addr, extent);
  }
  return len;
}
