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
// at 2^64 - 1 (one below -2^63 at -2^63), and what is not an integer number is
// refused with an error naming the call and the argument: a TypeError for a
// non-number (string, BigInt, undefined), a RangeError for NaN, +-Infinity or
// a fraction (src/abi/args.ts).

/**
 * A named kernel behaviour (docs/architecture.md §2, docs/policies.md): the
 * mainline kernels users run (5.10, 5.17, 6.1, 6.12 and 6.18, the kernel of
 * the machine vmasim was built on), the series as posted and as intended (on
 * 5.17), and 6.18 with the 2025 MREMAP_RELOCATE_ANON proposal (never merged).
 * Listed in release order, each series policy after its base.
 */
export type Policy =
  | "linux-5.10" | "linux-5.17" | "seed-v2" | "seed" | "linux-6.1" | "linux-6.12" | "linux-6.18" | "relocate-anon";
export const POLICIES: readonly Policy[] = [
  "linux-5.10", "linux-5.17", "seed-v2", "seed", "linux-6.1", "linux-6.12", "linux-6.18", "relocate-anon",
];
/** The kernel release (major*100 + minor) whose interfaces each policy has. */
export const POLICY_RELEASE: Readonly<Record<Policy, number>> = {
  "linux-5.10": 510, "linux-5.17": 517, "seed-v2": 517, "seed": 517,
  "linux-6.1": 601, "linux-6.12": 612, "linux-6.18": 618, "relocate-anon": 618,
};

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

/**
 * The kernel's configuration: boot options, sysctls, the machine's memory and
 * the resource limits a new process starts with. Every knob is optional; its
 * default, accepted values and meaning are in src/config/config.ts (KNOBS) and
 * docs/configuration.md. Rlimits are bytes, Infinity = RLIM_INFINITY.
 */
export interface KernelConfig {
  policy: Policy;
  /** read faults of private anonymous memory map the zero page (default true) */
  zero_page?: boolean;
  /** vm.max_map_count (default 65530). */
  max_map_count?: number;
  /** vm.mmap_min_addr (default 65536). */
  mmap_min_addr?: number;
  /** stack_guard_gap in pages (default 256). */
  stack_guard_gap_pages?: number;
  /** vm.overcommit_memory: 0 heuristic (default), 1 always, 2 strict */
  overcommit_memory?: number;
  /** vm.overcommit_ratio (default 50) */
  overcommit_ratio?: number;
  /** vm.overcommit_kbytes (default 0) */
  overcommit_kbytes?: number;
  /** vm.admin_reserve_kbytes (default 8192) */
  admin_reserve_kbytes?: number;
  /** vm.user_reserve_kbytes (default 131072) */
  user_reserve_kbytes?: number;
  /** the machine's RAM in pages (default 6291456, 24 GiB) */
  totalram_pages?: number;
  /** the machine's swap in pages (default 0) */
  total_swap_pages?: number;
  /** the ignore_rlimit_data boot option (default false) */
  ignore_rlimit_data?: boolean;
  /** RLIMIT_AS of a new process (default unlimited) */
  rlimit_as?: number;
  /** RLIMIT_DATA of a new process (default unlimited) */
  rlimit_data?: number;
  /** RLIMIT_STACK (soft) of a new process (default 8 MiB) */
  rlimit_stack?: number;
  /** RLIMIT_MEMLOCK of a new process (default 8 MiB) */
  rlimit_memlock?: number;
  /** processes have CAP_IPC_LOCK (default true: the corpus runs as root) */
  cap_ipc_lock?: boolean;
  /** processes have CAP_SYS_ADMIN (default true) */
  cap_sys_admin?: boolean;
  /** processes have CAP_SYS_RESOURCE (default true): setrlimit may raise hard limits */
  cap_sys_resource?: boolean;
}

/** A resource limit vmasim models: RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_MEMLOCK. */
export type RlimitResource = "as" | "data" | "stack" | "memlock";

/** A soft (cur) and hard (max) limit in bytes; Infinity = RLIM_INFINITY. */
export interface Rlimit {
  cur: number;
  max: number;
}

/** A capability vmasim models: CAP_IPC_LOCK, CAP_SYS_ADMIN, CAP_SYS_RESOURCE. */
export type Capability = "ipc_lock" | "sys_admin" | "sys_resource";

/** smaps-like usage of one VMA, in pages. */
export interface VmaUsage {
  /** resident pages: present PTEs mapping a normal page (not the zero page) */
  rss: number;
  /** of which anonymous pages */
  anon: number;
  /** smaps "Locked": the proportional share of resident pages when the VMA is VM_LOCKED, in whole pages (kB / 4, rounded down) */
  locked: number;
}

/** One present PTE of a process. */
export interface PteSnapshot {
  addr: number;
  /** page identity; 0 = the shared zero page */
  page: number;
  write: boolean;
}

