// The engine against the reference model on the same random operation
// sequence (the performance issue's "the reference model on the same random
// operation sequence"): a seeded mix of mmap, munmap, mprotect, mremap,
// madvise(MADV_DONTNEED) and read and write accesses, all inside a window of
// W pages, so that the process keeps a steady number of VMAs. bench/run.ts
// runs it and reports the figures as `baseline: "model"` comparisons.
//
// Both sides start from a fresh process of a fresh kernel (linux-5.17, not
// timed) and run the whole sequence: the engine through the per-call API and
// through the typed batch (`Process.runBatch`), the model through its
// per-call API (it has no batch). Every result must be the same on the three
// paths (the model and the engine implement the same rules; a difference
// stops the benchmark). Figures are CPU time per operation, the fastest of
// several runs, as in the matrix (docs/performance.md, "How the figures are taken").

import type * as Lib from "../src/index.js";
import type { ProcessSim } from "../src/index.js";
import { cpuNs } from "./matrix.js";

const PG = 4096;
const BASE = 0x10000000;
const STRIDE = 8;
const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_FIXED_NOREPLACE = 0x100000;
const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2;
const MADV_DONTNEED = 4;
const PROTS = [0, 1, 3, 3, 3, 1 | 4];

export interface MixOptions {
  /** pages in the window the operations stay in */
  window: number;
  /** operations per run */
  ops: number;
  /** runs (the fastest counts), after one warm-up run of each path */
  runs: number;
  seed?: number;
}

export interface MixRow {
  window: number;
  ops: number;
  /** VMAs in the process after the sequence (the same on every path) */
  vmas: number;
  call_ns: number;
  batch_ns: number;
  model_ns: number;
}

/** xorshift32 (deterministic per seed). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

/** The sequence in the typed batch's format ([op, 0, args...], STRIDE slots per command). */
export function mixCommands(lib: typeof Lib, o: MixOptions): Float64Array {
  const OP = lib.BATCH_OP;
  const r = rng(o.seed ?? 1);
  const page = () => BASE + (r() % o.window) * PG;
  const pages = () => 1 + (r() % 8);
  const c = new Float64Array(o.ops * STRIDE);
  for (let i = 0; i < o.ops; i++) {
    const b = i * STRIDE;
    const x = r() % 100;
    let cmd: number[];
    if (x < 22) {
      const fixed = r() & 1 ? MAP_FIXED : MAP_FIXED_NOREPLACE;
      const share = r() % 8 === 0 ? MAP_SHARED : MAP_PRIVATE;
      cmd = [OP.mmap, page(), pages() * PG, PROTS[r() % PROTS.length], share | MAP_ANONYMOUS | fixed, 0, 0];
    } else if (x < 36) cmd = [OP.munmap, page(), pages() * PG];
    else if (x < 56) cmd = [OP.mprotect, page(), pages() * PG, PROTS[r() % PROTS.length]];
    else if (x < 66) {
      const move = r() & 1;
      cmd = [OP.mremap, page(), pages() * PG, pages() * PG, move ? MREMAP_MAYMOVE | MREMAP_FIXED : 0, move ? page() : 0];
    } else if (x < 72) cmd = [OP.madvise, page(), pages() * PG, MADV_DONTNEED];
    else cmd = [OP.touch, page() + (r() % PG), r() & 1];
    c[b] = cmd[0];
    c.set(cmd.slice(1), b + 2);
  }
  return c;
}

/**
 * Runs the commands one call at a time through the engine's per-call API,
 * results into res. perCallModel() is the same loop for the model: one loop
 * for both would make every call site polymorphic (two classes), which
 * neither an embedder's loop nor a replay is.
 */
