// The picture of the process with the most VMAs at its peak: its VMAs as they
// stood when its map_count reached the replay's highest per-mm count, for the
// HTML report's address-space picture (src/report/address_map.ts).

import { SNAP_HEADER, SNAP_RECORD_SIZE, decodeVmaRecord } from "../engine/abi.js";
import type { Process, Simulator } from "../engine/simulator.js";
import { vmaNameOf, vmaPerms } from "../maps.js";
import type { KernelSim, MmLayout, VmaSnapshot } from "../types.js";
import type { CountPlace } from "./vma_count.js";

/** VMAs kept in the picture, at most (the first ones by address); the rest are counted in `omitted`. */
export const PICTURE_MAX = 4096;
/** Above this many VMAs a new copy is taken only when the count grew by 1/64 (bounded work per event). */
const EVERY_RECORD_UP_TO = 4096;

export interface PictureVma {
  /** hex addresses, "0x7f..." */
  start: string;
  end: string;
  /** "rw-p" ... */
  perms: string;
  /** vm_pgoff, in pages */
  pgoff: number;
  /** anon_vma, numbered 1, 2 ... in address order of first appearance in this picture; 0: none */
  anonVma: number;
  /** the /proc/pid/maps name: a path (as the side-band named the file, when the trace did not), [heap], [stack], [vdso], [anon:NAME], or "" */
  name: string;
}

export interface PeakProcess extends CountPlace {
  /** the executable of its last exec, or null */
  exe: string | null;
  /** its map_count at the picture */
  mapCount: number;
  vmas: PictureVma[];
  /** VMAs left out beyond PICTURE_MAX */
  omitted: number;
}

const hex = (n: number) => "0x" + n.toString(16);

/**
 * Each record is a byte copy of the engine's snapshot records of the first
 * PICTURE_MAX VMAs (the ones the picture shows): copying them as VmaSnapshot
 * objects (p.vmas()) took a tenth of an adversarial trace's replay, since a
 * process that grows to N VMAs one at a time is recorded up to N times. The
 * records are decoded once, at the end, as Process.vmas() decodes them.
 */
export class PeakPicture {
  private readonly bytes = new ArrayBuffer(PICTURE_MAX * SNAP_RECORD_SIZE);
  private copy: { place: CountPlace; exe: string | null; mapCount: number; kernel: Simulator; kept: number; total: number; layout: MmLayout } | null = null;
  /** the copy as objects, from a kernel without the engine's snapshot reader (the reference model under `fuzz --gen`) */
  private objects: VmaSnapshot[] | null = null;

  /** The replay's per-mm record is now `mapCount` in `p` (trace `pid`): copy its VMAs. */
  record(p: Process, mapCount: number, place: CountPlace, exe: string | null): void {
    const prev = this.copy?.mapCount ?? 0;
    if (mapCount > EVERY_RECORD_UP_TO && mapCount < prev + Math.ceil(prev / 64)) return;
    const k = p.kernel;
    if (typeof (k as Partial<typeof k>).reader !== "function") {
      const all = p.vmas();
      this.objects = all.slice(0, PICTURE_MAX);
      this.copy = { place, exe, mapCount, kernel: k, kept: this.objects.length, total: all.length, layout: p.layout() };
      return;
    }
    this.objects = null;
    const mm = p.mm;
    const base = k.reader("vmas", () => k.core.mm_snapshot(mm));
    const total = k.views().u32[base >>> 2];
    const kept = Math.min(total, PICTURE_MAX);
    new Uint8Array(this.bytes).set(new Uint8Array(k.core.memory.buffer, base + SNAP_HEADER, kept * SNAP_RECORD_SIZE));
    this.copy = { place, exe, mapCount, kernel: k, kept, total, layout: p.layout() };
  }

  /** The copied VMAs, decoded. */
  private vmas(): VmaSnapshot[] {
    if (this.objects) return this.objects;
    const c = this.copy!;
    const f64 = new Float64Array(this.bytes);
    const u32 = new Uint32Array(this.bytes);
    const out: VmaSnapshot[] = [];
    // names are interned for the kernel's life: an id stays valid
    for (let i = 0; i < c.kept; i++) out.push(decodeVmaRecord(f64, u32, i * SNAP_RECORD_SIZE, (id) => c.kernel.nameOf(id)));
    return out;
  }

  /** The picture; file paths from the kernel, or as the side-band named them (`fileNames`). */
  picture(kernel: KernelSim, fileNames: ReadonlyMap<number, string>): PeakProcess | null {
    const c = this.copy;
    if (c === null) return null;
    const avs = new Map<number, number>();
    const filePath = (f: number) => fileNames.get(f) ?? kernel.filePath(f);
    const vmas = this.vmas().map((v): PictureVma => {
      if (v.anonVma && !avs.has(v.anonVma)) avs.set(v.anonVma, avs.size + 1);
      return {
        start: hex(v.start), end: hex(v.end), perms: vmaPerms(v.flags), pgoff: v.pgoff,
        anonVma: v.anonVma ? avs.get(v.anonVma)! : 0, name: vmaNameOf(filePath, v, c.layout),
      };
    });
    return { ...c.place, exe: c.exe, mapCount: c.mapCount, vmas, omitted: c.total - vmas.length };
  }
}
