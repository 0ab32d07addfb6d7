// `vmasim gen server`: a redis-like server. Its dataset lives in anonymous
// regions mapped as it grows; it keeps writing (a first write faults, a read
// of a page never written maps the zero page and a later write faults again)
// and purges freed runs with madvise(MADV_DONTNEED). Now and then it forks a
// snapshot child (BGSAVE): after the fork every present page is shared, so
// the parent's next write to each is a copy-on-write fault, and so are the
// child's own writes (its allocations); the child writes its output through
// an anonymous buffer, then exits. One child at a time, as redis does.

import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../abi/constants.js";
import { SHELL, SPAWN_EVENTS, type Worker, Workload, spawn } from "./workload.js";
import { FORK_EVENTS, LIBC, PAGE, PF_COW, PF_EXEC, PF_READ, PF_WRITE, type Proc, World, program } from "./world.js";

const MADV_DONTNEED = 4;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

const REGION_PAGES = 256;
const MAX_REGIONS = 32;
const BUFFER_PAGES = 64;

/** a dataset page: not present, the zero page (read before written), or present */
const NONE = 0;
const ZERO = 1;
const PRESENT = 2;

interface Region {
  base: number;
  state: Uint8Array;
  /** the fork after which the parent last copied the page (or faulted it in): shared with the child when older */
  copied: Uint32Array;
  /** the child's view: its pages at the fork, then its own writes (state PRESENT + 1: copied by the child) */
  child: Uint8Array;
}

const PROGRAM = program("/usr/bin/redis-server", 0x180, [LIBC]);

class ServerWorker implements Worker {
  private readonly regions: Region[] = [];
  private forks = 0;
  private child: Proc | null = null;
  /** child steps left before it exits */
  private childLeft = 0;
  private buffer = 0;
  private bufferUsed = 0;
  /** the regions the child has: those mapped before its fork */
  private childRegions = 0;

  constructor(readonly world: World, readonly proc: Proc) {}

  exitCost(): number {
    return this.proc.exitCost + (this.child ? this.child.exitCost : 0);
  }

  finish(): void {
    if (this.child) this.world.exit(this.child);
    this.world.exit(this.proc);
  }

  step(budget: number): boolean {
    const r = this.world.r;
    if (this.child && r(3) === 0) return this.childStep();
    if (!this.child && this.regions.length > 0 && r(400) === 0 && budget >= FORK_EVENTS + 2) return this.bgsave();
    const op = r(100);
    if (op < 4 || this.regions.length === 0) {
      if (this.regions.length < MAX_REGIONS) return this.grow();
    }
    if (op < 8) return this.purge();
    for (let i = 0; i < 16; i++) if (this.access(r(10) === 0)) return true;
    return false;
  }

  private grow(): boolean {
    const p = this.proc;
    const len = REGION_PAGES * PAGE;
    const base = p.space.topDown(len);
    p.space.map(base, base + len);
    this.world.out.mmap(p.task, p.comm, 0, len, RW, ANON, -1, 0, null, base);
    this.regions.push({ base, state: new Uint8Array(REGION_PAGES), copied: new Uint32Array(REGION_PAGES), child: new Uint8Array(REGION_PAGES) });
    return true;
  }

  /** A read or a write of a random dataset page by the parent: an event only when the kernel would fault. */
  private access(read: boolean): boolean {
    const w = this.world;
    const p = this.proc;
    const g = this.regions[w.r(this.regions.length)];
    const i = w.r(REGION_PAGES);
    const addr = g.base + i * PAGE + w.r(PAGE);
    const s = g.state[i];
    let code: number;
    if (read) {
      if (s !== NONE) return false;
      g.state[i] = ZERO;
      code = PF_READ;
    } else if (s === NONE) {
      code = PF_WRITE;
    } else if (s === ZERO || (this.child !== null && g.copied[i] !== this.forks)) {
      // the zero page, or a page shared with the snapshot child: wp_page_copy()
      code = PF_COW;
    } else {
      return false;
    }
    if (!read) {
      g.state[i] = PRESENT;
      g.copied[i] = this.forks;
    }
    w.out.fault(p.task, p.comm, addr, w.ip(p), code);
    return true;
  }

  /** Freed keys: a run of pages given back with MADV_DONTNEED (zap_page_range()). */
  private purge(): boolean {
    const w = this.world;
    const p = this.proc;
    const g = this.regions[w.r(this.regions.length)];
    const n = 1 + w.r(32);
    const i = w.r(REGION_PAGES - n + 1);
    g.state.fill(NONE, i, i + n);
    // the child keeps its copy of the snapshot: only the parent's page tables change
    w.out.madvise(p.task, p.comm, g.base + i * PAGE, n * PAGE, MADV_DONTNEED, 0);
    return true;
  }

  /** BGSAVE: fork; every present page is shared from here. */
  private bgsave(): boolean {
    this.forks++;
    this.child = this.world.fork(this.proc);
    for (const g of this.regions) g.child.set(g.state);
    this.childRegions = this.regions.length;
    this.childLeft = 50 + this.world.r(500);
    this.buffer = 0;
    return true;
  }

  /** The child: its own allocations write shared pages (COW), its output goes through a buffer; then it exits. */
  private childStep(): boolean {
    const w = this.world;
    const c = this.child!;
    if (--this.childLeft <= 0) {
      // exit: its events are paid for by its exit cost
      w.exit(c);
      this.child = null;
      return true;
    }
    const r = w.r;
    if (this.buffer !== 0 && this.bufferUsed === BUFFER_PAGES && r(2) === 0) {
      c.space.unmap(this.buffer, this.buffer + BUFFER_PAGES * PAGE);
      w.out.munmap(c.task, c.comm, this.buffer, BUFFER_PAGES * PAGE, 0);
      this.buffer = 0;
      return true;
    }
    if (this.buffer === 0) {
      this.buffer = c.space.topDown(BUFFER_PAGES * PAGE);
      c.space.map(this.buffer, this.buffer + BUFFER_PAGES * PAGE);
      this.bufferUsed = 0;
      w.out.mmap(c.task, c.comm, 0, BUFFER_PAGES * PAGE, RW, ANON, -1, 0, null, this.buffer);
      return true;
    }
    if (this.bufferUsed < BUFFER_PAGES && r(2) === 0) {
      w.out.fault(c.task, c.comm, this.buffer + this.bufferUsed++ * PAGE, w.ip(c), PF_WRITE);
      return true;
    }
    const g = this.regions[r(this.childRegions)];
    const i = r(REGION_PAGES);
    const s = g.child[i];
    if (s === PRESENT + 1) {
      // already the child's own copy: no fault there; its code runs instead (an instruction fetch)
      const ip = w.ip(c);
      w.out.fault(c.task, c.comm, ip, ip, PF_EXEC);
      return true;
    }
    g.child[i] = PRESENT + 1;
    w.out.fault(c.task, c.comm, g.base + i * PAGE + r(PAGE), w.ip(c), s === NONE ? PF_WRITE : PF_COW);
    return true;
  }
}

export class ServerWorkload extends Workload {
  constructor(world: World, pids: number) {
    super(world, SHELL, pids);
  }

  startWorker(budget: number): boolean {
    const cost = SPAWN_EVENTS + World.libraryEvents(LIBC) + 2;
    if (cost > budget) return false;
    const p = spawn(this.world, this.launcher, PROGRAM);
    this.world.loadLibrary(p, LIBC);
    this.workers.push(new ServerWorker(this.world, p));
    return true;
  }
}
