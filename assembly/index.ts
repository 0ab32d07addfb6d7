// The core's ABI: everything the host (src/engine) calls. Numbers only:
// handles are pointers to records that never move (u32), addresses and
// lengths are f64 (exact below 2^53; user addresses are below 2^47), syscall
// results are f64 holding the kernel's return value or -errno.
//
// Two ways in: direct calls (sys_*), and run_batch(), which executes many
// encoded commands from the command buffer in one call (the replay path).

import { PAGE_SHIFT } from "./abi/constants";
import { raw_alloc, raw_allocated, set_memory_limit } from "./lib/alloc";
import { FMODE_READ, FMODE_WRITE, FILE_REGULAR, FILE_SHMEM, File, file_by_id, file_create, files_live, fput } from "./fs/file";
import { BRK_RESERVE, sys_brk } from "./mm/brk";
import { dup_mmap, mmput } from "./mm/fork";
import { FAULT_OOM, may_have_ptes_check, peek as mm_peek, take_engine_not_modelled, touch as mm_touch } from "./mm/memory";
import { insert_image_vma, mm_create } from "./mm/mm";
import { truncate_pagecache } from "./mm/truncate";
import { pages_live } from "./mm/page";
import { pgtables_live } from "./mm/pgtable";
import { MMAP_RESERVE, sys_mmap } from "./mm/mmap";
import { MUNMAP_RESERVE, do_munmap } from "./mm/munmap";
import { sys_mprotect } from "./mm/mprotect";
import { do_madvise, madvise_walk_vmas } from "./mm/madvise";
import { do_mseal } from "./mm/mseal";
import { do_mlock, do_mlockall, do_munlock, do_munlockall } from "./mm/mlock";
import { mremap_reserve, sys_mremap } from "./mm/mremap";
import { engine_is_oom, reserve, take_engine_oom } from "./mm/reserve";
import { set_max_map_count, set_mmap_min_addr, set_stack_guard_gap, set_zero_page } from "./mm/sysctl";
import { kver, set_policy } from "./mm/policy";
import {
  RLIMIT_AS, RLIMIT_DATA, RLIMIT_MEMLOCK, RLIMIT_STACK, RLIM_INFINITY, set_current, set_current_caps, set_ignore_rlimit_data,
} from "./mm/rlimit";
import { set_overcommit, vm_commit_limit, vm_committed_as } from "./mm/commit";
import { tracing, trace_room } from "./trace/merge_trace";
export {
  merge_counters, trace_consume, trace_enable, trace_event, trace_pending, trace_room, trace_take_lost, NR_COUNTERS, EVENT_SLOTS,
} from "./trace/merge_trace";

/** a batch returns early when fewer event slots than this are left */
const TRACE_BATCH_MARGIN: u32 = 4096;
import { Mm, mm_reserve, mms_live, vmas_live } from "./mm/types";
import { vma_tree_check, vma_tree_corrupt, vma_tree_stats } from "./mm/vma_tree";
import { anon_vmas_live, avcs_live } from "./rmap/anon_vma";
import {
  rmap_check, snapshot_anon_vma_addrs, snapshot_anon_vmas, snapshot_chains, snapshot_pages, snapshot_pgtables, snapshot_ptes, snapshot_usage, snapshot_vmas,
} from "./snapshot";

const ENOMEM_F: f64 = -12;

/**
 * A syscall argument as the C ABI sees it (unsigned long): negative numbers
 * are two's complement (-1 is 0xffff_ffff_ffff_ffff), others are truncated
 * and saturate at 2^64 - 1.
 */
// @ts-ignore: decorator
@inline function to_u64(x: f64): u64 {
  return x < 0 ? <u64><i64>x : <u64>x;
}

// ---- kernel settings -------------------------------------------------------

export function kernel_config(max_map_count: u32, min_addr: f64, guard_gap_pages: u32): void {
  set_max_map_count(max_map_count);
  set_mmap_min_addr(<u64>min_addr);
  set_stack_guard_gap(<u64>guard_gap_pages << PAGE_SHIFT);
}

