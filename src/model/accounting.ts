// Address-space accounting and limits:
//   mm/mmap.c vm_stat_account(), may_expand_vm(), mlock_future_check();
//   mm/internal.h is_exec_mapping(), is_stack_mapping(), is_data_mapping();
//   mm/util.c __vm_enough_memory() (security_vm_enough_memory_mm),
//   vm_unacct_memory(); mm/mlock.c can_do_mlock() (v5.17).
//
// The limits and capabilities are those of the calling task (resource.ts).
// Decisions: overcommit never refuses (as with vm.overcommit_memory=1:
// the heuristic against RAM + swap of mode 0 is not modelled), but committed
// pages are still counted in KernelModel.vm_committed_as.

import { EAGAIN, PAGE_SIZE, VM_EXEC, VM_LOCKED, VM_SHARED, VM_STACK, VM_WRITE } from "../abi/constants.js";
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

/** security_vm_enough_memory_mm(): charge pages to the commit; 0 or -ENOMEM (never fails here). */
export function security_vm_enough_memory_mm(mm: MmStruct, pages: number): number {
  mm.kernel.vm_committed_as += pages;
  return 0;
}

/** vm_unacct_memory(): give pages back to the commit. */
export function vm_unacct_memory(mm: MmStruct, pages: number): void {
  mm.kernel.vm_committed_as -= pages;
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
