// Where the engine would have put a mapping the kernel placed itself: the
// x86_64 top-down search of arch_get_unmapped_area_topdown()
// (arch/x86/kernel/sys_x86_64.c, 6.18) over the engine's VMAs, without
// changing them: the hint if the range is free, else the highest gap below
// mmap_base that fits. Randomisation is off in the engine, so a difference
// from the traced address is expected and only counted.

import { PAGE_SIZE, VM_GROWSDOWN } from "../abi/constants.js";
import { SNAP, SNAP_HEADER, SNAP_RECORD_SIZE } from "../engine/abi.js";
import type { Process } from "../engine/simulator.js";
import type { VmaSnapshot } from "../types.js";

/** The fields of a process's VMAs (in address order) that the search reads. */
export interface VmaRows {
  readonly length: number;
  start(i: number): number;
  end(i: number): number;
  flags(i: number): number;
}

/** VmaRows over snapshot objects. */
export function snapshotRows(vmas: readonly VmaSnapshot[]): VmaRows {
  return { length: vmas.length, start: (i) => vmas[i].start, end: (i) => vmas[i].end, flags: (i) => vmas[i].flags };
}

/**
 * VmaRows read in place from the engine's snapshot buffer: the replay checks
 * every mmap the kernel placed, and decoding every VMA into an object for
 * it (Process.vmas()) was a tenth of a build trace's replay. Valid until the
 * engine is next called.
 */
export class EngineRows implements VmaRows {
  length = 0;
  private base = 0;
  private f64: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private u32: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

  /**
   * Reads `p`'s VMAs (one snapshot call into the engine). A kernel without
   * the engine's snapshot reader (the reference model that `vmasim fuzz
   * --gen` drives through the replay) gives its VMAs as objects instead.
   */
  of(p: Process): VmaRows {
    const k = p.kernel;
    if (typeof (k as Partial<typeof k>).reader !== "function") return snapshotRows(p.vmas());
    const mm = p.mm;
    const base = k.reader("vmas", () => k.core.mm_snapshot(mm));
    const v = k.views();
    this.f64 = v.f64;
    this.u32 = v.u32;
    this.length = v.u32[base >>> 2];
    this.base = base + SNAP_HEADER;
    return this;
  }

  start(i: number): number {
    return this.f64[(this.base + i * SNAP_RECORD_SIZE + SNAP.start) >>> 3];
  }

  end(i: number): number {
    return this.f64[(this.base + i * SNAP_RECORD_SIZE + SNAP.end) >>> 3];
  }

  flags(i: number): number {
    return this.u32[(this.base + i * SNAP_RECORD_SIZE + SNAP.flagsLo) >>> 2];
  }
}

function gapStart(v: VmaRows, i: number, guard: number): number {
  return v.flags(i) & VM_GROWSDOWN ? Math.max(0, v.start(i) - guard) : v.start(i);
}

/** The address the engine's search gives for `len` bytes with `hint`, or -1 when nothing fits. */
export function enginePlacement(vmas: VmaRows | readonly VmaSnapshot[], hint: number, len: number, mmapBase: number, minAddr: number, guard: number): number {
  const v = Array.isArray(vmas) ? snapshotRows(vmas as readonly VmaSnapshot[]) : (vmas as VmaRows);
  len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  if (hint) {
    const a = Math.floor(hint / PAGE_SIZE) * PAGE_SIZE;
    let free = a >= minAddr;
    for (let i = 0; free && i < v.length; i++) free = v.end(i) <= a || gapStart(v, i, guard) >= a + len;
    if (free) return a;
  }
  // from the top: the gaps between the VMAs below mmap_base, highest first
  let top = mmapBase;
  for (let i = v.length - 1; i >= 0; i--) {
    const end = v.end(i);
    if (end < top && top - end >= len) return top - len;
    top = Math.min(top, gapStart(v, i, guard));
  }
  return top - minAddr >= len ? top - len : -1;
}
