// The engine's scenario runner: executes a parsed script on any KernelSim
// (the wasm engine or the reference model) and prints exactly what the native
// runner (native/scenario-runner.c) prints on a real kernel, so that the two
// outputs can be diffed byte for byte. The format and every rule are in
// docs/scenario-language.md ("vmasim's decisions ...").

import {
  MLOCK_ONFAULT, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, MREMAP_MUST_RELOCATE_ANON, MREMAP_RELOCATE_ANON, SIGBUS, SIGSEGV,
  EEXIST, ERRNO_NAMES, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_LOCKED, MAP_NORESERVE, MAP_STACK,
  MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_NONE, PROT_READ,
} from "../abi/constants.js";
import { isHeapVma, mapsLineCount, SHMEM_ZERO_PATH, smapsVmFlags, vmaPerms } from "../maps.js";
import { ConfigError } from "../config/config.js";
import { POLICY_RELEASE, SyscallError, type KernelConfig, type KernelSim, type Policy, type ProcessImage, type ProcessSim, type VmaSnapshot } from "../types.js";
import {
  ARENA_PAGES, parseScript, repeatIteration,
  type MmapOp, type Op, type RepeatOp, type ScriptEntry, type SysctlOp,
} from "./parse.js";

/** Path of the memfd whose pages guard both ends of the arena (as memfd_create names it). */
export const ARENA_MEMFD_PATH = "/memfd:vmasim-arena (deleted)";
/** Path of scenario temp file ID. */
export const tempFilePath = (id: number): string => `/tmp/vmasim-file${id}`;

const ARENA_BYTES = ARENA_PAGES * PAGE_SIZE;
/** INT64_MAX / PAGE_SIZE: the largest file page offset whose byte offset fits in off_t. */
const MAX_OFF_PAGES = 2 ** 51 - 1;

export interface ScenarioOptions {
  /** Image of the scenario's process (default: the kernel's default, src/image.ts). */
  image?: ProcessImage;
  /**
   * Called after every line that ran (not after blank or comment lines), with
   * the scenario's current process: lets tests check invariants step by step.
   */
  onStep?: (process: ProcessSim, entry: ScriptEntry) => void;
  /** Called once the process and its arena exist, before the first line (arenaBase: page 0's address). */
  onStart?: (process: ProcessSim, arenaBase: number) => void;
}

export interface ScenarioResult {
  /** Everything the script printed, each line ending in a newline. */
  output: string;
  /** The lines each script line that ran printed, in order (their concatenation is `output`). */
  steps: { line: number; output: string[] }[];
  /** Exit status: 2 if any line gave EPARSE, else 0. */
  status: number;
  /** Why each EPARSE happened, in the order printed (a repeat's iterations included). */
  parseErrors: { line: number; reason: string }[];
  /** The scenario's process in its final state. */
  process: ProcessSim;
  /** Address of arena page 0. */
  arenaBase: number;
}

/** An op of the script that this runner cannot execute yet. */
export interface NotModelledOp {
  line: number;
  /** The op as named in the message: `touch`, `dump full`, `mmap ... populate`. */
  op: string;
  /** When it arrives: `it arrives with the memory layer`. */
  reason: string;
}

/**
 * The script uses ops that the KernelSim/ProcessSim interfaces cannot execute
 * yet. Thrown before anything runs; the message names every such op and line.
 */
export class NotModelledError extends Error {
  constructor(readonly ops: readonly NotModelledOp[]) {
    super(ops.map((o) => `line ${o.line}: '${o.op}' is not modelled yet (${o.reason})`).join("\n"));
    this.name = "NotModelledError";
  }
}

/**
 * The implementation failed under a script line (the engine out of wasm
 * memory, or trapped): which line, the output printed before it, and the
 * implementation's error. The kernel's statistics stay readable.
 */
export class ScenarioAbortedError extends Error {
  constructor(readonly line: number, readonly text: string, readonly output: string, readonly error: Error) {
    super(`line ${line} (${text.length > 60 ? `${text.slice(0, 60)}...` : text}): ${error.message}`);
    this.name = "ScenarioAbortedError";
  }
}

/** The arena could not be set up (the implementation refused one of its syscalls). */
export class ArenaSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArenaSetupError";
  }
}


