// Releasing an address space: kernel/fork.c mmput() / __mmput(); mm/mmap.c
// exit_mmap() (kernel-facts §9.2) (v5.17).
//
// exit_mmap(): munlock everything, zap every PTE of every VMA, free_pgtables()
// over all VMAs with floor 0 and ceiling 0 (which unlinks every VMA from its
// anon_vmas), then remove_vma() each VMA (file reference dropped) and give
// back the commit charge of the VM_ACCOUNT ones; the PGD goes with the mm.
// The kernel leaves the mm's counters as they are (nobody reads them again);
// the model zeroes them and map_count so that a released mm reads as empty.

import { VM_ACCOUNT } from "../abi/constants.js";
import { vm_unacct_memory } from "./accounting.js";
import { unmap_vmas } from "./memory.js";
import { vma_list, vma_pages, type MmStruct } from "./mm.js";
import { remove_vma, unlock_range } from "./munmap.js";
import { free_pgtables } from "./pgtable.js";

/** mmput(): one user fewer; the last one tears the address space down. */
export function mmput(mm: MmStruct): void {
  mm.mm_users--;
  if (mm.mm_users === 0) exit_mmap(mm);
}

/** exit_mmap() */
export function exit_mmap(mm: MmStruct): void {
  if (mm.locked_vm) unlock_range(mm, mm.mmap, Infinity);
  const vmas = vma_list(mm);
  if (vmas.length === 0) return;

  unmap_vmas(vmas, 0, Infinity);
  free_pgtables(mm, vmas, 0, 0);

  let nr_accounted = 0;
  for (const vma of vmas) {
    if (vma.vm_flags & VM_ACCOUNT) nr_accounted += vma_pages(vma);
    remove_vma(vma);
  }
  mm.mmap = null;
  vm_unacct_memory(mm, nr_accounted);

  mm.map_count = 0;
  mm.total_vm = mm.data_vm = mm.exec_vm = mm.stack_vm = mm.locked_vm = 0;
  if (mm.pgtables.accounted !== 0 || mm.rss_anon !== 0 || mm.rss_file !== 0) {
    throw new Error(`exit_mmap: mm ${mm.id} still has page tables or RSS after teardown (BUG)`);
  }
}
