// vmasim benchmarks: the wasm engine against its baselines measured in the
// same run: the TypeScript reference model and the real kernel of this
// machine (a small C program, bench/native/mmap_pair.c). Figures, not
// assertions: this machine is shared and noisy, so read the ratios.
//
//   npm run bench                 table on stdout
//   npm run bench -- --json F     also write the figures to F
//   npm run bench -- --quick      shorter runs
//   npm run bench -- --smoke      a few milliseconds per task: checks that every
//                                 benchmark runs and the JSON is complete (CI; figures meaningless)
//   npm run bench -- --chart F    write the merge cost chart (SVG) to F
//   npm run bench -- --only S,..  only these sections: core (the tasks below, throughput,
//                                 memory), matrix (bench/matrix.ts), merge (bench/merge_cost.ts)
//
// The random operation mix (bench/model_mix.ts): the engine (per call and
// typed batch) and the reference model on the same seeded sequence of
// mmap/munmap/mprotect/mremap/madvise/accesses, their results checked equal.
// The matrix (bench/matrix.ts): every operation of the performance issue among
// 10^2 .. 10^6 VMAs, at a fixed address and at random ones, engine per call,
// typed batch and kernel. The merge cost (bench/merge_cost.ts): a merge the
// seed policies enable, per page it re-points or re-indexes. All of it: about
// 3 minutes with --quick, 9 with the full run, on the shared 2-core
// development machine (docs/performance.md).
//
// Reported: ns per operation (median, with the median absolute deviation),
// the ratio of each baseline to the engine, and the engine's memory per VMA.
// The tinybench tasks are wall time in short samples; the C programs and the
// matrix count CPU time (docs/performance.md, "How the figures are taken").

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Bench, hrtimeNowTimestampProvider } from "tinybench";
import { nativeProgram } from "./native.js";
import { type MatrixRow, matrixName, runMatrix } from "./matrix.js";
import { MERGE_COST_HEADER, mergeCostChart, runMergeCost } from "./merge_cost.js";
import { type MixRow, runModelMix } from "./model_mix.js";
import { replayGenThroughput } from "./replay.js";
// the built library, as users run it (`npm run bench` builds it first); run
// from the sources through tsx, every imported constant would be a getter call
// (imported by a computed path so that type-checking a fresh clone needs no build)
import type * as Lib from "../src/index.js";
import type { KernelSim, Process, ProcessSim } from "../src/index.js";

const DIST = "../dist/index.js";
const lib = (await import(DIST)) as typeof Lib;
const { BATCH_OP, BATCH_STRIDE, POLICIES, abi, createKernelSync, createModelKernel } = lib;
const { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE, PAGE_SIZE, PROT_READ, PROT_WRITE } = abi;

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const quick = smoke || args.includes("--quick");
const jsonAt = args.indexOf("--json");
const jsonPath = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const chartAt = args.indexOf("--chart");
const chartPath = chartAt >= 0 ? args[chartAt + 1] : undefined;
const onlyAt = args.indexOf("--only");
const sections = new Set(onlyAt >= 0 ? args[onlyAt + 1].split(",") : ["core", "matrix", "merge"]);
for (const s of sections) if (!["core", "matrix", "merge"].includes(s)) throw new Error(`--only: unknown section ${s} (core, matrix, merge)`);

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const INNER = 256;
let sink = 0;

interface Row { task: string; nsP50: number; nsMad: number; samples: number }
const rows: Row[] = [];

/** ns per op of fn (which does `INNER` ops per call), batched as tinybench advises. */
function measure(bench: Bench, task: string, fn: () => void): void {
  bench.add(task, () => {
    const t0 = bench.now();
    fn();
    const dt = bench.now() - t0;
    return { overriddenDuration: dt / INNER, overriddenIterationCost: dt };
  });
}

function pairLoop(p: ProcessSim): () => void {
  return () => {
    for (let i = 0; i < INNER; i++) {
      const a = p.mmap(0, PAGE_SIZE, RW, ANON, -1, 0);
      sink += p.munmap(a, PAGE_SIZE) + a;
    }
  };
}

