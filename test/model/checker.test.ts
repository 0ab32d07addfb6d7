// src/check: the invariant checker catches deliberately corrupted snapshots.

import { describe, expect, it } from "vitest";
import {
  MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, TASK_SIZE, VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_LOCKED, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE,
  VM_READ, VM_SHARED, VM_WRITE,
} from "../../src/abi/constants.js";
import { checkProcess, expectedCounters, vmStatKind } from "../../src/check/index.js";
import type { KernelSim, MmCounters, ProcessSim, VmaSnapshot } from "../../src/types.js";
import { IMPLS } from "../helpers/impls.js";

const P = 0x1000;
const MAY = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
const RW = VM_READ | VM_WRITE | MAY | VM_ACCOUNT;
const RX = VM_READ | VM_EXEC | MAY;
const R = VM_READ | MAY;
const STACK = VM_GROWSDOWN | RW;

function vma(start: number, pages: number, flags: number): VmaSnapshot {
  return {
    start, end: start + pages * P, flags, flagsHi: 0, pgoff: start / P, file: 0, anonVma: 0, anonVmaRoot: 0,
    anonName: null, special: null,
  };
}

/** A fake process whose snapshot is exactly what we say (counters default to the correct ones). */
function fake(vmas: VmaSnapshot[], counters?: Partial<MmCounters>): ProcessSim {
  const good = { map_count: vmas.length, ...expectedCounters(vmas) };
  const notASyscall = () => {
    throw new Error("fake process");
  };
  // checkProcess() reads only the snapshots; the rest of ProcessSim is left out (cast).
  return {
    kernel: null as unknown as KernelSim,
    pid: 1,
    exited: false,
    mmap: notASyscall,
    munmap: notASyscall,
    mprotect: notASyscall,
    brk: notASyscall,
    vmas: () => vmas.map((v) => ({ ...v })),
    counters: () => ({ ...good, ...counters }),
    layout: () => ({ mmap_base: 0x7ffff7fff000, task_size: TASK_SIZE, start_brk: 0x600000, brk: 0x600000, start_stack: TASK_SIZE - P }),
  } as unknown as ProcessSim;
}

const sample = (): VmaSnapshot[] => [
  vma(0x400000, 2, R),
  vma(0x402000, 3, RX),
  vma(0x405000, 1, (RW | VM_LOCKED) >>> 0),
  vma(0x10000000, 4, (VM_READ | VM_WRITE | MAY | VM_SHARED | VM_MAYSHARE) >>> 0),
  vma(TASK_SIZE - 8 * P, 8, STACK),
];