/** One page-table page (below the PGD, which every mm has exactly one of). */
export interface PgtableSnapshot {
  /** 3 = PUD table, 2 = PMD table, 1 = PTE table */
  level: number;
  /** the first address the table covers */
  addr: number;
}

/** A process's memory state, for the checker and for differential tests. */
export interface MemorySnapshot {
  /** identity of the mm (allocation order per kernel, from 1) */
  mm: number;
  /** each VMA's anon_vma chain: anon_vma identities, newest first (the list order) */
  chains: { start: number; end: number; anonVma: number; chain: number[] }[];
  /** present PTEs by address */
  ptes: PteSnapshot[];
  /** page-table pages by level (PTE tables first), then address */
  pgtables: PgtableSnapshot[];
  /** the mm's page-table accounting (mm_pgtables_bytes / PAGE_SIZE): must equal pgtables.length */
  pgtablesAccounted: number;
  /** RSS counters (MM_ANONPAGES, MM_FILEPAGES + MM_SHMEMPAGES) */
  rssAnon: number;
  rssFile: number;
}

/** One live page frame (struct page). */
export interface PageSnapshot {
  /** identity: allocation order per kernel, from 1 (the zero page is 0 and never listed) */
  id: number;
  anon: boolean;
  /** anon: the anon_vma identity page->mapping points to; file: the file identity */
  mapping: number;
  /** page->index */
  index: number;
  /** page_mapcount(): PTEs mapping it */
  mapcount: number;
  /** page_count(): one per mapping PTE, plus one while in a page cache */
  refcount: number;
  /** the one byte of content vmasim keeps per page */
  content: number;
}

/** One live anon_vma. */
export interface AnonVmaSnapshot {
  id: number;
  root: number;
  parent: number;
  refcount: number;
  degree: number;
  /** its interval tree: one entry per AVC, by (mm, start) */
  avcs: { mm: number; start: number; end: number; pgoff: number }[];
}

/** Kernel-wide memory state. */
export interface KernelMemorySnapshot {
  /** live pages by id */
  pages: PageSnapshot[];
  /** live anon_vmas by id: those reachable from a VMA's chain (with their ancestors) */
  anonVmas: AnonVmaSnapshot[];
}

/**
 * What the seed policies' rules did to pages (docs/policies.md "Counters"),
 * kernel-wide since creation; all 0 under linux-5.17.
 */
export interface PageRewriteStats {
  /** page->index changes (seed-v2 update_faulted_pgoff(); seed's re-index of moved pages) */
  pagesReindexed: number;
  /** page->mapping changes (seed-v2 reconnect_pages(); seed's re-pointing on merges and moves) */
  pagesRepointed: number;
  /** anon_vma references taken by seed-v2's page_get_anon_vma() in reconnect_pages() and never dropped */
  anonVmaRefsLeaked: number;
  /** seed-v2: CONFIG_DEBUG_VM assertions of the series a debug kernel would hit */
  debugVmWarnings: number;
}

/**
 * A syscall that returns no number failed with the kernel's errno (fork(2):
 * ENOMEM when the overcommit policy refuses the child's commit charge).
 */
/** A kernel (or one of its processes) was used after KernelSim.dispose(). */
export class KernelDisposedError extends Error {
  constructor() {
    super("vmasim: this kernel was disposed");
    this.name = "KernelDisposedError";
  }
}

export class SyscallError extends Error {
  constructor(readonly syscall: string, readonly errno: number) {
    super(`${syscall}: errno ${errno}`);
    this.name = "SyscallError";
  }
}

/** /proc/meminfo's commit lines, in pages. */
export interface CommitInfo {
  /** Committed_AS: pages charged by __vm_enough_memory() and not given back (vm_committed_as) */
  committedAs: number;
  /** CommitLimit: vm_commit_limit() (what strict overcommit compares against) */
  commitLimit: number;
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
  /** The configuration in force (every knob set), a copy. */
  config(): import("./config/config.js").ResolvedConfig;
  /**
   * Change knobs between operations, as writing a sysctl does on a live
   * kernel (rlimit_* and cap_* apply to processes created afterwards).
   * Throws ConfigError on an unknown key or a bad value; the policy cannot change.
   */
  configure(change: Partial<KernelConfig>): void;
  /** A new process with the given image (default: src/image.ts defaultImage()). */
  createProcess(image?: ProcessImage): ProcessSim;
  /** Live processes (not exited), in creation order. */
  processes(): ProcessSim[];
  /** Pages and anon_vmas of the whole kernel. */
  memory(): KernelMemorySnapshot;
  /**
   * All live anon_vma objects, linked to a VMA or not, where the
   * implementation can count them: more than memory() lists means a leak.
   */
  anonVmasLive?(): number;
  /** The seed policies' page rewrites and seed-v2's defects so far (a copy), where the implementation counts them. */
  pageRewrites?(): PageRewriteStats;
  /** Committed_AS and CommitLimit (docs/configuration.md "Overcommit and the commit charge"). */
  meminfo?(): CommitInfo;
  /**
   * Release the kernel (the engine drops its wasm instance). Every later call
   * on it or its processes throws KernelDisposedError; calling it again does nothing.
   * (Optional for other implementations of this interface; the engine and the model have it.)
   */
  dispose?(): void;
}

