// mmap(2): arch/x86/kernel/sys_x86_64.c sys_mmap(); mm/mmap.c
// ksys_mmap_pgoff(), do_mmap(), round_hint_to_min(), file_mmap_ok(),
// accountable_mapping(), mmap_region(); mm/util.c vm_mmap_pgoff();
// mm/shmem.c shmem_zero_setup(); include/linux/mman.h calc_vm_prot_bits(),
// calc_vm_flag_bits(), LEGACY_MAP_MASK (v5.17).
//
// Decisions where the kernel depends on configuration or hardware:
// * no protection keys (no PKU): flags bits 32..35 stay 0, also for PROT_EXEC-only;
// * personality without READ_IMPLIES_EXEC;
// * MAP_NORESERVE sets VM_NORESERVE unless vm.overcommit_memory is 2 (strict);
// * MAP_HUGETLB on an anonymous mapping: no huge pages are reserved
//   (vm.nr_hugepages = 0, the default), so the reservation fails with -ENOMEM;
//   with MAP_NORESERVE the kernel would create a hugetlb VMA, which vmasim does
//   not model: -ENOSYS (reported, not approximated). An unknown huge page size
//   is -EINVAL. On one of our (non-hugetlbfs) files MAP_HUGETLB is -EINVAL;
// * MAP_POPULATE (without MAP_NONBLOCK) and VM_LOCKED (MAP_LOCKED or
//   mlockall's def_flags) populate the new range after the mmap
//   (vm_mmap_pgoff() -> mm_populate(), gup.ts), errors ignored.

import {
  EACCES, EAGAIN, EBADF, EEXIST, EINVAL, ENOMEM, ENOSYS, EOVERFLOW, EPERM, MAP_32BIT, MAP_ANONYMOUS,
  MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_HUGETLB,
  MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED,
  MAP_SHARED_VALIDATE, MAP_STACK, MAP_SYNC, MAP_TYPE, PAGE_SIZE, PROT_EXEC, PROT_READ,
  PROT_WRITE, VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_HUGETLB, VM_LOCKED,
  VM_LOCKONFAULT, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_NORESERVE, VM_READ, VM_SHARED, VM_SOFTDIRTY, VM_SPECIAL, VM_SYNC, VM_WRITE,
} from "../abi/constants.js";
import {
  OVERCOMMIT_NEVER, can_do_mlock, may_expand_vm, mlock_future_check, security_vm_enough_memory_mm, vm_stat_account,
} from "./accounting.js";
import { call_mmap, FMODE_READ, FMODE_WRITE, SHMEM_VM_OPS, SHMEM_ZERO_PATH, type KFile } from "./file.js";
import { get_unmapped_area } from "./get_unmapped_area.js";
import { vma_merge } from "./merge.js";
import { find_vma_intersection, vm_area_alloc, vma_link, type MmStruct, type Vma } from "./mm.js";
import { munmap_vma_range } from "./munmap.js";
import { mm_populate } from "./gup.js";
import { fput, get_file } from "./shmem.js";
import {
  EOPNOTSUPP, U64_MASK, addUlong, isErr, low32, num, pageAlignUlong, pageMaskUlong,
} from "./uapi.js";

// Flag bits of include/linux/mman.h / uapi that constants.ts does not name.
const MAP_UNINITIALIZED = 0x4000000;
const MAP_HUGE_2MB = 21 << 26;
const MAP_HUGE_1GB = 30 << 26;

/** The flags every ->mmap implementation accepts with MAP_SHARED_VALIDATE. */
export const LEGACY_MAP_MASK = BigInt(
  (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE
    | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK
    | MAP_STACK | MAP_HUGETLB | MAP_32BIT | MAP_HUGE_2MB | MAP_HUGE_1GB) >>> 0,
);

/** MAX_LFS_FILESIZE (64-bit): the largest offset a regular file can be mapped at. */
const MAX_LFS_FILESIZE = (1n << 63n) - 1n;

/** calc_vm_prot_bits(prot, pkey = 0) */
export function calc_vm_prot_bits(prot: number): number {
  return ((prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0)) >>> 0;
}

