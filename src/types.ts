// Public types shared by the wasm engine (src/engine), the TypeScript
// reference model (src/model), the scenario runner (src/scenario) and the
// checker (src/check). Both implementations of the kernel rules implement
// `KernelSim` / `ProcessSim`; everything above them is written against these
// interfaces only, so that any consumer can run on either and compare.
//
// Units: addresses and lengths are bytes as plain JS numbers (user addresses
// are below 2^47, so exact); page offsets (pgoff) are in pages. Syscall-like
// methods return what the kernel returns: a non-negative result, or -errno.
//
// Syscall arguments follow the C ABI (`unsigned long`): a negative number is
// its two's complement (-1 is 2^64 - 1), a number at or above 2^64 saturates
// at 2^64 - 1, and a non-integer is a TypeError.

/** A named kernel behaviour. Later issues add "seed-v2", "seed", "linux-6.18". */
export type Policy = "linux-5.17";
export const POLICIES: readonly Policy[] = ["linux-5.17"];

/** One VMA as seen in a state snapshot (a copy, not a live object). */
export interface VmaSnapshot {
  start: number;
  end: number;
  /** vm_flags bits 0..31, unsigned. */
  flags: number;
  /** vm_flags bits 32..63 (pkeys, UFFD_MINOR, VM_SEALED in later policies). */
  flagsHi: number;
  /** vm_pgoff, in pages. */
  pgoff: number;
  /** struct file identity (from createFile / the shmem object), 0 = none. */
  file: number;
  /** anon_vma identity, 0 = none (always 0 until the memory layer lands). */
  anonVma: number;
  /** identity of the anon_vma's root, 0 = none. */
  anonVmaRoot: number;
  /** anon VMA name (PR_SET_VMA_ANON_NAME), null = none. */
  anonName: string | null;
  /** Name shown in /proc/pid/maps for a special mapping ("[vdso]", "[vvar]"), else null. */
  special: string | null;
}

/** mm_struct counters, in pages except map_count. */
export interface MmCounters {
  map_count: number;
  total_vm: number;
  data_vm: number;
  exec_vm: number;
  stack_vm: number;
  locked_vm: number;
}

/** mm_struct layout fields. */
export interface MmLayout {
  mmap_base: number;
  task_size: number;
  start_brk: number;
  /** current break as last set (not page aligned necessarily) */
  brk: number;
  start_stack: number;
}

/** One VMA of a process image, inserted directly (like insert_vm_struct / exec). */
export interface ImageVma {
  start: number;
  end: number;
  flags: number;
  pgoff: number;
  /** Index into ProcessImage.files, or -1 for anonymous memory. */
  fileIndex: number;
  /** Special mapping name ("[vdso]", "[vvar]") — such VMAs have vm_ops->close. */
  special?: string;
  /** The VMA was written during exec (it has an anon_vma); used once the memory layer lands. */
  faulted?: boolean;
}

/** What a fresh process looks like after execve (see src/image.ts for the default). */
export interface ProcessImage {
  files: { path: string; sizePages: number }[];
  vmas: ImageVma[];
  mmap_base: number;
  start_brk: number;
  start_stack: number;
}

/** Kernel-wide settings. */
export interface KernelConfig {
  policy: Policy;
  /** vm.max_map_count (default 65530). */
  max_map_count?: number;
  /** vm.mmap_min_addr (default 65536). */
  mmap_min_addr?: number;
  /** stack_guard_gap in pages (default 256). */
  stack_guard_gap_pages?: number;
}

/** A simulated kernel: files and processes under one policy. */
export interface KernelSim {
  readonly policy: Policy;
  /** Create a file (an open struct file); returns its identity (> 0). */
  createFile(path: string, sizePages: number): number;
  /** Grow or shrink a file (ftruncate), in pages. */
  resizeFile(file: number, sizePages: number): void;
  fileSizePages(file: number): number;
  filePath(file: number): string;
  setMaxMapCount(n: number): void;
  maxMapCount(): number;
  /** A new process with the given image (default: src/image.ts defaultImage()). */
  createProcess(image?: ProcessImage): ProcessSim;
}

/** One process's address space (an mm_struct) and the syscalls on it. */
export interface ProcessSim {
  readonly kernel: KernelSim;
  /** mmap(2); `file` is a struct file identity or -1. Returns the address or -errno. */
  mmap(addr: number, len: number, prot: number, flags: number, file: number, off: number): number;
  /** munmap(2): 0 or -errno. */
  munmap(addr: number, len: number): number;
  /** mprotect(2): 0 or -errno. */
  mprotect(addr: number, len: number, prot: number): number;
  /** brk(2): the new break, or the old one on failure. */
  brk(addr: number): number;
  /** All VMAs, sorted by address. */
  vmas(): VmaSnapshot[];
  counters(): MmCounters;
  layout(): MmLayout;
}
