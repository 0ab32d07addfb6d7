// The wasm engine behind the KernelSim / ProcessSim interfaces. One
// Simulator = one wasm instance = one simulated kernel (files, sysctls, any
// number of processes) under one policy.

import { instantiateSync } from "@assemblyscript/loader";
import { ANON_VMA_NAME_MAX_LEN, EFAULT, EINVAL, ENOMEM } from "../abi/constants.js";
import { defaultImage } from "../image.js";
import { Task } from "./task.js";
import type {
  AnonVmaSnapshot, Capability, CommitInfo, KernelConfig, KernelMemorySnapshot, KernelSim, MemorySnapshot, MmCounters, MmLayout, PageRewriteStats,
  PageSnapshot, PgtableSnapshot, Policy, ProcessImage, ProcessSim, PteSnapshot, Rlimit, RlimitResource, VmaSnapshot, VmaUsage,
} from "../types.js";
import { SyscallError } from "../types.js";
import {
  ANON_VMA_RECORD, CMD_CAPACITY, CMD_SLOTS, COUNTERS, type CoreExports, FAULT_NOT_MODELLED, FAULT_OUT_OF_MEMORY, OP, PAGE_RECORD,
  PAIR_RECORD, SNAP, SNAP_HEADER, SNAP_RECORD_SIZE, SPECIAL_KINDS, SPECIAL_NAMES, USAGE_RECORD, VM_OPS_FILE,
  VM_OPS_NONE, VM_OPS_SPECIAL,
} from "./abi.js";
import { type EngineBuild, type WasmSource, defaultBuild, loadEngine, loadModule } from "./load.js";
import { type MergeEvent, type MergeStats, decodeMergeEvent, decodeMergeStats } from "./merge_trace.js";
import { POLICY_SWITCHES } from "./policy.js";
import { type ResolvedConfig, checkChange, resolveConfig } from "../config/config.js";

/** The core stops a batch early when fewer event slots are left (assembly/index.ts TRACE_BATCH_MARGIN). */
const TRACE_BATCH_MARGIN = 4096;

/** The engine ran out of wasm memory: the operation did not run; the state is intact. */
export class EngineOutOfMemoryError extends Error {
  constructor(what: string) {
    super(`vmasim engine out of memory during ${what} (wasm linear memory cannot grow further)`);
    this.name = "EngineOutOfMemoryError";
  }
}

/** A user access vmasim does not model (the kernel pages of [vdso] and [vvar]). */
export class NotModelledAccessError extends Error {
  constructor(addr: number) {
    super(`vmasim: the access at 0x${addr.toString(16)} touches a special mapping ([vdso]/[vvar]), whose pages are not modelled`);
    this.name = "NotModelledAccessError";
  }
}

/** The engine trapped (a bug): this Simulator cannot be used any more. */
export class EnginePoisonedError extends Error {
  constructor(what: string, cause: unknown) {
    super(`vmasim engine trapped during ${what}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "EnginePoisonedError";
  }
}

export interface SimulatorOptions {
  /** which wasm build to run (default: release, or VMASIM_ENGINE=debug) */
  build?: EngineBuild;
  /** cap on the core's memory in bytes (default: the wasm32 maximum, 4 GiB) */
  memoryLimitBytes?: number;
  /** createKernel only: the engine itself (bytes, module, Response or URL) instead of the wasm beside the library */
  wasm?: WasmSource;
}

const TWO32 = 2 ** 32;

/** strndup_user(name, ANON_VMA_NAME_MAX_LEN) and is_valid_name_char() (kernel/sys.c). */
export function validAnonName(name: string): boolean {
  if (name.length >= ANON_VMA_NAME_MAX_LEN) return false;
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c > 0x7e || ch === "\\" || ch === "`" || ch === "$" || ch === "[" || ch === "]") return false;
  }
  return true;
}

/** Syscall arguments must be integers (src/types.ts); the core converts them as C does. */
function int(name: string, x: number): number {
  if (!Number.isInteger(x)) throw new TypeError(`syscall argument ${name} is not an integer: ${x}`);
  return x;
}

export class Simulator implements KernelSim {
  readonly policy: Policy;
  readonly core: CoreExports;
  private poisoned: Error | null = null;
  private paths = new Map<number, string>();
  private pidSeq = 0;
  private live: Process[] = [];
  private names = new Map<string, number>();
  private nameById = [""];
  private cfg: ResolvedConfig;
  /** the task whose limits and capabilities the core holds as `current` (null: reload) */
  private loaded: { signal: object; caps: number } | null = null;
  private tracing = false;
  private events: MergeEvent[] = [];
  private buf: ArrayBuffer;
  private f64: Float64Array;
  private u32: Uint32Array;