/** calc_vm_flag_bits(flags) */
export function calc_vm_flag_bits(flags: number): number {
  return ((flags & MAP_GROWSDOWN ? VM_GROWSDOWN : 0) | (flags & MAP_LOCKED ? VM_LOCKED : 0)
    | (flags & MAP_SYNC ? VM_SYNC : 0)) >>> 0;
}

/** round_hint_to_min(): mask the hint; a non-zero hint below mmap_min_addr is raised to it. */
function round_hint_to_min(mm: MmStruct, hint: bigint): bigint {
  hint = pageMaskUlong(hint);
  const min = BigInt(mm.kernel.mmap_min_addr);
  if (hint !== 0n && hint < min) return pageAlignUlong(min);
  return hint;
}

/** file_mmap_ok() for a regular file: pgoff + len must stay below MAX_LFS_FILESIZE. */
function file_mmap_ok(pgoff: bigint, len: bigint): boolean {
  if (len > MAX_LFS_FILESIZE) return false;
  return pgoff <= (MAX_LFS_FILESIZE - len) >> 12n;
}

/** accountable_mapping(): private writable mappings without VM_NORESERVE are charged (not hugetlbfs). */
function accountable_mapping(file: KFile | null, vm_flags: number): boolean {
  void file;
  return (vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE;
}

/**
 * SYSCALL mmap(addr, len, prot, flags, fd, off) on x86_64 -> ksys_mmap_pgoff()
 * -> vm_mmap_pgoff() -> do_mmap(). `fd` is a struct file identity (see
 * KernelSim.createFile) or anything for MAP_ANONYMOUS. Returns the address or -errno.
 */
export function sys_mmap(mm: MmStruct, addr: bigint, len: bigint, prot: bigint, flags: bigint, fd: number, off: bigint): number {
  if (off & BigInt(PAGE_SIZE - 1)) return -EINVAL;
  return ksys_mmap_pgoff(mm, addr, len, prot, flags, fd, off >> 12n);
}

function ksys_mmap_pgoff(mm: MmStruct, addr: bigint, len: bigint, prot: bigint, flags: bigint, fd: number, pgoff: bigint): number {
  let file: KFile | null = null;
  const f = low32(flags);
  if (!(f & MAP_ANONYMOUS)) {
    file = mm.kernel.fget(fd);
    if (!file) return -EBADF;
    if (f & MAP_HUGETLB) return -EINVAL; // not a hugetlbfs file
  } else if (f & MAP_HUGETLB) {
    // hstate_sizelog(): the default size (0), 2 MiB (21) or 1 GiB (30)
    const log = (f >>> 26) & 0x3f;
    if (log !== 0 && log !== 21 && log !== 30) return -EINVAL;
    // hugetlb_reserve_pages() with no huge pages; strict overcommit ignores MAP_NORESERVE
    if (!(f & MAP_NORESERVE) || mm.kernel.cfg.overcommit_memory === OVERCOMMIT_NEVER) return -ENOMEM;
    return -ENOSYS; // a hugetlb VMA: not modelled (see header)
  }
  // vm_mmap_pgoff(): security_mmap_file() allows everything; then populate.
  const populate = { len: 0 };
  const ret = do_mmap(mm, file, addr, len, prot, flags, pgoff, populate);
  if (populate.len) mm_populate(mm, ret, populate.len);
  return ret;
}

/**
 * do_mmap(): checks in the kernel's order, then mmap_region(). On success
 * `populate.len` (if given) is set to the length to fault in when the mapping
 * is VM_LOCKED or MAP_POPULATE without MAP_NONBLOCK.
 */
export function do_mmap(
  mm: MmStruct, file: KFile | null, addrB: bigint, lenB: bigint, protB: bigint, flagsB: bigint, pgoffB: bigint,
  populate: { len: number } = { len: 0 },
): number {
  if (lenB === 0n) return -EINVAL;

  const prot = low32(protB);
  let flags = low32(flagsB);

  // MAP_FIXED_NOREPLACE is placed like MAP_FIXED.
  if (flags & MAP_FIXED_NOREPLACE) {
    flags = (flags | MAP_FIXED) >>> 0;
    flagsB |= BigInt(MAP_FIXED);
  }
  if (!(flags & MAP_FIXED)) addrB = round_hint_to_min(mm, addrB);

  // Careful about overflows.
  lenB = pageAlignUlong(lenB);
  if (lenB === 0n) return -ENOMEM;

  // Offset overflow (cannot happen for x86_64 sys_mmap: pgoff < 2^52).
  if (addUlong(pgoffB, lenB >> 12n) < pgoffB) return -EOVERFLOW;

  if (mm.map_count > mm.kernel.sysctl_max_map_count) return -ENOMEM;

  // get_unmapped_area() returns a MAP_FIXED address unchanged from the arch
  // hook and then tests IS_ERR_VALUE() on it (mm/mmap.c, 5.17 and 6.x alike):
  // an address in the top 4095 bytes comes back as that errno (-1 is EPERM).
  if ((flags & MAP_FIXED) && addrB > U64_MASK - 4095n) return -Number(U64_MASK - addrB + 1n);

  // From here on lengths and addresses are numbers (exact below 2^53, see uapi.ts).
  let addr = get_unmapped_area(mm, file, num(addrB), num(lenB), num(pgoffB), flags);
  if (isErr(addr)) return addr;
  const len = num(lenB);

  if (flags & MAP_FIXED_NOREPLACE) {
    if (find_vma_intersection(mm, addr, addr + len)) return -EEXIST;
  }

  // (prot == PROT_EXEC would take an execute-only pkey: no PKU, see header.)
  let vm_flags = (calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) | mm.def_flags
    | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC) >>> 0;

  if (flags & MAP_LOCKED) {
    if (!can_do_mlock(mm)) return -EPERM;
  }
  if (mlock_future_check(mm, vm_flags, len)) return -EAGAIN;

  let pgoff: number;
  if (file) {
    if (!file_mmap_ok(pgoffB, lenB)) return -EOVERFLOW;
    const type = flags & MAP_TYPE;
    if (type === MAP_SHARED || type === MAP_SHARED_VALIDATE) {
      if (type === MAP_SHARED) {
        // Unknown flags are silently ignored with plain MAP_SHARED.
        flagsB &= LEGACY_MAP_MASK;
      }
      // Our files support no flags beyond the legacy set (no MAP_SYNC).
      if (flagsB & ~LEGACY_MAP_MASK & U64_MASK) return -EOPNOTSUPP;
      if (prot & PROT_WRITE) {
        if (!(file.f_mode & FMODE_WRITE)) return -EACCES;
      }
      vm_flags = (vm_flags | VM_SHARED | VM_MAYSHARE) >>> 0;
      if (!(file.f_mode & FMODE_WRITE)) vm_flags = (vm_flags & ~(VM_MAYWRITE | VM_SHARED)) >>> 0;
    } else if (type !== MAP_PRIVATE) {
      return -EINVAL;
    }
    // MAP_PRIVATE (and the shared cases falling through):
    if (!(file.f_mode & FMODE_READ)) return -EACCES;
    if (vm_flags & VM_GROWSDOWN) return -EINVAL;
    pgoff = num(pgoffB);
  } else {
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
        if (vm_flags & VM_GROWSDOWN) return -EINVAL;
        pgoff = 0; // ignored
        vm_flags = (vm_flags | VM_SHARED | VM_MAYSHARE) >>> 0;
        break;
      case MAP_PRIVATE:
        pgoff = addr / PAGE_SIZE; // the anon_vma linear index of the start
        break;
      default:
        return -EINVAL;
    }
  }

  // MAP_NORESERVE is ignored under strict overcommit (mode 2)
  if ((flags & MAP_NORESERVE) && mm.kernel.cfg.overcommit_memory !== OVERCOMMIT_NEVER) vm_flags = (vm_flags | VM_NORESERVE) >>> 0;

  addr = mmap_region(mm, file, addr, len, vm_flags, pgoff);
  if (!isErr(addr) && ((vm_flags & VM_LOCKED) || (flags & (MAP_POPULATE | MAP_NONBLOCK)) === MAP_POPULATE)) {
    populate.len = len;
  }
  return addr;
}

