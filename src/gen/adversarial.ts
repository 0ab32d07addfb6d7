// `vmasim gen adversarial`: as many VMAs as vm.max_map_count allows, then
// churn at the limit. Each worker maps one large read-write region and makes
// every other page read-only, one mprotect at a time (each splits a VMA in
// three), until its mm holds max_map_count VMAs; then it keeps calling at the
// limit: calls that would take map_count past it fail with ENOMEM, as the
// kernel refuses them, and calls that merge or unmap VMAs make room for a
// few that succeed. The trace carries each call's result.
//
// The generator knows the exact VMA count, so it knows which calls fail.
// The region's pages are never touched (no anon_vma), so adjacent pages of
// equal protection always merge, under every policy; read-only pages sit at
// odd indices only, so two of them are never adjacent (a read-only page
// mapped afresh lacks the VM_ACCOUNT of one made read-only by mprotect).
// The refusals, as the engine implements them (assembly/mm/):
// - do_mmap() (mm/mmap.c): ENOMEM when map_count > max_map_count before
//   the call; a MAP_FIXED mapping into a hole splits nothing;
// - mprotect_fixup() → split_vma() (mm/mprotect.c, mm/vma.c): ENOMEM
//   when map_count >= max_map_count; a page inside a VMA needs two splits,
//   so it succeeds only from max_map_count - 2 (from max_map_count - 1 the
//   first split would stay: the generator never makes that call);
// - do_vmi_munmap() (mm/vma.c): a hole inside a VMA is refused when
//   map_count >= max_map_count; unmapping a whole VMA always succeeds.

import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../abi/constants.js";
import { SHELL, SPAWN_EVENTS, type Worker, Workload, spawn } from "./workload.js";
import { PAGE, PF_WRITE, type Proc, World, program } from "./world.js";

const RW = PROT_READ | PROT_WRITE;
const FLAGS = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;

/** where the region and the scratch mapping go (MAP_FIXED_NOREPLACE): far from everything else, so nothing merges with them */
const REGION = 0x600000000000;
const SCRATCH = 0x5f0000000000;
const SCRATCH_PAGES = 16;
/** the VMAs exec leaves (world.ts: the executable's 4, ld.so's 4, [vvar], [vdso], [stack]) */
const IMAGE_VMAS = 11;

const HOLE = 0;
const WRITE = 1;
const READ = 2;

const PROGRAM = program("/usr/bin/fragment", 0x10, []);

class AdversarialWorker implements Worker {
  /** each region page's state */
  private readonly page: Uint8Array;
  /** map_count of the mm, exactly */
  private count = IMAGE_VMAS + 2;
  /** the next odd page the fragmentation phase splits off */
  private cursor = 1;

  constructor(readonly world: World, readonly proc: Proc, readonly max: number, readonly pages: number) {
    this.page = new Uint8Array(pages).fill(WRITE);
  }

  exitCost(): number {
    return this.proc.exitCost;
  }

  private addr(i: number): number {
    return REGION + i * PAGE;
  }

  /** A page both of whose neighbours are mapped read-write like it: inside one VMA. */
  private inside(i: number): boolean {
    const s = this.page;
    return s[i - 1] === WRITE && s[i] === WRITE && s[i + 1] === WRITE;
  }

  /** A random page 1..pages-2 in the given state (odd pages only when `odd`), or -1. */
  private find(test: (i: number) => boolean, odd: boolean): number {
    const r = this.world.r;
    for (let k = 0; k < 24; k++) {
      let i = 1 + r(this.pages - 2);
      if (odd && i % 2 === 0) i = i + 1 < this.pages - 1 ? i + 1 : i - 1;
      if (test(i)) return i;
    }
    return -1;
  }

