// Linux x86_64 ABI constants used by the host. The same values are mirrored in
// assembly/abi/constants.ts; test/abi.test.ts checks that the two agree.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;

// errno values (include/uapi/asm-generic/errno-base.h, errno.h)
export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSYS = 38;
export const EOVERFLOW = 75;

export const EOPNOTSUPP = 95;

// signals a user access can raise
export const SIGBUS = 7;
export const SIGSEGV = 11;

export const ERRNO_NAMES: Record<number, string> = {
  [EPERM]: "EPERM", [ENOENT]: "ENOENT", [EINTR]: "EINTR", [EBADF]: "EBADF", [EAGAIN]: "EAGAIN",
  [ENOMEM]: "ENOMEM", [EACCES]: "EACCES", [EFAULT]: "EFAULT", [EEXIST]: "EEXIST",
  [ENODEV]: "ENODEV", [EINVAL]: "EINVAL", [ENOSYS]: "ENOSYS", [EOVERFLOW]: "EOVERFLOW",
  [EOPNOTSUPP]: "EOPNOTSUPP",
};

// mmap(2) prot
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const PROT_SEM = 0x8;
export const PROT_GROWSDOWN = 0x01000000;
export const PROT_GROWSUP = 0x02000000;

// mmap(2) flags (x86_64)
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_32BIT = 0x40;
export const MAP_GROWSDOWN = 0x0100;
export const MAP_DENYWRITE = 0x0800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;

// mremap(2) flags
export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;
/** The 2025 MREMAP_RELOCATE_ANON proposal (never merged; the relocate-anon policy only). */
export const MREMAP_RELOCATE_ANON = 8;
export const MREMAP_MUST_RELOCATE_ANON = 16;

// mlock2(2) and mlockall(2) flags
export const MLOCK_ONFAULT = 1;
export const MCL_CURRENT = 1;
export const MCL_FUTURE = 2;
export const MCL_ONFAULT = 4;

// madvise(2) advice (include/uapi/asm-generic/mman-common.h)
export const MADV = {
  normal: 0, random: 1, sequential: 2, willneed: 3, dontneed: 4, free: 8, remove: 9, dontfork: 10, dofork: 11,
  mergeable: 12, unmergeable: 13, hugepage: 14, nohugepage: 15, dontdump: 16, dodump: 17, wipeonfork: 18,
  keeponfork: 19, cold: 20, pageout: 21, populate_read: 22, populate_write: 23, dontneed_locked: 24,
  collapse: 25, hwpoison: 100, soft_offline: 101, guard_install: 102, guard_remove: 103,
} as const;

/** prctl(PR_SET_VMA_ANON_NAME): at most 79 characters, printable, none of \\ ` $ [ ] */
export const ANON_VMA_NAME_MAX_LEN = 80;

// vm_flags (include/linux/mm.h, v5.17, x86_64). Bits >= 32 are kept in a
// separate "hi" word on the host (JS bitwise operators are 32-bit).
export const VM_NONE = 0x0;
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_UFFD_MISSING = 0x200;
export const VM_PFNMAP = 0x400;
export const VM_UFFD_WP = 0x1000;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_SEQ_READ = 0x8000;
export const VM_RAND_READ = 0x10000;
export const VM_DONTCOPY = 0x20000;
export const VM_DONTEXPAND = 0x40000;
export const VM_LOCKONFAULT = 0x80000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
export const VM_HUGETLB = 0x400000;
export const VM_SYNC = 0x800000;
export const VM_ARCH_1 = 0x1000000;
export const VM_WIPEONFORK = 0x2000000;
export const VM_DONTDUMP = 0x4000000;
export const VM_SOFTDIRTY = 0x8000000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;
export const VM_MERGEABLE = 0x80000000;
/** 6.13+ guard regions (sticky on 6.18.y, smaps "gu"). VM_SEALED (6.10+, "sl") is bit 63, in the high word. */
export const VM_MAYBE_GUARD = 0x800;

export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
export const VM_STACK = VM_GROWSDOWN;
export const VM_DATA_DEFAULT_FLAGS = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
export const VM_STACK_FLAGS = VM_STACK | VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT;

// x86_64 address-space constants (4-level paging)
export const TASK_SIZE = 0x7ffffffff000;
export const STACK_GUARD_GAP_PAGES = 256;
export const DEFAULT_MAX_MAP_COUNT = 65530;
