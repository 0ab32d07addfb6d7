// Creating mappings: the mmap(2) path sys_mmap -> ksys_mmap_pgoff ->
// vm_mmap_pgoff -> do_mmap -> mmap_region (arch/x86/kernel/sys_x86_64.c,
// mm/mmap.c, mm/util.c; v5.17), in the kernel's order of checks.

import {
  EACCES, EAGAIN, EBADF, EEXIST, EINVAL, ENOMEM, ENOSYS, EPERM, EOPNOTSUPP, EOVERFLOW, LEGACY_MAP_MASK, MAP_ANONYMOUS,
  MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_HUGETLB, MAP_LOCKED,
  MAP_NONBLOCK, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_SYNC, MAP_TYPE, PAGE_MASK, PAGE_SHIFT,
  PROT_EXEC, PROT_READ, PROT_WRITE, VM_ACCOUNT, VM_GROWSDOWN, VM_HUGETLB, VM_LOCKED, VM_LOCKED_CLEAR_MASK,
  VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_NOHUGEPAGE, VM_NORESERVE, VM_SHARED, VM_SOFTDIRTY, VM_SPECIAL,
  VM_SYNC, VM_WRITE,
} from "../abi/constants";
import { File, FILE_SHMEM, FMODE_READ, FMODE_WRITE, file_by_id, file_create, get_file } from "../fs/file";
import { MERGE_CALLER_MMAP, MergeAttrs, new_range_attrs, vma_merge } from "./merge";
import { mm_populate } from "./mlock";
import { may_expand_vm, vm_stat_account } from "./mm";
import { can_do_mlock, mlock_future_ok } from "./rlimit";
import { count_vma_pages_range, do_munmap, range_has_sealed } from "./munmap";
import { OVERCOMMIT_NEVER, security_vm_enough_memory_mm, sysctl_overcommit_memory, vm_acct_memory, vm_unacct_memory } from "./commit";
import { kver } from "./policy";
import { mmap_min_addr, map_count_refused, sysctl_max_map_count } from "./sysctl";
import { Mm, VM_OPS_FILE, VM_OPS_NONE, VM_OPS_SHMEM, vm_area_alloc } from "./types";
import { IS_ERR_VALUE, get_unmapped_area } from "./unmapped_area";
import { find_vma, find_vma_before, find_vma_intersection, vma_link } from "./vma_tree";

/** VMA records mmap may need: two splits of the range it replaces, one new VMA. */
export const MMAP_RESERVE: u32 = 3;

const attrs = changetype<MergeAttrs>(memory.data(offsetof<MergeAttrs>(), 8));

/** calc_vm_prot_bits() */
// @ts-ignore: decorator
@inline export function calc_vm_prot_bits(prot: u32): u64 {
  return <u64>(prot & (PROT_READ | PROT_WRITE | PROT_EXEC)); // VM_READ/WRITE/EXEC have the same bits
}

/** calc_vm_flag_bits() */
function calc_vm_flag_bits(flags: u32): u64 {
  let f: u64 = 0;
  if (flags & MAP_GROWSDOWN) f |= VM_GROWSDOWN;
  if (flags & MAP_LOCKED) f |= VM_LOCKED;
  if (flags & MAP_SYNC) f |= VM_SYNC;
  // 6.7 (c4608d1bf7c6): thread stacks stay out of THP, so they no longer merge
  // with a neighbour that may use huge pages (CONFIG_TRANSPARENT_HUGEPAGE, as on Debian)
  if (kver >= 607 && (flags & MAP_STACK)) f |= VM_NOHUGEPAGE;
  return f;
}

/** round_hint_to_min() */
function round_hint_to_min(hint: u64): u64 {
  hint &= PAGE_MASK;
  if (hint != 0 && hint < mmap_min_addr) return (mmap_min_addr + 4095) & PAGE_MASK;
  return hint;
}

