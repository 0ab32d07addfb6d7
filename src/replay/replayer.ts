// One policy's replay of a trace: every thread group of the trace with its
// own simulated process (and mm), each event applied to it at the point the
// kernel made it take effect. A system call is applied at its exit with its
// real result: mappings go where the real kernel put them (MAP_FIXED there),
// failed calls change nothing (the kernel undid or never made them) and are
// only counted. Where the engine's own result differs it is counted, never
// hidden. docs/replay.md describes every count.

import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PAGE_SIZE, VM_MAYSHARE, VM_SHARED,
} from "../abi/constants.js";
import { checkKernel, checkProcess } from "../check/index.js";
import { BATCH_STRIDE, OP } from "../engine/abi.js";
import { NotModelledAccessError, type Process, type Simulator } from "../engine/simulator.js";
import type { ResolvedConfig } from "../config/config.js";
import type { CloneEvent, PageFaultEvent, PerfMmap2Event, TraceEvent } from "../trace/events.js";
import { X86_PF_PROT, faultAccess } from "../trace/events.js";
import { CLONE_VM } from "../trace/flags.js";
import { ReplayFiles } from "./files.js";
import { execImage, isAnonName } from "./image.js";
import { classifyMerges, type SeriesCounts } from "./merges.js";
import { EngineRows, enginePlacement } from "./placement.js";
import { type PeakProcess, PeakPicture } from "./peak_process.js";
import { type CountPlace, type Headroom, type VmaSeries, VmaCount } from "./vma_count.js";

/** clone flags the replay looks at (include/uapi/linux/sched.h) */
const CLONE_THREAD = 0x10000;
const CLONE_VFORK = 0x4000;
/** an exec's events wait for its first brk() at most this long (then start_brk is guessed) */
const EXEC_BUFFER_MAX = 4096;
/** listed disagreements and checker messages, at most */
const LIST_MAX = 50;
/** faults per typed batch (the engine copies 4096 commands at a time) */
const FAULT_RUN_MAX = 4096;
/** a touch result: the access is to a special mapping, not modelled (docs/batch.md) */
const TOUCH_NOT_MODELLED = -2;

export interface SidecarDisagreement {
  /** side-band line of the MMAP2 record */
  line: number;
  pid: number;
  /** what the record says: [start, end) pgoff prot */
  record: string;
  /** the engine's VMA at that address, or "none" */
  engine: string;
  /** the event after which it was compared (the call that caused the record), "kind@line" */
  cause: string;
}

export interface ReplayResult {
  merge: { attempts: number; ok: number; failed: number; byReason: Record<string, number> } & SeriesCounts;
  vmas: {
    peak: number; final: number; mean: number;
    /** where the total first reached its peak */
    peakAt: CountPlace | null;
    /** the closest approach of one mm to max_map_count */
    headroom: Headroom | null;
    series: VmaSeries;
    /** the process with the most VMAs at its peak, its VMAs then */
    peakProcess: PeakProcess | null;
  };
  pagesReindexed: number;
  pagesRepointed: number;
  /** engine time of this policy (wall-clock; timing fields: src/replay/timing.ts) */
  seconds: number;
  /** seconds / linux-5.17's seconds in the same replay, or null without linux-5.17 */
  secondsRatio: number | null;
  /** kernel-placed mmaps: how many, and how often the engine's own search would have chosen another address */
  placement: { checked: number; differed: number };
  /** calls the trace says failed (not applied), by kind */
  failedCalls: Record<string, number>;
  /** applied calls whose engine result differed from the trace's, by kind */
  disagreed: Record<string, number>;
  /** the first disagreeing calls: "kind@line: trace R, engine R" */
  disagreements: string[];
  /** calls the trace shows without a result (the trace ended first), by kind */
  unfinished: Record<string, number>;
  faults: { applied: number; write: number; cow: number; kernel: number; signalled: number; notModelled: number };
  /** events of thread groups the replay never saw start (not applied), by kind */
  unknownPid: Record<string, number>;
  /** where: the first of them, "kind@line pid P" (at most 20) */
  unknownPidAt: string[];
  /** clones whose child never showed an event of its own: "kind@line child C" (at most 20) */
  silentChildren: string[];
  unknownFds: number;
  processes: { forks: number; vmClones: number; threads: number; execs: number; execsWithoutImage: number; exits: number };
  checker: { runs: number; errors: number; messages: string[] };
  sidecar: { checked: number; agreed: number; disagreements: SidecarDisagreement[]; disagreementsTotal: number };
}

