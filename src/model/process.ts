// One task of the model and its address space: the syscall entry points, the
// user accesses (touch / peek), fork / clone(CLONE_VM) / exit / execve, and
// the state snapshots of ProcessSim. Syscall arguments cross the boundary as
// unsigned longs (uapi.ts); the work is done by the files named after the
// kernel's (mmap.ts, munmap.ts, mprotect.ts, brk.ts, mremap.ts, madvise.ts,
// mlock.ts, anon_name.ts, fault.ts, fork.ts, exit.ts, exec.ts).
//
// Tasks and mms: fork() gives the child a new mm (dup_mm()); cloneVm() a new
// task on the same mm (mm_users + 1: a thread, or a vfork child); exit() drops
// the task's use of its mm (mmput(): exit_mmap() when it was the last one);
// exec() builds a new mm from the image and then drops the old one. Decision:
// exec() replaces only the calling task's mm — other tasks sharing the old mm
// keep it (the vfork case; the kernel's de_thread() killing the other threads
// of the same thread group is not modelled, since cloneVm() does not say
// which of the two it is).

import { ENOMEM, ENOSYS, SIGSEGV, TASK_SIZE } from "../abi/constants.js";
import { SyscallError } from "../types.js";
import { defaultImage } from "../image.js";
import type {
  Capability, MemorySnapshot, Rlimit, RlimitResource, MmCounters, MmLayout, ProcessImage, ProcessSim, VmaSnapshot, VmaUsage,
} from "../types.js";
import { prctl_set_vma_anon_name } from "./anon_name.js";
import { sys_brk } from "./brk.js";
import { exec_image } from "./exec.js";
import { mmput } from "./exit.js";
import { user_access } from "./fault.js";
import { dup_mm } from "./fork.js";
import type { KernelModel } from "./kernel.js";
import { MmStruct, vma_list, type Vma } from "./mm.js";
import { sys_madvise } from "./madvise.js";
import { sys_mlock2, sys_mlockall, sys_munlock, sys_munlockall } from "./mlock.js";
import { sys_mmap } from "./mmap.js";
import { sys_mprotect } from "./mprotect.js";
import { sys_mremap } from "./mremap.js";
import { sys_munmap } from "./munmap.js";
import { pgtable_list, ptes_in_range } from "./pgtable.js";
import { type TaskCred, checkCapability, do_getrlimit, do_setrlimit } from "./resource.js";
import { smap_usage } from "./smaps.js";
import { ulong } from "./uapi.js";
import { checkArg, checkNameArg } from "../abi/args.js";

export class ProcessModel implements ProcessSim {
  readonly kernel: KernelModel;
  readonly pid: number;
  /** The task's mm (replaced by exec()). */
  mm: MmStruct;
  private dead = false;

  /** Its thread group's limits and its capabilities. */
  readonly cred: TaskCred;

  /** A task using `mm` (whose mm_users the caller has already counted). */
  constructor(kernel: KernelModel, mm: MmStruct, cred: TaskCred) {
    this.kernel = kernel;
    this.mm = mm;
    this.cred = cred;
    this.pid = kernel.nextPid++;
    kernel.tasks.push(this);
  }

  /** A new process running `image`. */
  static create(kernel: KernelModel, image: ProcessImage, cred: TaskCred): ProcessModel {
    const mm = new MmStruct(kernel);
    exec_image(mm, image);
    return new ProcessModel(kernel, mm, cred);
  }

  get exited(): boolean {
    return this.dead;
  }

  /** The mm, for every operation of a live task; the task becomes `current`. */
  private live(): MmStruct {
    if (this.dead) throw new Error(`process ${this.pid} has exited`);
    this.kernel.live();
    this.kernel.current = this.cred;
    return this.mm;
  }

  getrlimit(resource: RlimitResource): Rlimit {
    this.live();
    return do_getrlimit(this.cred, resource);
  }

  setrlimit(resource: RlimitResource, cur: number, max: number): number {
    this.live();
    return do_setrlimit(this.cred, resource, cur, max);
  }

  capDrop(cap: Capability): void {
    this.live();
    this.cred.caps.delete(checkCapability(cap));
  }

  capable(cap: Capability): boolean {
    this.live();
    return this.cred.caps.has(checkCapability(cap));
  }

  mmap(addr: number, len: number, prot: number, flags: number, file: number, off: number): number {
    const mm = this.live();
    checkArg("mmap", "file", file);
    return sys_mmap(mm, u("mmap", "addr", addr), u("mmap", "len", len), u("mmap", "prot", prot), u("mmap", "flags", flags), file, u("mmap", "off", off));
  }

  munmap(addr: number, len: number): number {
    return sys_munmap(this.live(), u("munmap", "addr", addr), u("munmap", "len", len));
  }

  mprotect(addr: number, len: number, prot: number): number {
    return sys_mprotect(this.live(), u("mprotect", "addr", addr), u("mprotect", "len", len), u("mprotect", "prot", prot));
  }

