// Shared helpers for the implementation-agnostic VMA tests (test/model/*.test.ts).
// Addresses are in a region the default image leaves free: X = 0x10000000,
// page n of it is p(n), and a fresh private anonymous VMA there has pgoff lin(n).

import { expect } from "vitest";
import {
  MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_NONE, PROT_READ,
  PROT_WRITE, VM_ACCOUNT, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_SOFTDIRTY, VM_WRITE,
} from "../../src/abi/constants.js";
import { checkProcess } from "../../src/check/index.js";
import type { ProcessSim, VmaSnapshot } from "../../src/types.js";

export const P = PAGE_SIZE;
export const X = 0x10000000;
export const REGION_END = 0x50000000;

/** Address of page n of the test region. */
export const p = (n: number): number => X + n * P;
/** The pgoff of a fresh private anonymous VMA starting at page n. */
export const lin = (n: number): number => p(n) / P;

export const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
export const SHANON = MAP_SHARED | MAP_ANONYMOUS;
export const NOREPLACE = MAP_FIXED_NOREPLACE;

export const MAY = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
/** Flags of a fresh mmap(PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS) VMA. */
export const RW = (VM_READ | VM_WRITE | MAY | VM_ACCOUNT | VM_SOFTDIRTY) >>> 0;
/** Flags of a fresh mmap(PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS) VMA. */
export const R = (VM_READ | MAY | VM_SOFTDIRTY) >>> 0;
/** R after having been writable once: VM_ACCOUNT stays. */
export const RA = (R | VM_ACCOUNT) >>> 0;
/** Flags of a fresh PROT_NONE private anonymous VMA. */
export const NONE = (MAY | VM_SOFTDIRTY) >>> 0;

export const PROT_RW = PROT_READ | PROT_WRITE;

/** mmap pages [a, b) of the region, private anonymous, MAP_FIXED_NOREPLACE; asserts success. */
export function map(proc: ProcessSim, a: number, b: number, prot: number, flags = ANON): void {
  const r = proc.mmap(p(a), (b - a) * P, prot, flags | NOREPLACE, -1, 0);
  expect(r, `mmap [p${a}, p${b})`).toBe(p(a));
}

export const rw = (proc: ProcessSim, a: number, b: number): void => map(proc, a, b, PROT_RW);
export const ro = (proc: ProcessSim, a: number, b: number): void => map(proc, a, b, PROT_READ);
export const none = (proc: ProcessSim, a: number, b: number): void => map(proc, a, b, PROT_NONE);

/** mprotect pages [a, b) of the region; asserts success. */
export function prot(proc: ProcessSim, a: number, b: number, pr: number): void {
  expect(proc.mprotect(p(a), (b - a) * P, pr), `mprotect [p${a}, p${b})`).toBe(0);
}

/** The VMAs intersecting [lo, hi) (default: the test region). */
export function region(proc: ProcessSim, lo = X, hi = REGION_END): VmaSnapshot[] {
  return proc.vmas().filter((v) => v.end > lo && v.start < hi);
}

export interface Seg {
  start: number;
  end: number;
  flags: number;
  pgoff: number;
}

/** Expected VMA [p(a), p(b)) with flags and pgoff. */
export const seg = (a: number, b: number, flags: number, pgoff: number): Seg => ({ start: p(a), end: p(b), flags, pgoff });

/** The test region's VMAs reduced to start, end, flags, pgoff. */
export function layout(proc: ProcessSim, lo = X, hi = REGION_END): Seg[] {
  return region(proc, lo, hi).map(({ start, end, flags, pgoff }) => ({ start, end, flags, pgoff }));
}

/** The invariant checker finds nothing wrong. */
export function expectClean(proc: ProcessSim): void {
  expect(checkProcess(proc)).toEqual([]);
}

/** The VMA with a given special name ("[vdso]", "[vvar]"). */
export function special(proc: ProcessSim, name: string): VmaSnapshot {
  const v = proc.vmas().find((s) => s.special === name);
  if (!v) throw new Error(`no ${name} VMA`);
  return v;
}
