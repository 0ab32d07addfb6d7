// The replay's parts on their own: the exec image from overlapping MMAP2
// records, the engine's placement search, the series' merge classification.
import { describe, expect, it } from "vitest";
import { VM_GROWSDOWN } from "../../src/abi/constants.js";
import type { MergeEvent, MergeSide } from "../../src/engine/merge_trace.js";
import { execImage } from "../../src/replay/image.js";
import { classifyMerges } from "../../src/replay/merges.js";
import { enginePlacement } from "../../src/replay/placement.js";
import type { PerfMmap2Event } from "../../src/trace/events.js";
import type { VmaSnapshot } from "../../src/types.js";

const rec = (addr: number, len: number, pgoff: number, prot: number, filename: string): PerfMmap2Event => ({
  kind: "perf_mmap2", line: 1, time: 0, pid: 1, tid: 1, comm: null, addr, len, pgoff, maj: 0, min: 0, ino: 0, inoGeneration: 0,
  prot, shared: false, filename,
});

describe("execImage", () => {
  it("lays each record over the earlier ones, as load_elf_binary()'s MAP_FIXED segments do", () => {
    // ld.so of lua_make_j2: the whole image r--, then r-x, r-- and rw- segments over it
    const ld = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2";
    const img = execImage([
      rec(0x7ffffffde000, 0x21000, 0x7ffffffde000, 3, "[stack]"),
      rec(0x7fe40daf6000, 0x35000, 0, 1, ld),
      rec(0x7fe40daf7000, 0x26000, 0x1000, 5, ld),
      rec(0x7fe40db1d000, 0xa000, 0x27000, 1, ld),
      rec(0x7fe40db27000, 0x4000, 0x31000, 3, ld),
      rec(0x7fe40daf4000, 0x2000, 0, 5, "[vdso]"),
    ], null, 0x55b55fc93000);
    expect(img.vmas.map((v) => [v.start.toString(16), v.end.toString(16), v.pgoff, v.flags & 7, v.fileIndex, v.special ?? ""])).toEqual([
      ["7fe40daf4000", "7fe40daf6000", 0, 5, -1, "[vdso]"],
      ["7fe40daf6000", "7fe40daf7000", 0, 1, 0, ""],
      ["7fe40daf7000", "7fe40db1d000", 1, 5, 0, ""],
      ["7fe40db1d000", "7fe40db27000", 0x27, 1, 0, ""],
      ["7fe40db27000", "7fe40db2b000", 0x31, 3, 0, ""],
      ["7ffffffde000", "7ffffffff000", 0x7ffffffde, 3, -1, ""],
    ]);
    expect(img.files).toEqual([{ path: ld, sizePages: 0x35 }]);
    expect(img.mmap_base).toBe(0x7fe40db2b000);
    expect(img.start_brk).toBe(0x55b55fc93000);
    expect(img.vmas[5].flags & VM_GROWSDOWN).toBe(VM_GROWSDOWN);
  });
});

describe("enginePlacement", () => {
  const vma = (start: number, end: number, flags = 3): VmaSnapshot => ({
    start, end, flags, flagsHi: 0, pgoff: 0, file: 0, anonVma: 0, anonVmaRoot: 0, anonName: null, special: null,
  });
  const vmas = [vma(0x10000000, 0x10004000), vma(0x20000000, 0x20001000), vma(0x20003000, 0x20008000)];
  it("takes the highest gap below mmap_base that fits", () => {
    expect(enginePlacement(vmas, 0, 0x1000, 0x20008000, 0x10000, 0x100000)).toBe(0x20002000);
    expect(enginePlacement(vmas, 0, 0x3000, 0x20008000, 0x10000, 0x100000)).toBe(0x1fffd000);
  });
  it("honours a free hint, and not one that overlaps", () => {
    expect(enginePlacement(vmas, 0x30000000, 0x1000, 0x20008000, 0x10000, 0x100000)).toBe(0x30000000);
    expect(enginePlacement(vmas, 0x20000000, 0x1000, 0x20008000, 0x10000, 0x100000)).toBe(0x20002000);
  });
  it("keeps the stack guard gap below a VM_GROWSDOWN VMA", () => {
    const withStack = [vma(0x10000000, 0x10001000), vma(0x20000000, 0x20010000, 3 | VM_GROWSDOWN)];
    expect(enginePlacement(withStack, 0, 0x1000, 0x30000000, 0x10000, 0x100000)).toBe(0x2ffff000);
    expect(enginePlacement(withStack, 0, 0x1000, 0x20000000, 0x10000, 0x100000)).toBe(0x20000000 - 0x100000 - 0x1000);
  });
});

describe("classifyMerges", () => {
  const side = (res: MergeSide["res"], reason: MergeSide["reason"] = "ok"): MergeSide => ({ res, reason });
  const none = side("MERGE_FAILED", "not-adjacent");
  const merge = (mergeCase: number, prev: MergeSide, next: MergeSide = none): MergeEvent =>
    ({ kind: "vma_merge", caller: "mmap", pid: 1, addr: 0, end: 0x1000, mergeCase, prev, next, both: none });
  it("counts merges with a different anon_vma as enabled, refusals for sharing as refused, and nothing else", () => {
    const into = { enabledBySeries: 0, refusedShared: 0 };
    classifyMerges([
      merge(2, side("AV_MERGE_DIFFERENT")),
      merge(2, side("AV_MERGE_SAME")),
      merge(0, side("AV_MERGE_FAILED", "anon_vma-shared")),
      merge(0, side("AV_MERGE_FAILED", "anon_vma-different")),
      { kind: "pgoff", caller: "mremap", pid: 1, addr: 0, end: 0x1000, faulted: true, updated: true, merged: true, reason: "ok" },
      { kind: "pgoff", caller: "mremap", pid: 1, addr: 0, end: 0x1000, faulted: true, updated: false, merged: false, reason: "mapped-twice" },
      { kind: "pgoff", caller: "mremap", pid: 1, addr: 0, end: 0x1000, faulted: false, updated: false, merged: true, reason: "ok" },
    ], into);
    expect(into).toEqual({ enabledBySeries: 2, refusedShared: 2 });
  });
});