/** An rlimit from the host: bytes, or a negative number for RLIM_INFINITY. */
function rlim(x: f64): u64 {
  return x < 0 ? RLIM_INFINITY : <u64>x;
}

/**
 * The task making the next calls (`current`): its soft and hard limits of
 * RLIMIT_AS, _DATA, _STACK, _MEMLOCK and its capabilities (mm/rlimit.ts CAP_*).
 */
export function task_current(as_cur: f64, as_max: f64, data_cur: f64, data_max: f64, stack_cur: f64, stack_max: f64, memlock_cur: f64, memlock_max: f64, caps: u32): void {
  set_current(RLIMIT_AS, rlim(as_cur), rlim(as_max));
  set_current(RLIMIT_DATA, rlim(data_cur), rlim(data_max));
  set_current(RLIMIT_STACK, rlim(stack_cur), rlim(stack_max));
  set_current(RLIMIT_MEMLOCK, rlim(memlock_cur), rlim(memlock_max));
  set_current_caps(caps);
}

/** The ignore_rlimit_data boot option. */
export function kernel_ignore_rlimit_data(on: bool): void {
  set_ignore_rlimit_data(on);
}

/** KernelConfig.zero_page: may read faults map the shared zero page? Read at every fault. */
export function kernel_zero_page(on: bool): void {
  set_zero_page(on);
}

/** The overcommit sysctls and what they depend on (mm/commit.ts). */
export function kernel_overcommit(mode: u32, ratio: f64, kbytes: f64, admin_kb: f64, user_kb: f64, ram_pages: f64, swap_pages: f64): void {
  set_overcommit(mode, <u64>ratio, <u64>kbytes, <u64>admin_kb, <u64>user_kb, <u64>ram_pages, <u64>swap_pages);
}

/** Committed_AS, in pages. */
export function kernel_committed_as(): f64 {
  return <f64>vm_committed_as;
}

/** CommitLimit, in pages. */
export function kernel_commit_limit(): f64 {
  return <f64>vm_commit_limit();
}

/** The policy's switch values (src/engine/policy.ts); set once, before any process exists. */
export function kernel_policy(release: u32, anon_merge: u32, merge_pages: u32, move_pgoff: u32, relocate_anon: u32, stable: u32): void {
  set_policy(release, anon_merge, merge_pages, move_pgoff, relocate_anon, stable);
}

/** Cap the core's linear memory (64 KiB pages): lets tests and embedders bound it. */
export function engine_memory_limit(pages: i32): void {
  set_memory_limit(pages);
}

export function set_sysctl_max_map_count(n: u32): void {
  set_max_map_count(n);
}

// ---- files -------------------------------------------------------------------

/** A host-owned open file (O_RDWR); returns its id, 0 when out of memory. `shmem`: a tmpfs/memfd file. */
export function file_open(size_pages: f64, shmem: bool): u32 {
  if (!reserve(0, 1)) return 0;
  return file_create(<u64>size_pages, FMODE_READ | FMODE_WRITE, shmem ? FILE_SHMEM : FILE_REGULAR).id;
}

/** ftruncate in pages; false if the file does not exist. Shrinking unmaps and drops the pages beyond the end. */
export function file_resize(id: u32, size_pages: f64): bool {
  const f = file_by_id(id);
  if (!f) return false;
  const n = <u64>size_pages;
  if (n < f.size_pages) truncate_pagecache(f, n);
  f.size_pages = n;
  return true;
}

export function file_size(id: u32): f64 {
  const f = file_by_id(id);
  return f ? <f64>f.size_pages : -1;
}

/** The host closes its descriptor; the file lives on while VMAs map it. */
export function file_close(id: u32): bool {
  const f = file_by_id(id);
  if (!f) return false;
  fput(f);
  return true;
}

// ---- address spaces ------------------------------------------------------------

/** A new empty mm; returns its handle, 0 when out of memory. */
export function mm_new(mmap_base: f64, start_brk: f64, start_stack: f64): u32 {
  if (!mm_reserve(1)) return 0;
  return <u32>changetype<usize>(mm_create(<u64>mmap_base, <u64>start_brk, <u64>start_stack));
}