/**
 * Why `op` cannot run yet on a kernel of `policy`, or null when it can. Every
 * op of the language runs now; an op that a later policy or layer adds gets
 * its line here until it lands.
 */
function notModelled(_op: Op, _policy: Policy): Omit<NotModelledOp, "line"> | null {
  return null;
}

/** The ops of a parsed script that cannot run yet on a kernel of `policy`. */
export function findNotModelled(entries: readonly ScriptEntry[], policy: Policy): NotModelledOp[] {
  const out: NotModelledOp[] = [];
  for (const e of entries) {
    if (e.op === "EPARSE") continue;
    const r = notModelled(e, policy);
    if (r) out.push({ line: e.line, ...r });
  }
  return out;
}

/** An errno result (-errno) as printed: its name, or E<number> when the table has none. */
export function errnoName(ret: number): string {
  return ERRNO_NAMES[-ret] ?? `E${-ret}`;
}

const pageAlign = (a: number): number => Math.ceil(a / PAGE_SIZE) * PAGE_SIZE;

/**
 * Executes a script's ops and collects the printed lines. `proc` is the
 * process running the script; the anon_vma numbering and the temp files
 * belong to the runner, so a forked child that continues the script (`fork`)
 * inherits them by replacing `proc`.
 */
class Runner {
  readonly lines: string[] = [];
  /** Temp file ID -> file identity, and back. */
  private readonly files = new Map<number, number>();
  private readonly fileIds = new Map<number, number>();
  /** anon_vma identity -> its number in this process's dumps (1, 2, ...). */
  private readonly avNumbers = new Map<number, number>();
  /** Address of arena page 0. */
  readonly base: number;
  /** PAGE_ALIGN(initial break). */
  private readonly heapBase: number;
  /** A line (or a repeat iteration) gave EPARSE: the exit status is 2. */
  sawParseError = false;
  /** The reason of each EPARSE printed. */
  readonly parseErrors: { line: number; reason: string }[] = [];
  /** `exit` ran: the script stops here with exitCode. */
  done = false;
  exitCode = 0;
  /** Parents waiting for the child that continues the script (`fork`), and parked children (`fork parent`). */
  readonly waiting: ProcessSim[] = [];
  readonly parked: ProcessSim[] = [];

  constructor(private readonly kernel: KernelSim, private proc: ProcessSim) {
    this.base = setupArena(kernel, proc);
    this.heapBase = pageAlign(proc.layout().brk);
  }

  /** The process running the script. */
  get process(): ProcessSim {
    return this.proc;
  }

  get output(): string {
    return this.lines.length ? this.lines.join("\n") + "\n" : "";
  }

  /** Runs one entry of the script, printing its lines. */
  step(e: ScriptEntry): void {
    switch (e.op) {
      case "EPARSE":
        this.lines.push(`${e.text} => EPARSE (line ${e.line})`);
        this.sawParseError = true;
        this.parseErrors.push({ line: e.line, reason: e.reason });
        return;
      case "echo":
        this.lines.push(e.text);
        return;
      case "dump":
        this.lines.push(e.text);
        this.dump(this.proc, this.base, (v) => v.end > this.base && v.start < this.base + ARENA_BYTES, e.full);
        return;
      case "fork":
        this.fork(e.mode, e.text);
        return;
      case "exit":
        this.lines.push(`${e.text} => ok`);
        this.exitCode = e.code;
        this.done = true;
        return;
      case "dumpheap": {
        const layout = this.proc.layout();
        this.lines.push(e.text);
        this.dump(this.proc, this.heapBase, (v) => isHeapVma(v, layout), false);
        return;
      }
      default:
        this.lines.push(`${e.text} => ${this.result(e)}`);
    }
  }

