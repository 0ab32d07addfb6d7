// The simulated kernel: kernel-wide settings (sysctls, boot parameters), the
// policy rules, open files, processes (tasks), and the kernel-wide memory
// objects: live pages and anon_vmas. Implements KernelSim.
//   mm/util.c sysctl_max_map_count, vm_committed_as; security/min_addr.c
//   mmap_min_addr; mm/mmap.c stack_guard_gap (v5.17).
//
// Identities are allocation-order counters per kernel, from 1: pids
// (createProcess, fork, cloneVm), mm ids (createProcess, fork, exec), page ids
// (page.ts), anon_vma ids (anon_vma.ts), file ids (createFile, image files,
// shmem objects).

import { PAGE_SIZE } from "../abi/constants.js";
import { defaultImage } from "../image.js";
import { KernelDisposedError } from "../types.js";
import type {
  AnonVmaSnapshot, CommitInfo, KernelConfig, KernelMemorySnapshot, KernelSim, PageRewriteStats, PageSnapshot, Policy, ProcessImage,
  ProcessSim,
} from "../types.js";
import { vm_commit_limit } from "./accounting.js";
import type { AnonVma } from "./anon_vma.js";
import { FMODE_READ, FMODE_WRITE, type KFile } from "./file.js";
import type { MmStruct } from "./mm.js";
import type { Page } from "./page.js";
import { policyRules, type PolicyRules } from "./policy.js";
import { ProcessModel } from "./process.js";
import { TaskCred } from "./resource.js";
import { shmem_setattr_size } from "./shmem.js";
import { type ResolvedConfig, checkChange, resolveConfig } from "../config/config.js";

export class KernelModel implements KernelSim {
  readonly policy: Policy;
  readonly rules: PolicyRules;
  /** vm.max_map_count */
  sysctl_max_map_count: number;
  /** vm.mmap_min_addr, bytes */
  mmap_min_addr: number;
  /** stack_guard_gap, bytes */
  stack_guard_gap: number;
  /**
   * Pages charged by security_vm_enough_memory_mm() and not yet given back
   * (Committed_AS) — for VM_ACCOUNT memory; shmem objects' own charge
   * (shmem_acct_size, shmem_acct_blocks) is not modelled. A sysctl write
   * (configure) never re-checks it.
   */
  vm_committed_as = 0;

  private readonly files = new Map<number, KFile>();
  private nextFileId = 1;

  nextPid = 1;
  nextMmId = 1;
  nextPageId = 1;
  nextAnonVmaId = 1;
  /**
   * Where anon_vmas live (AnonVma.slot): the slots of freed ones, the most
   * recently freed last, taken again first as SLUB's per-CPU freelist hands
   * out objects; and the next never-used slot.
   */
  readonly freeAnonVmaSlots: number[] = [];
  nextAnonVmaSlot = 1;
  /** live struct pages by id (the zero page is not one of them) */
  readonly pages = new Map<number, Page>();
  /** live anon_vmas by id */
  readonly anon_vmas = new Map<number, AnonVma>();
  /** every task ever created, in creation order (exited ones included) */
  readonly tasks: ProcessModel[] = [];
  /** what the policy's rules did to pages (seed.ts counts) */
  readonly page_rewrites: PageRewriteStats = { pagesReindexed: 0, pagesRepointed: 0, anonVmaRefsLeaked: 0, debugVmWarnings: 0 };

  /** every knob (src/config/config.ts); the fields above mirror the ones the rules read most */
  readonly cfg: ResolvedConfig;
  /** the task making the current call (resource.ts); a task with the configured limits until one does */
  current: TaskCred;

  constructor(config: KernelConfig) {
    this.policy = config.policy;
    this.rules = policyRules(config.policy);
    this.cfg = resolveConfig(config);
    this.sysctl_max_map_count = this.cfg.max_map_count;
    this.mmap_min_addr = this.cfg.mmap_min_addr;
    this.stack_guard_gap = this.cfg.stack_guard_gap_pages * PAGE_SIZE;
    this.current = TaskCred.initial(this.cfg);
  }

  private disposed = false;

  /** KernelSim.dispose(): later calls on this kernel or its processes throw. */
  dispose(): void {
    this.disposed = true;
  }