  constructor(config: KernelConfig, options: SimulatorOptions = {}) {
    this.policy = config.policy;
    this.cfg = resolveConfig(config);
    const { exports } = instantiateSync(loadModule(options.build ?? defaultBuild()), {});
    this.core = exports as unknown as CoreExports;
    this.core._initialize();
    if (options.memoryLimitBytes !== undefined) this.core.engine_memory_limit(Math.max(1, Math.floor(options.memoryLimitBytes / 65536)));
    const sw = POLICY_SWITCHES[config.policy];
    if (!sw) throw new Error(`unknown policy: ${String(config.policy)}`);
    this.core.kernel_policy(sw.release, sw.anonMerge, sw.mergePages, sw.movePgoff, sw.relocateAnon);
    this.core.kernel_config(this.cfg.max_map_count, this.cfg.mmap_min_addr, this.cfg.stack_guard_gap_pages);
    this.core.kernel_ignore_rlimit_data(this.cfg.ignore_rlimit_data ? 1 : 0);
    this.core.kernel_zero_page(this.cfg.zero_page ? 1 : 0);
    this.setOvercommit();
    this.buf = this.core.memory.buffer;
    this.f64 = new Float64Array(this.buf);
    this.u32 = new Uint32Array(this.buf);
  }

  /** Typed views over the core's memory, re-made when memory grew (growth detaches them). */
  views(): { f64: Float64Array; u32: Uint32Array } {
    const b = this.core.memory.buffer;
    if (b !== this.buf) {
      this.buf = b;
      this.f64 = new Float64Array(b);
      this.u32 = new Uint32Array(b);
    }
    return { f64: this.f64, u32: this.u32 };
  }

  /**
   * Run a core call, turning traps and (unless the caller handles it)
   * memory exhaustion into clear errors.
   */
  call<T>(what: string, fn: () => T, checkOom = true): T {
    if (this.poisoned) throw this.poisoned;
    let r: T;
    try {
      r = fn();
    } catch (e) {
      this.poisoned = new EnginePoisonedError(what, e);
      throw this.poisoned;
    }
    if (checkOom && this.core.engine_take_oom()) throw new EngineOutOfMemoryError(what);
    return r;
  }

  /**
   * A syscall into the core. Running out of wasm memory surfaces as -ENOMEM
   * (with the core's flag set), so the flag is only read for that result.
   */
  syscall(what: string, fn: () => number): number {
    const r = this.call(what, fn, false);
    if (r === -ENOMEM && this.core.engine_take_oom()) throw new EngineOutOfMemoryError(what);
    if (this.tracing) this.drainMergeEvents();
    return r;
  }

  createFile(path: string, sizePages: number): number {
    const shmem = path.startsWith("/memfd:") || path.startsWith("/dev/shm/") || path.startsWith("/tmp/") ? 1 : 0;
    const id = this.call("createFile", () => this.core.file_open(sizePages, shmem));
    if (id === 0) throw new EngineOutOfMemoryError("createFile");
    this.paths.set(id, path);
    return id;
  }

  resizeFile(file: number, sizePages: number): void {
    if (!this.call("resizeFile", () => this.core.file_resize(file, sizePages))) throw new Error(`no such file: ${file}`);
  }

  fileSizePages(file: number): number {
    const s = this.call("fileSizePages", () => this.core.file_size(file));
    if (s < 0) throw new Error(`no such file: ${file}`);
    return s;
  }

  filePath(file: number): string {
    return this.paths.get(file) ?? "/dev/zero (deleted)";
  }

  setMaxMapCount(n: number): void {
    this.configure({ max_map_count: n });
  }

  maxMapCount(): number {
    return this.cfg.max_map_count;
  }