/** fork(): the child's mm handle, 0 when out of memory (nothing of the child remains). */
export function mm_fork(mm: u32): u32 {
  return <u32>changetype<usize>(dup_mmap(changetype<Mm>(<usize>mm)));
}

/** A thread (or vfork child) starts using mm (mm_users++). */
export function mm_get(mm: u32): void {
  changetype<Mm>(<usize>mm).mm_users++;
}

/** A user of mm goes (mmput): the last one tears the address space down. */
export function mm_put(mm: u32): void {
  mmput(changetype<Mm>(<usize>mm));
}

/**
 * Insert one VMA of a process image. `file` 0 = anonymous; `ops` see
 * mm/types.ts VM_OPS_*; `special` 1 [vvar], 2 [vdso]. Returns 0, -1 for an
 * invalid or overlapping range, -2 when out of memory, -3 for a bad file.
 */
export function mm_insert_image_vma(mm: u32, start: f64, end: f64, flags_lo: u32, flags_hi: u32, pgoff: f64, file: u32, ops: u32, special: u32, faulted: bool): i32 {
  let f: File | null = null;
  if (file != 0) {
    f = file_by_id(file);
    if (!f) return -3;
  }
  if (!reserve(1, 0)) return -2;
  const flags = (<u64>flags_hi << 32) | <u64>flags_lo;
  const v = insert_image_vma(changetype<Mm>(<usize>mm), <u64>start, <u64>end, flags, <u64>pgoff, f, ops, special, faulted);
  if (engine_is_oom()) return -2;
  return v ? 0 : -1;
}

export function mmap(mm: u32, addr: f64, len: f64, prot: u32, flags: u32, file: u32, off: f64): f64 {
  if (!reserve(MMAP_RESERVE, 1)) return ENOMEM_F;
  return <f64>sys_mmap(changetype<Mm>(<usize>mm), to_u64(addr), to_u64(len), prot, flags, file, to_u64(off));
}

export function munmap(mm: u32, addr: f64, len: f64): f64 {
  if (!reserve(MUNMAP_RESERVE, 0)) return ENOMEM_F;
  return <f64>do_munmap(changetype<Mm>(<usize>mm), to_u64(addr), to_u64(len));
}

/**
 * A flag word the kernel takes as an unsigned long and checks for unknown
 * bits (mprotect's prot in do_mprotect_pkey, mremap's flags): its low 32 bits,
 * with bit 31 set when a higher bit is. Bit 31 is unknown to both checks, so
 * the call fails with EINVAL at the point where the kernel's would.
 */
// @ts-ignore: decorator
@inline function ulong_flags(x: f64): u32 {
  const v = to_u64(x);
  return <u32>v | (v >> 32 ? 0x80000000 : 0);
}

export function mprotect(mm: u32, addr: f64, len: f64, prot: f64): f64 {
  return <f64>sys_mprotect(changetype<Mm>(<usize>mm), to_u64(addr), to_u64(len), ulong_flags(prot));
}

/** mremap(2): the new address or -errno; +14 (the v5.17 sign quirk) for an address in no VMA. */
export function mremap(mm: u32, addr: f64, old_len: f64, new_len: f64, flags: f64, new_addr: f64): f64 {
  if (!mremap_reserve()) return ENOMEM_F;
  return <f64>sys_mremap(changetype<Mm>(<usize>mm), to_u64(addr), to_u64(old_len), to_u64(new_len), ulong_flags(flags), to_u64(new_addr));
}

export function madvise(mm: u32, addr: f64, len: f64, advice: i32): f64 {
  return <f64>do_madvise(changetype<Mm>(<usize>mm), to_u64(addr), to_u64(len), advice);
}

/** mseal(2) (6.10+): 0 or -errno; -ENOSYS under a policy whose release predates it. */
export function mseal(mm: u32, addr: f64, len: f64, flags: f64): f64 {
  return <f64>do_mseal(changetype<Mm>(<usize>mm), to_u64(addr), to_u64(len), to_u64(flags));
}

/** mlock (flags 0) and mlock2 (flags: MLOCK_ONFAULT). */
export function mlock(mm: u32, addr: f64, len: f64, flags: u32): f64 {
  return <f64>do_mlock(changetype<Mm>(<usize>mm), to_u64(addr), to_u64(len), flags);
}

