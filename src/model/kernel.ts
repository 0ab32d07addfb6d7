// The simulated kernel: kernel-wide settings (sysctls, boot parameters), the
// policy rules, open files, and processes. Implements KernelSim.
//   mm/util.c sysctl_max_map_count, vm_committed_as; security/min_addr.c
//   mmap_min_addr; mm/mmap.c stack_guard_gap (v5.17).

import { DEFAULT_MAX_MAP_COUNT, PAGE_SIZE, STACK_GUARD_GAP_PAGES } from "../abi/constants.js";
import { defaultImage } from "../image.js";
import type { KernelConfig, KernelSim, Policy, ProcessImage, ProcessSim } from "../types.js";
import { FMODE_READ, FMODE_WRITE, type KFile } from "./file.js";
import { policyRules, type PolicyRules } from "./policy.js";
import { ProcessModel } from "./process.js";

export const DEFAULT_MMAP_MIN_ADDR = 65536;

export class KernelModel implements KernelSim {
  readonly policy: Policy;
  readonly rules: PolicyRules;
  /** vm.max_map_count */
  sysctl_max_map_count: number;
  /** vm.mmap_min_addr, bytes */
  readonly mmap_min_addr: number;
  /** stack_guard_gap, bytes */
  readonly stack_guard_gap: number;
  /**
   * Pages charged by security_vm_enough_memory_mm() and not yet given back
   * (Committed_AS) — for VM_ACCOUNT memory; shmem objects' own charge
   * (shmem_acct_size) is not modelled.
   */
  vm_committed_as = 0;

  private readonly files = new Map<number, KFile>();
  private nextFileId = 1;

  constructor(config: KernelConfig) {
    this.policy = config.policy;
    this.rules = policyRules(config.policy);
    this.sysctl_max_map_count = config.max_map_count ?? DEFAULT_MAX_MAP_COUNT;
    this.mmap_min_addr = config.mmap_min_addr ?? DEFAULT_MMAP_MIN_ADDR;
    this.stack_guard_gap = (config.stack_guard_gap_pages ?? STACK_GUARD_GAP_PAGES) * PAGE_SIZE;
  }

  /** A new struct file (an O_RDWR open of a tmpfs-like file, or a shmem object). */
  newFile(path: string, sizePages: number, shmemZero: boolean): KFile {
    const file: KFile = { id: this.nextFileId++, path, sizePages, f_mode: FMODE_READ | FMODE_WRITE, shmemZero };
    this.files.set(file.id, file);
    return file;
  }

  /**
   * fget(fd): the struct file with this identity, or null. The shmem object of
   * a MAP_SHARED|MAP_ANONYMOUS mapping has no file descriptor, so it is not found.
   */
  fget(fd: number): KFile | null {
    const file = this.files.get(fd);
    return file && !file.shmemZero ? file : null;
  }

  createFile(path: string, sizePages: number): number {
    return this.newFile(path, sizePages, false).id;
  }

  resizeFile(file: number, sizePages: number): void {
    this.file(file).sizePages = sizePages;
  }

  fileSizePages(file: number): number {
    return this.file(file).sizePages;
  }

  filePath(file: number): string {
    return this.file(file).path;
  }

  setMaxMapCount(n: number): void {
    this.sysctl_max_map_count = n;
  }

  maxMapCount(): number {
    return this.sysctl_max_map_count;
  }

  createProcess(image?: ProcessImage): ProcessSim {
    return new ProcessModel(this, image ?? defaultImage());
  }

  private file(id: number): KFile {
    const f = this.files.get(id);
    if (!f) throw new Error(`no such file: ${id}`);
    return f;
  }
}