  config(): ResolvedConfig {
    return { ...this.cfg };
  }

  configure(change: Partial<KernelConfig>): void {
    const c = checkChange(change);
    Object.assign(this.cfg, c);
    const cfg = this.cfg;
    this.call("configure", () => this.core.kernel_config(cfg.max_map_count, cfg.mmap_min_addr, cfg.stack_guard_gap_pages));
    this.call("configure", () => this.core.kernel_ignore_rlimit_data(cfg.ignore_rlimit_data ? 1 : 0));
    this.call("configure", () => this.core.kernel_zero_page(cfg.zero_page ? 1 : 0));
    this.call("configure", () => this.setOvercommit());
  }

  /** The overcommit knobs into the core (assembly/mm/commit.ts). */
  private setOvercommit(): void {
    const c = this.cfg;
    this.core.kernel_overcommit(c.overcommit_memory, c.overcommit_ratio, c.overcommit_kbytes, c.admin_reserve_kbytes,
      c.user_reserve_kbytes, c.totalram_pages, c.total_swap_pages);
  }

  /** /proc/meminfo's Committed_AS and CommitLimit, in pages. */
  meminfo(): CommitInfo {
    return {
      committedAs: this.call("meminfo", () => this.core.kernel_committed_as()),
      commitLimit: this.call("meminfo", () => this.core.kernel_commit_limit()),
    };
  }

  createProcess(image?: ProcessImage): Process {
    const task = Task.initial(this.cfg);
    return this.adopt(new Process(this, this.buildMm(image ?? this.imageFor(task)), ++this.pidSeq, task));
  }

  /** @internal the default image as exec lays it out for this task (mmap_base follows RLIMIT_STACK) */
  imageFor(task: Task): ProcessImage {
    return defaultImage({ rlimitStack: task.signal.stack.cur, stackGuardGapBytes: this.cfg.stack_guard_gap_pages * 4096 });
  }

  /** @internal make `task` the core's `current` (a no-op when it already is and nothing changed) */
  setCurrent(task: Task): void {
    const l = this.loaded;
    if (l && l.signal === task.signal && l.caps === task.caps) return;
    const a = task.coreArgs();
    this.call("task", () => this.core.task_current(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]));
    this.loaded = { signal: task.signal, caps: task.caps };
  }

  /** @internal a task's limits changed: reload before the next call */
  limitsChanged(): void {
    this.loaded = null;
  }

  /** A new mm holding the image's VMAs (as exec builds it); returns its handle. */
  buildMm(image: ProcessImage): number {
    const mm = this.call("createProcess", () => this.core.mm_new(image.mmap_base, image.start_brk, image.start_stack));
    if (mm === 0) throw new EngineOutOfMemoryError("createProcess");
    const fileIds = image.files.map((f) => this.createFile(f.path, f.sizePages));
    for (const v of image.vmas) {
      const file = v.fileIndex >= 0 ? fileIds[v.fileIndex] : 0;
      if (file === undefined) throw new Error(`process image: VMA at 0x${v.start.toString(16)} names file ${v.fileIndex}, which the image does not have`);
      const ops = v.special ? VM_OPS_SPECIAL : v.fileIndex >= 0 ? VM_OPS_FILE : VM_OPS_NONE;
      const special = v.special ? SPECIAL_KINDS[v.special] ?? 0 : 0;
      const r = this.call("createProcess", () => this.core.mm_insert_image_vma(mm, v.start, v.end,
        v.flags >>> 0, Math.floor(v.flags / TWO32), v.pgoff, file, ops, special, v.faulted ? 1 : 0), false);
      if (r === -2) {
        this.core.engine_take_oom();
        throw new EngineOutOfMemoryError("createProcess");
      }
      if (r !== 0) throw new Error(`process image: invalid or overlapping VMA 0x${v.start.toString(16)}-0x${v.end.toString(16)}`);
    }
    // the image's files stay open (their page cache outlives the process, as a
    // shared library's does), exactly as the reference model keeps them
    return mm;
  }

  /** @internal a new task joins the kernel's list */
  adopt(p: Process): Process {
    this.live.push(p);
    return p;
  }

  /** @internal a task leaves it */
  forget(p: Process): void {
    this.live = this.live.filter((q) => q !== p);
  }