  /** Throws once the kernel was disposed (every entry point calls it). */
  live(): void {
    if (this.disposed) throw new KernelDisposedError();
  }

  config(): ResolvedConfig {
    return { ...this.cfg };
  }

  configure(change: Partial<KernelConfig>): void {
    this.live();
    const c = checkChange(change);
    Object.assign(this.cfg, c);
    this.sysctl_max_map_count = this.cfg.max_map_count;
    this.mmap_min_addr = this.cfg.mmap_min_addr;
    this.stack_guard_gap = this.cfg.stack_guard_gap_pages * PAGE_SIZE;
  }

  /** A new struct file (an O_RDWR open of a tmpfs-like file, or a shmem object). */
  newFile(path: string, sizePages: number, shmemZero: boolean): KFile {
    const file: KFile = {
      id: this.nextFileId++, path, sizePages, f_mode: FMODE_READ | FMODE_WRITE, shmemZero, f_count: 1, i_pages: new Map(),
    };
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
    this.live();
    return this.newFile(path, sizePages, false).id;
  }

  /** ftruncate(): shrinking unmaps and drops the pages beyond the new end (shmem.ts). */
  resizeFile(file: number, sizePages: number): void {
    this.live();
    if (!Number.isInteger(sizePages) || sizePages < 0) throw new RangeError(`bad file size: ${sizePages}`);
    shmem_setattr_size(this, this.file(file), sizePages);
  }

  fileSizePages(file: number): number {
    return this.file(file).sizePages;
  }

  filePath(file: number): string {
    return this.file(file).path;
  }

  setMaxMapCount(n: number): void {
    this.configure({ max_map_count: n });
  }

  maxMapCount(): number {
    return this.sysctl_max_map_count;
  }

  createProcess(image?: ProcessImage): ProcessModel {
    this.live();
    const cred = TaskCred.initial(this.cfg);
    return ProcessModel.create(this, image ?? this.execImage(cred), cred);
  }

  /** The default image as exec lays it out for a task: mmap_base follows its RLIMIT_STACK. */
  execImage(cred: TaskCred): ProcessImage {
    return defaultImage({ rlimitStack: cred.signal.rlim.stack.cur, stackGuardGapBytes: this.stack_guard_gap });
  }

  processes(): ProcessSim[] {
    return this.tasks.filter((t) => !t.exited);
  }

  /** The distinct mms of the live tasks, in order of first use. */
  live_mms(): MmStruct[] {
    const out: MmStruct[] = [];
    for (const t of this.tasks) {
      if (!t.exited && !out.includes(t.mm)) out.push(t.mm);
    }
    return out;
  }

  /** /proc/meminfo's Committed_AS and CommitLimit, in pages. */
  meminfo(): CommitInfo {
    return { committedAs: this.vm_committed_as, commitLimit: vm_commit_limit(this.cfg) };
  }

  pageRewrites(): PageRewriteStats {
    return { ...this.page_rewrites };
  }

  memory(): KernelMemorySnapshot {
    this.live();
    const pages: PageSnapshot[] = [...this.pages.values()].sort((a, b) => a.id - b.id).map((pg) => ({
      id: pg.id,
      anon: pg.anon,
      mapping: pg.mapping ? pg.mapping.id : 0,
      index: pg.index,
      mapcount: pg.mapcount,
      refcount: pg.refcount,
      content: pg.content,
    }));
    const anonVmas: AnonVmaSnapshot[] = [...this.anon_vmas.values()].sort((a, b) => a.id - b.id).map((av) => ({
      id: av.id,
      root: av.root.id,
      parent: av.parent.id,
      refcount: av.refcount,
      degree: av.degree,
      avcs: [...av.rb_root]
        .map((avc) => ({ mm: avc.vma.vm_mm.id, start: avc.start, end: avc.end, pgoff: avc.pgoff }))
        .sort((a, b) => a.mm - b.mm || a.start - b.start),
    }));
    return { pages, anonVmas };
  }

  private file(id: number): KFile {
    const f = this.files.get(id);
    if (!f) throw new Error(`no such file: ${id}`);
    return f;
  }
}