  step(): boolean {
    const w = this.world;
    const r = w.r;
    const p = this.proc;
    if (r(8) === 0) {
      // work elsewhere: writes to the scratch mapping
      w.out.fault(p.task, p.comm, SCRATCH + r(SCRATCH_PAGES) * PAGE + r(PAGE), w.ip(p), PF_WRITE);
      return true;
    }
    const c = this.count;
    const max = this.max;
    // fragmentation: every other page read-only, in address order
    if (c <= max - 2 && this.cursor < this.pages - 1) {
      while (this.cursor < this.pages - 1 && !this.inside(this.cursor)) this.cursor += 2;
      if (this.cursor < this.pages - 1) return this.protect(this.cursor, READ);
    }
    // churn at the limit
    const op = r(c >= max ? 10 : 6);
    if (op === 0) {
      const i = this.find((j) => this.page[j] === READ, true);
      if (i >= 0) return this.protect(i, WRITE);
    } else if (op === 1) {
      const i = this.find((j) => this.page[j] === READ, true);
      if (i >= 0) return this.unmap(i);
    } else if (op <= 3) {
      const i = this.find((j) => this.page[j] === HOLE, false);
      if (i >= 0) return this.map(i);
    } else if (op === 4) {
      // a hole punched inside a VMA: +1, refused at the limit
      const i = this.find((j) => this.inside(j), false);
      if (i >= 0) return this.unmap(i);
    } else {
      // a page inside a VMA made read-only: +2, refused from the limit on
      const i = this.find((j) => this.inside(j), true);
      if (i >= 0 && c !== max - 1) return this.protect(i, READ);
    }
    w.out.fault(p.task, p.comm, SCRATCH + r(SCRATCH_PAGES) * PAGE, w.ip(p), PF_WRITE);
    return true;
  }

  /** Neighbours of page i mapped read-write (the VMAs a change of i to read-write merges with). */
  private writableNeighbours(i: number): number {
    return (this.page[i - 1] === WRITE ? 1 : 0) + (this.page[i + 1] === WRITE ? 1 : 0);
  }

  private protect(i: number, to: number): boolean {
    const p = this.proc;
    const prot = to === WRITE ? RW : PROT_READ;
    if (to === READ) {
      // inside a read-write VMA: split in three
      if (this.count >= this.max) {
        this.world.out.mprotect(p.task, p.comm, this.addr(i), PAGE, prot, -1, "ENOMEM");
        return true;
      }
      this.count += 2;
    } else {
      // a read-only VMA of its own merges with its read-write neighbours
      this.count -= this.writableNeighbours(i);
    }
    this.page[i] = to;
    this.world.out.mprotect(p.task, p.comm, this.addr(i), PAGE, prot, 0);
    return true;
  }

  private unmap(i: number): boolean {
    const p = this.proc;
    if (this.page[i] === READ) {
      this.count--;
    } else {
      if (this.count >= this.max) {
        this.world.out.munmap(p.task, p.comm, this.addr(i), PAGE, -1, "ENOMEM");
        return true;
      }
      this.count++;
    }
    this.page[i] = HOLE;
    this.world.out.munmap(p.task, p.comm, this.addr(i), PAGE, 0);
    return true;
  }

  /** A page mapped into a hole: read-only at odd pages, read-write (merging) at even ones. */
  private map(i: number): boolean {
    const p = this.proc;
    const to = i % 2 === 1 ? READ : WRITE;
    const prot = to === WRITE ? RW : PROT_READ;
    if (this.count > this.max) {
      this.world.out.mmap(p.task, p.comm, this.addr(i), PAGE, prot, FLAGS, -1, 0, null, -1, "ENOMEM");
      return true;
    }
    this.count += 1 - (to === WRITE ? this.writableNeighbours(i) : 0);
    this.page[i] = to;
    this.world.out.mmap(p.task, p.comm, this.addr(i), PAGE, prot, FLAGS, -1, 0, null, this.addr(i));
    return true;
  }
}

export class AdversarialWorkload extends Workload {
  constructor(world: World, pids: number, readonly max: number) {
    super(world, SHELL, pids);
  }

  startWorker(budget: number): boolean {
    const cost = SPAWN_EVENTS + 2 + 2;
    if (cost > budget) return false;
    const w = this.world;
    const p = spawn(w, this.launcher, PROGRAM);
    // room for every other page to be split off, and more for the churn
    const pages = 2 * this.max + 64;
    w.out.mmap(p.task, p.comm, SCRATCH, SCRATCH_PAGES * PAGE, RW, FLAGS, -1, 0, null, SCRATCH);
    w.out.mmap(p.task, p.comm, REGION, pages * PAGE, RW, FLAGS, -1, 0, null, REGION);
    this.workers.push(new AdversarialWorker(w, p, this.max, pages));
    return true;
  }
}
