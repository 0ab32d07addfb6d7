// One process of the model: its mm and the syscall entry points, plus the
// state snapshots of ProcessSim. Syscall arguments cross the boundary as
// unsigned longs (uapi.ts); the work is done by the files named after the
// kernel's (mmap.ts, munmap.ts, mprotect.ts, brk.ts).

import type { MmCounters, MmLayout, ProcessImage, ProcessSim, VmaSnapshot } from "../types.js";
import { sys_brk } from "./brk.js";
import { exec_image } from "./exec.js";
import type { KernelModel } from "./kernel.js";
import { MmStruct, vma_list, type Vma } from "./mm.js";
import { sys_mmap } from "./mmap.js";
import { sys_mprotect } from "./mprotect.js";
import { sys_munmap } from "./munmap.js";
import { ulong } from "./uapi.js";

export class ProcessModel implements ProcessSim {
  readonly kernel: KernelModel;
  readonly mm: MmStruct;

  constructor(kernel: KernelModel, image: ProcessImage) {
    this.kernel = kernel;
    this.mm = new MmStruct(kernel);
    exec_image(this.mm, image);
  }

  mmap(addr: number, len: number, prot: number, flags: number, file: number, off: number): number {
    return sys_mmap(this.mm, ulong(addr), ulong(len), ulong(prot), ulong(flags), file, ulong(off));
  }

  munmap(addr: number, len: number): number {
    return sys_munmap(this.mm, ulong(addr), ulong(len));
  }

  mprotect(addr: number, len: number, prot: number): number {
    return sys_mprotect(this.mm, ulong(addr), ulong(len), ulong(prot));
  }

  brk(addr: number): number {
    return sys_brk(this.mm, ulong(addr));
  }

  vmas(): VmaSnapshot[] {
    return vma_list(this.mm).map(snapshotVma);
  }

  counters(): MmCounters {
    const mm = this.mm;
    return {
      map_count: mm.map_count,
      total_vm: mm.total_vm,
      data_vm: mm.data_vm,
      exec_vm: mm.exec_vm,
      stack_vm: mm.stack_vm,
      locked_vm: mm.locked_vm,
    };
  }

  layout(): MmLayout {
    const mm = this.mm;
    return {
      mmap_base: mm.mmap_base,
      task_size: mm.task_size,
      start_brk: mm.start_brk,
      brk: mm.brk,
      start_stack: mm.start_stack,
    };
  }
}

export function snapshotVma(v: Vma): VmaSnapshot {
  return {
    start: v.vm_start,
    end: v.vm_end,
    flags: v.vm_flags >>> 0,
    flagsHi: v.vm_flags_hi >>> 0,
    pgoff: v.vm_pgoff,
    file: v.vm_file ? v.vm_file.id : 0,
    anonVma: v.anon_vma ? v.anon_vma.id : 0,
    anonVmaRoot: v.anon_vma ? v.anon_vma.root.id : 0,
    anonName: v.anon_name,
    special: v.special,
  };
}
