// vma_merge() of v5.17 reached through syscalls: the eight cases, VM_SPECIAL,
// vm_ops->close, file identity and pgoff continuity, shared anonymous memory,
// VM_SOFTDIRTY. See kernel-facts §2. The anon_vma rules (prev-only
// fallback, X vs NULL, fork children) are reached through page faults and
// fork (last describe blocks).

import { describe, expect, it } from "vitest";
import {
  MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE, VM_ACCOUNT, VM_DONTEXPAND,
  VM_IO, VM_MAYSHARE, VM_MIXEDMAP, VM_PFNMAP, VM_READ, VM_SHARED, VM_SOFTDIRTY, VM_SPECIAL, VM_WRITE,
} from "../../src/abi/constants.js";
import { defaultImage } from "../../src/image.js";
import { KernelModel, ProcessModel } from "../../src/model/index.js";
import { find_vma } from "../../src/model/mm.js";
import type { ImageVma, ProcessImage, ProcessSim } from "../../src/types.js";
import { MEM_IMPLS, W, expectMemClean } from "./memutil.js";
import {
  ANON, MAY, NONE, NOREPLACE, P, PROT_RW, R, RA, RW, SHANON, expectClean, layout, lin, none, p, prot, region,
  ro, rw, seg,
} from "./util.js";

/** The default image plus extra VMAs (kept sorted). */
function imageWith(extra: ImageVma[]): ProcessImage {
  const img = defaultImage();
  img.vmas.push(...extra);
  img.vmas.sort((a, b) => a.start - b.start);
  return img;
}

/** An anonymous image VMA over pages [a, b) of the test region. */
function anonImageVma(a: number, b: number, flags: number, pgoff = lin(a), special?: string): ImageVma {
  return { start: p(a), end: p(b), flags, pgoff, fileIndex: -1, ...(special ? { special } : {}) };
}

