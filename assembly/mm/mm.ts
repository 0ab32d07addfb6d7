// The mm_struct: creation with a process layout, the accounting rules
// (vm_stat_account, may_expand_vm: mm/mmap.c v5.17) and the direct insertion
// of a process image's VMAs (insert_vm_struct, as exec and the ELF loader do).

import {
  PAGE_SHIFT, TASK_SIZE, VM_ACCOUNT, VM_EXEC, VM_LOCKED, VM_SHARED, VM_SOFTDIRTY, VM_STACK, VM_WRITE,
} from "../abi/constants";
import { File, get_file } from "../fs/file";
import { vm_acct_memory } from "./commit";
import { anon_vma_prepare } from "../rmap/anon_vma";
import { pgd_alloc, pgtable_reserve } from "./pgtable";
import { RLIMIT_AS, RLIMIT_DATA, ignore_rlimit_data, rlimit, rlimit_max } from "./rlimit";
import { Mm, Vma, mm_alloc, vm_area_alloc } from "./types";
import { find_vma_before, find_vma_intersection, vma_link } from "./vma_tree";

/** The live mms, newest first (the file rmap and kernel-wide snapshots walk them). */
export let mm_list: Mm | null = null;

/** An empty mm with one user and its PGD (mm_alloc + mm_init + pgd_alloc). Requires mm_reserve(1). */
export function mm_new_empty(): Mm | null {
  if (!pgtable_reserve(1)) return null;
  const mm = mm_alloc();
  pgd_alloc(mm);
  mm.mm_users = 1;
  mm.mm_next = mm_list;
  if (mm_list) mm_list!.mm_prev = mm;
  mm_list = mm;
  return mm;
}

/** Take a dead mm off the list. */
export function mm_list_del(mm: Mm): void {
  if (mm.mm_prev) mm.mm_prev!.mm_next = mm.mm_next;
  else mm_list = mm.mm_next;
  if (mm.mm_next) mm.mm_next!.mm_prev = mm.mm_prev;
  mm.mm_prev = null;
  mm.mm_next = null;
}

/** A new, empty mm with the given layout (mm_init + arch_pick_mmap_layout, ASLR off). NULL: out of memory. */
export function mm_create(mmap_base: u64, start_brk: u64, start_stack: u64): Mm | null {
  const m = mm_new_empty();
  if (!m) return null;
  const mm = m;
  mm.task_size = TASK_SIZE;
  mm.mmap_base = mmap_base;
  // mmap_legacy_base = TASK_UNMAPPED_BASE = PAGE_ALIGN(TASK_SIZE / 3)
  mm.mmap_legacy_base = ((TASK_SIZE / 3) + 4095) & ~(<u64>4095);
  mm.start_brk = start_brk;
  mm.brk = start_brk;
  mm.start_stack = start_stack;
  return mm;
}

/** is_exec_mapping / is_stack_mapping / is_data_mapping (mm/internal.h) */
// @ts-ignore: decorator
@inline export function is_exec_mapping(flags: u64): bool {
  return (flags & (VM_EXEC | VM_WRITE | VM_STACK)) == VM_EXEC;
}
// @ts-ignore: decorator
@inline export function is_stack_mapping(flags: u64): bool {
  return (flags & VM_STACK) == VM_STACK;
}
// @ts-ignore: decorator
@inline export function is_data_mapping(flags: u64): bool {
  return (flags & (VM_WRITE | VM_SHARED | VM_STACK)) == VM_WRITE;
}

/** vm_stat_account(): total_vm plus exactly one of exec_vm, stack_vm, data_vm. */
export function vm_stat_account(mm: Mm, flags: u64, npages: i64): void {
  mm.total_vm = <u64>(<i64>mm.total_vm + npages);
  if (is_exec_mapping(flags)) mm.exec_vm = <u64>(<i64>mm.exec_vm + npages);
  else if (is_stack_mapping(flags)) mm.stack_vm = <u64>(<i64>mm.stack_vm + npages);
  else if (is_data_mapping(flags)) mm.data_vm = <u64>(<i64>mm.data_vm + npages);
}

/**
 * may_expand_vm(): RLIMIT_AS on total_vm, RLIMIT_DATA on data_vm (pages).
 * RLIMIT_DATA has two ways out (5.17 and 6.x alike): a soft limit of 0 under
 * a larger hard limit counts the hard one (the Valgrind workaround), and the
 * ignore_rlimit_data boot option turns the refusal into a warning.
 */
export function may_expand_vm(mm: Mm, flags: u64, npages: u64): bool {
  if (mm.total_vm + npages > (rlimit(RLIMIT_AS) >> PAGE_SHIFT)) return false;
  if (is_data_mapping(flags) && mm.data_vm + npages > (rlimit(RLIMIT_DATA) >> PAGE_SHIFT)) {
    if (rlimit(RLIMIT_DATA) == 0 && mm.data_vm + npages <= (rlimit_max(RLIMIT_DATA) >> PAGE_SHIFT)) return true;
    if (!ignore_rlimit_data) return false;
  }
  return true;
}

/**
 * Insert one VMA of a process image directly, without merging (exec builds
 * the initial layout this way). Returns the VMA, or NULL if the range is
 * invalid or overlaps. Requires one reserved VMA record.
 */
export function insert_image_vma(mm: Mm, start: u64, end: u64, flags: u64, pgoff: u64, file: File | null, ops: u32, special: u32, faulted: bool): Vma | null {
  if (start >= end || (start & 4095) || (end & 4095) || end > TASK_SIZE) return null;
  if (find_vma_intersection(mm, start, end)) return null;
  const v = vm_area_alloc(mm);
  v.vm_start = start;
  v.vm_end = end;
  v.vm_flags = flags | VM_SOFTDIRTY;
  v.vm_pgoff = pgoff;
  v.vm_ops = <u8>ops;
  v.special = <u8>special;
  if (file) v.vm_file = get_file(file);
  vma_link(mm, v, find_vma_before(mm, start));
  const pages = <i64>((end - start) >> PAGE_SHIFT);
  vm_stat_account(mm, flags, pages);
  if (flags & VM_LOCKED) mm.locked_vm += <u64>pages;
  // charged without the overcommit check: vmasim never refuses a process image
  if (flags & VM_ACCOUNT) vm_acct_memory(pages);
  // written during exec: it has an anon_vma (its pages are not modelled)
  if (faulted && !anon_vma_prepare(v)) return null;
  return v;
}
