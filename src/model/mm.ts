// struct mm_struct and struct vm_area_struct of the model, and the lookups and
// list operations on an mm's VMAs:
//   include/linux/mm_types.h (v5.17); mm/mmap.c find_vma(), find_vma_prev(),
//   find_vma_intersection(), vma_next(), find_vma_links(), __vma_link_list(),
//   __vma_unlink_list(), vma_link(), __insert_vm_struct(); kernel/fork.c
//   vm_area_alloc(), vm_area_dup(); include/linux/mm.h vm_start_gap(),
//   vm_end_gap(), vma_pages().
//
// Like 5.17 the VMAs of an mm form a doubly linked list sorted by address
// (vm_next / vm_prev, head mm.mmap). The kernel also keeps an augmented rbtree
// for O(log n) lookups; every answer it gives is determined by the sorted list,
// so the model walks the list instead (clarity over speed).
//
// Memory layer: the mm also has an identity (allocation order per kernel,
// from 1: createProcess, fork and exec each make one), mm_users (tasks using
// it: cloneVm adds one), its page tables (pgtable.ts) and its RSS counters
// (MM_ANONPAGES; MM_FILEPAGES and MM_SHMEMPAGES together, since every file of
// the model is on tmpfs and so counts as MM_SHMEMPAGES).

import { PAGE_SIZE, VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE } from "../abi/constants.js";
import type { AnonVma, AnonVmaChain } from "./anon_vma.js";
import type { KernelModel } from "./kernel.js";
import type { KFile, VmOperations } from "./file.js";
import { PageTables } from "./pgtable.js";

/** struct mempolicy: only mbind creates one (a later issue); NULL everywhere for now. */
export interface Mempolicy {
  readonly id: number;
}

/** struct userfaultfd_ctx: only userfaultfd registration sets one (a later issue). */
export interface UffdCtx {
  readonly id: number;
}

export class Vma {
  vm_mm: MmStruct;
  vm_start = 0;
  vm_end = 0;
  vm_next: Vma | null = null;
  vm_prev: Vma | null = null;
  /** vm_flags bits 0..31, kept as an unsigned 32-bit number (always `>>> 0`). */
  vm_flags = 0;
  /** vm_flags bits 32..63 (pkeys, UFFD_MINOR), unsigned. */
  vm_flags_hi = 0;
  vm_pgoff = 0;
  vm_file: KFile | null = null;
  /** NULL for private anonymous memory (vma_is_anonymous()). */
  vm_ops: VmOperations | null = null;
  anon_vma: AnonVma | null = null;
  /** Newest first; empty until the VMA gets an anon_vma. */
  anon_vma_chain: AnonVmaChain[] = [];
  /** anon_vma_name (PR_SET_VMA_ANON_NAME): compared by content. */
  anon_name: string | null = null;
  vm_policy: Mempolicy | null = null;
  vm_userfaultfd_ctx: UffdCtx | null = null;
  /** vm_private_data of a special mapping: its name ("[vdso]", "[vvar]"). */
  special: string | null = null;

  constructor(mm: MmStruct) {
    this.vm_mm = mm;
  }
}

export class MmStruct {
  readonly kernel: KernelModel;
  /** identity (MemorySnapshot.mm) */
  readonly id: number;
  /** mm_users: tasks using this address space */
  mm_users = 1;
  /** the PGD and everything below it */
  readonly pgtables = new PageTables();
  /** rss_stat: MM_ANONPAGES */
  rss_anon = 0;
  /** rss_stat: MM_FILEPAGES + MM_SHMEMPAGES */
  rss_file = 0;
  /** Lowest VMA (head of the vm_next list). */
  mmap: Vma | null = null;
  map_count = 0;
  mmap_base = 0;
  mmap_legacy_base = 0;
  task_size = 0;
  total_vm = 0;
  locked_vm = 0;
  data_vm = 0;
  exec_vm = 0;
  stack_vm = 0;
  /** OR-ed into the flags of every new mmap/brk VMA (mlockall(MCL_FUTURE) sets VM_LOCKED). */
  def_flags = 0;
  start_data = 0;
  end_data = 0;
  start_brk = 0;
  brk = 0;
  start_stack = 0;

  /** mm_alloc(): a new, empty mm with the next mm identity. */
  constructor(kernel: KernelModel) {
    this.kernel = kernel;
    this.id = kernel.nextMmId++;
  }
}

/** vm_area_alloc(): a fresh, unlinked VMA of mm. */
export function vm_area_alloc(mm: MmStruct): Vma {
  return new Vma(mm);
}

/**
 * vm_area_dup(): copy every field (anon_vma pointer, file, name ...) but not
 * the list links or the chain. Like the kernel's it takes no file reference:
 * the callers (__split_vma, dup_mmap) do get_file().
 */
export function vm_area_dup(orig: Vma): Vma {
  const v = new Vma(orig.vm_mm);
  v.vm_start = orig.vm_start;
  v.vm_end = orig.vm_end;
  v.vm_flags = orig.vm_flags;
  v.vm_flags_hi = orig.vm_flags_hi;
  v.vm_pgoff = orig.vm_pgoff;
  v.vm_file = orig.vm_file;
  v.vm_ops = orig.vm_ops;
  v.anon_vma = orig.anon_vma;
  v.anon_name = orig.anon_name;
  v.vm_policy = orig.vm_policy;
  v.vm_userfaultfd_ctx = orig.vm_userfaultfd_ctx;
  v.special = orig.special;
  return v;
}