for (const impl of MEM_IMPLS) {
  describe(`${impl.name}: vma_merge cases through syscalls`, () => {
    const fresh = () => impl.create({ policy: "linux-5.17" }).createProcess();

    it("case 1: mmap fills the hole between two compatible VMAs exactly -> one VMA (prev survives)", () => {
      const proc = fresh();
      const base = proc.counters().map_count;
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      expect(proc.counters().map_count).toBe(base + 2);
      rw(proc, 2, 3);
      expect(layout(proc)).toEqual([seg(0, 5, RW, lin(0))]);
      expect(proc.counters().map_count).toBe(base + 1);
      expectClean(proc);
    });

    it("case 2: mmap right after a compatible VMA -> prev grows", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 2, 4);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expectClean(proc);
    });

    it("case 3: mmap right before a compatible VMA -> next grows down, pgoff decreases", () => {
      const proc = fresh();
      rw(proc, 2, 4);
      rw(proc, 0, 2);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expectClean(proc);
    });

    it("case 4: mprotect of the tail of prev to next's protection -> next grows down", () => {
      const proc = fresh();
      ro(proc, 0, 4);
      rw(proc, 4, 6);
      prot(proc, 2, 4, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 2, R, lin(0)), seg(2, 6, RW, lin(2))]);
      expectClean(proc);
    });

    it("case 5: mprotect of the head of next to prev's protection -> prev grows up", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      ro(proc, 2, 6);
      prot(proc, 2, 4, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0)), seg(4, 6, R, lin(4))]);
      expectClean(proc);
    });

    it("case 6: mprotect of a whole VMA between two with the target protection -> all three merge", () => {
      const proc = fresh();
      const base = proc.counters().map_count;
      rw(proc, 0, 2);
      ro(proc, 2, 4);
      rw(proc, 4, 6);
      prot(proc, 2, 4, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 6, RW, lin(0))]);
      expect(proc.counters().map_count).toBe(base + 1);
      expectClean(proc);
    });

    it("case 7: mprotect of a whole VMA to prev's protection (next differs) -> prev absorbs it", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      ro(proc, 2, 4);
      none(proc, 4, 6);
      prot(proc, 2, 4, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0)), seg(4, 6, NONE, lin(4))]);
      expectClean(proc);
    });

    it("case 8: mprotect of a whole VMA to next's protection (prev differs) -> next grows down over it", () => {
      const proc = fresh();
      none(proc, 0, 2);
      ro(proc, 2, 4);
      rw(proc, 4, 6);
      prot(proc, 2, 4, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 2, NONE, lin(0)), seg(2, 6, RW, lin(2))]);
      expectClean(proc);
    });

    it("no merge: mprotect strictly inside a VMA splits it in three (pgoffs stay linear)", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      prot(proc, 1, 2, PROT_READ);
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0)), seg(1, 2, RA, lin(1)), seg(2, 4, RW, lin(2))]);
      prot(proc, 1, 2, PROT_RW); // case 6 again: one VMA
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expectClean(proc);
    });

    it("VM_SPECIAL: an existing-range merge is refused for each of IO, DONTEXPAND, PFNMAP, MIXEDMAP", () => {
      expect(VM_SPECIAL).toBe(VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP);
      for (const s of [VM_IO, VM_DONTEXPAND, VM_PFNMAP, VM_MIXEDMAP, 0]) {
        const proc = impl.create({ policy: "linux-5.17" }).createProcess(imageWith([
          anonImageVma(0, 3, (RW | s) >>> 0),
          anonImageVma(3, 4, (R | s) >>> 0),
        ]));
        prot(proc, 3, 4, PROT_RW); // now flags equal the left VMA's
        const want = s === 0
          ? [seg(0, 4, RW, lin(0))]
          : [seg(0, 3, (RW | s) >>> 0, lin(0)), seg(3, 4, (RW | s) >>> 0, lin(3))];
        expect(layout(proc), `special flag 0x${s.toString(16)}`).toEqual(want);
        expectClean(proc);
      }
    });

    it("vm_ops->close: a special mapping never merges, even with equal flags and linear pgoff", () => {
      // (A second "[vdso]" in the test region: any special mapping has ->close.)
      for (const isSpecial of [true, false]) {
        const proc = impl.create({ policy: "linux-5.17" }).createProcess(imageWith([
          anonImageVma(0, 2, RW, lin(0), isSpecial ? "[vdso]" : undefined),
        ]));
        rw(proc, 2, 4);
        if (isSpecial) {
          expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 4, RW, lin(2))]);
          expect(region(proc)[0].special).toBe("[vdso]");
        } else {
          expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
        }
        expectClean(proc);
      }
    });

    it("every VMA is soft-dirty: mmap'ed ones and those exec created (the image)", () => {
      const proc = impl.create({ policy: "linux-5.17" }).createProcess(imageWith([anonImageVma(0, 2, (RW & ~VM_SOFTDIRTY) >>> 0)]));
      expect(proc.vmas().every((v) => (v.flags & VM_SOFTDIRTY) !== 0)).toBe(true);
      rw(proc, 2, 4);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expectClean(proc);
    });

    it("a flag other than VM_SOFTDIRTY (VM_ACCOUNT) prevents merging", () => {
      const proc = fresh();
      ro(proc, 0, 2);
      rw(proc, 2, 4);
      prot(proc, 2, 4, PROT_READ);
      expect(layout(proc)).toEqual([seg(0, 2, R, lin(0)), seg(2, 4, RA, lin(2))]);
      expectClean(proc);
    });

    it("anonymous pgoff must be continuous: a VMA with a foreign pgoff does not merge", () => {
      const proc = impl.create({ policy: "linux-5.17" }).createProcess(imageWith([anonImageVma(0, 2, RW, 5)]));
      rw(proc, 2, 4);
      expect(layout(proc)).toEqual([seg(0, 2, RW, 5), seg(2, 4, RW, lin(2))]);
      expectClean(proc);
    });

    it("the exec stack (non-linear pgoff) does not absorb a MAP_GROWSDOWN mapping right below it", () => {
      const proc = fresh();
      const stack = proc.vmas()[proc.vmas().length - 1];
      const a = stack.start - P;
      expect(proc.mmap(a, P, PROT_RW, ANON | MAP_GROWSDOWN | MAP_FIXED, -1, 0)).toBe(a);
      const vs = proc.vmas();
      expect(vs[vs.length - 1]).toEqual(stack);
      expect(vs[vs.length - 2]).toMatchObject({ start: a, end: stack.start, pgoff: a / P, flags: (stack.flags | VM_SOFTDIRTY) >>> 0 });
      expectClean(proc);
    });

    it("file mappings merge only with the same struct file and a continuous file offset", () => {
      const k = impl.create({ policy: "linux-5.17" });
      const f = k.createFile("/tmp/a", 16);
      const g = k.createFile("/tmp/a", 16); // same path, another open file
      const FR = (VM_READ | MAY | VM_SOFTDIRTY) >>> 0;
      const mapf = (proc: ReturnType<typeof k.createProcess>, a: number, b: number, file: number, offPages: number) =>
        expect(proc.mmap(p(a), (b - a) * P, PROT_READ, MAP_PRIVATE | NOREPLACE, file, offPages * P)).toBe(p(a));

      let proc = k.createProcess();
      mapf(proc, 0, 2, f, 0);
      mapf(proc, 2, 4, f, 2); // case 2
      mapf(proc, 6, 8, f, 6);
      mapf(proc, 4, 6, f, 4); // case 1
      expect(region(proc).map((v) => [v.start, v.end, v.flags, v.pgoff, v.file])).toEqual([[p(0), p(8), FR, 0, f]]);

      proc = k.createProcess();
      mapf(proc, 2, 4, f, 3);
      mapf(proc, 0, 2, f, 1); // case 3: next grows down, pgoff 1
      mapf(proc, 4, 6, f, 6); // offset gap -> separate
      mapf(proc, 6, 8, g, 7); // other struct file -> separate
      ro(proc, 8, 10); // anonymous next to a file -> separate
      expect(region(proc).map((v) => [v.start, v.end, v.pgoff, v.file])).toEqual([
        [p(0), p(4), 1, f], [p(4), p(6), 6, f], [p(6), p(8), 7, g], [p(8), p(10), lin(8), 0],
      ]);
      expectClean(proc);
    });

    it("shared file mappings merge like private ones (VM_SHARED|VM_MAYSHARE, no VM_ACCOUNT)", () => {
      const k = impl.create({ policy: "linux-5.17" });
      const f = k.createFile("/tmp/shared", 8);
      const proc = k.createProcess();
      expect(proc.mmap(p(0), 2 * P, PROT_RW, MAP_SHARED | NOREPLACE, f, 0)).toBe(p(0));
      expect(proc.mmap(p(2), 2 * P, PROT_RW, MAP_SHARED | NOREPLACE, f, 2 * P)).toBe(p(2));
      const FS = (VM_READ | VM_WRITE | MAY | VM_SHARED | VM_MAYSHARE | VM_SOFTDIRTY) >>> 0;
      expect(region(proc).map((v) => [v.start, v.end, v.flags, v.pgoff, v.file])).toEqual([[p(0), p(4), FS, 0, f]]);
      expectClean(proc);
    });

    it("shared anonymous mappings never merge with each other (one shmem object each, pgoff 0)", () => {
      const k = impl.create({ policy: "linux-5.17" });
      const proc = k.createProcess();
      expect(proc.mmap(p(0), 2 * P, PROT_RW, SHANON | NOREPLACE, -1, 0)).toBe(p(0));
      expect(proc.mmap(p(2), 2 * P, PROT_RW, SHANON | NOREPLACE, -1, 0)).toBe(p(2));
      rw(proc, 4, 6); // private anonymous next to it: no merge either
      const vs = region(proc);
      const SH = (VM_READ | VM_WRITE | MAY | VM_SHARED | VM_MAYSHARE | VM_SOFTDIRTY) >>> 0;
      expect(vs.map((v) => [v.start, v.end, v.flags, v.pgoff])).toEqual([
        [p(0), p(2), SH, 0], [p(2), p(4), SH, 0], [p(4), p(6), RW, lin(4)],
      ]);
      expect(vs[0].file).not.toBe(0);
      expect(vs[1].file).not.toBe(0);
      expect(vs[0].file).not.toBe(vs[1].file);
      expect(k.filePath(vs[0].file)).toBe("/dev/zero (deleted)");
      expect(k.fileSizePages(vs[0].file)).toBe(2);
      expectClean(proc);
    });

    it("pieces of one shared anonymous mapping re-merge (same shmem object, continuous pgoff)", () => {
      const proc = fresh();
      expect(proc.mmap(p(0), 4 * P, PROT_RW, SHANON | NOREPLACE, -1, 0)).toBe(p(0));
      const file = region(proc)[0].file;
      prot(proc, 1, 2, PROT_READ);
      const SH = (VM_READ | VM_WRITE | MAY | VM_SHARED | VM_MAYSHARE | VM_SOFTDIRTY) >>> 0;
      const SHR = (SH & ~VM_WRITE) >>> 0;
      expect(layout(proc)).toEqual([seg(0, 1, SH, 0), seg(1, 2, SHR, 1), seg(2, 4, SH, 2)]);
      expect(region(proc).every((v) => v.file === file)).toBe(true);
      prot(proc, 1, 2, PROT_RW); // shared: no VM_ACCOUNT is added
      expect(layout(proc)).toEqual([seg(0, 4, SH, 0)]);
      expect((region(proc)[0].flags & VM_ACCOUNT) === 0).toBe(true);
      expectClean(proc);
    });

    it("prev-only fallback is reached whenever prev passes and next fails (here next's flags differ)", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      none(proc, 3, 5);
      rw(proc, 2, 3);
      expect(layout(proc)).toEqual([seg(0, 3, RW, lin(0)), seg(3, 5, NONE, lin(3))]);
      expectClean(proc);
    });

    it("prev-only fallback with two faulted neighbours of different anon_vmas (S5)", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      W(proc, 0);
      W(proc, 3);
      rw(proc, 2, 3);
      expect(layout(proc)).toEqual([seg(0, 3, RW, lin(0)), seg(3, 5, RW, lin(3))]);
      expect(region(proc).map((v) => v.anonVma)).toEqual([expect.any(Number), expect.any(Number)]);
      expect(region(proc)[0].anonVma).not.toBe(region(proc)[1].anonVma);
      expectClean(proc);
    });
  });
}

