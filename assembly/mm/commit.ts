// Overcommit and the commit charge (docs/configuration.md "Overcommit and
// the commit charge"): vm_committed_as (Committed_AS), vm_commit_limit() and
// __vm_enough_memory() of mm/util.c (5.17 = 6.12), with the vm.overcommit_*
// sysctls, the admin/user reserves, the machine's RAM and swap and whether
// the calling task has CAP_SYS_ADMIN (cap_vm_enough_memory(): rlimit.ts capable()). A sysctl write changes later checks only.

import { ENOMEM } from "../abi/constants";
import { Mm } from "./types";
import { CAP_SYS_ADMIN, capable } from "./rlimit";

export const OVERCOMMIT_GUESS: u32 = 0;
export const OVERCOMMIT_ALWAYS: u32 = 1;
export const OVERCOMMIT_NEVER: u32 = 2;

/** vm.overcommit_memory */
export let sysctl_overcommit_memory: u32 = OVERCOMMIT_GUESS;
/** vm.overcommit_ratio, percent */
let sysctl_overcommit_ratio: u64 = 50;
/** vm.overcommit_kbytes (0: use the ratio) */
let sysctl_overcommit_kbytes: u64 = 0;
/** vm.admin_reserve_kbytes, vm.user_reserve_kbytes */
let sysctl_admin_reserve_kbytes: u64 = 8192;
let sysctl_user_reserve_kbytes: u64 = 131072;
/** totalram_pages(), total_swap_pages */
let totalram_pages: u64 = 6291456;
let total_swap_pages: u64 = 0;

/** Committed_AS in pages (a percpu_counter in the kernel; exact here). */
export let vm_committed_as: i64 = 0;

export function set_overcommit(mode: u32, ratio: u64, kbytes: u64, admin_kb: u64, user_kb: u64, ram: u64, swap: u64): void {
  sysctl_overcommit_memory = mode;
  sysctl_overcommit_ratio = ratio;
  sysctl_overcommit_kbytes = kbytes;
  sysctl_admin_reserve_kbytes = admin_kb;
  sysctl_user_reserve_kbytes = user_kb;
  totalram_pages = ram;
  total_swap_pages = swap;
}

/** vm_commit_limit(): CommitLimit in pages (no hugetlb pool to take off RAM). */
export function vm_commit_limit(): u64 {
  const ram = sysctl_overcommit_kbytes ? sysctl_overcommit_kbytes >> 2 : totalram_pages * sysctl_overcommit_ratio / 100;
  return ram + total_swap_pages;
}

/** vm_acct_memory(): charge (or, negative, give back) pages without asking. */
export function vm_acct_memory(pages: i64): void {
  vm_committed_as += pages;
}

/** vm_unacct_memory() */
export function vm_unacct_memory(pages: i64): void {
  vm_committed_as -= pages;
}

/**
 * security_vm_enough_memory_mm() -> __vm_enough_memory(): charge first, then
 * mode 1 keeps the charge, mode 0 refuses one request above RAM + swap, mode 2
 * needs Committed_AS (this request included) strictly below CommitLimit less
 * the admin reserve (without CAP_SYS_ADMIN) and less min(total_vm/32, user
 * reserve). A refusal gives the charge back. 0 or -ENOMEM.
 */
export function security_vm_enough_memory_mm(mm: Mm, pages: u64): i64 {
  vm_acct_memory(<i64>pages);
  if (sysctl_overcommit_memory == OVERCOMMIT_ALWAYS) return 0;
  if (sysctl_overcommit_memory == OVERCOMMIT_GUESS) {
    if (pages <= totalram_pages + total_swap_pages) return 0;
  } else {
    let allowed = <i64>vm_commit_limit();
    if (!capable(CAP_SYS_ADMIN)) allowed -= <i64>(sysctl_admin_reserve_kbytes >> 2);
    const reserve = <i64>(sysctl_user_reserve_kbytes >> 2);
    const share = <i64>(mm.total_vm / 32);
    allowed -= share < reserve ? share : reserve;
    // percpu_counter_read_positive()
    const committed = vm_committed_as > 0 ? vm_committed_as : 0;
    if (committed < allowed) return 0;
  }
  vm_unacct_memory(<i64>pages);
  return -ENOMEM;
}
