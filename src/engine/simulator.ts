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
import { KernelDisposedError, SyscallError } from "../types.js";
import { argError, checkNameArg } from "../abi/args.js";
import {
  ANON_VMA_RECORD, BATCH_STRIDE, CMD_CAPACITY, COUNTERS, type CoreExports, FAULT_NOT_MODELLED, FAULT_OUT_OF_MEMORY, OP, PAGE_RECORD,
  PAIR_RECORD, SNAP, SNAP_HEADER, SNAP_RECORD_SIZE, SPECIAL_KINDS, USAGE_RECORD, VM_OPS_FILE,
  VM_OPS_NONE, VM_OPS_SPECIAL, decodeVmaRecord,
} from "./abi.js";
import { type EngineBuild, type WasmSource, defaultBuild, loadEngine, loadModule } from "./load.js";
import { type MergeEvent, type MergeStats, decodeMergeEvent, decodeMergeStats } from "./merge_trace.js";
import { KERNEL_POLICIES, POLICY_SWITCHES, kernelSwitches } from "./policy.js";
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
  /**
   * Run a mainline kernel policy (linux-*) as mainline at another release
   * (major*100+minor, one of KERNEL_RELEASES): `vmasim bisect` uses it. The
   * policy name stays; its switches become kernelSwitches(release).
   */
  release?: number;
}

const TWO32 = 2 ** 32;

/** What a disposed Simulator holds instead of its core: every use throws. */
const DISPOSED_CORE = new Proxy({} as CoreExports, {
  get() {
    throw new KernelDisposedError();
  },
});

/** strndup_user(name, ANON_VMA_NAME_MAX_LEN) and is_valid_name_char() (kernel/sys.c). */
export function validAnonName(name: string): boolean {
  if (name.length >= ANON_VMA_NAME_MAX_LEN) return false;
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c > 0x7e || ch === "\\" || ch === "`" || ch === "$" || ch === "[" || ch === "]") return false;
  }
  return true;
}

export class Simulator implements KernelSim {
  readonly policy: Policy;
  readonly core: CoreExports;
  /** @internal set when the core trapped or the kernel was disposed: every later call throws it */
  poisoned: Error | null = null;
  private paths = new Map<number, string>();
  private pidSeq = 0;
  private live: Process[] = [];
  private names = new Map<string, number>();
  private nameById = [""];
  private cfg: ResolvedConfig;
  /** the task whose limits and capabilities the core holds as `current` (null: reload) */
  private loaded: { signal: object; caps: number } | null = null;
  /** @internal merge events are being recorded */
  tracing = false;
  /**
   * @internal the ring room a syscall starts with: the host drains (decodes)
   * the ring only when less is left, at exit/exec and in takeMergeEvents()
   */
  traceKeep = 0;
  private events: MergeEvent[] = [];
  /** mm handle -> pid for decoding merge events (rebuilt when a task comes, goes or execs) */
  private pidByMm: Map<number, number> | null = null;
  private buf: ArrayBuffer;
  private f64: Float64Array;
  private u32: Uint32Array;

  constructor(config: KernelConfig, options: SimulatorOptions = {}) {
    this.policy = config.policy;
    this.cfg = resolveConfig(config);
    // the instance's own exports, not the loader's: the loader wraps every
    // export in a rest-argument closure (an array and a spread per call); its
    // imports (the debug build's abort) stay
    const { instance } = instantiateSync(loadModule(options.build ?? defaultBuild()), {});
    this.core = instance.exports as unknown as CoreExports;
    this.core._initialize();
    if (options.memoryLimitBytes !== undefined) this.core.engine_memory_limit(Math.max(1, Math.floor(options.memoryLimitBytes / 65536)));
    const named = POLICY_SWITCHES[config.policy];
    if (!named) throw new Error(`unknown policy: ${String(config.policy)}`);
    let sw = named;
    if (options.release !== undefined) {
      if (!KERNEL_POLICIES.includes(config.policy)) throw new RangeError(`the release option needs a mainline kernel policy (${KERNEL_POLICIES.join(", ")}), not ${config.policy}`);
      sw = kernelSwitches(options.release);
    }
    this.core.kernel_policy(sw.release, sw.anonMerge, sw.mergePages, sw.movePgoff, sw.relocateAnon, sw.stable);
    this.core.kernel_config(this.cfg.max_map_count, this.cfg.mmap_min_addr, this.cfg.stack_guard_gap_pages);
    this.core.kernel_ignore_rlimit_data(this.cfg.ignore_rlimit_data ? 1 : 0);
    this.core.kernel_zero_page(this.cfg.zero_page ? 1 : 0);
    this.setOvercommit();
    this.buf = this.core.memory.buffer;
    this.f64 = new Float64Array(this.buf);
    this.u32 = new Uint32Array(this.buf);
  }

