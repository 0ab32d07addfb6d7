// The VMA index at scale: random-access operations among 10^3 .. 10^6 VMAs,
// the engine next to two baselines in the same run, both C programs built with
// the C compiler on first use: the real kernel of this machine
// (bench/native/vma_scale.c) and a native 16-wide B-tree with per-child gaps
// doing the same finds, erases and inserts (bench/native/btree.c: the memory
// latency any single-threaded index meets; the target is the engine within
// 1.5x of it, a btree / engine ratio of at least 0.67).
//
//   npm run bench:scale                     10^3, 10^4, 6x10^4, 10^5, 10^6 VMAs
//   npm run bench:scale -- --quick          the same scales, fewer operations
//   npm run bench:scale -- --smoke          10^3 VMAs, a few operations: checks that it runs
//                                           and the JSON is complete (CI; figures meaningless)
//   npm run bench:scale -- --json FILE      also write the figures to FILE
//   npm run bench:scale -- --against DIR    also run the engine built in another checkout
//                                           (e.g. main's, before a change), interleaved
//                                           with this one, and report their ratio
//
// Operations, each on a VMA chosen at random (xorshift32, the same sequence
// as the C program) among N one-page VMAs mapped on every other page (so
// none merge):
//   mprotect       R <-> RW of the VMA (flags change in place, no split)
//   munmap+mmap    unmap the VMA and map it again at the same address
//                  (MAP_FIXED_NOREPLACE): one unlink and one link
// and, from one run per engine, the mmaps that built the N VMAs (rising
// addresses; no kernel figure).
// Reported per op: the fastest of 5 runs in ns of CPU time (each run the mean
// of OPS operations; time spent preempted on a shared machine does not count,
// on any side), the kernel's and the B-tree's
// figures and the ratios kernel / engine and btree / engine; the index's depth, the tree nodes visited per op
// (the core counts them), and the engine's bytes per VMA (records and index).
// The kernel refuses more VMAs than vm.max_map_count (65530 by default; this
// benchmark never writes sysctls): those scales show no kernel figure.
// The B-tree alone also runs a top-down gap search per op (erase a random VMA,
// find its 3-page hole, map there, put the VMA back): a figure without an
// engine counterpart, printed after each scale.
// With --json the file also has `comparisons` ({name, scale, engine_ns_per_op,
// baseline: "kernel" | "btree", baseline_ns_per_op, ratio = baseline / engine}).
// Figures, not assertions: the machine is shared, so read the ratios.

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { nativeProgram } from "./native.js";
import { cpuNs } from "./matrix.js";
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from "../src/abi/constants.js";
import * as thisEngine from "../src/engine/index.js";
import type { Process, Simulator } from "../src/engine/index.js";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const quick = smoke || args.includes("--quick");
const jsonAt = args.indexOf("--json");
const jsonPath = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const againstAt = args.indexOf("--against");
const againstDir = againstAt >= 0 ? resolve(args[againstAt + 1]) : undefined;
// 60,000: about the most VMAs the kernel allows by default (vm.max_map_count 65530)
const SCALES = smoke ? [1e3] : [1e3, 1e4, 6e4, 1e5, 1e6];
const OPS = smoke ? 200 : quick ? 20_000 : 200_000;
const RUNS = smoke ? 1 : 5;

const RW = PROT_READ | PROT_WRITE;
const FLAGS = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
const BASE = 0x100000000;

/** The C program's xorshift32 (seed 1): the same VMAs in the same order. */
function indices(n: number, ops: number): Uint32Array {
  let s = 1;
  const out = new Uint32Array(ops);
  for (let i = 0; i < ops; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = s % n;
  }
  return out;
}

// the fastest run, for every side alike: a run that was preempted only gets slower
const fastest = (xs: number[]) => Math.min(...xs);