  /** @internal anon VMA names are interned: equal strings, equal ids (what merging compares) */
  internName(name: string): number {
    let id = this.names.get(name);
    if (id === undefined) {
      id = this.nameById.length;
      this.names.set(name, id);
      this.nameById.push(name);
    }
    return id;
  }

  /** @internal */
  nameOf(id: number): string | null {
    return id === 0 ? null : this.nameById[id] ?? null;
  }

  /** @internal the next pid */
  nextPid(): number {
    return ++this.pidSeq;
  }

  processes(): Process[] {
    return [...this.live];
  }

  /** Merge counters since this kernel was created (docs/policies.md, "Tracing"). */
  mergeStats(): MergeStats {
    const base = this.call("mergeStats", () => this.core.merge_counters()) >>> 3;
    return decodeMergeStats(this.views().f64, base);
  }

  /** The page rewrites of the seed policies (KernelSim.pageRewrites), from mergeStats(). */
  pageRewrites(): PageRewriteStats {
    const s = this.mergeStats();
    return { pagesReindexed: s.pagesReindexed, pagesRepointed: s.pagesRepointed, anonVmaRefsLeaked: s.anonVmaRefsLeaked, debugVmWarnings: s.debugVmWarnings };
  }

  /** Record merge events from now on, with room for `capacity` between drains (0 stops). */
  traceMerges(capacity = 1 << 16): void {
    if (capacity > 0 && capacity <= TRACE_BATCH_MARGIN) throw new RangeError(`trace capacity must exceed ${TRACE_BATCH_MARGIN}`);
    const ok = this.call("traceMerges", () => this.core.trace_enable(capacity));
    if (!ok) throw new EngineOutOfMemoryError("traceMerges");
    this.tracing = capacity > 0;
    this.events = [];
  }

  /** The merge events recorded since the last call, oldest first. */
  takeMergeEvents(): MergeEvent[] {
    this.drainMergeEvents();
    const e = this.events;
    this.events = [];
    return e;
  }

  /** Move the core's pending events to the host; losing any is an error, never silent. */
  drainMergeEvents(): void {
    if (!this.tracing) return;
    const core = this.core;
    const n = core.trace_pending();
    if (n) {
      const pids = new Map<number, number>();
      for (const p of this.live) if (!p.exited) pids.set(p.mm, p.pid);
      const f64 = this.views().f64;
      for (let i = 0; i < n; i++) {
        this.events.push(decodeMergeEvent(f64, core.trace_event(i) >>> 3, (mm) => pids.get(mm) ?? 0));
      }
      core.trace_consume(n);
    }
    const lost = core.trace_take_lost();
    if (lost) throw new Error(`merge trace: ${lost} events did not fit in the ring; call takeMergeEvents() more often or raise the capacity`);
  }

  memory(): KernelMemorySnapshot {
    const pages = new Map<number, PageSnapshot>();
    {
      const base = this.reader("memory", () => this.core.kernel_pages());
      const { f64, u32 } = this.views();
      const i32 = new Int32Array(u32.buffer);
      const n = u32[base >>> 2];
      for (let i = 0; i < n; i++) {
        const r = base + SNAP_HEADER + i * PAGE_RECORD;
        const id = u32[r >>> 2];
        if (pages.has(id)) continue;
        const flags = u32[(r + 4) >>> 2];
        pages.set(id, {
          id, anon: (flags & 1) !== 0, mapping: u32[(r + 8) >>> 2], index: f64[(r + 24) >>> 3],
          mapcount: i32[(r + 12) >>> 2], refcount: i32[(r + 16) >>> 2], content: u32[(r + 20) >>> 2],
        });
      }
    }
    const avs = new Map<number, AnonVmaSnapshot>();
    {
      const base = this.reader("memory", () => this.core.kernel_anon_vmas());
      const { f64, u32 } = this.views();
      const i32 = new Int32Array(u32.buffer);
      const n = u32[base >>> 2];
      let cur: AnonVmaSnapshot | null = null;
      let skipping = false;
      for (let i = 0; i < n; i++) {
        const r = base + SNAP_HEADER + i * ANON_VMA_RECORD;
        const id = u32[r >>> 2];
        if (u32[(r + 20) >>> 2] === 0) {
          skipping = avs.has(id);
          if (skipping) continue;
          cur = { id, root: u32[(r + 4) >>> 2], parent: u32[(r + 8) >>> 2], refcount: i32[(r + 12) >>> 2], degree: i32[(r + 16) >>> 2], avcs: [] };
          avs.set(id, cur);
        } else if (!skipping && cur) {
          cur.avcs.push({ mm: u32[(r + 4) >>> 2], start: f64[(r + 24) >>> 3], end: f64[(r + 32) >>> 3], pgoff: f64[(r + 40) >>> 3] });
        }
      }
    }
    for (const av of avs.values()) av.avcs.sort((a, b) => a.mm - b.mm || a.start - b.start);
    return {
      pages: [...pages.values()].sort((a, b) => a.id - b.id),
      anonVmas: [...avs.values()].sort((a, b) => a.id - b.id),
    };
  }

