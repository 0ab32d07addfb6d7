// Helpers for the memory-layer tests (faults, anon_vmas, fork, page tables):
// which implementations to run, images without pre-faulted VMAs (so that
// page and anon_vma identities start at 1 in a test), and short accessors
// over the snapshots. Addresses as in util.ts: page n of the test region is p(n).

import { expect } from "vitest";
import { PAGE_SIZE } from "../../src/abi/constants.js";
import { checkKernel, checkProcess } from "../../src/check/index.js";
import { defaultImage } from "../../src/image.js";
import type { KernelSim, PageSnapshot, ProcessImage, ProcessSim, PteSnapshot, VmaSnapshot } from "../../src/types.js";
import { IMPLS, type Impl } from "../helpers/impls.js";
import { p } from "./util.js";

/**
 * The implementations under test: all of IMPLS, or only the model when
 * VMASIM_MODEL_ONLY=1 (to iterate on the model before the engine has the
 * memory layer).
 */
export const MEM_IMPLS: Impl[] = process.env.VMASIM_MODEL_ONLY === "1" ? IMPLS.filter((i) => i.name === "model") : IMPLS;

/** An image with no VMAs and no files: an empty mm. */
export function emptyImage(): ProcessImage {
  const img = defaultImage();
  img.files = [];
  img.vmas = [];
  return img;
}

/** touch(p(n), write) must succeed. */
export function W(proc: ProcessSim, n: number): void {
  expect(proc.touch(p(n), true), `write p${n}`).toBe(0);
}

export function Rd(proc: ProcessSim, n: number): void {
  expect(proc.touch(p(n), false), `read p${n}`).toBe(0);
}

/** The VMA containing page n. */
export function vmaAt(proc: ProcessSim, n: number): VmaSnapshot {
  const v = proc.vmas().find((s) => s.start <= p(n) && p(n) < s.end);
  if (!v) throw new Error(`no VMA at p${n}`);
  return v;
}

/** The anon_vma id of the VMA containing page n (0 = none). */
export const av = (proc: ProcessSim, n: number): number => vmaAt(proc, n).anonVma;

/** The chain (anon_vma ids, newest first) of the VMA containing page n. */
export function chainAt(proc: ProcessSim, n: number): number[] {
  const c = proc.memory().chains.find((s) => s.start <= p(n) && p(n) < s.end);
  if (!c) throw new Error(`no VMA at p${n}`);
  return c.chain;
}

/** The PTE at page n, or undefined. */
export function pteAt(proc: ProcessSim, n: number): PteSnapshot | undefined {
  return proc.memory().ptes.find((e) => e.addr === p(n));
}

/** A live page by id, or undefined. */
export function page(k: KernelSim, id: number): PageSnapshot | undefined {
  return k.memory().pages.find((pg) => pg.id === id);
}

/** The page mapped at page n of proc (throws if there is none or it is the zero page). */
export function pageAt(proc: ProcessSim, n: number): PageSnapshot {
  const e = pteAt(proc, n);
  if (!e || e.page === 0) throw new Error(`no page at p${n}`);
  const pg = page(proc.kernel, e.page);
  if (!pg) throw new Error(`page ${e.page} at p${n} is not live`);
  return pg;
}

/** A live anon_vma by id. */
export function anonVma(k: KernelSim, id: number) {
  const a = k.memory().anonVmas.find((x) => x.id === id);
  if (!a) throw new Error(`anon_vma ${id} is not live`);
  return a;
}

/** Ids of the live anon_vmas. */
export const liveAnonVmas = (k: KernelSim): number[] => k.memory().anonVmas.map((a) => a.id);

/** The whole kernel passes the memory checker and every process the VMA checker. */
export function expectMemClean(k: KernelSim): void {
  expect(checkKernel(k)).toEqual([]);
  for (const proc of k.processes()) expect(checkProcess(proc)).toEqual([]);
}

/** Page-table pages of a process as "level:addr" strings (1 PTE, 2 PMD, 3 PUD). */
export function tables(proc: ProcessSim): string[] {
  return proc.memory().pgtables.map((t) => `${t.level}:0x${t.addr.toString(16)}`);
}

export const PMD_SIZE = 2 ** 21;
export const PTE_PAGES = PMD_SIZE / PAGE_SIZE; // 512 pages per PTE table
