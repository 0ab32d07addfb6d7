// fork(2)'s address-space copy (kernel-facts §9.1): kernel/fork.c dup_mm() (the
// byte copy of the mm, then mm_init()) and dup_mmap() (v5.17; read on
// 5.15.100, identical here).
//
// The child mm: a new identity; total_vm, data_vm, exec_vm, stack_vm, the
// layout (mmap_base, brk, start_brk, ...) copied (the rlimits are the task's: resource.ts); map_count,
// locked_vm, RSS and page tables start empty; def_flags keeps only
// VM_NOHUGEPAGE (VM_INIT_DEF_MASK). Then, for each parent VMA in order:
// VM_DONTCOPY ones are skipped (and taken off the child's counters); a
// VM_ACCOUNT VMA is charged again (a refusal fails the fork with ENOMEM); the
// copy (vm_area_dup) gets a file reference, an anon_vma by anon_vma_fork() —
// none for VM_WIPEONFORK —, loses
// VM_LOCKED / VM_LOCKONFAULT, is linked at the end (fork never merges), and
// copy_page_range() copies the PTEs unless VM_WIPEONFORK.

import {
  ENOMEM, VM_ACCOUNT, VM_DONTCOPY, VM_LOCKED, VM_LOCKONFAULT, VM_NOHUGEPAGE, VM_WIPEONFORK,
} from "../abi/constants.js";
import { security_vm_enough_memory_mm, vm_stat_account } from "./accounting.js";
import { anon_vma_fork } from "./anon_vma.js";
import { mmput } from "./exit.js";
import { copy_page_range } from "./memory.js";
import { MmStruct, __vma_link_list, vm_area_dup, vma_list, vma_pages, type Vma } from "./mm.js";
import { get_file } from "./shmem.js";

/** VM_INIT_DEF_MASK: the def_flags a child inherits. */
const VM_INIT_DEF_MASK = VM_NOHUGEPAGE;

/**
 * dup_mm(): the child's mm, a copy of oldmm made by dup_mmap(); null when a
 * commit charge was refused (the partial child is torn down by mmput(), which
 * gives back the charges of the VMAs already copied).
 */
export function dup_mm(oldmm: MmStruct): MmStruct | null {
  const mm = new MmStruct(oldmm.kernel);
  // The byte copy of the mm_struct: layout and limits.
  mm.mmap_base = oldmm.mmap_base;
  mm.mmap_legacy_base = oldmm.mmap_legacy_base;
  mm.task_size = oldmm.task_size;
  mm.start_data = oldmm.start_data;
  mm.end_data = oldmm.end_data;
  mm.start_brk = oldmm.start_brk;
  mm.brk = oldmm.brk;
  mm.start_stack = oldmm.start_stack;
  // mm_init()
  mm.def_flags = (oldmm.def_flags & VM_INIT_DEF_MASK) >>> 0;
  if (dup_mmap(mm, oldmm)) {
    mmput(mm);
    return null;
  }
  return mm;
}

/** dup_mmap(mm, oldmm): 0 or -ENOMEM. */
function dup_mmap(mm: MmStruct, oldmm: MmStruct): number {
  mm.total_vm = oldmm.total_vm;
  mm.data_vm = oldmm.data_vm;
  mm.exec_vm = oldmm.exec_vm;
  mm.stack_vm = oldmm.stack_vm;

  let prev: Vma | null = null;
  for (const mpnt of vma_list(oldmm)) {
    if (mpnt.vm_flags & VM_DONTCOPY) {
      vm_stat_account(mm, mpnt.vm_flags, -vma_pages(mpnt));
      continue;
    }
    // charged as oldmm's (sic in the kernel): its total_vm sets the user reserve
    if ((mpnt.vm_flags & VM_ACCOUNT) && security_vm_enough_memory_mm(oldmm, vma_pages(mpnt))) return -ENOMEM;

    const tmp = vm_area_dup(mpnt);
    // vma_dup_policy(): the policy pointer was copied; dup_userfaultfd(): no contexts in the model.
    tmp.vm_mm = mm;
    if (tmp.vm_flags & VM_WIPEONFORK) {
      tmp.anon_vma = null; // a clean slate: no anon_vma until a fault
    } else {
      anon_vma_fork(tmp, mpnt);
    }
    tmp.vm_flags = (tmp.vm_flags & ~(VM_LOCKED | VM_LOCKONFAULT)) >>> 0;
    if (tmp.vm_file) get_file(tmp.vm_file);

    __vma_link_list(mm, tmp, prev);
    prev = tmp;
    mm.map_count++;
    if (!(tmp.vm_flags & VM_WIPEONFORK)) copy_page_range(tmp, mpnt);
    // vm_ops->open(): none of the modelled vm_ops has one.
  }
  return 0;
}