  /**
   * The engine's own rmap walk (rmap_walk_anon + vma_address) run from every
   * mapped anonymous page: how many PTEs map a page whose walk does not find
   * exactly page_mapcount() mappings. 0 when the reverse map is complete.
   */
  rmapCheck(): number {
    return this.call("rmapCheck", () => this.core.kernel_rmap_check());
  }

  /** @internal call a snapshot reader; 0 means the core could not allocate its buffer */
  reader(what: string, fn: () => number): number {
    const base = this.call(what, fn);
    if (base === 0) throw new EngineOutOfMemoryError(what);
    return base;
  }

  /** Every live anon_vma object, linked to a VMA or not (KernelSim.anonVmasLive). */
  anonVmasLive(): number {
    return this.stats().anonVmas;
  }

  /** Live record counts and memory use of the core (for leak tests and benchmarks). */
  stats(): {
    vmas: number; mms: number; files: number; bytesAllocated: number; memoryBytes: number;
    pages: number; anonVmas: number; avcs: number; pgtables: number;
  } {
    const p = this.call("stats", () => this.core.engine_stats()) >>> 3;
    const f = this.views().f64;
    return {
      vmas: f[p], mms: f[p + 1], files: f[p + 2], bytesAllocated: f[p + 3], memoryBytes: f[p + 4],
      pages: f[p + 5], anonVmas: f[p + 6], avcs: f[p + 7], pgtables: f[p + 8],
    };
  }
}

export class Process implements ProcessSim {
  private _exited = false;

  constructor(readonly kernel: Simulator, private _mm: number, readonly pid: number, private readonly task: Task) {}

  /** The core's handle of this task's mm (changes on exec). */
  get mm(): number {
    if (this._exited) throw new Error(`process ${this.pid} has exited`);
    return this._mm;
  }

  /** The mm, with this task made the core's `current` (for every call that may check a limit). */
  private get cur(): number {
    const mm = this.mm;
    this.kernel.setCurrent(this.task);
    return mm;
  }

  getrlimit(resource: RlimitResource): Rlimit {
    void this.mm;
    return this.task.getrlimit(resource);
  }

  setrlimit(resource: RlimitResource, cur: number, max: number): number {
    void this.mm;
    const r = this.task.setrlimit(resource, cur, max);
    this.kernel.limitsChanged();
    return r;
  }

  capDrop(cap: Capability): void {
    void this.mm;
    this.task.drop(cap);
    this.kernel.limitsChanged();
  }

  capable(cap: Capability): boolean {
    void this.mm;
    return this.task.capable(cap);
  }

  get exited(): boolean {
    return this._exited;
  }

  touch(addr: number, write: boolean): number {
    int("addr", addr);
    const mm = this.cur;
    const r = this.kernel.call("touch", () => this.kernel.core.touch(mm, addr, write ? 1 : 0), false);
    if (r === FAULT_OUT_OF_MEMORY) {
      this.kernel.core.engine_take_oom();
      throw new EngineOutOfMemoryError("touch");
    }
    if (r === FAULT_NOT_MODELLED) throw new NotModelledAccessError(addr);
    return r;
  }