  /** The one dispatch of the ops that print a result: the text after ` => `. */
  private result(op: Op): string {
    switch (op.op) {
      case "mmap":
        return this.mmap(op);
      case "munmap":
        if (!inArena(op.page, op.pages)) return "ERANGE_ARENA";
        return this.status(this.proc.munmap(this.addr(op.page), op.pages * PAGE_SIZE));
      case "mprotect":
        if (!inArena(op.page, op.pages)) return "ERANGE_ARENA";
        return this.status(this.proc.mprotect(this.addr(op.page), op.pages * PAGE_SIZE, op.prot));
      case "mseal":
        if (!inArena(op.page, op.pages)) return "ERANGE_ARENA";
        return this.status(this.proc.mseal(this.addr(op.page), op.pages * PAGE_SIZE, 0));
      case "mremap": {
        if (!inArena(op.page, op.oldPages) || (op.fixedPage !== null && !inArena(op.fixedPage, op.newPages))) return "ERANGE_ARENA";
        let flags = 0;
        if (op.maymove || op.fixedPage !== null || op.dontunmap || op.relocateAnon || op.mustRelocateAnon) flags |= MREMAP_MAYMOVE;
        if (op.fixedPage !== null) flags |= MREMAP_FIXED;
        if (op.dontunmap) flags |= MREMAP_DONTUNMAP;
        if (op.relocateAnon) flags |= MREMAP_RELOCATE_ANON;
        if (op.mustRelocateAnon) flags |= MREMAP_MUST_RELOCATE_ANON;
        const r = this.proc.mremap(this.addr(op.page), op.oldPages * PAGE_SIZE, op.newPages * PAGE_SIZE, flags,
          op.fixedPage !== null ? this.addr(op.fixedPage) : 0);
        return r < 0 ? errnoName(r) : `ok ${this.at(r)}`;
      }
      case "madvise":
        if (!inArena(op.page, op.pages)) return "ERANGE_ARENA";
        return this.status(this.proc.madvise(this.addr(op.page), op.pages * PAGE_SIZE, op.advice));
      case "mlock":
        if (!inArena(op.page, op.pages)) return "ERANGE_ARENA";
        return this.status(this.proc.mlock(this.addr(op.page), op.pages * PAGE_SIZE, op.onfault ? MLOCK_ONFAULT : 0));
      case "munlock":
        if (!inArena(op.page, op.pages)) return "ERANGE_ARENA";
        return this.status(this.proc.munlock(this.addr(op.page), op.pages * PAGE_SIZE));
      case "brk": {
        // a target that overflows or is negative fails without a syscall
        const target = this.heapBase + op.delta * PAGE_SIZE;
        if (!Number.isSafeInteger(target) || target < 0) return "ENOMEM";
        return this.proc.brk(target) === target ? "ok" : "ENOMEM";
      }
      case "count":
        return this.count(op.total);
      case "setrlimit":
        return this.status(this.proc.setrlimit(op.resource, op.cur, op.max));
      case "capdrop":
        this.proc.capDrop(op.cap);
        return "ok";
      case "padvmas":
        return this.padvmas(op.target, op.page);
      case "repeat":
        return this.repeat(op);
      case "touch":
        if (!inArena(op.page, 1)) return "ERANGE_ARENA";
        return this.fault(op.page, this.access(this.addr(op.page), op.write));
      case "touchn": {
        if (!inArena(op.page, op.pages)) return "ERANGE_ARENA";
        for (let i = 0; i < op.pages; i++) {
          const r = this.access(this.addr(op.page + i), op.write);
          if (r !== 0) return this.fault(op.page + i, r);
        }
        return "ok";
      }
      case "peek": {
        if (!inArena(op.page, 1)) return "ERANGE_ARENA";
        const r = this.proc.peek(this.addr(op.page));
        return r >= 0 ? `ok ${r}` : this.fault(op.page, -r);
      }
      case "sysctl":
        return this.sysctl(op);
      case "fork": case "exit": case "dump": case "dumpheap": case "echo":
        // rejected before the script ran (findNotModelled) or printed by step()
        throw new Error(`line ${op.line}: '${op.op}' cannot run here`);
    }
  }

  private addr(page: number): number {
    return this.base + page * PAGE_SIZE;
  }

  /** A user access's result: `ok`, or the signal it raised at page P. */
  /**
   * `touch`'s access, as the native runner makes it: `*p = *p + 1` reads the
   * byte first, then (write) stores it; the read's fault comes first (a read
   * beyond the end of a shmem or file mapping is SIGBUS even where a write would
   * be SIGSEGV, and a read fault maps a page even when the write then fails).
   * Returns 0 or the signal.
   */
  private access(addr: number, write: boolean): number {
    if (!write) return this.proc.touch(addr, false);
    const r = this.proc.touch(addr, false);
    return r !== 0 ? r : this.proc.touch(addr, true);
  }