export function munlock(mm: u32, addr: f64, len: f64): f64 {
  return <f64>do_munlock(changetype<Mm>(<usize>mm), to_u64(addr), to_u64(len));
}

export function mlockall(mm: u32, flags: u32): f64 {
  return <f64>do_mlockall(changetype<Mm>(<usize>mm), flags);
}

export function munlockall(mm: u32): f64 {
  return <f64>do_munlockall(changetype<Mm>(<usize>mm));
}

/**
 * prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, addr, len, name): `name` is an
 * interned name id (0 = clear); the host validates the string (EINVAL).
 */
export function set_anon_name(mm: u32, addr: f64, len_in: f64, name: u32): f64 {
  // PR_SET_VMA came in 5.17 (9a10064f5625, "mm: add a field to store names for
  // private anonymous memory"); before, prctl() refuses the unknown option
  if (kver < 517) return -22;
  const start = to_u64(addr);
  const l = to_u64(len_in);
  if (start & 4095) return -22;
  const len = (l + 4095) & ~(<u64>4095);
  if (l && !len) return -22;
  const end = start + len;
  if (end < start) return -22;
  if (end == start) return 0;
  return <f64>madvise_walk_vmas(changetype<Mm>(<usize>mm), start, end, 0, name, true);
}

export function brk(mm: u32, addr: f64): f64 {
  const m = changetype<Mm>(<usize>mm);
  if (!reserve(BRK_RESERVE, 0)) return <f64>m.brk;
  return <f64>sys_brk(m, to_u64(addr));
}

/**
 * brk() for the per-call host path in one crossing: -1 (never a break) when
 * the engine ran out of memory, whose flag engine_take_oom() then clears;
 * otherwise what brk() returns. brk reports its own failures as the old
 * break, so without this the host asks for the flag after every call.
 */
export function brk_or_oom(mm: u32, addr: f64): f64 {
  const r = brk(mm, addr);
  return engine_is_oom() ? -1 : r;
}

/** A one-byte user access (the scenario's touch): 0, SIGSEGV 11, SIGBUS 7; -1 out of memory. */
export function touch(mm: u32, addr: f64, write: bool): i32 {
  return mm_touch(changetype<Mm>(<usize>mm), to_u64(addr), write);
}

/** Read the byte at addr: 0..255, -SIGSEGV, -SIGBUS; -1 out of memory. */
export function peek(mm: u32, addr: f64): i32 {
  return mm_peek(changetype<Mm>(<usize>mm), to_u64(addr));
}

export const FAULT_OUT_OF_MEMORY: i32 = FAULT_OOM;

/** True once if an operation touched pages vmasim does not model (MADV_POPULATE_* over [vdso]). */
export function engine_take_not_modelled(): bool {
  return take_engine_not_modelled();
}

/** True once if an operation failed because the engine ran out of wasm memory. */
export function engine_take_oom(): bool {
  return take_engine_oom();
}

// ---- state readers ---------------------------------------------------------------

/** Snapshot record size of mm_snapshot (bytes), mirrored in src/engine/abi.ts. */
export const SNAP_RECORD_SIZE: u32 = 64;

/** VMAs (snapshot.ts snapshot_vmas). */
export function mm_snapshot(mm: u32): usize {
  return snapshot_vmas(changetype<Mm>(<usize>mm));
}

/** The addresses of each VMA's anon_vma and root (snapshot.ts snapshot_anon_vma_addrs). */
export function mm_anon_vma_addrs(mm: u32): usize {
  return snapshot_anon_vma_addrs(changetype<Mm>(<usize>mm));
}

export function mm_usage(mm: u32): usize {
  return snapshot_usage(changetype<Mm>(<usize>mm));
}

export function mm_chains(mm: u32): usize {
  return snapshot_chains(changetype<Mm>(<usize>mm));
}

export function mm_ptes(mm: u32): usize {
  return snapshot_ptes(changetype<Mm>(<usize>mm));
}

export function mm_pgtables(mm: u32): usize {
  return snapshot_pgtables(changetype<Mm>(<usize>mm));
}