  peek(addr: number): number {
    int("addr", addr);
    const mm = this.cur;
    const r = this.kernel.call("peek", () => this.kernel.core.peek(mm, addr), false);
    if (r === FAULT_OUT_OF_MEMORY) {
      this.kernel.core.engine_take_oom();
      throw new EngineOutOfMemoryError("peek");
    }
    if (r === FAULT_NOT_MODELLED) throw new NotModelledAccessError(addr);
    return r;
  }

  fork(): Process {
    const mm = this.cur; // dup_mmap's commit charge asks current's CAP_SYS_ADMIN
    const child = this.kernel.call("fork", () => this.kernel.core.mm_fork(mm), false);
    if (child === 0) {
      // without the engine's flag, the kernel's refusal: the commit charge (dup_mmap)
      if (!this.kernel.core.engine_take_oom()) throw new SyscallError("fork", ENOMEM);
      throw new EngineOutOfMemoryError("fork");
    }
    return this.kernel.adopt(new Process(this.kernel, child, this.kernel.nextPid(), this.task.clone(false)));
  }

  cloneVm(): Process {
    const mm = this.mm;
    this.kernel.call("cloneVm", () => this.kernel.core.mm_get(mm));
    return this.kernel.adopt(new Process(this.kernel, mm, this.kernel.nextPid(), this.task.clone(true)));
  }

  exit(): void {
    const mm = this.mm;
    this.kernel.call("exit", () => this.kernel.core.mm_put(mm));
    this._exited = true;
    this.kernel.forget(this);
  }

  exec(image?: ProcessImage): void {
    const old = this.mm;
    const mm = this.kernel.buildMm(image ?? this.kernel.imageFor(this.task));
    this._mm = mm;
    this.kernel.call("exec", () => this.kernel.core.mm_put(old));
  }

  usage(): VmaUsage[] {
    const mm = this.mm;
    const base = this.kernel.reader("usage", () => this.kernel.core.mm_usage(mm));
    const { f64, u32 } = this.kernel.views();
    const n = u32[base >>> 2];
    const out: VmaUsage[] = [];
    for (let i = 0; i < n; i++) {
      const r = (base + SNAP_HEADER + i * USAGE_RECORD) >>> 3;
      out.push({ rss: f64[r], anon: f64[r + 1], locked: f64[r + 2] });
    }
    return out;
  }

  memory(): MemorySnapshot {
    const mm = this.mm;
    const core = this.kernel.core;
    const chains: MemorySnapshot["chains"] = this.vmas().map((v) => ({ start: v.start, end: v.end, anonVma: v.anonVma, chain: [] }));
    const byStart = new Map(chains.map((c) => [c.start, c]));
    this.pairs("memory", () => core.mm_chains(mm), (a, b) => byStart.get(a)?.chain.push(b));
    const ptes: PteSnapshot[] = [];
    this.pairs("memory", () => core.mm_ptes(mm), (a, b, c) => ptes.push({ addr: a, page: b, write: c !== 0 }));
    const pgtables: PgtableSnapshot[] = [];
    this.pairs("memory", () => core.mm_pgtables(mm), (a, b) => pgtables.push({ level: b, addr: a }));
    pgtables.sort((x, y) => x.level - y.level || x.addr - y.addr);
    const p = this.kernel.call("memory", () => core.mm_counters(mm)) >>> 3;
    const f = this.kernel.views().f64;
    return {
      mm: f[p + COUNTERS.mm_id], chains, ptes, pgtables, pgtablesAccounted: f[p + COUNTERS.pgtables],
      rssAnon: f[p + COUNTERS.rss_anon], rssFile: f[p + COUNTERS.rss_file],
    };
  }

  /** Read 16-byte (f64, u32, u32) records of a reader. */
  private pairs(what: string, fn: () => number, each: (a: number, b: number, c: number) => void): void {
    const base = this.kernel.reader(what, fn);
    const { f64, u32 } = this.kernel.views();
    const n = u32[base >>> 2];
    for (let i = 0; i < n; i++) {
      const r = base + SNAP_HEADER + i * PAIR_RECORD;
      each(f64[r >>> 3], u32[(r + 8) >>> 2], u32[(r + 12) >>> 2]);
    }
  }

