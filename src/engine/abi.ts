// The core's ABI as the host sees it: export signatures and the layouts of
// the buffers it writes (mirrors assembly/index.ts; test/engine/abi.test.ts
// checks the constants against the wasm exports).

import type { VmaSnapshot } from "../types.js";

export interface CoreExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  kernel_config(maxMapCount: number, mmapMinAddr: number, guardGapPages: number): void;
  kernel_zero_page(on: number): void;
  kernel_overcommit(mode: number, ratio: number, kbytes: number, adminKb: number, userKb: number, ramPages: number, swapPages: number): void;
  kernel_committed_as(): number;
  kernel_commit_limit(): number;
  kernel_policy(release: number, anonMerge: number, mergePages: number, movePgoff: number, relocateAnon: number, stable: number): void;
  set_sysctl_max_map_count(n: number): void;
  engine_memory_limit(pages: number): void;
  file_open(sizePages: number, shmem: number): number;
  file_resize(id: number, sizePages: number): number;
  file_size(id: number): number;
  file_close(id: number): number;
  mm_new(mmapBase: number, startBrk: number, startStack: number): number;
  task_current(asCur: number, asMax: number, dataCur: number, dataMax: number, stackCur: number, stackMax: number, memlockCur: number, memlockMax: number, caps: number): void;
  kernel_ignore_rlimit_data(on: number): void;
  mm_insert_image_vma(mm: number, start: number, end: number, flagsLo: number, flagsHi: number, pgoff: number, file: number, ops: number, special: number, faulted: number): number;
  mm_fork(mm: number): number;
  mm_get(mm: number): void;
  mm_put(mm: number): void;
  touch(mm: number, addr: number, write: number): number;
  peek(mm: number, addr: number): number;
  mm_usage(mm: number): number;
  mm_anon_vma_addrs(mm: number): number;
  mm_chains(mm: number): number;
  mm_ptes(mm: number): number;
  mm_pgtables(mm: number): number;
  kernel_pages(): number;
  kernel_anon_vmas(): number;
  mmap(mm: number, addr: number, len: number, prot: number, flags: number, file: number, off: number): number;
  munmap(mm: number, addr: number, len: number): number;
  mprotect(mm: number, addr: number, len: number, prot: number): number;
  brk(mm: number, addr: number): number;
  brk_or_oom(mm: number, addr: number): number;
  mremap(mm: number, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number;
  madvise(mm: number, addr: number, len: number, advice: number): number;
  mlock(mm: number, addr: number, len: number, flags: number): number;
  munlock(mm: number, addr: number, len: number): number;
  mlockall(mm: number, flags: number): number;
  munlockall(mm: number): number;
  mseal(mm: number, addr: number, len: number, flags: number): number;
  set_anon_name(mm: number, addr: number, len: number, name: number): number;
  engine_take_oom(): number;
  engine_take_not_modelled(): number;
  mm_snapshot(mm: number): number;
  mm_counters(mm: number): number;
  mm_check(mm: number): number;
  kernel_rmap_check(): number;
  engine_stats(): number;
  cmd_buffer(): number;
  result_buffer(): number;
  run_batch(n: number): number;
  run_batch_mm(mm: number, n: number): number;
  merge_counters(): number;
  trace_enable(capacity: number): number;
  trace_pending(): number;
  trace_room(): number;
  trace_event(i: number): number;
  trace_consume(n: number): void;
  trace_take_lost(): number;
  SNAP_RECORD_SIZE: WebAssembly.Global;
  CMD_SLOTS: WebAssembly.Global;
  CMD_CAPACITY: WebAssembly.Global;
  OP_MMAP: WebAssembly.Global;
  OP_MUNMAP: WebAssembly.Global;
  OP_MPROTECT: WebAssembly.Global;
  OP_BRK: WebAssembly.Global;
  OP_MREMAP: WebAssembly.Global;
  OP_MADVISE: WebAssembly.Global;
  OP_TOUCH: WebAssembly.Global;
  OP_MLOCK: WebAssembly.Global;
  OP_MUNLOCK: WebAssembly.Global;
}

