// Linux x86_64 ABI constants for the core. Mirrors src/abi/constants.ts (the
// host's copy); test/abi.test.ts checks that both agree.

// @ts-ignore: decorator
@inline export const PAGE_SHIFT: u64 = 12;
// @ts-ignore: decorator
@inline export const PAGE_SIZE: u64 = 4096;
// @ts-ignore: decorator
@inline export const PAGE_MASK: u64 = ~(<u64>4095);

// errno
export const EPERM: i64 = 1;
export const ENOENT: i64 = 2;
export const EINTR: i64 = 4;
export const EBADF: i64 = 9;
export const EAGAIN: i64 = 11;
export const ENOMEM: i64 = 12;
export const EACCES: i64 = 13;
export const EFAULT: i64 = 14;
export const EEXIST: i64 = 17;
export const ENODEV: i64 = 19;
export const EINVAL: i64 = 22;
export const ENOSYS: i64 = 38;
export const EOVERFLOW: i64 = 75;
export const EOPNOTSUPP: i64 = 95;

// prot
export const PROT_READ: u32 = 0x1;
export const PROT_WRITE: u32 = 0x2;
export const PROT_EXEC: u32 = 0x4;
export const PROT_SEM: u32 = 0x8;
export const PROT_GROWSDOWN: u32 = 0x01000000;
export const PROT_GROWSUP: u32 = 0x02000000;

// mmap flags
export const MAP_SHARED: u32 = 0x01;
export const MAP_PRIVATE: u32 = 0x02;
export const MAP_SHARED_VALIDATE: u32 = 0x03;
export const MAP_TYPE: u32 = 0x0f;
export const MAP_FIXED: u32 = 0x10;
export const MAP_ANONYMOUS: u32 = 0x20;
export const MAP_32BIT: u32 = 0x40;
export const MAP_GROWSDOWN: u32 = 0x0100;
export const MAP_DENYWRITE: u32 = 0x0800;
export const MAP_EXECUTABLE: u32 = 0x1000;
export const MAP_LOCKED: u32 = 0x2000;
export const MAP_NORESERVE: u32 = 0x4000;
export const MAP_POPULATE: u32 = 0x8000;
export const MAP_NONBLOCK: u32 = 0x10000;
export const MAP_STACK: u32 = 0x20000;
export const MAP_HUGETLB: u32 = 0x40000;
export const MAP_SYNC: u32 = 0x80000;
export const MAP_FIXED_NOREPLACE: u32 = 0x100000;
export const MAP_UNINITIALIZED: u32 = 0x4000000;
export const MAP_HUGE_SHIFT: u32 = 26;
export const MAP_HUGE_2MB: u32 = 21 << 26;
export const MAP_HUGE_1GB: u32 = 30 << 26;
/** The flags MAP_SHARED (legacy, unvalidated) keeps (include/linux/mman.h LEGACY_MAP_MASK). */
export const LEGACY_MAP_MASK: u32 = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE
  | MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE
  | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_32BIT | MAP_HUGE_2MB | MAP_HUGE_1GB;

// vm_flags (include/linux/mm.h, v5.17, x86_64)
export const VM_READ: u64 = 0x1;
export const VM_WRITE: u64 = 0x2;
export const VM_EXEC: u64 = 0x4;
export const VM_SHARED: u64 = 0x8;
export const VM_MAYREAD: u64 = 0x10;
export const VM_MAYWRITE: u64 = 0x20;
export const VM_MAYEXEC: u64 = 0x40;
export const VM_MAYSHARE: u64 = 0x80;
export const VM_GROWSDOWN: u64 = 0x100;
export const VM_UFFD_MISSING: u64 = 0x200;
export const VM_PFNMAP: u64 = 0x400;
export const VM_UFFD_WP: u64 = 0x1000;
export const VM_LOCKED: u64 = 0x2000;
export const VM_IO: u64 = 0x4000;
export const VM_SEQ_READ: u64 = 0x8000;
export const VM_RAND_READ: u64 = 0x10000;
export const VM_DONTCOPY: u64 = 0x20000;
export const VM_DONTEXPAND: u64 = 0x40000;
export const VM_LOCKONFAULT: u64 = 0x80000;
export const VM_ACCOUNT: u64 = 0x100000;
export const VM_NORESERVE: u64 = 0x200000;
export const VM_HUGETLB: u64 = 0x400000;
export const VM_SYNC: u64 = 0x800000;
export const VM_ARCH_1: u64 = 0x1000000;
export const VM_WIPEONFORK: u64 = 0x2000000;
export const VM_DONTDUMP: u64 = 0x4000000;
export const VM_SOFTDIRTY: u64 = 0x8000000;
export const VM_MIXEDMAP: u64 = 0x10000000;
export const VM_HUGEPAGE: u64 = 0x20000000;
export const VM_NOHUGEPAGE: u64 = 0x40000000;
export const VM_MERGEABLE: u64 = 0x80000000;
/** 6.13+ guard regions, sticky since the 6.19 series backported to 6.18.y (smaps "gu"): bit 11. */
export const VM_MAYBE_GUARD: u64 = 0x800;
/** 6.10+ mseal(2) (smaps "sl"): bit 63 on 64-bit kernels. */
export const VM_SEALED: u64 = 0x8000000000000000;
/** x86 protection-key bits 32..35 (VM_PKEY_BIT0..3): cleared and re-set by mprotect. */
export const VM_PKEY_MASK: u64 = 0xf00000000;

export const VM_SPECIAL: u64 = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
export const VM_ACCESS_FLAGS: u64 = VM_READ | VM_WRITE | VM_EXEC;
export const VM_STACK: u64 = VM_GROWSDOWN;
export const VM_DATA_DEFAULT_FLAGS: u64 = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
export const VM_LOCKED_CLEAR_MASK: u64 = ~(VM_LOCKED | VM_LOCKONFAULT);

// x86_64 address space (4-level paging)
export const TASK_SIZE: u64 = 0x7ffffffff000;
export const DEFAULT_MAP_WINDOW: u64 = 0x7ffffffff000;