/** The core's index statistics (mm_tree_stats: VMAs, mean depth, max depth, nodes, node bytes, visits). */
interface TreeStats { vmas: number; depthMean: number; depthMax: number; nodes: number; nodeBytes: number; visited: number }
function treeStats(k: Simulator, p: Process): TreeStats | null {
  const core = k.core as unknown as { mm_tree_stats?(mm: number): number; memory: WebAssembly.Memory };
  if (!core.mm_tree_stats) return null; // an engine from before the export
  const at = core.mm_tree_stats(p.mm);
  const f = new Float64Array(core.memory.buffer, at, 6);
  return { vmas: f[0], depthMean: f[1], depthMax: f[2], nodes: f[3], nodeBytes: f[4], visited: f[5] };
}

/** The native B-tree (bench/native/btree.c): ns and nodes visited per op, or null when it cannot be built. */
function btreeProgram(): ((op: string, n: number, ops: number) => { ns: number; nodes: number }) | null {
  const bin = nativeProgram("btree");
  if (bin === null) return null;
  return (op, n, ops) => {
    const [ns, nodes] = execFileSync(bin, [op, String(n), String(ops)], { encoding: "utf8" }).trim().split(" ").map(Number);
    return { ns, nodes };
  };
}

function kernelProgram(): ((op: string, n: number, ops: number) => number | null) | null {
  const bin = nativeProgram("vma_scale");
  if (bin === null) return null;
  return (op, n, ops) => {
    try {
      return Number(execFileSync(bin, [op, String(n), String(ops)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim());
    } catch (e) {
      if ((e as { status?: number }).status === 3) return null; // above vm.max_map_count
      throw e;
    }
  };
}

interface Row {
  op: string; scale: number; engine_ns_per_op: number; kernel_ns_per_op: number | null; ratio: number | null;
  /** the native B-tree's figures for the same op, and btree / engine */
  btree_ns_per_op: number | null; btree_ratio: number | null; btree_nodes_per_op: number | null;
  depth_mean: number; depth_max: number; nodes_visited_per_op: number; bytes_per_vma: number;
  /** with --against: the other checkout's engine, measured interleaved with this one */
  against?: { engine_ns_per_op: number; ratio: number; depth_mean: number | null; depth_max: number | null; nodes_visited_per_op: number | null; bytes_per_vma: number };
}

type Engine = typeof thisEngine;

/** A process with n one-page VMAs on every other page, and its two random-op loops. */
function setUp(engine: Engine, n: number, idx: Uint32Array) {
  const k = engine.createKernelSync({ policy: "linux-5.17", max_map_count: 1 << 30 });
  const p = k.createProcess();
  const before = k.stats().bytesAllocated;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    if (p.mmap(BASE + 2 * i * PAGE_SIZE, PAGE_SIZE, RW, FLAGS, -1, 0) !== BASE + 2 * i * PAGE_SIZE) throw new Error(`mmap ${i} failed`);
  }
  const buildNs = Number(process.hrtime.bigint() - t0) / n;
  const bytesPerVma = (k.stats().bytesAllocated - before) / n;
  const rw = new Uint8Array(n).fill(1);
  const state = { sink: 0 };
  const loops: Record<string, () => void> = {
    mprotect: () => {
      for (let i = 0; i < OPS; i++) {
        const j = idx[i];
        rw[j] ^= 1;
        state.sink += p.mprotect(BASE + 2 * j * PAGE_SIZE, PAGE_SIZE, rw[j] ? RW : PROT_READ);
      }
    },
    remap: () => {
      for (let i = 0; i < OPS; i++) {
        const a = BASE + 2 * idx[i] * PAGE_SIZE;
        state.sink += p.munmap(a, PAGE_SIZE);
        state.sink += p.mmap(a, PAGE_SIZE, RW, FLAGS, -1, 0) - a;
      }
    },
  };
  return { k, p, bytesPerVma, buildNs, loops, state };
}

/** ns of CPU time per op (the C programs count their thread's CPU time too: preemption does not count). */
function timed(loop: () => void): number {
  const t0 = cpuNs();
  loop();
  return (cpuNs() - t0) / OPS;
}

async function main(): Promise<void> {
  const kernel = kernelProgram();
  const btree = btreeProgram();
  const gapRows: { scale: number; btree_ns_per_op: number; btree_nodes_per_op: number }[] = [];
  const other: Engine | null = againstDir
    ? await import(pathToFileURL(`${againstDir}/src/engine/index.ts`).href) as Engine
    : null;
  const rows: Row[] = [];
  for (const n of SCALES) {
    const idx = indices(n, OPS);
    const mine = setUp(thisEngine, n, idx);
    const theirs = other ? setUp(other, n, idx) : null;
    const ops: [string, string][] = [["mprotect R<->RW, random VMA", "mprotect"], ["munmap+mmap, random VMA", "remap"]];
    for (const [op, key] of ops) {
      // warm-up, then the runs, the two engines taking turns
      mine.loops[key]();
      theirs?.loops[key]();
      const v0 = treeStats(mine.k, mine.p)?.visited ?? 0;
      const t0 = theirs ? treeStats(theirs.k, theirs.p)?.visited ?? null : null;
      const times: number[] = [];
      const theirTimes: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        times.push(timed(mine.loops[key]));
        if (theirs) theirTimes.push(timed(theirs.loops[key]));
      }
      const st = treeStats(mine.k, mine.p);
      const e = fastest(times);
      const kn = kernel ? fastestOrNull(Array.from({ length: RUNS }, () => kernel(key, n, OPS))) : null;
      const bt = btree ? Array.from({ length: RUNS }, () => btree(key, n, OPS)) : null;
      const bn = bt ? fastest(bt.map((b) => b.ns)) : null;
      const row: Row = {
        op, scale: n, engine_ns_per_op: e, kernel_ns_per_op: kn, ratio: kn === null ? null : kn / e,
        btree_ns_per_op: bn, btree_ratio: bn === null ? null : bn / e, btree_nodes_per_op: bt ? bt[0].nodes : null,
        depth_mean: st?.depthMean ?? NaN, depth_max: st?.depthMax ?? NaN,
        nodes_visited_per_op: st ? (st.visited - v0) / (RUNS * OPS) : NaN, bytes_per_vma: mine.bytesPerVma,
      };
      if (theirs) {
        const ts = treeStats(theirs.k, theirs.p);
        const te = fastest(theirTimes);
        row.against = {
          engine_ns_per_op: te, ratio: te / e, depth_mean: ts?.depthMean ?? null, depth_max: ts?.depthMax ?? null,
          nodes_visited_per_op: ts && t0 !== null ? (ts.visited - t0) / (RUNS * OPS) : null, bytes_per_vma: theirs.bytesPerVma,
        };
      }
      rows.push(row);
      printRow(row);
    }
    // building the process: one run per engine (this one first), so a rough figure
    const st = treeStats(mine.k, mine.p);
    const build: Row = {
      op: "mmap, building the VMAs", scale: n, engine_ns_per_op: mine.buildNs, kernel_ns_per_op: null, ratio: null,
      btree_ns_per_op: null, btree_ratio: null, btree_nodes_per_op: null,
      depth_mean: st?.depthMean ?? NaN, depth_max: st?.depthMax ?? NaN, nodes_visited_per_op: NaN, bytes_per_vma: mine.bytesPerVma,
    };
    if (theirs) {
      build.against = {
        engine_ns_per_op: theirs.buildNs, ratio: theirs.buildNs / mine.buildNs, depth_mean: null, depth_max: null,
        nodes_visited_per_op: null, bytes_per_vma: theirs.bytesPerVma,
      };
    }
    rows.push(build);
    printRow(build);
    if (btree) {
      const g = Array.from({ length: RUNS }, () => btree("gap", n, OPS));
      const gap = { scale: n, btree_ns_per_op: fastest(g.map((b) => b.ns)), btree_nodes_per_op: g[0].nodes };
      gapRows.push(gap);
      console.log(`  btree alone, erase + top-down gap search + insert (+ erase, insert back): ${gap.btree_ns_per_op.toFixed(0)} ns, ${gap.btree_nodes_per_op.toFixed(1)} nodes per op`);
    }
    for (const [who, e] of [["this", mine], ["--against", theirs]] as const) {
      if (!e) continue;
      if (e.p.checkInternal() !== 0) throw new Error(`${who} engine: index check failed at ${n} VMAs`);
      if (e.state.sink !== 0) throw new Error(`${who} engine: an operation failed (sum of results ${e.state.sink})`);
    }
  }
  if (!kernel || SCALES.some((n) => n > 65_530)) console.log("kernel: no figure above vm.max_map_count (65530 by default; never raised here)");
  if (jsonPath) {
    const comparisons = rows.flatMap((r) => [
      ...(r.kernel_ns_per_op === null ? [] : [{ name: r.op, scale: r.scale, engine_ns_per_op: r.engine_ns_per_op, baseline: "kernel", baseline_ns_per_op: r.kernel_ns_per_op, ratio: r.kernel_ns_per_op / r.engine_ns_per_op }]),
      ...(r.btree_ns_per_op === null ? [] : [{ name: r.op, scale: r.scale, engine_ns_per_op: r.engine_ns_per_op, baseline: "btree", baseline_ns_per_op: r.btree_ns_per_op, ratio: r.btree_ns_per_op / r.engine_ns_per_op }]),
    ]);
    const out = {
      node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length, kernel: release(), ops_per_run: OPS, runs: RUNS,
      against: againstDir ?? null, comparisons, rows, btree_gap_search: gapRows,
    };
    writeFileSync(jsonPath, `${JSON.stringify(out, null, 2)}\n`);
  }
}