  private fault(page: number, sig: number): string {
    if (sig === 0) return "ok";
    return `${sig === SIGSEGV ? "SIGSEGV" : sig === SIGBUS ? "SIGBUS" : `signal ${sig}`} at ${page}`;
  }

  /**
   * `fork` / `fork child`: the child continues the script and the parent
   * waits (it stays alive, so COW sharing stays); `fork parent`: the parent
   * continues and the child stays parked. The anon_vma numbering and the temp
   * files carry over to whichever process continues.
   */
  private fork(mode: "child" | "parent", text: string): void {
    let child: ProcessSim;
    try {
      child = this.proc.fork();
    } catch (e) {
      // fork(2) failed (the commit charge refused): the parent goes on
      if (!(e instanceof SyscallError)) throw e;
      this.lines.push(`${text} => ${errnoName(-e.errno)}`);
      return;
    }
    if (mode === "child") {
      this.lines.push(`${text} => child continues (parent waits)`);
      this.waiting.push(this.proc);
      this.proc = child;
    } else {
      this.lines.push(`${text} => parent continues (child parked)`);
      this.parked.push(child);
    }
  }

  /**
   * `sysctl KEY VALUE`: a write of /proc/sys/vm/KEY. Writing overcommit_ratio
   * clears overcommit_kbytes and the other way round (overcommit_ratio_handler,
   * overcommit_kbytes_handler, mm/util.c); a value the knob refuses is EINVAL.
   */
  private sysctl(op: SysctlOp): string {
    const v = Number(op.value);
    const change: Partial<KernelConfig> = { [op.key]: v };
    if (op.key === "overcommit_ratio") change.overcommit_kbytes = 0;
    if (op.key === "overcommit_kbytes") change.overcommit_ratio = 0;
    try {
      this.proc.kernel.configure(change);
    } catch (e) {
      if (e instanceof ConfigError) return "EINVAL";
      throw e;
    }
    return "ok";
  }

  /** `ok` for 0, else the errno name. */
  private status(ret: number): string {
    return ret === 0 ? "ok" : errnoName(ret);
  }

  /** `@P` for an address chosen by the kernel. */
  private at(addr: number): string {
    if (addr % PAGE_SIZE !== 0) return `@?${addr}`;
    if (addr >= this.base && addr < this.base + ARENA_BYTES) return `@${(addr - this.base) / PAGE_SIZE}`;
    return "@OUTSIDE_ARENA";
  }

  /** The identity of temp file `id`, created on first use and grown to at least `pages`. */
  private tempFile(id: number, pages: number): number {
    let f = this.files.get(id);
    if (f === undefined) {
      f = this.kernel.createFile(tempFilePath(id), pages);
      this.files.set(id, f);
      this.fileIds.set(f, id);
    } else if (this.kernel.fileSizePages(f) < pages) {
      this.kernel.resizeFile(f, pages);
    }
    return f;
  }

  private mmap(op: MmapOp): string {
    if (!inArena(op.page, op.pages)) return "ERANGE_ARENA";
    let flags = op.shared ? MAP_SHARED : MAP_PRIVATE;
    let file = -1;
    let off = 0;
    if (op.file) {
      // the byte offset of FOFF+N pages must fit in off_t
      if (op.file.offset > MAX_OFF_PAGES - op.pages) return "EOVERFLOW";
      file = this.tempFile(op.file.id, op.file.offset + op.pages);
      off = op.file.offset * PAGE_SIZE;
    } else {
      flags |= MAP_ANONYMOUS;
    }
    if (op.placement === "fixed") flags |= MAP_FIXED;
    else if (op.placement === "noreplace") flags |= MAP_FIXED_NOREPLACE;
    if (op.populate) flags |= MAP_POPULATE;
    if (op.noreserve) flags |= MAP_NORESERVE;
    if (op.locked) flags |= MAP_LOCKED;
    if (op.stack) flags |= MAP_STACK;
    const addr = this.addr(op.page);
    const ret = this.proc.mmap(addr, op.pages * PAGE_SIZE, op.prot, flags, file, off);
    if (ret < 0) return errnoName(ret);
    if (op.placement !== "hint" && ret === addr) return "ok";
    return `ok ${this.at(ret)}`;
  }