export function vma_pages(vma: Vma): number {
  return (vma.vm_end - vma.vm_start) / PAGE_SIZE;
}

/** vma_is_anonymous(): private anonymous memory has no vm_ops. */
export function vma_is_anonymous(vma: Vma): boolean {
  return vma.vm_ops === null;
}

/** anon_vma_name(vma): the name of an anonymous VMA (v5.17 final); a file VMA has none. */
export function anon_vma_name(vma: Vma): string | null {
  return vma.vm_file ? null : vma.anon_name;
}

/** vma_is_accessible(): any of VM_READ, VM_WRITE, VM_EXEC. */
export function vma_is_accessible(vma: Vma): boolean {
  return (vma.vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) !== 0;
}

/** vm_start_gap(): a VM_GROWSDOWN VMA claims stack_guard_gap below its start. */
export function vm_start_gap(vma: Vma): number {
  let start = vma.vm_start;
  if (vma.vm_flags & VM_GROWSDOWN) {
    start -= vma.vm_mm.kernel.stack_guard_gap;
    if (start < 0) start = 0; // the kernel's underflow clamp
  }
  return start;
}

/** vm_end_gap(): VM_GROWSUP does not exist on x86, so this is vm_end. */
export function vm_end_gap(vma: Vma): number {
  return vma.vm_end;
}

/** The last (highest) VMA, or null. */
export function last_vma(mm: MmStruct): Vma | null {
  let v = mm.mmap;
  if (!v) return null;
  while (v.vm_next) v = v.vm_next;
  return v;
}

/** mm->highest_vm_end: vm_end_gap() of the highest VMA, 0 for an empty mm. */
export function highest_vm_end(mm: MmStruct): number {
  const last = last_vma(mm);
  return last ? vm_end_gap(last) : 0;
}

/** vma_next(mm, vma): the VMA after vma, or the first VMA if vma is null. */
export function vma_next(mm: MmStruct, vma: Vma | null): Vma | null {
  return vma ? vma.vm_next : mm.mmap;
}

/** find_vma(): the first VMA with addr < vm_end, or null. */
export function find_vma(mm: MmStruct, addr: number): Vma | null {
  for (let v = mm.mmap; v; v = v.vm_next) {
    if (v.vm_end > addr) return v;
  }
  return null;
}

/** find_vma_prev(): find_vma() plus the VMA before it (the last VMA if none is found). */
export function find_vma_prev(mm: MmStruct, addr: number): { vma: Vma | null; prev: Vma | null } {
  const vma = find_vma(mm, addr);
  return { vma, prev: vma ? vma.vm_prev : last_vma(mm) };
}

/** find_vma_intersection(): the first VMA intersecting [start, end), or null. */
export function find_vma_intersection(mm: MmStruct, start: number, end: number): Vma | null {
  const vma = find_vma(mm, start);
  if (vma && end <= vma.vm_start) return null;
  return vma;
}

/**
 * find_vma_links(): where [addr, end) would be linked. `overlap` is true when a
 * VMA intersects the range (the kernel's -ENOMEM); otherwise `prev` is the last
 * VMA ending at or below addr.
 */
export function find_vma_links(mm: MmStruct, addr: number, end: number): { overlap: boolean; prev: Vma | null } {
  let prev: Vma | null = null;
  for (let v = mm.mmap; v; v = v.vm_next) {
    if (v.vm_end > addr) {
      if (v.vm_start < end) return { overlap: true, prev: null };
      break;
    }
    prev = v;
  }
  return { overlap: false, prev };
}

/** __vma_link_list(): put vma right after prev (or first). */
export function __vma_link_list(mm: MmStruct, vma: Vma, prev: Vma | null): void {
  const next = prev ? prev.vm_next : mm.mmap;
  vma.vm_prev = prev;
  vma.vm_next = next;
  if (prev) prev.vm_next = vma;
  else mm.mmap = vma;
  if (next) next.vm_prev = vma;
}

/** __vma_unlink_list(): take vma out of the list. */
export function __vma_unlink_list(mm: MmStruct, vma: Vma): void {
  const prev = vma.vm_prev;
  const next = vma.vm_next;
  if (prev) prev.vm_next = next;
  else mm.mmap = next;
  if (next) next.vm_prev = prev;
  vma.vm_prev = null;
  vma.vm_next = null;
}

/** vma_link(): link a new VMA after prev and count it. (The file's i_mmap tree is not modelled yet.) */
export function vma_link(mm: MmStruct, vma: Vma, prev: Vma | null): void {
  __vma_link_list(mm, vma, prev);
  mm.map_count++;
}

/** __insert_vm_struct(): link a VMA at its sorted position (the split_vma insert case). */
export function __insert_vm_struct(mm: MmStruct, vma: Vma): void {
  const links = find_vma_links(mm, vma.vm_start, vma.vm_end);
  if (links.overlap) throw new Error("__insert_vm_struct: overlapping VMA (BUG)");
  vma_link(mm, vma, links.prev);
}

/** All VMAs in address order. */
export function vma_list(mm: MmStruct): Vma[] {
  const out: Vma[] = [];
  for (let v = mm.mmap; v; v = v.vm_next) out.push(v);
  return out;
}