function splitLoop(p: ProcessSim): () => void {
  const a = p.mmap(0, 3 * PAGE_SIZE, RW, ANON, -1, 0);
  return () => {
    for (let i = 0; i < INNER; i += 2) {
      sink += p.mprotect(a + PAGE_SIZE, PAGE_SIZE, PROT_READ);
      sink += p.mprotect(a + PAGE_SIZE, PAGE_SIZE, RW);
    }
  };
}

function nativeBench(): ((which: string, n: number) => number) | null {
  const bin = nativeProgram("mmap_pair");
  if (bin === null) return null;
  return (which, n) => Number(execFileSync(bin, [which, String(n)], { encoding: "utf8" }).trim());
}

/** ns per write fault on fresh anonymous pages: a 4096-page region written page by page. */
function faultLoop(p: ProcessSim): () => void {
  const region = 4096 * PAGE_SIZE;
  let a = p.mmap(0, region, RW, ANON, -1, 0);
  let next = 0;
  return () => {
    for (let i = 0; i < INNER; i++) {
      if (next === 4096) {
        p.munmap(a, region);
        a = p.mmap(0, region, RW, ANON, -1, 0);
        next = 0;
      }
      sink += p.touch(a + next++ * PAGE_SIZE, true);
    }
  };
}

/** ns per mremap move of a faulted 1-page VMA, moved back and forth between two free pages. */
function mremapLoop(p: ProcessSim): () => void {
  const a = 0x10001000, b = 0x1000a000;
  p.mmap(a, PAGE_SIZE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
  p.touch(a, true);
  let at = a;
  return () => {
    for (let i = 0; i < INNER; i++) {
      const to = at === a ? b : a;
      sink += p.mremap(at, PAGE_SIZE, PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
      at = to;
    }
  };
}

/**
 * ns per hole filled and unmapped again between two faulted VMAs with
 * different anon_vmas (kernel-facts S5): 5.17 merges with prev only, the seeds merge
 * all three and the unmap splits again.
 */
function holeLoop(p: ProcessSim): () => void {
  const a = 0x10001000;
  p.mmap(a, 2 * PAGE_SIZE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
  p.mmap(a + 3 * PAGE_SIZE, 2 * PAGE_SIZE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
  p.touch(a, true);
  p.touch(a + 3 * PAGE_SIZE, true);
  return () => {
    for (let i = 0; i < INNER / 2; i++) {
      sink += p.mmap(a + 2 * PAGE_SIZE, PAGE_SIZE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
      sink += p.munmap(a + 2 * PAGE_SIZE, PAGE_SIZE);
    }
  };
}

/**
 * ns per command of `p.runBatch()` over `cmds` ([op, args...]), encoded once:
 * what a replay pays per event once its trace is in the typed format.
 */
function typedBatch(bench: Bench, task: string, p: Process, cmds: number[][]): void {
  const buf = new Float64Array(cmds.length * BATCH_STRIDE);
  cmds.forEach(([op, ...args], i) => {
    buf[i * BATCH_STRIDE] = op;
    args.forEach((x, k) => (buf[i * BATCH_STRIDE + 2 + k] = x));
  });
  const results = new Float64Array(cmds.length);
  bench.add(task, () => {
    const t0 = bench.now();
    p.runBatch(buf, results);
    sink += results[results.length - 1];
    const dt = bench.now() - t0;
    return { overriddenDuration: dt / cmds.length, overriddenIterationCost: dt };
  });
}

/** A process with 1,000 faulted 1-page VMAs (every other page, so none merge). */
function thousandVmas(k: KernelSim): ProcessSim {
  const p = k.createProcess();
  const base = 0x10000000;
  for (let i = 0; i < 1000; i++) {
    p.mmap(base + 2 * i * PAGE_SIZE, PAGE_SIZE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
    p.touch(base + 2 * i * PAGE_SIZE, true);
  }
  return p;
}

/** Bytes of engine memory per VMA, measured by creating many non-adjacent VMAs. */
function engineBytesPerVma(): number {
  const k = createKernelSync({ policy: "linux-5.17", max_map_count: 1 << 30 });
  const p = k.createProcess();
  const before = k.stats().bytesAllocated;
  const n = 100_000;
  for (let i = 0; i < n; i++) p.mmap(0x10000000 + 2 * i * PAGE_SIZE, PAGE_SIZE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
  return (k.stats().bytesAllocated - before) / n;
}

/**
 * Bytes of engine memory per VMA with n non-adjacent one-page VMAs mapped at
 * rising addresses: the VMA records and their share of the index nodes
 * (issue 12: at most 96 at 10^5 and 10^6).
 */
function engineBytesPerVmaAt(n: number): number {
  const k = createKernelSync({ policy: "linux-5.17", max_map_count: 1 << 30 });
  const p = k.createProcess();
  const before = k.stats().bytesAllocated;
  for (let i = 0; i < n; i++) p.mmap(0x10000000 + 2 * i * PAGE_SIZE, PAGE_SIZE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
  return (k.stats().bytesAllocated - before) / n;
}

/** One engine figure against one baseline (`ratio` = baseline / engine; `scale` = VMAs in the process). */
interface Comparison {
  name: string;
  scale: number;
  engine_ns_per_op: number;
  baseline: "kernel" | "model" | "btree";
  baseline_ns_per_op: number;
  ratio: number;
}

/** VMAs in the engine's process of each comparison, taken when its loop is set up. */
const scales = new Map<string, number>();

/** `loop(p)`, and for the engine the VMAs of `p` once the loop has set up its own, as the scale of comparison `op`. */
function scaled(op: string, kernel: string, p: ProcessSim, loop: (p: ProcessSim) => () => void): () => void {
  const run = loop(p);
  if (kernel === "engine") scales.set(op, p.vmas().length);
  return run;
}

/**
 * Bytes of engine memory per resident page among `n` written in one mapping:
 * its page record and its share of the page tables; for a shared (shmem) mapping
 * also its page-cache entry and hash bucket (fs/pagecache.ts).
 */
const SHARED_ANON = abi.MAP_SHARED | MAP_ANONYMOUS;
function engineBytesPerPage(n: number, shared = false): number {
  const k = createKernelSync({ policy: "linux-5.17" });
  const p = k.createProcess();
  const a = p.mmap(0, n * PAGE_SIZE, RW, shared ? SHARED_ANON : ANON, -1, 0);
  const before = k.stats().bytesAllocated;
  for (let i = 0; i < n; i++) p.touch(a + i * PAGE_SIZE, true);
  return (k.stats().bytesAllocated - before) / n;
}

/**
 * Replay throughput per policy (events per second of engine time) and
 * import throughput (perf-text lines per second) on the bundled real trace,
 * through the built CLI as users run it; then replay throughput on traces of
 * `vmasim gen` (allocator, server, build, adversarial; 10^6 events, 10^5
 * with --quick, 2,000 with --smoke): per policy in engine time, and
 * linux-5.17 alone end to end (bench/replay.ts).
 */
function replayThroughput(): Record<string, number | string> {
  const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
  const trace = fileURLToPath(new URL(smoke ? "../test/fixtures/traces/jemalloc_python.head.perf.txt.gz" : "../traces/jemalloc_python.perf.txt.gz", import.meta.url));
  const report = JSON.parse(execFileSync(process.execPath, [cli, "replay", trace, "--policy", "all", "--json"], { encoding: "utf8", maxBuffer: 1 << 28 })) as {
    events: number; eventsPerSecond: number; policies: Record<string, { seconds: number }>;
  };
  const out: Record<string, number | string> = { trace: trace.replace(/^.*\//, ""), "replay events/s (all policies, with parsing)": report.eventsPerSecond };
  for (const [p, r] of Object.entries(report.policies)) out[`replay events/s ${p} (engine time)`] = report.events / r.seconds;
  const dir = mkdtempSync(join(tmpdir(), "vmasim-bench-"));
  try {
    const t0 = performance.now();
    execFileSync(process.execPath, [cli, "import", trace, "-o", join(dir, "t.vt")], { stdio: "pipe" });
    const s = (performance.now() - t0) / 1000;
    const lines = Number(execFileSync("sh", ["-c", `gzip -dc '${trace}' | wc -l`], { encoding: "utf8" }).trim());
    out["import lines/s (perf text, with process start)"] = lines / s;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  Object.assign(out, replayGenThroughput(cli, smoke ? 2000 : quick ? 100_000 : 1_000_000));
  return out;
}

/** The matrix's rows as comparisons against the kernel: per call and typed batch. */
function matrixComparisons(rows: MatrixRow[]): Comparison[] {
  return rows.flatMap((r) => {
    if (r.kernel_ns === null) return [];
    const k = r.kernel_ns;
    const out: Comparison[] = [{ name: `${matrixName(r)} (per call)`, scale: r.scale, engine_ns_per_op: r.call_ns, baseline: "kernel", baseline_ns_per_op: k, ratio: k / r.call_ns }];
    if (r.batch_ns !== null) out.push({ name: `${matrixName(r)} (typed batch)`, scale: r.scale, engine_ns_per_op: r.batch_ns, baseline: "kernel", baseline_ns_per_op: k, ratio: k / r.batch_ns });
    return out;
  });
}

/**
 * The engine and the model on the same seeded random operation sequence
 * (bench/model_mix.ts), in a small window (tens of VMAs) and a large one
 * (thousands): CPU time per operation, the fastest of several runs.
 */
function modelMixSection(): MixRow[] {
  const o = smoke ? { ops: 300, runs: 1 } : quick ? { ops: 20_000, runs: 5 } : { ops: 100_000, runs: 7 };
  console.log(`\nrandom operation mix (seed 1, ${o.ops} ops, the fastest of ${o.runs} runs; ns of CPU time per op; the same results on every path)`);
  console.log(`${"window".padStart(8)} ${"VMAs".padStart(6)} ${"per call".padStart(9)} ${"batch".padStart(9)} ${"model".padStart(9)} ${"model/call".padStart(11)} ${"model/batch".padStart(12)}`);
  return [256, 16_384].map((window) => {
    const m = runModelMix(lib, { window, ops: o.ops, runs: o.runs });
    console.log(`${String(window).padStart(8)} ${String(m.vmas).padStart(6)} ${m.call_ns.toFixed(0).padStart(9)} ${m.batch_ns.toFixed(0).padStart(9)} ${m.model_ns.toFixed(0).padStart(9)} ${`${(m.model_ns / m.call_ns).toFixed(1)}x`.padStart(11)} ${`${(m.model_ns / m.batch_ns).toFixed(1)}x`.padStart(12)}`);
    return m;
  });
}

function matrixSection(): { rows: MatrixRow[]; notes: string[] } {
  const o = smoke ? { scales: [100, 1000], ops: 200, runs: 1, forks: 1 }
    : quick ? { scales: [100, 1000, 10_000, 100_000, 1_000_000], ops: 2000, runs: 7, forks: 3 }
    : { scales: [100, 1000, 10_000, 100_000, 1_000_000], ops: 20_000, runs: 7, forks: 10 };
  console.log(`\nmatrix: ${o.ops} ops per run, the fastest of ${o.runs} runs (ns of CPU time per op, fork: wall time; kernel: linux ${release()})`);
  console.log(`${"VMAs".padStart(8)}  ${"op".padEnd(70)} ${"per call".padStart(9)} ${"batch".padStart(9)} ${"kernel".padStart(9)}`);
  const m = runMatrix(lib, o, (line) => console.log(line));
  for (const n of m.notes) console.log(n);
  return m;
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = { node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length, kernel: release(), smoke, quick };
  const comparisons: Comparison[] = [];
  if (sections.has("core")) Object.assign(out, await core(comparisons));
  if (sections.has("matrix")) {
    const m = matrixSection();
    comparisons.push(...matrixComparisons(m.rows));
    out.matrix = m;
  }
  if (sections.has("merge")) {
    const pages = smoke ? [1, 10, 100] : [1, 10, 100, 1000, 10_000, 100_000];
    // configurations per point: fewer for many pages (each is built beforehand)
    const configs = (p: number) => (smoke ? 3 : Math.max(quick ? 3 : 7, Math.min(quick ? 200 : 500, Math.floor((quick ? 3e5 : 1e6) / p))));
    console.log(`\nmerge cost per policy (engine, per call; +ns/page: over linux-5.17; reindexed / repointed: pages per op)`);
    console.log(MERGE_COST_HEADER);
    const rows = runMergeCost(lib, { pages, configs }, (line) => console.log(line));
    out.mergeCost = { policies: ["seed", "seed-v2", "linux-5.17"], pages, rows };
    if (chartPath) writeFileSync(chartPath, mergeCostChart(rows));
  }
  out.comparisons = comparisons;
  if (jsonPath) writeFileSync(jsonPath, `${JSON.stringify(out, null, 2)}\n`);
}

/** The tinybench tasks, throughput and memory: their comparisons go into `comparisons`; returns the other sections. */
async function core(comparisons: Comparison[]): Promise<Record<string, unknown>> {
  const time = smoke ? 5 : quick ? 300 : 1000;
  const bench = new Bench({
    name: "vmasim", time, warmupTime: smoke ? 1 : quick ? 100 : 250, timestampProvider: hrtimeNowTimestampProvider,
    ...(smoke ? { iterations: 2, warmupIterations: 1 } : {}),
  });
  const kernels: [string, KernelSim][] = [
    ["engine", createKernelSync({ policy: "linux-5.17" })],
    ["model", createModelKernel({ policy: "linux-5.17" })],
  ];
  for (const [name, k] of kernels) measure(bench, `${name}: mmap+munmap pair`, scaled("mmap+munmap pair", name, k.createProcess(), pairLoop));
  for (const [name, k] of kernels) measure(bench, `${name}: mprotect split + re-merge (per mprotect)`, scaled("mprotect split + re-merge", name, k.createProcess(), splitLoop));
  for (const [name, k] of kernels) {
    if (!("touch" in k.createProcess())) continue;
    measure(bench, `${name}: write fault`, scaled("write fault", name, k.createProcess(), faultLoop));
  }
  for (const [name, k] of kernels) measure(bench, `${name}: mremap move of a faulted 1-page VMA`, scaled("mremap move of a faulted 1-page VMA", name, k.createProcess(), mremapLoop));
  // fork of a process with 1,000 faulted VMAs: the child exits right away (not timed)
  for (const [name, k] of kernels) {
    if (!("fork" in k.createProcess())) continue;
    const parent = thousandVmas(k);
    if (name === "engine") scales.set("fork of 1,000 faulted VMAs", parent.vmas().length);
    bench.add(`${name}: fork of 1,000 faulted VMAs`, () => {
      const t0 = bench.now();
      const child = parent.fork();
      const dt = bench.now() - t0;
      child.exit();
      return { overriddenDuration: dt, overriddenIterationCost: dt };
    });
  }

  // the policies side by side: the series' rules cost (EXCL walks, page rewrites), and tracing
  for (const policy of POLICIES) {
    measure(bench, `engine ${policy}: mremap move of a faulted 1-page VMA`, mremapLoop(createKernelSync({ policy }).createProcess()));
    measure(bench, `engine ${policy}: S5 hole filled + unmapped (per syscall)`, holeLoop(createKernelSync({ policy }).createProcess()));
  }
  {
    const tk = createKernelSync({ policy: "linux-5.17" });
    const tp = tk.createProcess();
    tk.traceMerges();
    const loop = pairLoop(tp);
    measure(bench, "engine traced: mmap+munmap pair", () => {
      loop();
      sink += tk.takeMergeEvents().length;
    });
  }

  // per-call against the batch paths, on the same operations: many syscalls per wasm call
  const base = 0x10000000;
  const fixedPair: ["mmap" | "munmap", ...number[]][] = [];
  for (let i = 0; i < INNER / 2; i++) {
    fixedPair.push(["mmap", base, PAGE_SIZE, RW, ANON | MAP_FIXED_NOREPLACE, 0, 0]);
    fixedPair.push(["munmap", base, PAGE_SIZE]);
  }
  {
    const p = createKernelSync({ policy: "linux-5.17" }).createProcess();
    measure(bench, "engine per-call: mmap+munmap at a fixed address (per syscall)", () => {
      for (let i = 0; i < INNER; i += 2) {
        sink += p.mmap(base, PAGE_SIZE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
        sink += p.munmap(base, PAGE_SIZE);
      }
    });
  }
  {
    const bp = createKernelSync({ policy: "linux-5.17" }).createProcess();
    bench.add("engine tuple batch: mmap+munmap at a fixed address (per syscall)", () => {
      const t0 = bench.now();
      const r = bp.batch(fixedPair);
      sink += r[r.length - 1];
      const dt = bench.now() - t0;
      return { overriddenDuration: dt / INNER, overriddenIterationCost: dt };
    });
  }
  typedBatch(bench, "engine typed batch: mmap+munmap at a fixed address (per syscall)", createKernelSync({ policy: "linux-5.17" }).createProcess(),
    fixedPair.map(([op, ...a]) => [BATCH_OP[op], ...a]));
  {
    const p = createKernelSync({ policy: "linux-5.17" }).createProcess();
    const a = p.mmap(0, 3 * PAGE_SIZE, RW, ANON, -1, 0);
    const split: number[][] = [];
    for (let i = 0; i < INNER; i += 2) split.push([BATCH_OP.mprotect, a + PAGE_SIZE, PAGE_SIZE, PROT_READ], [BATCH_OP.mprotect, a + PAGE_SIZE, PAGE_SIZE, RW]);
    typedBatch(bench, "engine typed batch: mprotect split + re-merge (per mprotect)", p, split);
  }
  {
    // write faults: 4096 fresh pages, then the region is unmapped and mapped again (2 of 4098 commands)
    const p = createKernelSync({ policy: "linux-5.17" }).createProcess();
    const region = 4096 * PAGE_SIZE;
    const faults: number[][] = [];
    for (let i = 0; i < 4096; i++) faults.push([BATCH_OP.touch, base + i * PAGE_SIZE, 1]);
    faults.push([BATCH_OP.munmap, base, region], [BATCH_OP.mmap, base, region, RW, ANON | MAP_FIXED_NOREPLACE, 0, 0]);
    p.mmap(base, region, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
    typedBatch(bench, "engine typed batch: write fault", p, faults);
  }

  await bench.run();
  for (const t of bench.tasks) {
    const r = t.result;
    if (r.state !== "completed") throw new Error(`benchmark ${t.name} did not complete: ${r.state}`);
    rows.push({ task: t.name, nsP50: r.latency.p50 * 1e6, nsMad: r.latency.mad * 1e6, samples: r.latency.samplesCount });
  }

  const native = nativeBench();
  let kernelPair: number | null = null;
  let kernelSplit: number | null = null;
  let kernelFault: number | null = null;
  let kernelMremap: number | null = null;
  let kernelFork: number | null = null;
  if (native) {
    const n = smoke ? 2_000 : quick ? 20_000 : 200_000;
    // median of 5 runs
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
    kernelPair = med(Array.from({ length: 5 }, () => native("mmap_pair", n)));
    kernelSplit = med(Array.from({ length: 5 }, () => native("split", n / 2))) / 2;
    rows.push({ task: `linux ${release()}: mmap+munmap pair`, nsP50: kernelPair, nsMad: NaN, samples: 5 });
    rows.push({ task: `linux ${release()}: mprotect split + re-merge (per mprotect)`, nsP50: kernelSplit, nsMad: NaN, samples: 5 });
    kernelFault = med(Array.from({ length: 5 }, () => native("fault", n)));
    kernelMremap = med(Array.from({ length: 5 }, () => native("mremap", n)));
    rows.push({ task: `linux ${release()}: mremap move of a faulted 1-page VMA`, nsP50: kernelMremap, nsMad: NaN, samples: 5 });
    kernelFork = med(Array.from({ length: 5 }, () => native("fork", smoke ? 20 : quick ? 200 : 1000)));
    rows.push({ task: `linux ${release()}: write fault`, nsP50: kernelFault, nsMad: NaN, samples: 5 });
    rows.push({ task: `linux ${release()}: fork of 1,000 faulted VMAs (+ child exit, wait)`, nsP50: kernelFork, nsMad: NaN, samples: 5 });
  }
  const bytesPerVma = engineBytesPerVma();
  const bytesPerPage = engineBytesPerPage(smoke ? 10_000 : 100_000);
  const bytesPerPageBig = engineBytesPerPage(smoke ? 100_000 : 1_000_000);
  const bytesPerFilePage = engineBytesPerPage(smoke ? 100_000 : 1_000_000, true);
  const bytesPerVma1e6 = smoke ? NaN : engineBytesPerVmaAt(1_000_000);

  const get = (prefix: string) => rows.find((r) => r.task.startsWith(prefix))?.nsP50 ?? NaN;
  const ePair = get("engine: mmap+munmap");
  const eSplit = get("engine: mprotect");
  const ratios = {
    "model/engine mmap+munmap": get("model: mmap+munmap") / ePair,
    "kernel/engine mmap+munmap": kernelPair !== null ? kernelPair / ePair : NaN,
    "model/engine mprotect": get("model: mprotect") / eSplit,
    "kernel/engine mprotect": kernelSplit !== null ? kernelSplit / eSplit : NaN,
    "model/engine write fault": get("model: write fault") / get("engine: write fault"),
    "kernel/engine write fault": kernelFault !== null ? kernelFault / get("engine: write fault") : NaN,
    "model/engine mremap move": get("model: mremap") / get("engine: mremap"),
    "kernel/engine mremap move": kernelMremap !== null ? kernelMremap / get("engine: mremap") : NaN,
    "model/engine fork 1,000": get("model: fork") / get("engine: fork"),
    ...Object.fromEntries(POLICIES.filter((p) => p !== "linux-5.17").flatMap((p) => [
      [`${p}/linux-5.17 mremap move`, get(`engine ${p}: mremap`) / get("engine linux-5.17: mremap")],
      [`${p}/linux-5.17 S5 hole`, get(`engine ${p}: S5`) / get("engine linux-5.17: S5")],
    ])),
    "traced/untraced mmap+munmap": get("engine traced: mmap+munmap") / ePair,
    "per-call/typed-batch mmap+munmap fixed": get("engine per-call: mmap+munmap at a fixed") / get("engine typed batch: mmap+munmap"),
    "per-call/typed-batch mprotect split": eSplit / get("engine typed batch: mprotect"),
    "per-call/typed-batch write fault": get("engine: write fault") / get("engine typed batch: write fault"),
    "tuple-batch/typed-batch mmap+munmap fixed": get("engine tuple batch: mmap+munmap") / get("engine typed batch: mmap+munmap"),
    "kernel/engine fork 1,000": kernelFork !== null ? kernelFork / get("engine: fork") : NaN,
  };

  const w = Math.max(...rows.map((r) => r.task.length));
  const wr = Math.max(28, ...Object.keys(ratios).map((k) => k.length));
  console.log(`${"task".padEnd(w)}  ${"ns/op p50".padStart(10)}  ${"mad".padStart(7)}  samples`);
  for (const r of rows) {
    console.log(`${r.task.padEnd(w)}  ${r.nsP50.toFixed(1).padStart(10)}  ${Number.isNaN(r.nsMad) ? "      -" : r.nsMad.toFixed(1).padStart(7)}  ${r.samples}`);
  }
  console.log("");
  for (const [k, v] of Object.entries(ratios)) console.log(`${k.padEnd(wr)} ${Number.isNaN(v) ? "-" : `${v.toFixed(2)}x`}`);
  console.log(`${"engine bytes per VMA".padEnd(wr)} ${bytesPerVma.toFixed(1)}`);
  console.log(`${"engine bytes per VMA at 10^6".padEnd(wr)} ${Number.isNaN(bytesPerVma1e6) ? "-" : bytesPerVma1e6.toFixed(1)}`);
  console.error(`(sink ${sink})`);

  console.log(`${`engine bytes per resident page (${smoke ? "10^4" : "10^5"})`.padEnd(wr)} ${bytesPerPage.toFixed(1)}`);
  console.log(`${`engine bytes per resident page (${smoke ? "10^5" : "10^6"})`.padEnd(wr)} ${bytesPerPageBig.toFixed(1)}`);
  console.log(`${`engine bytes per shmem page (${smoke ? "10^5" : "10^6"})`.padEnd(wr)} ${bytesPerFilePage.toFixed(1)}`);

  // the same figures as a list of comparisons: one engine task against one baseline
  const compare = (name: string, scale: number, engineTask: string, baseline: Comparison["baseline"], baselineNs: number | null) => {
    const e = get(engineTask);
    if (baselineNs === null || Number.isNaN(baselineNs) || Number.isNaN(e)) return;
    comparisons.push({ name, scale, engine_ns_per_op: e, baseline, baseline_ns_per_op: baselineNs, ratio: baselineNs / e });
  };
  const ops: [string, string, string, number | null][] = [
    ["mmap+munmap pair", "engine: mmap+munmap", "model: mmap+munmap", kernelPair],
    ["mprotect split + re-merge", "engine: mprotect", "model: mprotect", kernelSplit],
    ["write fault", "engine: write fault", "model: write fault", kernelFault],
    ["mremap move of a faulted 1-page VMA", "engine: mremap", "model: mremap", kernelMremap],
    ["fork of 1,000 faulted VMAs", "engine: fork", "model: fork", kernelFork],
  ];
  for (const [name, engineTask, modelTask, kernelNs] of ops) {
    const scale = scales.get(name) ?? 0;
    compare(name, scale, engineTask, "kernel", kernelNs);
    compare(name, scale, engineTask, "model", get(modelTask));
  }
  const mix = modelMixSection();
  for (const m of mix) {
    const name = `random operation mix in a ${m.window.toLocaleString("en-US")}-page window`;
    comparisons.push({ name: `${name}: per call`, scale: m.vmas, engine_ns_per_op: m.call_ns, baseline: "model", baseline_ns_per_op: m.model_ns, ratio: m.model_ns / m.call_ns });
    comparisons.push({ name: `${name}: typed batch`, scale: m.vmas, engine_ns_per_op: m.batch_ns, baseline: "model", baseline_ns_per_op: m.model_ns, ratio: m.model_ns / m.batch_ns });
  }
  const throughput = replayThroughput();
  for (const [k, v] of Object.entries(throughput)) console.log(`${k.padEnd(wr)} ${typeof v === "number" ? Math.round(v) : v}`);

  return { throughput, memory: { engineBytesPerVma: bytesPerVma, engineBytesPerVma1e6: bytesPerVma1e6, engineBytesPerResidentPage: bytesPerPage, engineBytesPerResidentPageBig: bytesPerPageBig, engineBytesPerFilePageBig: bytesPerFilePage }, rows, ratios, modelMix: mix };
}

await main();