  /** process_vmas counts the lines of /proc/pid/maps: the VMAs and the [vsyscall] gate area. */
  private count(total: boolean): string {
    const vmas = this.proc.vmas();
    const lines = mapsLineCount(this.proc);
    const max = this.kernel.maxMapCount();
    if (total) return `process_vmas=${lines} max_map_count=${max}`;
    const arena = vmas.filter((v) => v.end > this.base && v.start < this.base + ARENA_BYTES).length;
    return `process_vmas=${lines} arena_vmas=${arena} other_vmas=${lines - arena} max_map_count=${max}`;
  }

  /**
   * 1-page read-only private anonymous VMAs at P, P+2, ... until
   * /proc/pid/maps has `target` lines (the gate area counts: the mm then has
   * target - 1 VMAs, as on a real x86_64 kernel). As the native runner does:
   * count, map as many pages as are missing, count again (a page may have
   * merged with a neighbour), until the target is reached.
   */
  private padvmas(target: number, page: number): string {
    let next = page;
    for (;;) {
      const total = mapsLineCount(this.proc);
      if (total >= target) return "ok";
      for (let k = target - total; k > 0; k--, next += 2) {
        if (!inArena(next, 1)) return "ERANGE_ARENA";
        const addr = this.addr(next);
        const ret = this.proc.mmap(addr, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (ret < 0) return errnoName(ret);
        // MAP_FIXED_NOREPLACE taken as a hint (kernels before 4.17): the page was not free
        if (ret !== addr) return errnoName(-EEXIST);
      }
    }
  }

  private repeat(op: RepeatOp): string {
    for (let i = 0; i < op.count; i++) {
      const it = repeatIteration(op, i);
      let r: string;
      if (it.op === "EPARSE") {
        r = `EPARSE (line ${op.line})`;
        this.sawParseError = true;
        this.parseErrors.push({ line: op.line, reason: it.reason ?? "bad argument" });
      } else if (it.op === "ERANGE_ARENA") {
        r = "ERANGE_ARENA";
      } else {
        r = this.result(it.op);
      }
      if (!r.startsWith("ok")) return `ok x${i}, then i=${i} (page ${it.at ?? "?"}): ${r}`;
    }
    return `ok x${op.count}`;
  }

  /**
   * Prints the VMAs of `proc` that `pick` selects in the dump format, pages
   * relative to `base`; `full` adds smaps-like usage and VmFlags. Every line
   * carries ` av=`, as the native runner prints it with its BPF reader: a
   * private file mapping gets an anon_vma at its first copy-on-write fault
   * (anon_vma_prepare() in do_cow_fault(), mm/memory.c).
   */
  private dump(proc: ProcessSim, base: number, pick: (v: VmaSnapshot) => boolean, full: boolean): void {
    const basePfn = base / PAGE_SIZE;
    const all = proc.vmas();
    const usage = full ? proc.usage() : [];
    // the kernel runner numbers anon_vmas by address (reused after a free); the model has identities only
    const addrs = proc.anonVmaAddresses?.() ?? null;
    let n = 0;
    all.forEach((v, i) => {
      if (!pick(v)) return;
      n++;
      const start = (v.start - base) / PAGE_SIZE;
      const end = (v.end - base) / PAGE_SIZE;
      let line = `  ${start} ${end} ${vmaPerms(v.flags)} ${this.kind(v, basePfn)} ${this.anonVma(v, addrs?.[i])}`;
      if (full) {
        const u = usage[i]!;
        const flags = smapsVmFlags(v, POLICY_RELEASE[this.kernel.policy]).filter((f) => f !== "sd");
        line += ` rss=${u.rss} anon=${u.anon} locked=${u.locked} flags=${flags.length ? flags.join(",") : "-"}`;
      }
      this.lines.push(line);
    });
    this.lines.push(`  (${n} vmas)`);
  }

  /**
   * `anon X` (X = vm_pgoff - basePfn), `fileN X` (temp file N), `shmem X`
   * (shared anonymous memory), or `other X` for any other file, which scripts
   * cannot map in the arena.
   */
  private kind(v: VmaSnapshot, basePfn: number): string {
    if (v.file === 0) return `anon ${v.pgoff - basePfn}`;
    const id = this.fileIds.get(v.file);
    if (id !== undefined) return `file${id} ${v.pgoff}`;
    return `${this.kernel.filePath(v.file) === SHMEM_ZERO_PATH ? "shmem" : "other"} ${v.pgoff}`;
  }

  /**
   * `av=-`, or `av=A/R` with anon_vmas numbered in order of first
   * appearance: by address when the kernel gives them (`at`), as the kernel
   * runner does, so an anon_vma allocated where a freed one was keeps its
   * number; else by identity.
   */
  private anonVma(v: VmaSnapshot, at?: { anonVma: number; root: number }): string {
    if (v.anonVma === 0) return "av=-";
    if (at) return `av=${this.avNumber(at.anonVma)}/${this.avNumber(at.root)}`;
    const a = this.avNumber(v.anonVma);
    const r = this.avNumber(v.anonVmaRoot === 0 ? v.anonVma : v.anonVmaRoot);
    return `av=${a}/${r}`;
  }

  private avNumber(id: number): number {
    let n = this.avNumbers.get(id);
    if (n === undefined) {
      n = this.avNumbers.size + 1;
      this.avNumbers.set(id, n);
    }
    return n;
  }
}

/** `[P, P+N)` lies inside the arena (P, N >= 0 by the grammar). */
function inArena(page: number, pages: number): boolean {
  return page + pages <= ARENA_PAGES;
}

/**
 * Sets the arena up as the native runner does: reserve 1 GiB + 2 pages
 * (PROT_NONE, private, anonymous, noreserve), map a 1-page memfd MAP_SHARED
 * and PROT_READ over the first and the last page (guards that never merge
 * with arena VMAs), unmap the 1 GiB in between. Returns the address of arena
 * page 0.
 */
function setupArena(kernel: KernelSim, proc: ProcessSim): number {
  const size = ARENA_BYTES + 2 * PAGE_SIZE;
  const r = proc.mmap(0, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r < 0) throw new ArenaSetupError(`arena: reserving ${size} bytes failed: ${errnoName(r)}`);
  const memfd = kernel.createFile(ARENA_MEMFD_PATH, 1);
  for (const guard of [r, r + size - PAGE_SIZE]) {
    const g = proc.mmap(guard, PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, memfd, 0);
    if (g !== guard) throw new ArenaSetupError(`arena: mapping the guard page at 0x${guard.toString(16)} failed: ${g < 0 ? errnoName(g) : `got 0x${g.toString(16)}`}`);
  }
  const u = proc.munmap(r + PAGE_SIZE, ARENA_BYTES);
  if (u !== 0) throw new ArenaSetupError(`arena: unmapping the arena failed: ${errnoName(u)}`);
  return r + PAGE_SIZE;
}

/**
 * Runs a scenario script in a new process of `kernel` and returns what it
 * printed. Throws NotModelledError, before anything runs, when the script uses
 * an op that cannot be executed yet.
 */
export function runScenario(kernel: KernelSim, script: string, opts: ScenarioOptions = {}): ScenarioResult {
  const entries = parseScript(script);
  const missing = findNotModelled(entries, kernel.policy);
  if (missing.length) throw new NotModelledError(missing);
  const proc = kernel.createProcess(opts.image);
  const runner = new Runner(kernel, proc);
  const steps: ScenarioResult["steps"] = [];
  opts.onStart?.(runner.process, runner.base);
  for (const e of entries) {
    const before = runner.lines.length;
    try {
      runner.step(e);
    } catch (err) {
      // the engine's own failures (EngineOutOfMemoryError, EnginePoisonedError) say where
      if (err instanceof Error && /^Engine/.test(err.name)) throw new ScenarioAbortedError(e.line, e.text, runner.output, err);
      throw err;
    }
    steps.push({ line: e.line, output: runner.lines.slice(before) });
    opts.onStep?.(runner.process, e);
    if (runner.done) break;
  }
  return {
    output: runner.output, steps, status: runner.done ? runner.exitCode : runner.sawParseError ? 2 : 0,
    parseErrors: runner.parseErrors,
    process: runner.process, arenaBase: runner.base,
  };
}