export function kernel_pages(): usize {
  return snapshot_pages();
}

export function kernel_anon_vmas(): usize {
  return snapshot_anon_vmas();
}

const counters_buf = memory.data(16 * 8, 8);

/**
 * mm counters and layout as f64 at the returned address: map_count, total_vm,
 * data_vm, exec_vm, stack_vm, locked_vm, mmap_base, task_size, start_brk,
 * brk, start_stack, mm id, page tables accounted, rss anon, rss file, users.
 */
export function mm_counters(mm: u32): usize {
  const m = changetype<Mm>(<usize>mm);
  store<f64>(counters_buf, <f64>m.map_count, 0);
  store<f64>(counters_buf, <f64>m.total_vm, 8);
  store<f64>(counters_buf, <f64>m.data_vm, 16);
  store<f64>(counters_buf, <f64>m.exec_vm, 24);
  store<f64>(counters_buf, <f64>m.stack_vm, 32);
  store<f64>(counters_buf, <f64>m.locked_vm, 40);
  store<f64>(counters_buf, <f64>m.mmap_base, 48);
  store<f64>(counters_buf, <f64>m.task_size, 56);
  store<f64>(counters_buf, <f64>m.start_brk, 64);
  store<f64>(counters_buf, <f64>m.brk, 72);
  store<f64>(counters_buf, <f64>m.start_stack, 80);
  store<f64>(counters_buf, <f64>m.id, 88);
  store<f64>(counters_buf, <f64>(m.nr_ptes + m.nr_pmds + m.nr_puds), 96);
  store<f64>(counters_buf, <f64>m.rss_anon, 104);
  store<f64>(counters_buf, <f64>m.rss_file, 112);
  store<f64>(counters_buf, <f64>m.mm_users, 120);
  return counters_buf;
}

/** The rmap walk reaches every mapping of every mapped anonymous page: the number of PTEs for which it does not (0 = OK). */
export function kernel_rmap_check(): u32 {
  return rmap_check();
}

/** The VMA index's shape and visit counter (bench/scale.ts). */
export function mm_tree_stats(mm: u32): usize {
  return vma_tree_stats(changetype<Mm>(<usize>mm));
}

/** Damage mm's VMA index on purpose (tests of mm_check); see vma_tree_corrupt. */
export function mm_tree_corrupt(mm: u32, kind: i32): i32 {
  return vma_tree_corrupt(changetype<Mm>(<usize>mm), kind);
}

/**
 * Internal consistency of mm's VMA list and tree (0 = OK, else a violation
 * code: vma_tree_check's, or 17 for a VMA with PTEs but not may_have_ptes).
 */
export function mm_check(mm: u32): i32 {
  const m = changetype<Mm>(<usize>mm);
  const code = vma_tree_check(m);
  return code ? code : may_have_ptes_check(m);
}

const stats_buf = memory.data(16 * 8, 8);

/** Live records and memory use: vmas, mms, files, bytes handed out, memory size, pages, anon_vmas, AVCs, page tables (PGDs included). */
export function engine_stats(): usize {
  store<f64>(stats_buf, <f64>vmas_live(), 0);
  store<f64>(stats_buf, <f64>mms_live(), 8);
  store<f64>(stats_buf, <f64>files_live(), 16);
  store<f64>(stats_buf, <f64>raw_allocated(), 24);
  store<f64>(stats_buf, <f64>(<u64>memory.size() << 16), 32);
  store<f64>(stats_buf, <f64>pages_live(), 40);
  store<f64>(stats_buf, <f64>anon_vmas_live(), 48);
  store<f64>(stats_buf, <f64>avcs_live(), 56);
  store<f64>(stats_buf, <f64>pgtables_live(), 64);
  return stats_buf;
}

// ---- batches ---------------------------------------------------------------------

export const OP_MMAP: u32 = 1;
export const OP_MUNMAP: u32 = 2;
export const OP_MPROTECT: u32 = 3;
export const OP_BRK: u32 = 4;
export const OP_MREMAP: u32 = 5;
export const OP_MADVISE: u32 = 6;
export const OP_TOUCH: u32 = 7;
export const OP_MLOCK: u32 = 8;
export const OP_MUNLOCK: u32 = 9;