  brk(addr: number): number {
    return sys_brk(this.live(), u("brk", "addr", addr));
  }

  mremap(addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
    return sys_mremap(this.live(), u("mremap", "addr", addr), u("mremap", "oldLen", oldLen), u("mremap", "newLen", newLen), u("mremap", "flags", flags),
      u("mremap", "newAddr", newAddr));
  }

  madvise(addr: number, len: number, advice: number): number {
    return sys_madvise(this.live(), u("madvise", "addr", addr), u("madvise", "len", len), u("madvise", "advice", advice));
  }

  /** mlock(2) with flags 0 is mlock2(2) with flags 0: the same do_mlock(). */
  mlock(addr: number, len: number, flags: number): number {
    return sys_mlock2(this.live(), u("mlock", "addr", addr), u("mlock", "len", len), u("mlock", "flags", flags));
  }

  munlock(addr: number, len: number): number {
    return sys_munlock(this.live(), u("munlock", "addr", addr), u("munlock", "len", len));
  }

  mlockall(flags: number): number {
    return sys_mlockall(this.live(), u("mlockall", "flags", flags));
  }

  munlockall(): number {
    return sys_munlockall(this.live());
  }

  setAnonName(addr: number, len: number, name: string | null): number {
    const mm = this.live();
    const start = u("setAnonName", "addr", addr), length = u("setAnonName", "len", len);
    checkNameArg("setAnonName", "name", name);
    return prctl_set_vma_anon_name(mm, start, length, name);
  }

  /** mseal(2) does not exist in v5.17: ENOSYS. */
  mseal(addr: number, len: number, flags: number): number {
    this.live();
    checkArg("mseal", "addr", addr);
    checkArg("mseal", "len", len);
    checkArg("mseal", "flags", flags);
    return -ENOSYS;
  }

  touch(addr: number, write: boolean): number {
    const r = this.access("touch", addr, write);
    return r < 0 ? -r : 0;
  }

  peek(addr: number): number {
    return this.access("peek", addr, false);
  }

  /** A user access: the byte (after a write: its new value), or -signal. A kernel address is SIGSEGV. */
  private access(call: string, addr: number, write: boolean): number {
    const mm = this.live();
    const a = u(call, "addr", addr);
    if (a >= BigInt(TASK_SIZE)) return -SIGSEGV;
    return user_access(mm, Number(a), write);
  }

  fork(): ProcessSim {
    const mm = dup_mm(this.live());
    if (!mm) throw new SyscallError("fork", ENOMEM);
    return new ProcessModel(this.kernel, mm, this.cred.copy(false));
  }

  cloneVm(): ProcessSim {
    const mm = this.live();
    mm.mm_users++;
    return new ProcessModel(this.kernel, mm, this.cred.copy(true));
  }

  exit(): void {
    const mm = this.live();
    this.dead = true;
    mmput(mm);
  }

  exec(image?: ProcessImage): void {
    const old = this.live();
    const mm = new MmStruct(this.kernel);
    exec_image(mm, image ?? this.kernel.execImage(this.cred));
    this.mm = mm;
    mmput(old);
  }

  vmas(): VmaSnapshot[] {
    return vma_list(this.live()).map(snapshotVma);
  }

  usage(): VmaUsage[] {
    return vma_list(this.live()).map(smap_usage);
  }

  anonVmaAddresses(): { anonVma: number; root: number }[] {
    return vma_list(this.live()).map((v) => ({ anonVma: v.anon_vma?.slot ?? 0, root: v.anon_vma?.root.slot ?? 0 }));
  }

  counters(): MmCounters {
    const mm = this.live();
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
    const mm = this.live();
    return {
      mmap_base: mm.mmap_base,
      task_size: mm.task_size,
      start_brk: mm.start_brk,
      brk: mm.brk,
      start_stack: mm.start_stack,
    };
  }

  memory(): MemorySnapshot {
    const mm = this.live();
    return {
      mm: mm.id,
      chains: vma_list(mm).map((v) => ({
        start: v.vm_start,
        end: v.vm_end,
        anonVma: v.anon_vma ? v.anon_vma.id : 0,
        chain: v.anon_vma_chain.map((avc) => avc.anon_vma.id),
      })),
      ptes: ptes_in_range(mm, 0, Infinity).map(({ addr, pte }) => ({ addr, page: pte.page ? pte.page.id : 0, write: pte.write })),
      pgtables: pgtable_list(mm),
      pgtablesAccounted: mm.pgtables.accounted,
      rssAnon: mm.rss_anon,
      rssFile: mm.rss_file,
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

/** A syscall argument as the kernel sees it, after the boundary check both implementations share (src/abi/args.ts). */
function u(call: string, name: string, x: number): bigint {
  checkArg(call, name, x);
  return ulong(x);
}
