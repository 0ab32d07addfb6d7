// The reference model of the kernel rules (ARCHITECTURE.md "model/"): plain
// TypeScript, one file per kernel job, named after the kernel functions it
// mirrors. Differential tests run the wasm engine against it.
//
//   kernel.ts            the KernelSim: sysctls, policy rules, files, processes
//   process.ts           the ProcessSim: syscall entry points and snapshots
//   exec.ts              the mm right after execve (the process image)
//   mm.ts                mm_struct, vm_area_struct, find_vma() & list helpers
//   file.ts              struct file, vm_operations_struct tables
//   rmap.ts              anon_vma / anon_vma_chain (empty in this layer)
//   policy.ts            the per-policy switch points
//   merge.ts             vma_merge(), is_mergeable_vma(), is_mergeable_anon_vma()
//   adjust.ts            __vma_adjust()
//   split.ts             __split_vma(), split_vma()
//   mmap.ts              sys_mmap(), do_mmap(), mmap_region()
//   get_unmapped_area.ts get_unmapped_area(), top-down and bottom-up search
//   munmap.ts            sys_munmap(), __do_munmap()
//   mprotect.ts          sys_mprotect(), mprotect_fixup()
//   brk.ts               sys_brk(), do_brk_flags()
//   accounting.ts        vm_stat_account(), may_expand_vm(), commit charge
//   uapi.ts              unsigned long arguments at the syscall boundary

import type { KernelConfig, KernelSim } from "../types.js";
import { KernelModel } from "./kernel.js";

export function createModelKernel(config: KernelConfig): KernelSim {
  return new KernelModel(config);
}

export { KernelModel } from "./kernel.js";
export { ProcessModel } from "./process.js";