// ---------------------------------------------------------------------------
// The anon_vma rules of 5.17 inside vma_merge(), reached through page faults
// (and fork) now that the memory layer exists (they ran on hand-made anon_vmas
// before).

for (const impl of MEM_IMPLS) {
  describe(`${impl.name}: is_mergeable_anon_vma() of v5.17 inside vma_merge()`, () => {
    const fresh = () => impl.create({ policy: "linux-5.17" }).createProcess();
    const avIds = (proc: ProcessSim) => region(proc).map((v) => v.anonVma);

    it("S5: hole between faulted VMAs with different anon_vmas -> merges with prev only (case 2)", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      W(proc, 0);
      W(proc, 3);
      const [av1, av2] = avIds(proc);
      expect(av1).not.toBe(av2);
      rw(proc, 2, 3);
      expect(layout(proc)).toEqual([seg(0, 3, RW, lin(0)), seg(3, 5, RW, lin(3))]);
      expect(avIds(proc)).toEqual([av1, av2]);
      expectClean(proc);
      expectMemClean(proc.kernel);
    });

    it("same anon_vma on both sides (pieces of one faulted VMA) -> case 1", () => {
      const proc = fresh();
      rw(proc, 0, 5);
      W(proc, 0);
      W(proc, 4);
      expect(proc.munmap(p(2), P)).toBe(0);
      const [av] = avIds(proc);
      rw(proc, 2, 3);
      expect(layout(proc)).toEqual([seg(0, 5, RW, lin(0))]);
      expect(avIds(proc)).toEqual([av]);
      expectMemClean(proc.kernel);
    });

    it("unfaulted range joins a faulted neighbour (NULL vs singular chain) and takes its anon_vma (case 3)", () => {
      const proc = fresh();
      rw(proc, 2, 4);
      W(proc, 2);
      const [av] = avIds(proc);
      rw(proc, 0, 2);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expect(avIds(proc)).toEqual([av]);
      expectMemClean(proc.kernel);
    });

    it("a fork child's VMA (two AVCs) does not absorb a new range (S15)", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      W(proc, 0);
      const child = proc.fork();
      rw(child, 2, 4);
      expect(layout(child)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 4, RW, lin(2))]);
      expectMemClean(proc.kernel);
    });

    it("X vs NULL: a faulted VMA made compatible with an unfaulted neighbour stays separate (S8 shape)", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      prot(proc, 2, 4, PROT_READ | PROT_WRITE | PROT_EXEC);
      W(proc, 2);
      prot(proc, 2, 4, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 4, RW, lin(2))]);
      expect(avIds(proc)[0]).toBe(0);
      expectMemClean(proc.kernel);
    });

    it("F1: existing-range merge between X and Y falls back to prev only; the merged VMA keeps X", () => {
      const proc = fresh();
      rw(proc, 0, 3);
      ro(proc, 3, 7);
      rw(proc, 7, 9);
      W(proc, 0);
      W(proc, 7); // prev [3,7) lacks VM_ACCOUNT: not compatible, a new anon_vma
      const [x, , y] = avIds(proc);
      prot(proc, 3, 7, PROT_RW);
      expect(layout(proc)).toEqual([seg(0, 7, RW, lin(0)), seg(7, 9, RW, lin(7))]);
      expect(avIds(proc)).toEqual([x, y]);
      expectMemClean(proc.kernel);
    });

    it("case 8 with anon_vmas: refused for a faulted range next to an unfaulted VMA; done when both share one", () => {
      const proc = fresh();
      rw(proc, 2, 6);
      prot(proc, 4, 6, PROT_READ | PROT_WRITE | PROT_EXEC);
      W(proc, 2);
      // range av vs NULL (next): the next VMA's chain is empty, not singular -> refused
      prot(proc, 2, 4, PROT_READ | PROT_WRITE | PROT_EXEC);
      expect(region(proc).map((v) => [v.start, v.end])).toEqual([[p(2), p(4)], [p(4), p(6)]]);
      // With next faulted into the same anon_vma the merge happens: the next VMA survives, grown down.
      const proc2 = fresh();
      rw(proc2, 2, 6);
      W(proc2, 2);
      W(proc2, 4);
      prot(proc2, 2, 4, PROT_READ);
      const [av] = avIds(proc2);
      prot(proc2, 2, 4, PROT_RW);
      expect(layout(proc2)).toEqual([seg(2, 6, RW, lin(2))]);
      expect(avIds(proc2)).toEqual([av]);
      expectMemClean(proc2.kernel);
    });
  });
}