/** Snapshot records (assembly/index.ts mm_snapshot) */
export const SNAP_HEADER = 16;
export const SNAP_RECORD_SIZE = 64;
export const SNAP = {
  start: 0, end: 8, pgoff: 16, flagsLo: 24, flagsHi: 28, file: 32, anonVma: 36, anonRoot: 40,
  anonName: 44, special: 48, ops: 52,
} as const;

/** Record sizes of the other readers (assembly/snapshot.ts) */
export const USAGE_RECORD = 24;
export const PAIR_RECORD = 16; // chains, PTEs, page tables
export const PAGE_RECORD = 32;
export const ANON_VMA_RECORD = 48;
/** Offsets in the mm_counters buffer (f64 slots) */
export const COUNTERS = {
  map_count: 0, total_vm: 1, data_vm: 2, exec_vm: 3, stack_vm: 4, locked_vm: 5, mmap_base: 6, task_size: 7,
  start_brk: 8, brk: 9, start_stack: 10, mm_id: 11, pgtables: 12, rss_anon: 13, rss_file: 14, users: 15,
} as const;
/** touch/peek result meaning "the engine ran out of memory" */
export const FAULT_OUT_OF_MEMORY = -1;
/** touch/peek result meaning "an access vmasim does not model" (special mappings) */
export const FAULT_NOT_MODELLED = -2;

/** vm_ops kinds (assembly/mm/types.ts VM_OPS_*) */
export const VM_OPS_NONE = 0;
export const VM_OPS_FILE = 1;
export const VM_OPS_SHMEM = 2;
export const VM_OPS_SPECIAL = 3;

/** special mapping kinds (Vma.special) */
export const SPECIAL_NAMES: Record<number, string> = { 1: "[vvar]", 2: "[vdso]" };
export const SPECIAL_KINDS: Record<string, number> = { "[vvar]": 1, "[vdso]": 2 };

/** Batch commands (docs/batch.md): CMD_SLOTS f64 per command, CMD_CAPACITY per core call */
export const CMD_SLOTS = 8;
/** The typed batch's stride: the core's command layout, slot 1 (the core's mm) written by the host */
export const BATCH_STRIDE = CMD_SLOTS;
export const CMD_CAPACITY = 4096;
export const OP = { mmap: 1, munmap: 2, mprotect: 3, brk: 4, mremap: 5, madvise: 6, touch: 7, mlock: 8, munlock: 9 } as const;

/**
 * One VMA snapshot record at byte `r` of the views (mm_snapshot's layout,
 * SNAP), decoded; `nameOf` turns an interned anon name id into its text.
 */
export function decodeVmaRecord(f64: Float64Array<ArrayBufferLike>, u32: Uint32Array<ArrayBufferLike>, r: number, nameOf: (id: number) => string | null): VmaSnapshot {
  const ops = u32[(r + SNAP.ops) >>> 2];
  return {
    start: f64[(r + SNAP.start) >>> 3],
    end: f64[(r + SNAP.end) >>> 3],
    pgoff: f64[(r + SNAP.pgoff) >>> 3],
    flags: u32[(r + SNAP.flagsLo) >>> 2],
    flagsHi: u32[(r + SNAP.flagsHi) >>> 2],
    file: u32[(r + SNAP.file) >>> 2],
    anonVma: u32[(r + SNAP.anonVma) >>> 2],
    anonVmaRoot: u32[(r + SNAP.anonRoot) >>> 2],
    anonName: nameOf(u32[(r + SNAP.anonName) >>> 2]),
    special: ops === VM_OPS_SPECIAL ? SPECIAL_NAMES[u32[(r + SNAP.special) >>> 2]] ?? "[special]" : null,
  };
}