interface PendingExec {
  /** exec-time MMAP2 records (before sched_process_exec) */
  records: PerfMmap2Event[];
  exe: string | null;
  execSeen: boolean;
  /** the execve() result came (strace starts the exec with it) */
  execveSeen: boolean;
  buffered: TraceEvent[];
}

export interface ReplayerOptions {
  /** run the invariant checker every this many events (0: never; finish() always runs it when > 0) */
  checkEvery?: number;
}

const bump = (m: Record<string, number>, k: string, n = 1) => (m[k] = (m[k] ?? 0) + n);
const hex = (n: number) => "0x" + n.toString(16);

export class Replayer {
  private readonly procs = new Map<number, Process>();
  private readonly created = new Set<number>();
  /** children made by a clone that have not shown an event yet: child -> "kind@line" */
  private readonly silent = new Map<number, string>();
  private readonly pending = new Map<number, PendingExec>();
  /** pids whose exec is done and whose execve() result is still to come */
  private readonly awaitingExecve = new Set<number>();
  private readonly checks = new Map<number, PerfMmap2Event[]>();
  /** each task's last fault: its line */
  private readonly lastFault = new Map<number, number>();
  private readonly files: ReplayFiles;
  /** the VMAs of one process for the placement check, read in place */
  private readonly rows = new EngineRows();
  private readonly count: VmaCount;
  private readonly picture = new PeakPicture();
  /** file paths the side-band named (perf trace prints an open's filename as an address) */
  private readonly fileNames = new Map<number, string>();
  /** each process's executable (its last exec) */
  private readonly exe = new Map<number, string | null>();
  private readonly series: SeriesCounts = { enabledBySeries: 0, refusedShared: 0 };
  private readonly checkEvery: number;
  private readonly cfg: ResolvedConfig;
  /** faults not yet run: touch commands of one process (runProcess), for runFaults() */
  private readonly runCmds = new Float64Array(FAULT_RUN_MAX * BATCH_STRIDE);
  private readonly runResults = new Float64Array(FAULT_RUN_MAX);
  private runLength = 0;
  private runProcess: Process | null = null;
  private events = 0;
  /** the line of the last event applied */
  private lastLine = 0;
  private ms = 0;
  /** events of kinds the replay does not apply, by kind ("syscall:NAME" for other system calls) */
  readonly ignored: Record<string, number> = {};
  private readonly r: ReplayResult;

  constructor(readonly kernel: Simulator, opts: ReplayerOptions = {}) {
    this.files = new ReplayFiles(kernel);
    this.checkEvery = opts.checkEvery ?? 0;
    // the replay never changes a knob: read once, not per mmap
    this.cfg = kernel.config();
    this.count = new VmaCount(this.cfg.max_map_count);
    kernel.traceMerges();
    this.r = {
      merge: { attempts: 0, ok: 0, failed: 0, byReason: {}, enabledBySeries: 0, refusedShared: 0 },
      vmas: { peak: 0, final: 0, mean: 0, peakAt: null, headroom: null, series: { bucketMs: 0, peaks: [] }, peakProcess: null },
      pagesReindexed: 0, pagesRepointed: 0, seconds: 0, secondsRatio: null,
      placement: { checked: 0, differed: 0 }, failedCalls: {}, disagreed: {}, disagreements: [], unfinished: {},
      faults: { applied: 0, write: 0, cow: 0, kernel: 0, signalled: 0, notModelled: 0 }, unknownPid: {}, unknownPidAt: [], silentChildren: [], unknownFds: 0,
      processes: { forks: 0, vmClones: 0, threads: 0, execs: 0, execsWithoutImage: 0, exits: 0 },
      checker: { runs: 0, errors: 0, messages: [] },
      sidecar: { checked: 0, agreed: 0, disagreements: [], disagreementsTotal: 0 },
    };
  }

