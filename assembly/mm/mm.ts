// The mm_struct: creation with a process layout, the accounting rules
// (vm_stat_account, may_expand_vm: mm/mmap.c v5.17) and the direct insertion
// of a process image's VMAs (insert_vm_struct, as exec and the ELF loader do).

import {
  PAGE_SHIFT, TASK_SIZE, VM_EXEC, VM_LOCKED, VM_SHARED, VM_SOFTDIRTY, VM_STACK, VM_WRITE,
} from "../abi/constants";
import { File, get_file } from "../fs/file";
import { Mm, Vma, mm_alloc, vm_area_alloc } from "./types";
import { find_vma_before, find_vma_intersection, vma_link } from "./vma_tree";

/** RLIM_INFINITY */
export const RLIM_INFINITY: u64 = 0xffffffffffffffff;

/** A new, empty mm with the given layout (mm_init + arch_pick_mmap_layout, ASLR off). */
export function mm_create(mmap_base: u64, start_brk: u64, start_stack: u64): Mm {
  const mm = mm_alloc();
  mm.task_size = TASK_SIZE;
  mm.mmap_base = mmap_base;
  // mmap_legacy_base = TASK_UNMAPPED_BASE = PAGE_ALIGN(TASK_SIZE / 3)
  mm.mmap_legacy_base = ((TASK_SIZE / 3) + 4095) & ~(<u64>4095);
  mm.start_brk = start_brk;
  mm.brk = start_brk;
  mm.start_stack = start_stack;
  mm.rlimit_as = RLIM_INFINITY;
  mm.rlimit_data = RLIM_INFINITY;
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

/** may_expand_vm(): RLIMIT_AS and RLIMIT_DATA, in pages. */
export function may_expand_vm(mm: Mm, flags: u64, npages: u64): bool {
  if (mm.total_vm + npages > (mm.rlimit_as >> PAGE_SHIFT)) return false;
  if (is_data_mapping(flags) && mm.data_vm + npages > (mm.rlimit_data >> PAGE_SHIFT)) return false;
  return true;
}

/**
 * Insert one VMA of a process image directly, without merging (exec builds
 * the initial layout this way). Returns the VMA, or NULL if the range is
 * invalid or overlaps. Requires one reserved VMA record.
 */
export function insert_image_vma(mm: Mm, start: u64, end: u64, flags: u64, pgoff: u64, file: File | null, ops: u32, special: u32): Vma | null {
  if (start >= end || (start & 4095) || (end & 4095) || end > TASK_SIZE) return null;
  if (find_vma_intersection(mm, start, end)) return null;
  const v = vm_area_alloc(mm);
  v.vm_start = start;
  v.vm_end = end;
  v.vm_flags = flags | VM_SOFTDIRTY;
  v.vm_pgoff = pgoff;
  v.vm_ops = ops;
  v.special = special;
  if (file) v.vm_file = get_file(file);
  vma_link(mm, v, find_vma_before(mm, start));
  const pages = <i64>((end - start) >> PAGE_SHIFT);
  vm_stat_account(mm, flags, pages);
  if (flags & VM_LOCKED) mm.locked_vm += <u64>pages;
  return v;
}