describe("model internals: VM_SOFTDIRTY in vma_merge()", () => {
  const fresh = () => new KernelModel({ policy: "linux-5.17" }).createProcess() as ProcessModel;

  it("flags differing only in VM_SOFTDIRTY (cleared by hand, as clear_refs would) merge", () => {
    // new range (case 2): the merged VMA is soft-dirty again
    let proc = fresh();
    rw(proc, 0, 2);
    const v = find_vma(proc.mm, p(0))!;
    v.vm_flags = (v.vm_flags & ~VM_SOFTDIRTY) >>> 0;
    rw(proc, 2, 4);
    expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
    // existing range (case 7): the survivor (prev) gets newflags, taken from the changed VMA
    proc = fresh();
    rw(proc, 0, 2);
    const w = find_vma(proc.mm, p(0))!;
    w.vm_flags = (w.vm_flags & ~VM_SOFTDIRTY) >>> 0;
    ro(proc, 2, 4);
    prot(proc, 2, 4, PROT_RW);
    expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
    // ... and the other way round the survivor loses the bit (5.17 does not OR it in)
    proc = fresh();
    rw(proc, 0, 2);
    ro(proc, 2, 4);
    const x = find_vma(proc.mm, p(2))!;
    x.vm_flags = (x.vm_flags & ~VM_SOFTDIRTY) >>> 0;
    prot(proc, 2, 4, PROT_RW);
    expect(layout(proc)).toEqual([seg(0, 4, (RW & ~VM_SOFTDIRTY) >>> 0, lin(0))]);
    expectClean(proc);
  });

});
