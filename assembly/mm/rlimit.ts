// The calling task's resource limits and capabilities, as the rules read
// them through `current`: rlimit() / rlimit_max() (include/linux/sched/
// signal.h, the task's signal_struct) and capable() (its cred). The host
// loads the task making each call (task_current in index.ts), so the rules
// below see the limits of whoever asked, never those of the mm. Also the
// memlock checks shared by mmap, brk, mremap, mlock and stack growth:
// can_do_mlock() (mm/mlock.c) and mlock_future_check() (5.17 mm/mmap.c;
// mlock_future_ok() from 6.3, same rule, a bool instead of -EAGAIN).

import { PAGE_SHIFT, VM_LOCKED } from "../abi/constants";
import { Mm } from "./types";

/** RLIM_INFINITY */
export const RLIM_INFINITY: u64 = 0xffffffffffffffff;

/** The resources vmasim models, in this order in the host's task_current() call. */
export const RLIMIT_AS: i32 = 0;
export const RLIMIT_DATA: i32 = 1;
export const RLIMIT_STACK: i32 = 2;
export const RLIMIT_MEMLOCK: i32 = 3;

/** Capability bits of task_current()'s caps argument. */
export const CAP_IPC_LOCK: u32 = 1;
export const CAP_SYS_ADMIN: u32 = 2;
export const CAP_SYS_RESOURCE: u32 = 4;

// plain globals (no allocation: the core's allocator wants reservations)
let as_cur: u64 = RLIM_INFINITY;
let as_max: u64 = RLIM_INFINITY;
let data_cur: u64 = RLIM_INFINITY;
let data_max: u64 = RLIM_INFINITY;
let stack_cur: u64 = 8 << 20;
let stack_max: u64 = RLIM_INFINITY;
let memlock_cur: u64 = 8 << 20;
let memlock_max: u64 = 8 << 20;
let caps: u32 = CAP_IPC_LOCK | CAP_SYS_ADMIN | CAP_SYS_RESOURCE;

/** The ignore_rlimit_data boot option (mm/mmap.c): RLIMIT_DATA only warns. */
export let ignore_rlimit_data: bool = false;

export function set_ignore_rlimit_data(on: bool): void { ignore_rlimit_data = on; }

/** Load one of the calling task's limits (soft, hard). */
export function set_current(res: i32, soft: u64, hard: u64): void {
  if (res == RLIMIT_AS) { as_cur = soft; as_max = hard; }
  else if (res == RLIMIT_DATA) { data_cur = soft; data_max = hard; }
  else if (res == RLIMIT_STACK) { stack_cur = soft; stack_max = hard; }
  else if (res == RLIMIT_MEMLOCK) { memlock_cur = soft; memlock_max = hard; }
}
/** Load the calling task's capabilities (CAP_* bits). */
export function set_current_caps(c: u32): void { caps = c; }

/** rlimit(): the soft limit of current, bytes. */
export function rlimit(res: i32): u64 {
  return res == RLIMIT_AS ? as_cur : res == RLIMIT_DATA ? data_cur : res == RLIMIT_STACK ? stack_cur : memlock_cur;
}
/** rlimit_max(): the hard limit of current, bytes. */
export function rlimit_max(res: i32): u64 {
  return res == RLIMIT_AS ? as_max : res == RLIMIT_DATA ? data_max : res == RLIMIT_STACK ? stack_max : memlock_max;
}
/** capable(): does current hold the capability? */
// @ts-ignore: decorator
@inline export function capable(cap: u32): bool { return (caps & cap) != 0; }

/** can_do_mlock(): a non-zero RLIMIT_MEMLOCK, or CAP_IPC_LOCK. */
export function can_do_mlock(): bool {
  return rlimit(RLIMIT_MEMLOCK) != 0 || capable(CAP_IPC_LOCK);
}

/**
 * mlock_future_check() / mlock_future_ok(): may `bytes` more be locked when
 * flags has VM_LOCKED? Without CAP_IPC_LOCK, locked_vm plus the growth must
 * stay within RLIMIT_MEMLOCK (in pages).
 */
export function mlock_future_ok(mm: Mm, flags: u64, bytes: u64): bool {
  if (!(flags & VM_LOCKED) || capable(CAP_IPC_LOCK)) return true;
  return (bytes >> PAGE_SHIFT) + mm.locked_vm <= (rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT);
}
