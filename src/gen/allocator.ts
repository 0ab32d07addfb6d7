// `vmasim gen allocator`: a malloc-like allocator in the manner of jemalloc.
// Each thread has its own arena; an arena maps chunks of 2 MiB and carves
// them into page extents (first fit: a free run is split, freed neighbours
// coalesce since the page map has no boundaries); freed pages stay dirty
// (present), decay purges them with madvise(MADV_FREE) (muzzy) and then
// madvise(MADV_DONTNEED) (retained: the next use faults again), and an
// arena's fully retained chunk beyond its first two is unmapped. Large
// allocations get their own mapping and grow or shrink with mremap
// (realloc), moving when the space after them is taken.

import { MAP_ANONYMOUS, MAP_PRIVATE, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from "../abi/constants.js";
import type { Task } from "./emit.js";
import { SHELL, SPAWN_EVENTS, type Worker, Workload, spawn } from "./workload.js";
import { FORK_EVENTS, LIBC, PAGE, PF_WRITE, type Proc, World, program } from "./world.js";

const MADV_DONTNEED = 4;
const MADV_FREE = 8;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

const CHUNK_PAGES = 512;
const MAX_CHUNKS = 8;
const MAX_LIVE = 256;
const MAX_HUGE = 4;
/** threads besides the main one: each has an arena */
const THREADS = 3;

/** page states in a chunk */
const RETAINED = 0; // not present: the next write faults
const ALLOCATED = 1;
const DIRTY = 2; // freed, still present
const MUZZY = 3; // MADV_FREE'd: may be reclaimed

/** `free`: pages not allocated (a chunk with fewer than a request's pages is skipped) */
interface Chunk { base: number; state: Uint8Array; free: number }
interface Extent { chunk: Chunk; page: number; pages: number }
interface Huge { addr: number; pages: number }
interface Arena { task: Task; chunks: Chunk[]; live: Extent[]; huge: Huge[] }

const PROGRAM = program("/usr/bin/allocbench", 0x40, [LIBC]);

class AllocatorWorker implements Worker {
  readonly arenas: Arena[] = [];
  constructor(readonly world: World, readonly proc: Proc) {}

  exitCost(): number {
    return this.proc.exitCost;
  }

  step(budget: number): boolean {
    const r = this.world.r;
    const a = this.arenas[r(this.arenas.length)];
    // user-space work (a free, a reuse of dirty pages) makes no event: try a few operations
    for (let i = 0; i < 8; i++) {
      const before = this.world.out.count;
      const op = r(100);
      let ok: boolean;
      if (op < 55) ok = this.alloc(a, budget, r(8) === 0 ? 1 + r(64) : 1 + r(8));
      else if (op < 88) ok = this.free(a);
      else if (op < 95) ok = this.purge(a, budget);
      else ok = this.huge(a, budget);
      if (ok && this.world.out.count > before) return true;
    }
    return false;
  }

  /** A first-fit run of `n` pages not allocated, in the arena's chunks. */
  private fit(a: Arena, n: number): Extent | null {
    for (const c of a.chunks) {
      if (c.free < n) continue;
      let run = 0;
      for (let i = 0; i < CHUNK_PAGES; i++) {
        run = c.state[i] === ALLOCATED ? 0 : run + 1;
        if (run === n) return { chunk: c, page: i - n + 1, pages: n };
      }
    }
    return null;
  }

  private alloc(a: Arena, budget: number, n: number): boolean {
    const p = this.proc;
    const o = this.world.out;
    if (a.live.length >= MAX_LIVE) this.free(a);
    let e = this.fit(a, n);
    if (e === null) {
      if (a.chunks.length >= MAX_CHUNKS || budget < 1 + n) return false;
      const len = CHUNK_PAGES * PAGE;
      const base = p.space.topDown(len);
      p.space.map(base, base + len);
      o.mmap(a.task, p.comm, 0, len, RW, ANON, -1, 0, null, base);
      a.chunks.push({ base, state: new Uint8Array(CHUNK_PAGES), free: CHUNK_PAGES });
      budget--;
      e = { chunk: a.chunks[a.chunks.length - 1], page: 0, pages: n };
    }
    const s = e.chunk.state;
    let faults = 0;
    for (let i = e.page; i < e.page + n; i++) if (s[i] === RETAINED || s[i] === MUZZY) faults++;
    if (faults > budget) return false;
    for (let i = e.page; i < e.page + n; i++) {
      // a retained page is gone and a muzzy one may have been reclaimed: the first write faults
      if (s[i] === RETAINED || s[i] === MUZZY) o.fault(a.task, p.comm, e.chunk.base + i * PAGE + this.world.r(PAGE), this.world.ip(p), PF_WRITE);
      s[i] = ALLOCATED;
    }
    e.chunk.free -= n;
    a.live.push(e);
    return true;
  }

  private free(a: Arena): boolean {
    if (a.live.length === 0) return false;
    const i = this.world.r(a.live.length);
    const e = a.live[i];
    a.live[i] = a.live[a.live.length - 1];
    a.live.pop();
    e.chunk.state.fill(DIRTY, e.page, e.page + e.pages);
    e.chunk.free += e.pages;
    return true;
  }

  /** Decay: dirty runs of a chunk become muzzy (MADV_FREE), muzzy runs retained (MADV_DONTNEED); an empty chunk goes. */
  private purge(a: Arena, budget: number): boolean {
    const p = this.proc;
    const o = this.world.out;
    const r = this.world.r;
    if (a.chunks.length === 0) return false;
    const c = a.chunks[r(a.chunks.length)];
    const from = r(2) === 0 ? DIRTY : MUZZY;
    const to = from === DIRTY ? MUZZY : RETAINED;
    let calls = 0;
    for (let i = 0; i < CHUNK_PAGES && calls < budget && calls < 4; ) {
      if (c.state[i] !== from) {
        i++;
        continue;
      }
      let j = i;
      while (j < CHUNK_PAGES && c.state[j] === from) j++;
      c.state.fill(to, i, j);
      o.madvise(a.task, p.comm, c.base + i * PAGE, (j - i) * PAGE, from === DIRTY ? MADV_FREE : MADV_DONTNEED, 0);
      calls++;
      i = j;
    }
    if (calls < budget && a.chunks.length > 2 && c.state.every((x) => x === RETAINED)) {
      p.space.unmap(c.base, c.base + CHUNK_PAGES * PAGE);
      o.munmap(a.task, p.comm, c.base, CHUNK_PAGES * PAGE, 0);
      a.chunks.splice(a.chunks.indexOf(c), 1);
      calls++;
    }
    return calls > 0;
  }

  /** A large allocation: mapped on its own, grown or shrunk by mremap (realloc), unmapped when freed. */
  private huge(a: Arena, budget: number): boolean {
    const p = this.proc;
    const o = this.world.out;
    const r = this.world.r;
    if (a.huge.length > 0 && r(3) !== 0) {
      const h = a.huge[r(a.huge.length)];
      if (r(4) === 0) {
        p.space.unmap(h.addr, h.addr + h.pages * PAGE);
        o.munmap(a.task, p.comm, h.addr, h.pages * PAGE, 0);
        a.huge.splice(a.huge.indexOf(h), 1);
        return true;
      }
      const pages = Math.max(128, h.pages + (r(2) === 0 ? -(1 + r(h.pages >> 1)) : 1 + r(h.pages)));
      if (pages > 4096 || pages === h.pages) return false;
      const oldLen = h.pages * PAGE;
      const newLen = pages * PAGE;
      let to = h.addr;
      if (pages < h.pages) {
        p.space.unmap(h.addr + newLen, h.addr + oldLen);
      } else if (p.space.isFree(h.addr + oldLen, h.addr + newLen)) {
        p.space.map(h.addr + oldLen, h.addr + newLen);
      } else {
        // mremap_to()'s placement: get_unmapped_area() while the old mapping is still there
        to = p.space.topDown(newLen);
        p.space.unmap(h.addr, h.addr + oldLen);
        p.space.map(to, to + newLen);
      }
      o.mremap(a.task, p.comm, h.addr, oldLen, newLen, MREMAP_MAYMOVE, to);
      h.addr = to;
      h.pages = pages;
      return true;
    }
    if (a.huge.length >= MAX_HUGE) return false;
    const pages = 128 + r(1024);
    const touched = 1 + r(8);
    if (budget < 1 + touched) return false;
    const len = pages * PAGE;
    const addr = p.space.topDown(len);
    p.space.map(addr, addr + len);
    o.mmap(a.task, p.comm, 0, len, RW, ANON, -1, 0, null, addr);
    for (let i = 0; i < touched; i++) o.fault(a.task, p.comm, addr + i * PAGE, this.world.ip(p), PF_WRITE);
    a.huge.push({ addr, pages });
    return true;
  }
}

export class AllocatorWorkload extends Workload {
  constructor(world: World, pids: number) {
    super(world, SHELL, pids);
  }

  startWorker(budget: number): boolean {
    // fork, exec, libc, the threads; then their exits
    const cost = SPAWN_EVENTS + World.libraryEvents(LIBC) + THREADS * FORK_EVENTS + 2 + 2 * THREADS;
    if (cost > budget) return false;
    const p = spawn(this.world, this.launcher, PROGRAM);
    this.world.loadLibrary(p, LIBC);
    const w = new AllocatorWorker(this.world, p);
    w.arenas.push({ task: p.task, chunks: [], live: [], huge: [] });
    for (let i = 0; i < THREADS; i++) w.arenas.push({ task: this.world.thread(p), chunks: [], live: [], huge: [] });
    this.workers.push(w);
    return true;
  }
}