/**
 * mmap_region(): unmap what is in the way, charge the commit, try vma_merge(),
 * else create a new VMA; account it. Returns addr or -errno.
 */
export function mmap_region(mm: MmStruct, file: KFile | null, addr: number, len: number, vm_flags: number, pgoff: number): number {
  const pages = len / PAGE_SIZE;

  // Check against address space limit (MAP_FIXED may free the pages it replaces).
  if (!may_expand_vm(mm, vm_flags, pages)) {
    const nr_pages = count_vma_pages_range(mm, addr, addr + len);
    if (!may_expand_vm(mm, vm_flags, pages - nr_pages)) return -ENOMEM;
  }

  // Clear old maps.
  const r = munmap_vma_range(mm, addr, len);
  if (typeof r === "number") return r;
  const prev = r.prev;

  // Private writable mapping: charge the commit.
  if (accountable_mapping(file, vm_flags)) {
    if (security_vm_enough_memory_mm(mm, pages)) return -ENOMEM;
    vm_flags = (vm_flags | VM_ACCOUNT) >>> 0;
  }

  // Can we just expand an old mapping?
  let vma: Vma | null = vma_merge(mm, prev, addr, addr + len, {
    vm_flags, vm_flags_hi: 0, anon_vma: null, file, pgoff, policy: null, uffd_ctx: null, anon_name: null,
  });

  if (!vma) {
    vma = vm_area_alloc(mm);
    vma.vm_start = addr;
    vma.vm_end = addr + len;
    vma.vm_flags = vm_flags;
    vma.vm_pgoff = pgoff;
    if (file) {
      // mapping_map_writable() for VM_SHARED: no deny-write state is modelled.
      vma.vm_file = get_file(file);
      const err = call_mmap(file, vma);
      if (err) {
        fput(file);
        return err;
      }
      // ->mmap did not change vm_flags, so there is no second vma_merge() attempt.
    } else if (vm_flags & VM_SHARED) {
      shmem_zero_setup(mm, vma);
    } else {
      vma.vm_ops = null; // vma_set_anonymous()
    }
    vma_link(mm, vma, prev);
  }

  vm_stat_account(mm, vm_flags, pages);
  if (vm_flags & VM_LOCKED) {
    if ((vm_flags & VM_SPECIAL) || (vma.vm_flags & VM_HUGETLB)) {
      vma.vm_flags = (vma.vm_flags & ~(VM_LOCKED | VM_LOCKONFAULT)) >>> 0;
    } else {
      mm.locked_vm += pages;
    }
  }

  // New (or expanded) VMAs are always soft-dirty.
  vma.vm_flags = (vma.vm_flags | VM_SOFTDIRTY) >>> 0;
  return addr;
}

/** count_vma_pages_range(): pages of [addr, end) that are currently mapped. */
function count_vma_pages_range(mm: MmStruct, addr: number, end: number): number {
  let vma = find_vma_intersection(mm, addr, end);
  if (!vma) return 0;
  let nr = (Math.min(end, vma.vm_end) - Math.max(addr, vma.vm_start)) / PAGE_SIZE;
  for (vma = vma.vm_next; vma; vma = vma.vm_next) {
    if (vma.vm_start > end) break;
    nr += (Math.min(end, vma.vm_end) - vma.vm_start) / PAGE_SIZE;
  }
  return nr;
}

/**
 * shmem_zero_setup(): back a shared anonymous VMA by a new shmem object of its
 * size; the VMA holds the object's only reference.
 */
export function shmem_zero_setup(mm: MmStruct, vma: Vma): void {
  const file = mm.kernel.newFile(SHMEM_ZERO_PATH, (vma.vm_end - vma.vm_start) / PAGE_SIZE, true);
  vma.vm_file = file;
  vma.vm_ops = SHMEM_VM_OPS;
}
