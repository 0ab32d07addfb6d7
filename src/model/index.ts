// The reference model of the kernel rules (docs/architecture.md §3.5): plain
// TypeScript, one file per kernel job, named after the kernel functions it
// mirrors. Differential tests run the wasm engine against it.
//
//   kernel.ts            the KernelSim: sysctls, policy rules, files, tasks, pages, anon_vmas
//   process.ts           the ProcessSim: syscalls, user accesses, fork/exit/exec, snapshots
//   exec.ts              the mm right after execve (the process image)
//   mm.ts                mm_struct, vm_area_struct, find_vma() & list helpers
//   file.ts              struct file, vm_operations_struct tables
//   anon_vma.ts          anon_vma / anon_vma_chain lifecycle, interval trees
//   rmap.ts              page rmap (new anon / file / dup / remove), rmap_walk_anon()
//   page.ts              struct page: identity, mapping, index, counts, content
//   pgtable.ts           4-level page tables, free_pgtables() / free_pgd_range()
//   memory.ts            faults, zap, unmap_mapping_range(), copy_page_range()
//   fault.ts             a user access: do_user_addr_fault(), access_error()
//   stack.ts             expand_downwards() (stack growth)
//   shmem.ts             the page cache of tmpfs files and shmem objects, fput()
//   gup.ts               __mm_populate() / populate_vma_page_range()
//   fork.ts              dup_mm() / dup_mmap()
//   exit.ts              mmput() / exit_mmap()
//   smaps.ts             per-VMA usage (Rss, Anonymous, Locked)
//   policy.ts            the per-policy switch points
//   seed.ts              the seed series' rules: EXCL, reconnect_pages(), update_faulted_pgoff(), exact re-pointing
//   merge.ts             vma_merge(), is_mergeable_vma(), is_mergeable_anon_vma()
//   adjust.ts            __vma_adjust()
//   split.ts             __split_vma(), split_vma()
//   mmap.ts              sys_mmap(), do_mmap(), mmap_region()
//   get_unmapped_area.ts get_unmapped_area(), top-down and bottom-up search
//   munmap.ts            sys_munmap(), __do_munmap()
//   mprotect.ts          sys_mprotect(), mprotect_fixup()
//   brk.ts               sys_brk(), do_brk_flags()
//   mremap.ts            sys_mremap(), mremap_to(), move_vma(), copy_vma(), move_page_tables()
//   madvise.ts           sys_madvise(), madvise_walk_vmas(), madvise_update_vma()
//   mlock.ts             mlock/mlock2/munlock/mlockall/munlockall
//   anon_name.ts         prctl(PR_SET_VMA_ANON_NAME): madvise_set_anon_name()
//   accounting.ts        vm_stat_account(), may_expand_vm(), commit charge
//   uapi.ts              unsigned long arguments at the syscall boundary

import type { KernelConfig, KernelSim } from "../types.js";
import { KernelModel } from "./kernel.js";

export function createModelKernel(config: KernelConfig): KernelSim {
  return new KernelModel(config);
}

export { KernelModel } from "./kernel.js";
export { ProcessModel } from "./process.js";