  private scratch = new Float64Array(0);

  /** @internal a reusable buffer of at least n f64 for encoding tuple batches */
  batchScratch(n: number): Float64Array {
    if (this.scratch.length < n) this.scratch = new Float64Array(Math.max(n, 2 * this.scratch.length));
    return this.scratch;
  }

  /** @internal the f64 view of the core's memory (re-made when memory grew), without the object views() makes */
  f64View(): Float64Array {
    const b = this.core.memory.buffer;
    if (b !== this.buf) {
      this.buf = b;
      this.f64 = new Float64Array(b);
      this.u32 = new Uint32Array(b);
    }
    return this.f64;
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

  /** @internal the core trapped during `what` (a bug): poison this kernel and return the error to throw. */
  trapped(what: string, cause: unknown): Error {
    if (this.poisoned === null) this.poisoned = new EnginePoisonedError(what, cause);
    return this.poisoned;
  }

  /**
   * @internal after a syscall into the core. Running out of wasm memory
   * surfaces as -ENOMEM (with the core's flag set), so the flag is only read
   * for that result.
   */
  syscallDone(what: string, r: number): number {
    if (r === -ENOMEM && this.core.engine_take_oom()) throw new EngineOutOfMemoryError(what);
    if (this.tracing && this.core.trace_room() < this.traceKeep) this.drainMergeEvents();
    return r;
  }

  /** @internal a touch/peek result below 0 that is not a signal: out of memory or not modelled */
  faultFailed(what: string, r: number, addr: number): number {
    if (r === FAULT_OUT_OF_MEMORY) {
      this.core.engine_take_oom();
      throw new EngineOutOfMemoryError(what);
    }
    if (r === FAULT_NOT_MODELLED) throw new NotModelledAccessError(addr);
    return r;
  }

  /**
   * Release this kernel: it drops its wasm instance (its memory goes with the
   * next garbage collection), and every later call on the kernel or its
   * processes throws KernelDisposedError.
   */
  dispose(): void {
    if (this.poisoned instanceof KernelDisposedError) return;
    this.poisoned = new KernelDisposedError();
    this.live = [];
    this.events = [];
    this.paths.clear();
    // whatever still reaches for the core gets the same error
    (this as { core: CoreExports }).core = DISPOSED_CORE;
    this.buf = new ArrayBuffer(0);
    this.f64 = new Float64Array(0);
    this.u32 = new Uint32Array(0);
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
    this.loadCurrent(task);
  }

  /**
   * setCurrent()'s reload, a method of its own: with its closure in
   * setCurrent, V8 allocated that closure's context (40-50 bytes) on every
   * syscall once a second task had been loaded, although the call returns
   * before using it.
   */
  private loadCurrent(task: Task): void {
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
    // pending events are attributed by mm: decode them before a new task (a thread) shares one
    this.drainMergeEvents();
    this.live.push(p);
    this.pidByMm = null;
    return p;
  }

  /** @internal a task's mm changed (exec): the pid lookup of merge events is rebuilt */
  mmChanged(): void {
    this.pidByMm = null;
  }

  /** @internal a task leaves it */
  forget(p: Process): void {
    this.live = this.live.filter((q) => q !== p);
    this.pidByMm = null;
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
    this.traceKeep = Math.max(TRACE_BATCH_MARGIN, capacity >> 1);
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
      let pids = this.pidByMm;
      if (pids === null) {
        pids = this.pidByMm = new Map<number, number>();
        for (const p of this.live) if (!p.exited) pids.set(p.mm, p.pid);
      }
      const byMm = pids;
      const f64 = this.f64View();
      for (let i = 0; i < n; i++) {
        this.events.push(decodeMergeEvent(f64, core.trace_event(i) >>> 3, (mm) => byMm.get(mm) ?? 0));
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
    const k = this.kernel;
    if (k.poisoned !== null) throw k.poisoned;
    k.setCurrent(this.task);
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
    const mm = this.cur;
    if (!Number.isInteger(addr)) throw argError("touch", "addr", addr);
    const k = this.kernel;
    let r: number;
    try {
      r = k.core.touch(mm, addr, write ? 1 : 0);
    } catch (e) {
      throw k.trapped("touch", e);
    }
    if (r < 0) return k.faultFailed("touch", r, addr);
    return r;
  }

  peek(addr: number): number {
    const mm = this.cur;
    if (!Number.isInteger(addr)) throw argError("peek", "addr", addr);
    const k = this.kernel;
    let r: number;
    try {
      r = k.core.peek(mm, addr);
    } catch (e) {
      throw k.trapped("peek", e);
    }
    if (r === FAULT_OUT_OF_MEMORY || r === FAULT_NOT_MODELLED) return k.faultFailed("peek", r, addr);
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
    // the pending merge events name this mm: decode them while it maps to this pid
    this.kernel.drainMergeEvents();
    this.kernel.call("exit", () => this.kernel.core.mm_put(mm));
    this._exited = true;
    this.kernel.forget(this);
  }

  exec(image?: ProcessImage): void {
    const old = this.mm;
    this.kernel.drainMergeEvents();
    const mm = this.kernel.buildMm(image ?? this.kernel.imageFor(this.task));
    this._mm = mm;
    this.kernel.mmChanged();
    this.kernel.call("exec", () => this.kernel.core.mm_put(old));
  }

  anonVmaAddresses(): { anonVma: number; root: number }[] {
    const mm = this.mm;
    const base = this.kernel.reader("anon_vma addresses", () => this.kernel.core.mm_anon_vma_addrs(mm));
    const { u32 } = this.kernel.views();
    const n = u32[base >>> 2];
    const out: { anonVma: number; root: number }[] = [];
    for (let i = 0; i < n; i++) {
      const r = (base + SNAP_HEADER + i * 8) >>> 2;
      out.push({ anonVma: u32[r], root: u32[r + 1] });
    }
    return out;
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

  // The syscalls below run on every call of a replay or a benchmark: no
  // closure, no object on the success path (the argument checks are written
  // out, not a call, which would box double arguments); errors are built only
  // when thrown.

  mmap(addr: number, len: number, prot: number, flags: number, file: number, off: number): number {
    const mm = this.cur;
    if (!Number.isInteger(addr)) throw argError("mmap", "addr", addr);
    if (!Number.isInteger(len)) throw argError("mmap", "len", len);
    if (!Number.isInteger(prot)) throw argError("mmap", "prot", prot);
    if (!Number.isInteger(flags)) throw argError("mmap", "flags", flags);
    if (!Number.isInteger(file)) throw argError("mmap", "file", file);
    if (!Number.isInteger(off)) throw argError("mmap", "off", off);
    const k = this.kernel;
    let r: number;
    try {
      r = k.core.mmap(mm, addr, len, prot >>> 0, flags >>> 0, file < 0 || file >= TWO32 ? 0 : file, off);
    } catch (e) {
      throw k.trapped("mmap", e);
    }
    return k.syscallDone("mmap", r);
  }

  munmap(addr: number, len: number): number {
    const mm = this.cur;
    if (!Number.isInteger(addr)) throw argError("munmap", "addr", addr);
    if (!Number.isInteger(len)) throw argError("munmap", "len", len);
    const k = this.kernel;
    let r: number;
    try {
      r = k.core.munmap(mm, addr, len);
    } catch (e) {
      throw k.trapped("munmap", e);
    }
    return k.syscallDone("munmap", r);
  }

  mprotect(addr: number, len: number, prot: number): number {
    const mm = this.cur;
    if (!Number.isInteger(addr)) throw argError("mprotect", "addr", addr);
    if (!Number.isInteger(len)) throw argError("mprotect", "len", len);
    if (!Number.isInteger(prot)) throw argError("mprotect", "prot", prot);
    const k = this.kernel;
    let r: number;
    try {
      r = k.core.mprotect(mm, addr, len, prot);
    } catch (e) {
      throw k.trapped("mprotect", e);
    }
    return k.syscallDone("mprotect", r);
  }

  mremap(addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
    const mm = this.cur;
    if (!Number.isInteger(addr)) throw argError("mremap", "addr", addr);
    if (!Number.isInteger(oldLen)) throw argError("mremap", "oldLen", oldLen);
    if (!Number.isInteger(newLen)) throw argError("mremap", "newLen", newLen);
    if (!Number.isInteger(flags)) throw argError("mremap", "flags", flags);
    if (!Number.isInteger(newAddr)) throw argError("mremap", "newAddr", newAddr);
    const k = this.kernel;
    let r: number;
    try {
      r = k.core.mremap(mm, addr, oldLen, newLen, flags, newAddr);
    } catch (e) {
      throw k.trapped("mremap", e);
    }
    return k.syscallDone("mremap", r);
  }

  madvise(addr: number, len: number, advice: number): number {
    const mm = this.cur;
    if (!Number.isInteger(addr)) throw argError("madvise", "addr", addr);
    if (!Number.isInteger(len)) throw argError("madvise", "len", len);
    if (!Number.isInteger(advice)) throw argError("madvise", "advice", advice);
    const k = this.kernel;
    const c = k.core;
    let r: number;
    try {
      r = c.madvise(mm, addr, len, advice | 0);
    } catch (e) {
      throw k.trapped("madvise", e);
    }
    r = k.syscallDone("madvise", r);
    // MADV_POPULATE_* over [vdso]: the kernel would fault its pages in; vmasim has none
    if (r === -EFAULT && c.engine_take_not_modelled()) throw new NotModelledAccessError(addr);
    return r;
  }

  mlock(addr: number, len: number, flags: number): number {
    const mm = this.cur;
    if (!Number.isInteger(addr)) throw argError("mlock", "addr", addr);
    if (!Number.isInteger(len)) throw argError("mlock", "len", len);
    if (!Number.isInteger(flags)) throw argError("mlock", "flags", flags);
    const k = this.kernel;
    let r: number;
    try {
      r = k.core.mlock(mm, addr, len, flags);
    } catch (e) {
      throw k.trapped("mlock", e);
    }
    return k.syscallDone("mlock", r);
  }

  munlock(addr: number, len: number): number {
    const mm = this.cur;
    if (!Number.isInteger(addr)) throw argError("munlock", "addr", addr);
    if (!Number.isInteger(len)) throw argError("munlock", "len", len);
    const k = this.kernel;
    let r: number;
    try {
      r = k.core.munlock(mm, addr, len);
    } catch (e) {
      throw k.trapped("munlock", e);
    }
    return k.syscallDone("munlock", r);
  }

  mlockall(flags: number): number {
    const mm = this.cur;
    if (!Number.isInteger(flags)) throw argError("mlockall", "flags", flags);
    const k = this.kernel;
    let r: number;
    try {
      r = k.core.mlockall(mm, flags);
    } catch (e) {
      throw k.trapped("mlockall", e);
    }
    return k.syscallDone("mlockall", r);
  }

  munlockall(): number {
    const mm = this.cur;
    const k = this.kernel;
    let r: number;
    try {
      r = k.core.munlockall(mm);
    } catch (e) {
      throw k.trapped("munlockall", e);
    }
    return k.syscallDone("munlockall", r);
  }

  setAnonName(addr: number, len: number, name: string | null): number {
    const mm = this.cur;
    if (!Number.isInteger(addr)) throw argError("setAnonName", "addr", addr);
    if (!Number.isInteger(len)) throw argError("setAnonName", "len", len);
    checkNameArg("setAnonName", "name", name);
    // the name is a C string: it ends at its first NUL
    const cname = name === null ? null : name.split("\0")[0];
    if (cname !== null && !validAnonName(cname)) return -EINVAL;
    const k = this.kernel;
    const id = cname === null ? 0 : k.internName(cname);
    let r: number;
    try {
      r = k.core.set_anon_name(mm, addr, len, id);
    } catch (e) {
      throw k.trapped("setAnonName", e);
    }
    return k.syscallDone("setAnonName", r);
  }

  mseal(addr: number, len: number, flags: number): number {
    const mm = this.cur;
    if (!Number.isInteger(addr)) throw argError("mseal", "addr", addr);
    if (!Number.isInteger(len)) throw argError("mseal", "len", len);
    if (!Number.isInteger(flags)) throw argError("mseal", "flags", flags);
    const k = this.kernel;
    let r: number;
    try {
      // mseal(2) arrived in 6.10: the core answers ENOSYS under linux-5.17
      r = k.core.mseal(mm, addr, len, flags);
    } catch (e) {
      throw k.trapped("mseal", e);
    }
    return k.syscallDone("mseal", r);
  }

  brk(addr: number): number {
    const mm = this.cur;
    if (!Number.isInteger(addr)) throw argError("brk", "addr", addr);
    const k = this.kernel;
    let r: number;
    try {
      // brk reports failure by returning the old break: the core says -1 when it ran out of memory
      r = k.core.brk_or_oom(mm, addr);
    } catch (e) {
      throw k.trapped("brk", e);
    }
    if (r === -1) {
      k.core.engine_take_oom();
      throw new EngineOutOfMemoryError("brk");
    }
    if (k.tracing && k.core.trace_room() < k.traceKeep) k.drainMergeEvents();
    return r;
  }

  vmas(): VmaSnapshot[] {
    const mm = this.mm;
    const base = this.kernel.reader("vmas", () => this.kernel.core.mm_snapshot(mm));
    const { f64, u32 } = this.kernel.views();
    const n = u32[base >>> 2];
    const out: VmaSnapshot[] = [];
    for (let i = 0; i < n; i++) out.push(this.snapshotRecord(f64, u32, base + SNAP_HEADER + i * SNAP_RECORD_SIZE));
    return out;
  }

  /**
   * The VMA containing `addr` (vm_start <= addr < vm_end), as vmas() has it,
   * or undefined: one record decoded instead of the whole list (the replay
   * compares one VMA per side-band record).
   */
  vmaAt(addr: number): VmaSnapshot | undefined {
    const mm = this.mm;
    const base = this.kernel.reader("vmaAt", () => this.kernel.core.mm_snapshot(mm));
    const { f64, u32 } = this.kernel.views();
    const n = u32[base >>> 2];
    for (let i = 0; i < n; i++) {
      const r = base + SNAP_HEADER + i * SNAP_RECORD_SIZE;
      if (f64[(r + SNAP.start) >>> 3] <= addr && addr < f64[(r + SNAP.end) >>> 3]) return this.snapshotRecord(f64, u32, r);
    }
    return undefined;
  }

  private snapshotRecord(f64: Float64Array, u32: Uint32Array, r: number): VmaSnapshot {
    return decodeVmaRecord(f64, u32, r, (id) => this.kernel.nameOf(id));
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
   * The typed batch (docs/batch.md): run `count` commands of BATCH_STRIDE
   * f64 slots each from `cmds` ([op, 0, arg1..arg6], op a BATCH_OP code),
   * writing one result per command to `results` (what the per-call method
   * returns; a touch of a special mapping gives -2). No per-command object
   * is made on either side. Returns `count`. On an error (an unknown op, an
   * argument that is not an integer, the engine out of memory) the commands
   * before the failing one have run and their results are written; the
   * error's `completed` property says how many.
   */
  runBatch(cmds: Float64Array, results: Float64Array, count: number = Math.floor(cmds.length / BATCH_STRIDE)): number {
    const mm = this.cur;
    if (!(cmds instanceof Float64Array)) throw new TypeError("runBatch: argument cmds must be a Float64Array");
    if (!(results instanceof Float64Array)) throw new TypeError("runBatch: argument results must be a Float64Array");
    if (!Number.isInteger(count) || count < 0 || count * BATCH_STRIDE > cmds.length || count > results.length) {
      throw new RangeError(`runBatch: argument count must be an integer from 0 to min(cmds.length / ${BATCH_STRIDE}, results.length), got ${count}`);
    }
    const k = this.kernel;
    const core = k.core;
    const cmdBase = core.cmd_buffer() >>> 3;
    const resBase = core.result_buffer() >>> 3;
    for (let at = 0; at < count;) {
      const n = Math.min(CMD_CAPACITY, count - at);
      k.f64View().set(cmds.subarray(at * BATCH_STRIDE, (at + n) * BATCH_STRIDE), cmdBase);
      let ran: number;
      try {
        ran = core.run_batch_mm(mm, n);
      } catch (e) {
        throw k.trapped("batch", e);
      }
      const f64 = k.f64View();
      results.set(f64.subarray(resBase, resBase + ran), at);
      if (ran < n) {
        const i = at + ran;
        const bad = badCommand(cmds, i);
        if (bad) throw completed(bad, i);
        if (core.engine_take_oom()) throw completed(new EngineOutOfMemoryError(`batch command ${i} (${OP_NAMES[cmds[i * BATCH_STRIDE]]})`), i);
        // the core stopped early so that the merge-event ring can be drained
        k.drainMergeEvents();
      }
      at += ran;
    }
    return count;
  }

  /**
   * Run syscalls given as tuples in one call: each command is [op, ...args]
   * with op one of "mmap" | "munmap" | "mprotect" | "brk" | "mremap" |
   * "madvise" | "touch" | "mlock" | "munlock" and the arguments of the
   * matching method (touch: addr, 1 for a write; the file of mmap: its
   * identity or 0; missing arguments are 0). Returns the results in order; a
   * touch of a special mapping gives -2. An unknown op or an argument that
   * is not an integer is refused before anything runs. Built on runBatch(),
   * which avoids the tuples and the result array; its errors carry
   * `completed`, here the array of the results so far.
   */
  batch(cmds: readonly (readonly [keyof typeof OP, ...number[]])[]): number[] {
    void this.cur;
    const buf = this.kernel.batchScratch(cmds.length * BATCH_STRIDE);
    for (let i = 0; i < cmds.length; i++) {
      const c = cmds[i];
      const op = OP[c[0]];
      if (op === undefined) throw new Error(`batch: unknown op '${String(c[0])}' at index ${i}`);
      const o = i * BATCH_STRIDE;
      buf[o] = op;
      buf[o + 1] = 0;
      const n = c.length;
      for (let a = 1; a < BATCH_STRIDE - 1; a++) {
        const x = a < n ? (c[a] as number) : 0;
        if (!Number.isInteger(x)) throw argError(`batch command ${i} (${c[0]})`, OP_ARGS[c[0]][a - 1] ?? `argument ${a}`, x);
        buf[o + 1 + a] = x;
      }
    }
    const results = new Float64Array(cmds.length);
    try {
      this.runBatch(buf, results, cmds.length);
    } catch (e) {
      const done = (e as { completed?: number }).completed;
      if (typeof done === "number") (e as { completed: unknown }).completed = toArray(results, done);
      throw e;
    }
    return toArray(results, cmds.length);
  }
}

/** The argument names of each batch op, in slot order (for error messages). */
const OP_ARGS: Readonly<Record<keyof typeof OP, readonly string[]>> = {
  mmap: ["addr", "len", "prot", "flags", "file", "off"], munmap: ["addr", "len"], mprotect: ["addr", "len", "prot"],
  brk: ["addr"], mremap: ["addr", "oldLen", "newLen", "flags", "newAddr"], madvise: ["addr", "len", "advice"],
  touch: ["addr", "write"], mlock: ["addr", "len", "flags"], munlock: ["addr", "len"],
};
const OP_NAMES = Object.fromEntries(Object.entries(OP).map(([k, v]) => [v, k])) as Readonly<Record<number, keyof typeof OP>>;

/** Why the core refused typed command i (an unknown op or a non-integer argument), or null. */
function badCommand(cmds: Float64Array, i: number): Error | null {
  const o = i * BATCH_STRIDE;
  const name = OP_NAMES[cmds[o]];
  if (name === undefined) return new RangeError(`batch: unknown op ${cmds[o]} at command ${i} (ops: ${Object.entries(OP).map(([k, v]) => `${v} ${k}`).join(", ")})`);
  for (let a = 0; a < BATCH_STRIDE - 2; a++) {
    const x = cmds[o + 2 + a];
    if (!Number.isInteger(x)) return argError(`batch command ${i} (${name})`, OP_ARGS[name][a] ?? `slot ${a + 2}`, x);
  }
  return null;
}

/** The first n values of a typed array as a plain array (Array.from iterates generically, slowly). */
function toArray(xs: Float64Array, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = xs[i];
  return out;
}

/** The error of a batch whose first `n` commands ran. */
function completed(e: Error, n: number): Error {
  (e as Error & { completed: number }).completed = n;
  return e;
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
