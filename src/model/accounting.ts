// Address-space accounting and limits:
//   mm/mmap.c vm_stat_account(), may_expand_vm(), mlock_future_check();
//   mm/internal.h is_exec_mapping(), is_stack_mapping(), is_data_mapping();
//   mm/util.c __vm_enough_memory() (security_vm_enough_memory_mm),
//   vm_unacct_memory(); mm/mlock.c can_do_mlock() (v5.17).
//
// The limits and capabilities are those of the calling task (resource.ts).
// The commit charge (KernelModel.vm_committed_as, Committed_AS) follows
// vm.overcommit_memory and its companions from KernelModel.cfg
// (docs/configuration.md "Overcommit and the commit charge").

import { EAGAIN, ENOMEM, PAGE_SIZE, VM_EXEC, VM_LOCKED, VM_SHARED, VM_STACK, VM_WRITE } from "../abi/constants.js";
import type { ResolvedConfig } from "../config/config.js";
import type { KernelModel } from "./kernel.js";
import type { MmStruct } from "./mm.js";
import { capable, rlimit, rlimit_max } from "./resource.js";

export function is_exec_mapping(flags: number): boolean {
  return (flags & (VM_EXEC | VM_WRITE | VM_STACK)) === VM_EXEC;
}

export function is_stack_mapping(flags: number): boolean {
  return (flags & VM_STACK) === VM_STACK;
}

export function is_data_mapping(flags: number): boolean {
  return (flags & (VM_WRITE | VM_SHARED | VM_STACK)) === VM_WRITE;
}

/** vm_stat_account(): total_vm, then exactly one of exec_vm / stack_vm / data_vm. */
export function vm_stat_account(mm: MmStruct, flags: number, npages: number): void {
  mm.total_vm += npages;
  if (is_exec_mapping(flags)) mm.exec_vm += npages;
  else if (is_stack_mapping(flags)) mm.stack_vm += npages;
  else if (is_data_mapping(flags)) mm.data_vm += npages;
}

/** may_expand_vm(): may the address space grow by npages with these flags? */
export function may_expand_vm(mm: MmStruct, flags: number, npages: number): boolean {
  if (mm.total_vm + npages > Math.floor(rlimit(mm, "as") / PAGE_SIZE)) return false;
  if (is_data_mapping(flags) && mm.data_vm + npages > Math.floor(rlimit(mm, "data") / PAGE_SIZE)) {
    // Valgrind's workaround: a zero soft limit under a larger hard one means the hard one.
    if (rlimit(mm, "data") === 0 && mm.data_vm + npages <= Math.floor(rlimit_max(mm, "data") / PAGE_SIZE)) return true;
    // (the kernel warns once here) the ignore_rlimit_data boot option lets it pass
    if (!mm.kernel.cfg.ignore_rlimit_data) return false;
  }
  return true;
}

/** OVERCOMMIT_GUESS, OVERCOMMIT_ALWAYS, OVERCOMMIT_NEVER (include/uapi/linux/mman.h) */
export const OVERCOMMIT_GUESS = 0;
export const OVERCOMMIT_ALWAYS = 1;
export const OVERCOMMIT_NEVER = 2;

/** KiB to pages, as the kernel shifts them (>> (PAGE_SHIFT - 10)). */
function kb_to_pages(kb: number): number {
  return Math.floor(kb / 4);
}

/**
 * vm_commit_limit() (mm/util.c, 5.17 = 6.12): CommitLimit in pages —
 * overcommit_kbytes if set, else overcommit_ratio% of RAM (no hugetlb pool is
 * modelled, so nothing is taken off RAM), plus swap.
 */
export function vm_commit_limit(cfg: ResolvedConfig): number {
  const ram = cfg.overcommit_kbytes ? kb_to_pages(cfg.overcommit_kbytes) : Math.floor((cfg.totalram_pages * cfg.overcommit_ratio) / 100);
  return ram + cfg.total_swap_pages;
}

/**
 * __vm_enough_memory() (mm/util.c, 5.17 = 6.12), reached through
 * security_vm_enough_memory_mm() -> cap_vm_enough_memory(): the pages are
 * charged first; mode 1 keeps them; mode 0 refuses only a single request
 * larger than RAM + swap; mode 2 keeps them while Committed_AS (this request
 * included) stays strictly below CommitLimit less the admin reserve (without
 * CAP_SYS_ADMIN) and less min(total_vm / 32, user reserve) of mm. A refusal
 * gives the pages back: 0 or -ENOMEM.
 */
export function __vm_enough_memory(kernel: KernelModel, mm: MmStruct | null, pages: number, cap_sys_admin: boolean): number {
  const cfg = kernel.cfg;
  vm_acct_memory(kernel, pages);
  if (cfg.overcommit_memory === OVERCOMMIT_ALWAYS) return 0;
  if (cfg.overcommit_memory === OVERCOMMIT_GUESS) {
    if (pages <= cfg.totalram_pages + cfg.total_swap_pages) return 0;
  } else {
    let allowed = vm_commit_limit(cfg);
    if (!cap_sys_admin) allowed -= kb_to_pages(cfg.admin_reserve_kbytes);
    if (mm) allowed -= Math.min(Math.floor(mm.total_vm / 32), kb_to_pages(cfg.user_reserve_kbytes));
    // percpu_counter_read_positive(): never below 0
    if (Math.max(kernel.vm_committed_as, 0) < allowed) return 0;
  }
  vm_acct_memory(kernel, -pages);
  return -ENOMEM;
}

/** security_vm_enough_memory_mm(): charge pages to the commit for mm; 0 or -ENOMEM. */
export function security_vm_enough_memory_mm(mm: MmStruct, pages: number): number {
  return __vm_enough_memory(mm.kernel, mm, pages, capable(mm, "sys_admin"));
}

/** vm_acct_memory(): charge pages without asking (a charge being put back). */
export function vm_acct_memory(kernel: KernelModel, pages: number): void {
  kernel.vm_committed_as += pages;
}

/** vm_unacct_memory(): give pages back to the commit. */
export function vm_unacct_memory(mm: MmStruct, pages: number): void {
  vm_acct_memory(mm.kernel, -pages);
}

/** can_do_mlock(): a non-zero RLIMIT_MEMLOCK, or CAP_IPC_LOCK. */
export function can_do_mlock(mm: MmStruct): boolean {
  return rlimit(mm, "memlock") !== 0 || capable(mm, "ipc_lock");
}

/**
 * mlock_future_check(): would locking len more bytes exceed RLIMIT_MEMLOCK
 * (without CAP_IPC_LOCK)? 0 or -EAGAIN. (6.3+ mlock_future_ok(): the same
 * test as a bool; its callers pick the errno.)
 */
export function mlock_future_check(mm: MmStruct, flags: number, len: number): number {
  if ((flags & VM_LOCKED) && !capable(mm, "ipc_lock")) {
    const locked = Math.floor(len / PAGE_SIZE) + mm.locked_vm;
    const lockLimit = Math.floor(rlimit(mm, "memlock") / PAGE_SIZE);
    if (locked > lockLimit) return -EAGAIN;
  }
  return 0;
}