describe("checkProcess on fake snapshots", () => {
  it("a consistent snapshot has no violations", () => {
    expect(checkProcess(fake(sample()))).toEqual([]);
    expect(checkProcess(fake([]))).toEqual([]);
  });

  it("catches unsorted VMAs", () => {
    const v = sample();
    [v[1], v[2]] = [v[2], v[1]];
    const out = checkProcess(fake(v));
    expect(out.some((s) => s.includes("not sorted"))).toBe(true);
  });

  it("catches overlapping VMAs", () => {
    const v = sample();
    v[1] = { ...v[1], start: v[0].end - P };
    v[1].pgoff = v[1].start / P;
    const out = checkProcess(fake(v, { total_vm: expectedCounters(sample()).total_vm }));
    expect(out.some((s) => s.includes("overlaps"))).toBe(true);
  });

  it("catches unaligned bounds and empty or inverted ranges", () => {
    let v = sample();
    v[0] = { ...v[0], start: v[0].start + 12 };
    expect(checkProcess(fake(v)).some((s) => s.includes("start is not page aligned"))).toBe(true);
    v = sample();
    v[2] = { ...v[2], end: v[2].end - 1 };
    expect(checkProcess(fake(v)).some((s) => s.includes("end is not page aligned"))).toBe(true);
    v = sample();
    v[3] = { ...v[3], end: v[3].start };
    expect(checkProcess(fake(v)).some((s) => s.includes("start is not below end"))).toBe(true);
    v = sample();
    v[3] = { ...v[3], end: v[3].start - P };
    expect(checkProcess(fake(v)).some((s) => s.includes("start is not below end"))).toBe(true);
  });

  it("catches a VMA above task_size", () => {
    const v = sample();
    v.push(vma(TASK_SIZE, 1, R));
    expect(checkProcess(fake(v)).some((s) => s.includes("above task_size"))).toBe(true);
  });

  it("catches a map_count that does not match the VMAs", () => {
    const out = checkProcess(fake(sample(), { map_count: 4 }));
    expect(out).toEqual(["map_count is 4 but there are 5 VMAs"]);
  });

  it("catches each counter that does not match the flags", () => {
    const good = expectedCounters(sample());
    expect(good).toEqual({ total_vm: 18, exec_vm: 3, data_vm: 1, stack_vm: 8, locked_vm: 1 });
    for (const key of ["total_vm", "data_vm", "exec_vm", "stack_vm"] as const) {
      const out = checkProcess(fake(sample(), { [key]: good[key] + 1 }));
      expect(out, key).toEqual([`${key} is ${good[key] + 1} but the VMAs add up to ${good[key]}`]);
    }
  });

  it("treats locked_vm as a lower bound (v5.17's MREMAP_DONTUNMAP leaves it counted)", () => {
    const good = expectedCounters(sample());
    expect(checkProcess(fake(sample(), { locked_vm: good.locked_vm + 1 }))).toEqual([]);
    expect(checkProcess(fake(sample(), { locked_vm: good.locked_vm - 1 }))).toEqual([
      `locked_vm is ${good.locked_vm - 1} but the VM_LOCKED VMAs add up to ${good.locked_vm}`,
    ]);
  });

  it("catches a bad pgoff and a flags word out of range", () => {
    let v = sample();
    v[0] = { ...v[0], pgoff: -1 };
    expect(checkProcess(fake(v)).some((s) => s.includes("pgoff"))).toBe(true);
    v = sample();
    v[0] = { ...v[0], flags: -5 };
    expect(checkProcess(fake(v, expectedCounters(sample()))).some((s) => s.includes("flags"))).toBe(true);
  });

  it("does not require file pgoff ranges to lie within the file", () => {
    const v = sample();
    v[3] = { ...v[3], file: 7, pgoff: 1e9 };
    expect(checkProcess(fake(v))).toEqual([]);
  });
});

describe("vmStatKind (vm_stat_account classes)", () => {
  it("classifies by EXEC/WRITE/STACK/SHARED like v5.17", () => {
    expect(vmStatKind(RX)).toBe("exec");
    expect(vmStatKind(VM_EXEC)).toBe("exec");
    expect(vmStatKind((RX | VM_WRITE) >>> 0)).toBe("data");
    expect(vmStatKind(STACK)).toBe("stack");
    expect(vmStatKind((VM_GROWSDOWN | RX) >>> 0)).toBe("stack");
    expect(vmStatKind(RW)).toBe("data");
    expect(vmStatKind((RW | VM_SHARED) >>> 0)).toBe("none");
    expect(vmStatKind(R)).toBe("none");
    expect(vmStatKind(0)).toBe("none");
  });
});

for (const impl of IMPLS) {
  describe(`${impl.name}: checkProcess on a real process`, () => {
    it("reports nothing for the default image and after ordinary work", () => {
      const proc = impl.create({ policy: "linux-5.17" }).createProcess();
      expect(checkProcess(proc)).toEqual([]);
      const a = proc.mmap(0, 8 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      expect(a).toBeGreaterThan(0);
      expect(proc.mprotect(a + P, P, PROT_READ)).toBe(0);
      expect(proc.munmap(a + 4 * P, P)).toBe(0);
      expect(checkProcess(proc)).toEqual([]);
    });
  });
}