/** One process (a task) and its address space (an mm_struct, maybe shared with threads). */
export interface ProcessSim {
  readonly kernel: KernelSim;
  /** process identity: creation order per kernel, from 1 */
  readonly pid: number;
  /** true once exit() ran (every other method then throws) */
  readonly exited: boolean;
  /** mmap(2); `file` is a struct file identity or -1. Returns the address or -errno. */
  mmap(addr: number, len: number, prot: number, flags: number, file: number, off: number): number;
  /** munmap(2): 0 or -errno. */
  munmap(addr: number, len: number): number;
  /** mprotect(2): 0 or -errno. */
  mprotect(addr: number, len: number, prot: number): number;
  /** brk(2): the new break, or the old one on failure. */
  brk(addr: number): number;
  /** mremap(2): the new address or -errno (v5.17 returns +14, EFAULT's value, for an address in no VMA). */
  mremap(addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number;
  /** madvise(2): 0 or -errno. */
  madvise(addr: number, len: number, advice: number): number;
  /** mlock(2) (flags 0) or mlock2(2) (flags MLOCK_ONFAULT): 0 or -errno. */
  mlock(addr: number, len: number, flags: number): number;
  /** munlock(2): 0 or -errno. */
  munlock(addr: number, len: number): number;
  /** mlockall(2) (MCL_CURRENT/FUTURE/ONFAULT): 0 or -errno. */
  mlockall(flags: number): number;
  /** munlockall(2): 0. */
  munlockall(): number;
  /** prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, addr, len, name): 0 or -errno; null clears the name. */
  setAnonName(addr: number, len: number, name: string | null): number;
  /** mseal(2): 0 or -errno (ENOSYS on kernels before 6.10). */
  mseal(addr: number, len: number, flags: number): number;
  /**
   * A one-byte user access at addr (the scenario's `touch`): a write does
   * `*p = *p + 1` as one write access. Returns 0, or the signal the access
   * raised (SIGSEGV 11, SIGBUS 7), with no state change beyond the fault's.
   */
  touch(addr: number, write: boolean): number;
  /** Read the byte at addr (the scenario's `peek`): 0..255, or -SIGSEGV / -SIGBUS. */
  peek(addr: number): number;
  /**
   * fork(2): a child process with a copy of this address space (dup_mmap).
   * Throws SyscallError (ENOMEM) when the overcommit policy refuses a VMA's charge.
   */
  fork(): ProcessSim;
  /** A thread (clone(CLONE_VM)) sharing this address space; vfork is one too. */
  cloneVm(): ProcessSim;
  /** The task exits; the mm is torn down (exit_mmap) when its last user goes. */
  exit(): void;
  /** execve(2): a fresh mm from the image; the old one is released. */
  exec(image?: ProcessImage): void;
  /** getrlimit(2): the task's limits of one resource (a copy). */
  getrlimit(resource: RlimitResource): Rlimit;
  /**
   * setrlimit(2): 0 or -errno (EINVAL when cur > max; EPERM when max rises
   * without CAP_SYS_RESOURCE). Limits are bytes, Infinity = RLIM_INFINITY.
   * They belong to the thread group: tasks made by cloneVm() share them,
   * fork() copies them, exec() keeps them.
   */
  setrlimit(resource: RlimitResource, cur: number, max: number): number;
  /**
   * Drop a capability from the task's effective and permitted sets (capset(2)):
   * it cannot come back. Per task: fork() and cloneVm() copy the task's set.
   */
  capDrop(cap: Capability): void;
  /** capable(): does the task hold the capability? */
  capable(cap: Capability): boolean;
  /** All VMAs, sorted by address. */
  vmas(): VmaSnapshot[];
  /** Per-VMA memory usage, in the order of vmas(). */
  usage(): VmaUsage[];
  /**
   * Per VMA, in the order of vmas(), where its anon_vma and the root live
   * (0 = none): freed addresses are reused most recent first, as slab
   * objects are, so dumps can number anon_vmas the way the kernel runner's
   * BPF reader does (by address). The engine has them; the model does not.
   */
  anonVmaAddresses?(): { anonVma: number; root: number }[];
  counters(): MmCounters;
  layout(): MmLayout;
  /** The address space's memory state (see MemorySnapshot). */
  memory(): MemorySnapshot;
}
