// Stack growth on a fault below a VM_GROWSDOWN VMA: mm/mmap.c expand_stack()
// -> expand_downwards(), acct_stack_growth() (x86: no VM_GROWSUP) (v5.17;
// read on 5.15.100, identical here — before the 2023 rework that moved stack
// expansion under the mmap write lock).
//
// Order, as in the kernel: mmap_min_addr, the guard gap to the previous VMA
// (only if it is accessible and not itself a stack), then anon_vma_prepare()
// — so a growth refused by the limits below still leaves the stack with an
// anon_vma —, then the limits (may_expand_vm, RLIMIT_STACK on the new size,
// RLIMIT_MEMLOCK if VM_LOCKED, the commit charge).

import { ENOMEM, EPERM, PAGE_SIZE, VM_GROWSDOWN, VM_LOCKED } from "../abi/constants.js";
import { may_expand_vm, security_vm_enough_memory_mm, vm_stat_account } from "./accounting.js";
import {
  anon_vma_interval_tree_post_update_vma, anon_vma_interval_tree_pre_update_vma, anon_vma_prepare,
} from "./anon_vma.js";
import { vma_is_accessible, type Vma } from "./mm.js";
import { capable, rlimit } from "./resource.js";

/** acct_stack_growth(): may vma grow to `size` bytes (by `grow` pages)? 0 or -errno. */
function acct_stack_growth(vma: Vma, size: number, grow: number): number {
  const mm = vma.vm_mm;
  if (!may_expand_vm(mm, vma.vm_flags, grow)) return -ENOMEM;
  if (size > rlimit(mm, "stack")) return -ENOMEM;
  if (vma.vm_flags & VM_LOCKED) {
    const locked = mm.locked_vm + grow;
    const limit = Math.floor(rlimit(mm, "memlock") / PAGE_SIZE);
    if (locked > limit && !capable(mm, "ipc_lock")) return -ENOMEM;
  }
  // (is_hugepage_only_range(): never on x86)
  if (security_vm_enough_memory_mm(mm, grow)) return -ENOMEM;
  return 0;
}

/** expand_downwards(vma, address): grow vma down to address (page aligned down). 0 or -errno. */
export function expand_downwards(vma: Vma, address: number): number {
  const mm = vma.vm_mm;
  address -= address % PAGE_SIZE;
  if (address < mm.kernel.mmap_min_addr) return -EPERM;

  // Enforce stack_guard_gap
  const prev = vma.vm_prev;
  if (prev && !(prev.vm_flags & VM_GROWSDOWN) && vma_is_accessible(prev)) {
    if (address - prev.vm_end < mm.kernel.stack_guard_gap) return -ENOMEM;
  }

  // We must make sure the anon_vma is allocated.
  if (anon_vma_prepare(vma)) return -ENOMEM;

  let error = 0;
  if (address < vma.vm_start) {
    const size = vma.vm_end - address;
    const grow = (vma.vm_start - address) / PAGE_SIZE;
    error = -ENOMEM;
    if (grow <= vma.vm_pgoff) {
      error = acct_stack_growth(vma, size, grow);
      if (!error) {
        if (vma.vm_flags & VM_LOCKED) mm.locked_vm += grow;
        vm_stat_account(mm, vma.vm_flags, grow);
        anon_vma_interval_tree_pre_update_vma(vma);
        vma.vm_start = address;
        vma.vm_pgoff -= grow;
        anon_vma_interval_tree_post_update_vma(vma);
      }
    }
  }
  return error;
}

/** expand_stack(): x86 stacks grow down. */
export function expand_stack(vma: Vma, address: number): number {
  return expand_downwards(vma, address);
}