  /** Applies one event (in trace order). */
  apply(e: TraceEvent): void {
    const t0 = performance.now();
    this.step(e);
    classifyMerges(this.kernel.takeMergeEvents(), this.series);
    this.ms += performance.now() - t0;
  }

  /**
   * Applies events in trace order, with the same result as apply() on each:
   * faults of a known process whose exec is not pending (almost every event
   * of a trace) are queued as touch commands of the engine's typed batch
   * (docs/batch.md) and run in one call per run of one process's faults;
   * their per-event bookkeeping is done as they are queued, their results
   * counted when the run comes back. Any other event runs the queue first.
   */
  applyBatch(events: readonly TraceEvent[]): void {
    const t0 = performance.now();
    const every = this.checkEvery;
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      if (e.kind !== "page_fault" || (this.pending.size > 0 && this.pending.has(e.pid))) {
        this.runFaults();
        this.step(e);
        continue;
      }
      const p = this.procs.get(e.pid);
      if (p === undefined) {
        this.runFaults();
        this.step(e);
        continue;
      }
      // step()'s bookkeeping, then fault()'s
      this.events++;
      this.lastLine = e.line;
      if (this.silent.size) this.silent.delete(e.tid);
      this.count.tick(e.time);
      this.lastFault.set(e.tid, e.line);
      const write = this.countFault(e);
      if (p !== this.runProcess || this.runLength === FAULT_RUN_MAX) {
        this.runFaults();
        this.runProcess = p;
      }
      const c = this.runLength++ * BATCH_STRIDE;
      const cmds = this.runCmds;
      cmds[c] = OP.touch;
      cmds[c + 2] = e.address;
      cmds[c + 3] = write ? 1 : 0;
      if (every > 0 && this.events % every === 0) {
        this.runFaults();
        this.check();
      }
    }
    this.runFaults();
    // once per batch: the counts do not depend on when the events are classified
    classifyMerges(this.kernel.takeMergeEvents(), this.series);
    this.ms += performance.now() - t0;
  }

  /** The queued faults, in one typed batch: a signal or a special mapping is counted as fault() counts it. */
  private runFaults(): void {
    const n = this.runLength;
    if (n === 0) return;
    this.runLength = 0;
    const p = this.runProcess!;
    this.runProcess = null;
    const res = this.runResults;
    p.runBatch(this.runCmds, res, n);
    const f = this.r.faults;
    for (let i = 0; i < n; i++) {
      const r = res[i];
      if (r === 0) continue;
      if (r === TOUCH_NOT_MODELLED) f.notModelled++;
      else f.signalled++;
    }
  }

  private step(e: TraceEvent): void {
    if (e.kind === "unparsed") return;
    this.events++;
    this.lastLine = e.line;
    if (this.silent.size) this.silent.delete(e.tid);
    this.count.tick(e.time);
    const p = this.pending.get(e.pid);
    if (p !== undefined) this.buffer(p, e);
    else this.dispatch(e);
    if (this.checkEvery > 0 && this.events % this.checkEvery === 0) this.check();
  }

  private dispatch(e: Exclude<TraceEvent, { kind: "unparsed" }>): void {
    switch (e.kind) {
      case "perf_comm":
        if (e.exec) return this.startExec(e.pid, e.comm);
        bump(this.ignored, e.kind);
        return;
      case "sched_process_exec":
        this.startExec(e.pid, e.filename);
        this.pending.get(e.pid)!.execSeen = true;
        return;
      case "execve":
        if (e.ret === null) return void bump(this.r.unfinished, e.kind);
        if (e.errno !== null) return void bump(this.r.failedCalls, e.kind);
        // strace shows an exec only by its result
        if (!this.awaitingExecve.delete(e.pid)) {
          this.startExec(e.pid, e.filename);
          const p = this.pending.get(e.pid)!;
          p.execSeen = true;
          p.execveSeen = true;
        }
        return;
      case "perf_mmap2":
        if (!this.procs.has(e.pid)) return void this.unknown(e.kind, e.line, e.pid);
        // a stack grows in a fault (expand_downwards() emits the record there): the fault came first
        if (e.filename === "[stack]") {
          const at = this.lastFault.get(e.tid);
          return this.compare(e, at === undefined ? "none" : `page_fault@${at}`);
        }
        (this.checks.get(e.tid) ?? this.checks.set(e.tid, []).get(e.tid)!).push(e);
        return;
      case "task_newtask":
        return this.newTask(e.pid, e.child, e.cloneFlags, e.line);
      case "clone":
        return this.clone(e);
      case "perf_fork":
        // a new thread group the side-band saw and task_newtask did not
        if (e.pid !== e.ppid && !this.created.has(e.pid) && this.procs.has(e.ppid)) return this.newTask(e.ppid, e.pid, 0, e.line);
        bump(this.ignored, e.kind);
        return;
      case "sched_process_exit":
        return this.exit(e.pid, e.groupDead, e.line);
      case "exit":
      case "exit_group":
        // the task goes at sched_process_exit
        return;
      case "perf_exit":
      case "lost":
        bump(this.ignored, e.kind);
        return;
      case "unmodelled":
        bump(this.ignored, `syscall:${e.name}`);
        return;
      case "page_fault":
        return this.fault(e);
      default:
        return this.syscall(e);
    }
  }

  private proc(e: { kind: string; pid: number; line: number }): Process | undefined {
    const p = this.procs.get(e.pid);
    if (p === undefined) this.unknown(e.kind, e.line, e.pid);
    return p;
  }

  /** An event of a thread group never seen to start: counted, and where (the first 20). */
  private unknown(kind: string, line: number, pid: number): void {
    bump(this.r.unknownPid, kind);
    if (this.r.unknownPidAt.length < 20) this.r.unknownPidAt.push(`${kind}@${line} pid ${pid}`);
  }

  // --- tasks -----------------------------------------------------------------------------------

  /** copy_process() in the parent: a thread joins the group; CLONE_VM shares the mm (vfork too); else fork. */
  private newTask(parentPid: number, child: number, flags: number, line: number): void {
    if (this.created.has(child)) return;
    this.created.add(child);
    if (line > 0) this.silent.set(child, `clone@${line}`);
    if (flags & CLONE_THREAD) {
      this.r.processes.threads++;
      return;
    }
    const parent = this.procs.get(parentPid);
    if (parent === undefined) return void this.unknown("task_newtask", line, parentPid);
    let p: Process;
    if (flags & CLONE_VM) {
      p = parent.cloneVm();
      this.r.processes.vmClones++;
    } else {
      p = parent.fork();
      this.r.processes.forks++;
      this.counted(child, p, line);
    }
    this.exe.set(child, this.exe.get(parentPid) ?? null);
    this.procs.set(child, p);
  }

  private clone(e: CloneEvent): void {
    if (e.inChild) return;
    if (e.ret === null) return void bump(this.r.unfinished, e.kind);
    if (e.errno !== null) return void bump(this.r.failedCalls, e.kind);
    if (e.child === null) return;
    const flags = e.flags ?? (e.call === "vfork" ? CLONE_VM | CLONE_VFORK : 0);
    this.newTask(e.pid, e.child, flags, e.line);
  }

  private exit(pid: number, groupDead: boolean, line: number): void {
    if (!groupDead) return;
    const p = this.procs.get(pid);
    if (p === undefined) return void this.unknown("sched_process_exit", line, pid);
    this.flushChecks();
    const mm = p.mm;
    p.exit();
    this.procs.delete(pid);
    this.r.processes.exits++;
    const shared = [...this.procs.values()].find((q) => q.mm === mm);
    if (shared === undefined) this.count.set(mm, 0, true, pid, line);
  }

  // --- exec ------------------------------------------------------------------------------------

  /**
   * An exec starts (its PERF_RECORD_COMM, or sched_process_exec, or a
   * successful execve in strace): the pid's events wait until the image is
   * known, i.e. until its first brk() (whose result gives start_brk) or any
   * other call that cannot wait (clone, exit, exec, or EXEC_BUFFER_MAX events).
   */
  private startExec(pid: number, exe: string | null): void {
    if (this.pending.has(pid)) return;
    this.flushChecks();
    this.pending.set(pid, { records: [], exe, execSeen: false, execveSeen: false, buffered: [] });
  }

  private buffer(p: PendingExec, e: Exclude<TraceEvent, { kind: "unparsed" }>): void {
    if (e.kind === "perf_mmap2" && !p.execSeen) {
      p.records.push(e);
      return;
    }
    if (e.kind === "sched_process_exec") {
      p.execSeen = true;
      if (e.filename !== null) p.exe = e.filename;
      return;
    }
    if (e.kind === "execve" && e.errno === null && e.ret !== null) {
      p.execveSeen = true; // this exec's own result
      return;
    }
    if (e.kind === "perf_comm" && !e.exec) return void bump(this.ignored, e.kind);
    if (e.kind === "brk" && e.brk === 0 && e.ret !== null && e.errno === null) {
      this.finishExec(e.pid, p, e.ret, e.line);
      return this.dispatch(e);
    }
    const waits = e.kind === "page_fault" || e.kind === "perf_mmap2" || e.kind === "mmap" || e.kind === "mprotect" || e.kind === "munmap"
      || e.kind === "unmodelled";
    if (waits && p.buffered.length < EXEC_BUFFER_MAX) {
      p.buffered.push(e);
      return;
    }
    this.finishExec(e.pid, p, null, e.line);
    this.dispatch(e);
  }

  private finishExec(pid: number, p: PendingExec, brk: number | null, line: number): void {
    this.pending.delete(pid);
    const image = execImage(p.records, p.exe, brk);
    if (p.records.length === 0) this.r.processes.execsWithoutImage++;
    this.r.processes.execs++;
    const old = this.procs.get(pid);
    let proc: Process;
    if (old === undefined) {
      proc = this.kernel.createProcess(image);
      this.procs.set(pid, proc);
      this.created.add(pid);
    } else {
      const oldMm = old.mm;
      old.exec(image);
      proc = old;
      if (![...this.procs.values()].some((q) => q.mm === oldMm)) this.count.set(oldMm, 0, true, pid, line);
    }
    this.exe.set(pid, p.exe);
    this.counted(pid, proc, line);
    if (!p.execveSeen) this.awaitingExecve.add(pid);
    for (const e of p.buffered) this.dispatch(e as Exclude<TraceEvent, { kind: "unparsed" }>);
  }

  // --- faults ----------------------------------------------------------------------------------

  /** handle_mm_fault() for a traced fault; X86_PF_PROT on a write is a write to a present page (COW). */
  private fault(e: Extract<TraceEvent, { kind: "page_fault" }>): void {
    const p = this.proc(e);
    if (p === undefined) return;
    this.lastFault.set(e.tid, e.line);
    const write = this.countFault(e);
    const f = this.r.faults;
    try {
      if (p.touch(e.address, write) !== 0) f.signalled++;
    } catch (err) {
      if (!(err instanceof NotModelledAccessError)) throw err;
      f.notModelled++;
    }
  }

  /** A fault's counts before it runs; whether it is a write. */
  private countFault(e: PageFaultEvent): boolean {
    const write = faultAccess(e.errorCode) === "write";
    const f = this.r.faults;
    f.applied++;
    if (write) f.write++;
    if (write && e.errorCode & X86_PF_PROT) f.cow++;
    if (!e.user) f.kernel++;
    return write;
  }

  // --- system calls ----------------------------------------------------------------------------

  private syscall(e: Extract<TraceEvent, { ret: number | null }>): void {
    if (e.ret === null) return void bump(this.r.unfinished, e.kind);
    if (e.errno !== null) return void bump(this.r.failedCalls, e.kind);
    const p = this.proc(e);
    if (p === undefined) return;
    const ret = e.ret;
    let got: number;
    switch (e.kind) {
      case "mmap": {
        const anon = (e.flags & MAP_ANONYMOUS) !== 0 || e.fd < 0;
        const file = anon ? -1 : this.files.forMmap(e);
        if (!(e.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))) {
          const cfg = this.cfg;
          const at = enginePlacement(this.rows.of(p), e.addr, e.len, p.layout().mmap_base, cfg.mmap_min_addr, cfg.stack_guard_gap_pages * PAGE_SIZE);
          this.r.placement.checked++;
          if (at !== ret) this.r.placement.differed++;
        }
        got = p.mmap(ret, e.len, e.prot, (e.flags & ~MAP_FIXED_NOREPLACE) | MAP_FIXED, file, e.off);
        break;
      }
      case "munmap": got = p.munmap(e.addr, e.len); break;
      case "mprotect": got = p.mprotect(e.start, e.len, e.prot); break;
      case "mremap": {
        const inPlace = ret === e.addr && !(e.flags & (MREMAP_FIXED | MREMAP_DONTUNMAP));
        got = inPlace ? p.mremap(e.addr, e.oldLen, e.newLen, 0, 0)
          : p.mremap(e.addr, e.oldLen, e.newLen, e.flags | MREMAP_MAYMOVE | MREMAP_FIXED, ret);
        break;
      }
      case "brk": got = p.brk(e.brk); break;
      case "madvise": got = p.madvise(e.start, e.len, e.behavior); break;
      case "mlock": got = p.mlock(e.start, e.len, 0); break;
      case "mlock2": got = p.mlock(e.start, e.len, e.flags); break;
      case "munlock": got = p.munlock(e.start, e.len); break;
      case "mlockall": got = p.mlockall(e.flags); break;
      case "munlockall": got = p.munlockall(); break;
      case "mseal": got = p.mseal(e.start, e.len, e.flags); break;
      case "set_vma_anon_name": {
        // perf shows only the name's address: equal addresses stand for equal names
        const name = e.name ?? (e.nameAddr === 0 || e.nameAddr === null ? null : `name@${hex(e.nameAddr)}`);
        got = p.setAnonName(e.start, e.len, name);
        break;
      }
      default:
        return;
    }
    if (got !== ret) {
      bump(this.r.disagreed, e.kind);
      if (this.r.disagreements.length < LIST_MAX) this.r.disagreements.push(`${e.kind}@${e.line}: trace ${fmt(ret)}, engine ${fmt(got)}`);
    }
    this.runChecks(e.tid, `${e.kind}@${e.line}`);
    this.counted(e.pid, p, e.line);
  }

  /** The VMA count of `p`'s mm after an event of trace process `pid`; a picture when it is the most any mm had. */
  private counted(pid: number, p: Process, line: number): void {
    const n = p.counters().map_count;
    if (this.count.set(p.mm, n, false, pid, line)) {
      // not engine time: the copy is the report's (a process growing to N VMAs is copied N times)
      const t0 = performance.now();
      this.picture.record(p, n, { pid, line, timeMs: this.count.timeMs() }, this.exe.get(pid) ?? null);
      this.ms -= performance.now() - t0;
    }
  }

  // --- the side-band check -----------------------------------------------------------------------

  /** Compares the MMAP2 records the call of `tid` produced with the engine's VMAs. */
  private runChecks(tid: number, cause: string): void {
    const list = this.checks.get(tid);
    if (list === undefined) return;
    this.checks.delete(tid);
    for (const r of list) this.compare(r, cause);
  }

  private flushChecks(): void {
    for (const [tid] of [...this.checks]) this.runChecks(tid, "none");
  }

  private compare(r: PerfMmap2Event, cause: string): void {
    const p = this.procs.get(r.pid);
    const s = this.r.sidecar;
    s.checked++;
    const v = p?.vmaAt(r.addr);
    const anon = isAnonName(r.filename);
    if (v !== undefined && v.file !== 0 && !anon) this.fileNames.set(v.file, r.filename);
    const ok = v !== undefined && v.start === r.addr && v.end === r.addr + r.len && v.pgoff * PAGE_SIZE === r.pgoff
      && (v.flags & 7) === r.prot && ((v.flags & (VM_SHARED | VM_MAYSHARE)) !== 0) === r.shared && (v.file === 0) === anon;
    if (ok) {
      s.agreed++;
      return;
    }
    s.disagreementsTotal++;
    if (s.disagreements.length >= LIST_MAX) return;
    const prot = (x: number) => (x & 1 ? "r" : "-") + (x & 2 ? "w" : "-") + (x & 4 ? "x" : "-");
    s.disagreements.push({
      line: r.line, pid: r.pid,
      record: `[${hex(r.addr)}, ${hex(r.addr + r.len)}) pgoff ${hex(r.pgoff)} ${prot(r.prot)}${r.shared ? "s" : "p"} ${r.filename}`,
      engine: v === undefined ? "none"
        : `[${hex(v.start)}, ${hex(v.end)}) pgoff ${hex(v.pgoff * PAGE_SIZE)} ${prot(v.flags)}${v.flags & VM_MAYSHARE ? "s" : "p"} ${v.file ? "file " + v.file : "anon"}`,
      cause,
    });
  }

  // --- checker and result ----------------------------------------------------------------------

  private check(): void {
    const c = this.r.checker;
    c.runs++;
    const msgs: string[] = [];
    for (const p of this.kernel.processes()) for (const m of checkProcess(p)) msgs.push(`pid ${p.pid}: ${m}`);
    msgs.push(...checkKernel(this.kernel));
    c.errors += msgs.length;
    for (const m of msgs) if (c.messages.length < LIST_MAX) c.messages.push(`after event ${this.events}: ${m}`);
  }

  /** Ends the replay: pending execs and checks are completed, the checker runs once more, the result is returned. */
  finish(): ReplayResult {
    const t0 = performance.now();
    for (const [pid, p] of [...this.pending]) this.finishExec(pid, p, null, this.lastLine);
    for (const [child, at] of this.silent) if (this.r.silentChildren.length < 20) this.r.silentChildren.push(`${at} child ${child}`);
    this.flushChecks();
    classifyMerges(this.kernel.takeMergeEvents(), this.series);
    if (this.checkEvery > 0) this.check();
    this.ms += performance.now() - t0;
    const s = this.kernel.mergeStats();
    const r = this.r;
    let failed = 0;
    for (const [k, n] of Object.entries(s.failed)) {
      r.merge.byReason[k] = n ?? 0;
      failed += n ?? 0;
    }
    r.merge.attempts = s.attempts;
    r.merge.ok = s.merged;
    r.merge.failed = failed;
    r.merge.enabledBySeries = this.series.enabledBySeries;
    r.merge.refusedShared = this.series.refusedShared;
    r.vmas = {
      peak: this.count.peak, final: this.count.final, mean: Math.round(this.count.mean * 100) / 100, peakAt: this.count.peakAt,
      headroom: this.count.headroom, series: this.count.series(), peakProcess: this.picture.picture(this.kernel, this.fileNames),
    };
    r.pagesReindexed = s.pagesReindexed;
    r.pagesRepointed = s.pagesRepointed;
    r.unknownFds = this.files.unknownFds;
    r.seconds = this.ms / 1000;
    return r;
  }
}

function fmt(n: number): string {
  return n < 0 ? String(n) : hex(n);
}