function perCallEngine(OP: typeof Lib.BATCH_OP, p: ProcessSim, c: Float64Array, n: number, res: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const b = i * STRIDE;
    let r: number;
    switch (c[b]) {
      case OP.mmap: r = p.mmap(c[b + 2], c[b + 3], c[b + 4], c[b + 5], -1, 0); break;
      case OP.munmap: r = p.munmap(c[b + 2], c[b + 3]); break;
      case OP.mprotect: r = p.mprotect(c[b + 2], c[b + 3], c[b + 4]); break;
      case OP.mremap: r = p.mremap(c[b + 2], c[b + 3], c[b + 4], c[b + 5], c[b + 6]); break;
      case OP.madvise: r = p.madvise(c[b + 2], c[b + 3], c[b + 4]); break;
      case OP.touch: r = p.touch(c[b + 2], c[b + 3] !== 0); break;
      default: throw new Error(`model mix: op ${c[b]}`);
    }
    res[i] = r;
  }
}

/** perCallEngine() for the model. */
function perCallModel(OP: typeof Lib.BATCH_OP, p: ProcessSim, c: Float64Array, n: number, res: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const b = i * STRIDE;
    let r: number;
    switch (c[b]) {
      case OP.mmap: r = p.mmap(c[b + 2], c[b + 3], c[b + 4], c[b + 5], -1, 0); break;
      case OP.munmap: r = p.munmap(c[b + 2], c[b + 3]); break;
      case OP.mprotect: r = p.mprotect(c[b + 2], c[b + 3], c[b + 4]); break;
      case OP.mremap: r = p.mremap(c[b + 2], c[b + 3], c[b + 4], c[b + 5], c[b + 6]); break;
      case OP.madvise: r = p.madvise(c[b + 2], c[b + 3], c[b + 4]); break;
      case OP.touch: r = p.touch(c[b + 2], c[b + 3] !== 0); break;
      default: throw new Error(`model mix: op ${c[b]}`);
    }
    res[i] = r;
  }
}

/** ns per operation of the mix on the three paths, and the VMAs it leaves. */
export function runModelMix(lib: typeof Lib, o: MixOptions): MixRow {
  const OP = lib.BATCH_OP;
  const cmds = mixCommands(lib, o);
  const n = o.ops;
  const want = new Float64Array(n);
  const got = new Float64Array(n);
  let vmas = -1;
  type Path = "call" | "batch" | "model";
  const once = (path: Path, check: boolean): number => {
    const k = path === "model" ? lib.createModelKernel({ policy: "linux-5.17" }) : lib.createKernelSync({ policy: "linux-5.17" });
    const p = k.createProcess();
    const res = path === "model" ? want : got;
    const t0 = cpuNs();
    if (path === "batch") (p as Lib.Process).runBatch(cmds, res, n);
    else if (path === "call") perCallEngine(OP, p, cmds, n, res);
    else perCallModel(OP, p, cmds, n, res);
    const ns = (cpuNs() - t0) / n;
    if (check) {
      for (let i = 0; check && path !== "model" && i < n; i++) {
        if (!Object.is(got[i], want[i])) {
          throw new Error(`model mix: command ${i} (op ${cmds[i * STRIDE]}, args ${Array.from(cmds.subarray(i * STRIDE + 2, i * STRIDE + 8)).join(", ")}) gave ${got[i]} on the engine (${path}), ${want[i]} on the model`);
        }
      }
      const v = p.vmas().length;
      if (vmas >= 0 && v !== vmas) throw new Error(`model mix: ${v} VMAs after the engine's ${path} path, ${vmas} after the model's`);
      vmas = v;
    }
    k.dispose?.();
    return ns;
  };
  // warm-up runs: the model's results are what both engine paths must give
  once("model", true);
  once("call", true);
  once("batch", true);
  const best: Record<Path, number> = { call: Infinity, batch: Infinity, model: Infinity };
  for (let r = 0; r < o.runs; r++) {
    for (const path of ["call", "batch", "model"] as const) best[path] = Math.min(best[path], once(path, false));
  }
  return { window: o.window, ops: n, vmas, call_ns: best.call, batch_ns: best.batch, model_ns: best.model };
}