/** accountable_mapping(): private writable mappings without MAP_NORESERVE are charged. */
function accountable_mapping(vm_flags: u64): bool {
  return (vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE;
}

/**
 * mmap(2) on mm. `file_id` is a file identity (fs/file.ts) or 0 for none;
 * `off` is the byte offset. Returns the address or -errno (as i64).
 * Requires MMAP_RESERVE VMA records and one file record.
 */
export function sys_mmap(mm: Mm, addr: u64, len: u64, prot: u32, flags: u32, file_id: u32, off: u64): i64 {
  // sys_mmap (x86_64)
  if (off & ~PAGE_MASK) return -EINVAL;
  const pgoff = off >> PAGE_SHIFT;
  // ksys_mmap_pgoff
  let file: File | null = null;
  if (!(flags & MAP_ANONYMOUS)) {
    file = file_by_id(file_id);
    if (!file) return -EBADF;
    if (flags & MAP_HUGETLB) return -EINVAL; // no hugetlbfs files are modelled
  } else if (flags & MAP_HUGETLB) {
    // hstate_sizelog(): the default size (0), 2 MiB (21) or 1 GiB (30)
    const log = (flags >> 26) & 0x3f;
    if (log != 0 && log != 21 && log != 30) return -EINVAL;
    // no huge pages are reserved (vm.nr_hugepages = 0): hugetlb_reserve_pages fails
    // (strict overcommit ignores MAP_NORESERVE)
    if (!(flags & MAP_NORESERVE) || sysctl_overcommit_memory == OVERCOMMIT_NEVER) return -ENOMEM;
    // with MAP_NORESERVE the kernel creates a hugetlb VMA, which is not modelled
    return -ENOSYS;
  }
  flags &= ~(MAP_EXECUTABLE | MAP_DENYWRITE);
  const r = do_mmap(mm, file, addr, len, prot, flags, pgoff);
  // vm_mmap_pgoff(): mm_populate for MAP_LOCKED (or mlockall's future locking) and MAP_POPULATE
  if (r >= 0 && (((flags & MAP_LOCKED) || (mm.def_flags & VM_LOCKED)) || (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE)) {
    mm_populate(mm, <u64>r, (len + 4095) & PAGE_MASK, true);
  }
  return r;
}

/** do_mmap() */
export function do_mmap(mm: Mm, file: File | null, addr: u64, len: u64, prot: u32, flags: u32, pgoff: u64): i64 {
  if (len == 0) return -EINVAL;
  // (no READ_IMPLIES_EXEC personality)
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
  if (!(flags & MAP_FIXED)) addr = round_hint_to_min(addr);
  len = (len + 4095) & PAGE_MASK;
  if (len == 0) return -ENOMEM;
  if (pgoff + (len >> PAGE_SHIFT) < pgoff) return -EOVERFLOW;
  if (mm.map_count > sysctl_max_map_count) return map_count_refused();

  // shared anonymous memory ignores pgoff for placement (shmem_get_unmapped_area)
  const a = get_unmapped_area(mm, addr, len, flags);
  if (IS_ERR_VALUE(a)) return <i64>a;
  addr = a;
  if (flags & MAP_FIXED_NOREPLACE) {
    if (find_vma_intersection(mm, addr, addr + len)) return -EEXIST;
  }

  let vm_flags = calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) | mm.def_flags
    | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  // MAP_LOCKED needs can_do_mlock(); any VM_LOCKED mapping (MAP_LOCKED or
  // mlockall(MCL_FUTURE)'s def_flags) must fit under RLIMIT_MEMLOCK
  if ((flags & MAP_LOCKED) && !can_do_mlock()) return -EPERM;
  if (!mlock_future_ok(mm, vm_flags, len)) return -EAGAIN;

  if (file) {
    const f = file;
    // file_mmap_ok(): the range must fit below MAX_LFS_FILESIZE
    const maxsize: u64 = 0x7fffffffffffffff;
    if (len > maxsize || pgoff > ((maxsize - len) >> PAGE_SHIFT)) return -EOVERFLOW;
    const type = flags & MAP_TYPE;
    if (type == MAP_SHARED || type == MAP_SHARED_VALIDATE) {
      if (type == MAP_SHARED) flags &= LEGACY_MAP_MASK;
      // regular files support no extra flags (no MAP_SYNC without DAX)
      if (flags & ~LEGACY_MAP_MASK) return -EOPNOTSUPP;
      if ((prot & PROT_WRITE) && !(f.f_mode & FMODE_WRITE)) return -EACCES;
      vm_flags |= VM_SHARED | VM_MAYSHARE;
      if (!(f.f_mode & FMODE_WRITE)) vm_flags &= ~(VM_MAYWRITE | VM_SHARED);
    } else if (type != MAP_PRIVATE) {
      return -EINVAL;
    }
    if (!(f.f_mode & FMODE_READ)) return -EACCES;
    if (vm_flags & VM_GROWSDOWN) return -EINVAL;
  } else {
    const type = flags & MAP_TYPE;
    if (type == MAP_SHARED) {
      if (vm_flags & VM_GROWSDOWN) return -EINVAL;
      pgoff = 0;
      vm_flags |= VM_SHARED | VM_MAYSHARE;
    } else if (type == MAP_PRIVATE) {
      // the anon "virtual" page index, so rmap can find the pages
      pgoff = addr >> PAGE_SHIFT;
    } else {
      return -EINVAL;
    }
  }
  // MAP_NORESERVE is honoured unless overcommit is strict
  if ((flags & MAP_NORESERVE) && sysctl_overcommit_memory != OVERCOMMIT_NEVER) vm_flags |= VM_NORESERVE;

  return mmap_region(mm, file, addr, len, vm_flags, pgoff);
}

/** mmap_region(): clear the range, merge or create the VMA, account it. */
export function mmap_region(mm: Mm, file: File | null, addr: u64, len: u64, vm_flags: u64, pgoff: u64): i64 {
  const pages = len >> PAGE_SHIFT;
  // RLIMIT_AS, counting what MAP_FIXED would unmap
  if (!may_expand_vm(mm, vm_flags, pages)) {
    const nr = count_vma_pages_range(mm, addr, addr + len);
    if (!may_expand_vm(mm, vm_flags, pages - nr)) return -ENOMEM;
  }
  const accountable = accountable_mapping(vm_flags);
  // 6.12: the charge comes before the old VMAs go (a refusal leaves them in
  // place), and only the pages they had not charged already are asked for
  let replaced: u64 = 0;
  let uncharged: u64 = 0;
  if (kver >= 612 && accountable && !range_has_sealed(find_vma(mm, addr), addr + len)) {
    replaced = count_vma_pages_range(mm, addr, addr + len, VM_ACCOUNT);
    uncharged = pages - replaced;
    if (uncharged && security_vm_enough_memory_mm(mm, uncharged)) return -ENOMEM;
  }
  // munmap_vma_range(): clear old maps
  if (find_vma_intersection(mm, addr, addr + len)) {
    const r = do_munmap(mm, addr, len);
    // 6.10+: a sealed VMA in the way is EPERM (the unmap error itself in 6.x)
    if (r != 0) {
      vm_unacct_memory(<i64>uncharged);
      return r == -EPERM ? r : -ENOMEM;
    }
  }
  if (accountable) {
    if (kver >= 612) {
      // the new mapping owns the whole charge: the unmap gave back what it replaced
      vm_acct_memory(<i64>replaced);
    } else if (security_vm_enough_memory_mm(mm, pages)) {
      // 5.17: after the unmap, so a refused MAP_FIXED has already lost the old mapping
      return -ENOMEM;
    }
    vm_flags |= VM_ACCOUNT;
  }

  const prev = find_vma_before(mm, addr);
  let vma = vma_merge(mm, prev, addr, addr + len, new_range_attrs(attrs, MERGE_CALLER_MMAP, vm_flags, changetype<usize>(file), pgoff));
  if (!vma) {
    const v = vm_area_alloc(mm);
    v.vm_start = addr;
    v.vm_end = addr + len;
    v.vm_flags = vm_flags;
    v.vm_pgoff = pgoff;
    if (file) {
      v.vm_file = get_file(file);
      v.vm_ops = file.kind == FILE_SHMEM ? VM_OPS_SHMEM : VM_OPS_FILE;
    } else if (vm_flags & VM_SHARED) {
      // shmem_zero_setup(): a new shmem object backs shared anonymous memory
      v.vm_file = file_create(pages, FMODE_READ | FMODE_WRITE, FILE_SHMEM);
      v.vm_ops = VM_OPS_SHMEM;
    } else {
      v.vm_ops = VM_OPS_NONE;
    }
    vma_link(mm, v, prev);
    vma = v;
  }
  vm_stat_account(mm, vm_flags, <i64>pages);
  if (vm_flags & VM_LOCKED) {
    if ((vm_flags & VM_SPECIAL) || (vm_flags & VM_HUGETLB)) vma.vm_flags &= VM_LOCKED_CLEAR_MASK;
    else mm.locked_vm += pages;
  }
  // a new (or expanded) VMA is always soft-dirty
  vma.vm_flags |= VM_SOFTDIRTY;
  return <i64>addr;
}