/**
 * Commands: 8 f64 slots each: opcode, mm, then up to 6 arguments in syscall
 * order (touch: addr, write 0/1; mlock: addr, len, flags).
 */
export const CMD_SLOTS: u32 = 8;
export const CMD_CAPACITY: u32 = 4096;
const cmd_buf = memory.data(<i32>(CMD_CAPACITY * CMD_SLOTS * 8), 16);
const result_buf = memory.data(<i32>(CMD_CAPACITY * 8), 16);

export function cmd_buffer(): usize { return cmd_buf; }
export function result_buffer(): usize { return result_buf; }

/**
 * Execute commands 0..n-1; result i goes to result_buffer()[i]. Returns how
 * many ran: fewer than n when the engine ran out of memory (then
 * engine_take_oom() is true), an opcode was unknown or an argument was not an
 * integer (its result is NaN: the host says which), or the merge-event ring
 * needs draining (the last result is a real one).
 */
export function run_batch(n: u32): u32 {
  return run_commands(n, 0);
}

/** run_batch() for one process: every command runs in `mm`, whatever its slot 1 holds. */
export function run_batch_mm(mm: u32, n: u32): u32 {
  return run_commands(n, mm);
}

/** A syscall argument the host could pass: an integer (finite, no fraction). */
// @ts-ignore: decorator
@inline function is_int(x: f64): bool {
  return x - x == 0 && Math.trunc(x) == x;
}

/** The low 32 bits of an argument's C conversion (JS `x >>> 0` for integers). */
// @ts-ignore: decorator
@inline function to_u32(x: f64): u32 {
  return <u32>to_u64(x);
}

function run_commands(n: u32, only_mm: u32): u32 {
  if (n > CMD_CAPACITY) n = CMD_CAPACITY;
  for (let i: u32 = 0; i < n; i++) {
    const c = cmd_buf + <usize>i * CMD_SLOTS * 8;
    const op = <u32>load<f64>(c, 0);
    const mm = only_mm ? only_mm : <u32>load<f64>(c, 8);
    const a1 = load<f64>(c, 16), a2 = load<f64>(c, 24), a3 = load<f64>(c, 32);
    const a4 = load<f64>(c, 40), a5 = load<f64>(c, 48), a6 = load<f64>(c, 56);
    if (!(is_int(a1) && is_int(a2) && is_int(a3) && is_int(a4) && is_int(a5) && is_int(a6))) {
      store<f64>(result_buf + (<usize>i << 3), NaN);
      return i;
    }
    let r: f64;
    switch (op) {
      case OP_MMAP:
        // a file outside u32 (e.g. -1) is no file, as on the per-call path
        r = mmap(mm, a1, a2, to_u32(a3), to_u32(a4), a5 < 0 || a5 >= 4294967296 ? 0 : <u32>a5, a6);
        break;
      case OP_MUNMAP:
        r = munmap(mm, a1, a2);
        break;
      case OP_MPROTECT:
        r = mprotect(mm, a1, a2, a3);
        break;
      case OP_BRK:
        r = brk(mm, a1);
        break;
      case OP_MREMAP:
        r = mremap(mm, a1, a2, a3, a4, a5);
        break;
      case OP_MADVISE:
        r = madvise(mm, a1, a2, <i32>to_u64(a3));
        break;
      case OP_TOUCH:
        // 0, the signal (7, 11), or -2 for an access that is not modelled; -1 (out of memory) stops the batch below
        r = <f64>touch(mm, a1, a2 != 0);
        break;
      case OP_MLOCK:
        r = mlock(mm, a1, a2, to_u32(a3));
        break;
      case OP_MUNLOCK:
        r = munlock(mm, a1, a2);
        break;
      default:
        store<f64>(result_buf + (<usize>i << 3), NaN);
        return i;
    }
    store<f64>(result_buf + (<usize>i << 3), r);
    if (engine_is_oom()) return i;
    // let the host drain merge events before the ring could overflow
    if (tracing() && trace_room() < TRACE_BATCH_MARGIN) return i + 1;
  }
  return n;
}
