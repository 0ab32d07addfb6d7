// Kernel-wide settings (sysctls and boot parameters) that the rules depend on.

import { ENOMEM } from "../abi/constants";
import { C_MAP_COUNT_LIMIT, count } from "../trace/merge_trace";

/** vm.max_map_count (mm/util.c sysctl_max_map_count; DEFAULT_MAX_MAP_COUNT = 65530) */
export let sysctl_max_map_count: u32 = 65530;
/** vm.mmap_min_addr (security/min_addr.c dac_mmap_min_addr) */
export let mmap_min_addr: u64 = 65536;
/** stack_guard_gap boot parameter, in bytes (mm/mmap.c; 256 pages) */
export let stack_guard_gap: u64 = 256 << 12;
/**
 * Read faults of private anonymous memory may map the shared zero page
 * (mm/memory.c do_anonymous_page; false as with mm_forbids_zeropage()).
 */
export let zero_page: bool = true;

export function set_max_map_count(n: u32): void { sysctl_max_map_count = n; }
export function set_mmap_min_addr(a: u64): void { mmap_min_addr = a; }
export function set_stack_guard_gap(bytes: u64): void { stack_guard_gap = bytes; }
export function set_zero_page(on: bool): void { zero_page = on; }

/** -ENOMEM for an operation vm.max_map_count refuses, counted (merges it prevents show there). */
export function map_count_refused(): i64 {
  count(C_MAP_COUNT_LIMIT);
  return -ENOMEM;
}