  mmap(addr: number, len: number, prot: number, flags: number, file: number, off: number): number {
    const c = this.kernel.core;
    int("addr", addr); int("len", len); int("prot", prot); int("flags", flags); int("file", file); int("off", off);
    return this.kernel.syscall("mmap", () => c.mmap(this.cur, addr, len, prot >>> 0, flags >>> 0, file < 0 || file >= TWO32 ? 0 : file, off));
  }

  munmap(addr: number, len: number): number {
    const c = this.kernel.core;
    int("addr", addr); int("len", len);
    return this.kernel.syscall("munmap", () => c.munmap(this.cur, addr, len));
  }

  mprotect(addr: number, len: number, prot: number): number {
    const c = this.kernel.core;
    int("addr", addr); int("len", len); int("prot", prot);
    return this.kernel.syscall("mprotect", () => c.mprotect(this.cur, addr, len, prot >>> 0));
  }

  mremap(addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
    const c = this.kernel.core;
    int("addr", addr); int("oldLen", oldLen); int("newLen", newLen); int("flags", flags); int("newAddr", newAddr);
    return this.kernel.syscall("mremap", () => c.mremap(this.cur, addr, oldLen, newLen, flags >>> 0, newAddr));
  }

  madvise(addr: number, len: number, advice: number): number {
    const c = this.kernel.core;
    int("addr", addr); int("len", len); int("advice", advice);
    const r = this.kernel.syscall("madvise", () => c.madvise(this.cur, addr, len, advice | 0));
    // MADV_POPULATE_* over [vdso]: the kernel would fault its pages in; vmasim has none
    if (r === -EFAULT && c.engine_take_not_modelled()) throw new NotModelledAccessError(addr);
    return r;
  }

  mlock(addr: number, len: number, flags: number): number {
    const c = this.kernel.core;
    int("addr", addr); int("len", len); int("flags", flags);
    return this.kernel.syscall("mlock", () => c.mlock(this.cur, addr, len, flags >>> 0));
  }

  munlock(addr: number, len: number): number {
    const c = this.kernel.core;
    int("addr", addr); int("len", len);
    return this.kernel.syscall("munlock", () => c.munlock(this.cur, addr, len));
  }

  mlockall(flags: number): number {
    const c = this.kernel.core;
    int("flags", flags);
    return this.kernel.syscall("mlockall", () => c.mlockall(this.cur, flags >>> 0));
  }

  munlockall(): number {
    const c = this.kernel.core;
    return this.kernel.syscall("munlockall", () => c.munlockall(this.cur));
  }

  setAnonName(addr: number, len: number, name: string | null): number {
    const c = this.kernel.core;
    int("addr", addr); int("len", len);
    // the name is a C string: it ends at its first NUL
    const cname = name === null ? null : name.split("\0")[0];
    if (cname !== null && !validAnonName(cname)) return -EINVAL;
    const id = cname === null ? 0 : this.kernel.internName(cname);
    return this.kernel.syscall("setAnonName", () => c.set_anon_name(this.cur, addr, len, id));
  }

  mseal(addr: number, len: number, flags: number): number {
    const c = this.kernel.core;
    int("addr", addr); int("len", len); int("flags", flags);
    // mseal(2) arrived in 6.10: the core answers ENOSYS under linux-5.17
    return this.kernel.syscall("mseal", () => c.mseal(this.cur, addr, len, flags));
  }

  brk(addr: number): number {
    const c = this.kernel.core;
    int("addr", addr);
    const r = this.kernel.call("brk", () => c.brk(this.cur, addr), false);
    // brk reports failure by returning the old break: read the flag every time
    if (this.kernel.core.engine_take_oom()) throw new EngineOutOfMemoryError("brk");
    return r;
  }