function fastestOrNull(xs: (number | null)[]): number | null {
  return xs.some((x) => x === null) ? null : fastest(xs as number[]);
}

let header = false;
function printRow(r: Row): void {
  const cols: [string, number][] = [
    ["op", 28], ["VMAs", 8], ["engine ns", 10], ["kernel ns", 10], ["k/e", 6], ["btree ns", 9], ["b/e", 6], ["depth", 9], ["nodes/op", 9], ["b nodes", 8], ["B/VMA", 6],
  ];
  if (againstDir) cols.push(["other ns", 9], ["o/e", 6], ["o depth", 9], ["o nodes", 8], ["o B/VMA", 8]);
  if (!header) {
    console.log(`linux ${release()}, ${OPS} ops per run, the fastest of ${RUNS} runs${againstDir ? `; other = the engine in ${againstDir}` : ""}`);
    console.log(cols.map(([h, w], i) => (i === 0 ? h.padEnd(w) : h.padStart(w))).join(" "));
    header = true;
  }
  const num = (x: number | null | undefined, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
  const depth = (mean: number | null, max: number | null) => (mean === null || Number.isNaN(mean) ? "-" : `${mean.toFixed(1)}/${max}`);
  // below 10^5 VMAs the pools' first chunks dominate: bytes per VMA only from there
  const bytes = (b: number) => (r.scale >= 1e5 ? b.toFixed(1) : "-");
  const cells = [
    r.op, String(r.scale), num(r.engine_ns_per_op), num(r.kernel_ns_per_op), r.ratio === null ? "-" : `${r.ratio.toFixed(2)}x`,
    num(r.btree_ns_per_op), r.btree_ratio === null ? "-" : `${r.btree_ratio.toFixed(2)}x`,
    depth(r.depth_mean, r.depth_max), num(r.nodes_visited_per_op, 1), num(r.btree_nodes_per_op, 1), bytes(r.bytes_per_vma),
  ];
  if (r.against) {
    const a = r.against;
    cells.push(num(a.engine_ns_per_op), `${a.ratio.toFixed(2)}x`, depth(a.depth_mean, a.depth_max), num(a.nodes_visited_per_op, 1), bytes(a.bytes_per_vma));
  }
  console.log(cells.map((c, i) => (i === 0 ? c.padEnd(cols[i][1]) : c.padStart(cols[i][1]))).join(" "));
}

await main();