  vmas(): VmaSnapshot[] {
    const mm = this.mm;
    const base = this.kernel.reader("vmas", () => this.kernel.core.mm_snapshot(mm));
    const { f64, u32 } = this.kernel.views();
    const n = u32[base >>> 2];
    const out: VmaSnapshot[] = [];
    for (let i = 0; i < n; i++) {
      const r = base + SNAP_HEADER + i * SNAP_RECORD_SIZE;
      const ops = u32[(r + SNAP.ops) >>> 2];
      const special = u32[(r + SNAP.special) >>> 2];
      out.push({
        start: f64[(r + SNAP.start) >>> 3],
        end: f64[(r + SNAP.end) >>> 3],
        pgoff: f64[(r + SNAP.pgoff) >>> 3],
        flags: u32[(r + SNAP.flagsLo) >>> 2],
        flagsHi: u32[(r + SNAP.flagsHi) >>> 2],
        file: u32[(r + SNAP.file) >>> 2],
        anonVma: u32[(r + SNAP.anonVma) >>> 2],
        anonVmaRoot: u32[(r + SNAP.anonRoot) >>> 2],
        anonName: this.kernel.nameOf(u32[(r + SNAP.anonName) >>> 2]),
        special: ops === VM_OPS_SPECIAL ? SPECIAL_NAMES[special] ?? "[special]" : null,
      });
    }
    return out;
  }

  counters(): MmCounters {
    const p = this.kernel.call("counters", () => this.kernel.core.mm_counters(this.mm)) >>> 3;
    const f = this.kernel.views().f64;
    return { map_count: f[p], total_vm: f[p + 1], data_vm: f[p + 2], exec_vm: f[p + 3], stack_vm: f[p + 4], locked_vm: f[p + 5] };
  }

  layout(): MmLayout {
    const p = this.kernel.call("layout", () => this.kernel.core.mm_counters(this.mm)) >>> 3;
    const f = this.kernel.views().f64;
    return { mmap_base: f[p + 6], task_size: f[p + 7], start_brk: f[p + 8], brk: f[p + 9], start_stack: f[p + 10] };
  }

  /** Internal consistency of the core's VMA list and tree: 0 = OK, else a violation code. */
  checkInternal(): number {
    return this.kernel.call("checkInternal", () => this.kernel.core.mm_check(this.mm));
  }

  /**
   * Run encoded syscalls in one call (the replay fast path). Each command is
   * [op, ...args] with op one of "mmap" | "munmap" | "mprotect" | "brk" |
   * "mremap" | "madvise" | "touch" | "mlock" | "munlock" and the arguments of
   * the matching method (touch: addr, 1 for a write; the file of mmap: its
   * identity or 0). Returns the results in order; a touch of a special mapping
   * gives -2 (not modelled).
   */
  batch(cmds: readonly (readonly [keyof typeof OP, ...number[]])[]): number[] {
    const core = this.kernel.core;
    const results: number[] = [];
    for (let at = 0; at < cmds.length;) {
      const n = Math.min(CMD_CAPACITY, cmds.length - at);
      const cmdBase = core.cmd_buffer() >>> 3;
      let f64 = this.kernel.views().f64;
      for (let i = 0; i < n; i++) {
        const c = cmds[at + i];
        const o = cmdBase + i * CMD_SLOTS;
        f64[o] = OP[c[0]];
        f64[o + 1] = this.cur;
        for (let k = 1; k < CMD_SLOTS - 1; k++) f64[o + 1 + k] = (c[k] as number | undefined) ?? 0;
      }
      const ran = this.kernel.call("batch", () => core.run_batch(n), false);
      f64 = this.kernel.views().f64;
      const resBase = core.result_buffer() >>> 3;
      for (let i = 0; i < ran; i++) results.push(f64[resBase + i]);
      if (ran < n) {
        const op = cmds[at + ran][0];
        if (!(op in OP)) throw new Error(`batch: unknown op '${String(op)}' at index ${at + ran}`);
        if (core.engine_take_oom()) {
          const err = new EngineOutOfMemoryError(`batch command ${at + ran} (${op})`);
          (err as EngineOutOfMemoryError & { completed: number[] }).completed = results;
          throw err;
        }
        // the core stopped early so that the merge-event ring can be drained
        this.kernel.drainMergeEvents();
      }
      at += ran;
    }
    return results;
  }
}

/** A simulated kernel running on the wasm engine. */
export function createKernelSync(config: KernelConfig, options: SimulatorOptions = {}): Simulator {
  return new Simulator(config, options);
}

/** A simulated kernel running on the wasm engine (async: a browser fetches and compiles the engine first). */
export async function createKernel(config: KernelConfig, options: SimulatorOptions = {}): Promise<Simulator> {
  await loadEngine(options.wasm, options.build ?? defaultBuild());
  return new Simulator(config, options);
}
