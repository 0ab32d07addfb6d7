// The VMA index at scale: random-access operations among 10^3 .. 10^6 VMAs,
// the engine next to the real kernel of this machine (bench/native/vma_scale.c,
// built with the C compiler on first use) in the same run.
//
//   npm run bench:scale                     10^3, 10^4, 10^5, 10^6 VMAs
//   npm run bench:scale -- --quick          10^3 .. 10^5, fewer operations
//   npm run bench:scale -- --json FILE      also write the figures to FILE
//
// Operations, each on a VMA chosen at random (xorshift32, the same sequence
// as the C program) among N one-page VMAs mapped on every other page (so
// none merge):
//   mprotect       R <-> RW of the VMA (flags change in place, no split)
//   munmap+mmap    unmap the VMA and map it again at the same address
//                  (MAP_FIXED_NOREPLACE): one unlink and one link
// Reported per op: the median of 5 runs in ns, the kernel's figure and the
// ratio kernel / engine; the index's depth, the tree nodes visited per op
// (the core counts them), and the engine's bytes per VMA (records and index).
// The kernel refuses more VMAs than vm.max_map_count (65530 by default; this
// benchmark never writes sysctls): those scales show no kernel figure.
// Figures, not assertions: the machine is shared, so read the ratios.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { fileURLToPath } from "node:url";
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from "../src/abi/constants.js";
import { createKernelSync, type Process, type Simulator } from "../src/engine/index.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const jsonAt = args.indexOf("--json");
const jsonPath = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const SCALES = quick ? [1e3, 1e4, 1e5] : [1e3, 1e4, 1e5, 1e6];
const OPS = quick ? 20_000 : 200_000;
const RUNS = 5;

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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** The core's index statistics (mm_tree_stats: VMAs, mean depth, max depth, nodes, node bytes, visits). */
interface TreeStats { vmas: number; depthMean: number; depthMax: number; nodes: number; nodeBytes: number; visited: number }
function treeStats(k: Simulator, p: Process): TreeStats {
  const core = k.core as unknown as { mm_tree_stats(mm: number): number; memory: WebAssembly.Memory };
  const at = core.mm_tree_stats(p.mm);
  const f = new Float64Array(core.memory.buffer, at, 6);
  return { vmas: f[0], depthMean: f[1], depthMax: f[2], nodes: f[3], nodeBytes: f[4], visited: f[5] };
}

function kernelProgram(): ((op: string, n: number, ops: number) => number | null) | null {
  const src = fileURLToPath(new URL("./native/vma_scale.c", import.meta.url));
  const dir = fileURLToPath(new URL("../build/native/", import.meta.url));
  const bin = `${dir}vma_scale`;
  try {
    mkdirSync(dir, { recursive: true });
    if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
      execFileSync(process.env.CC ?? "cc", ["-O2", "-o", bin, src], { stdio: "pipe" });
    }
  } catch (e) {
    console.error(`real-kernel baseline skipped: cannot build ${src}: ${(e as Error).message}`);
    return null;
  }
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
  depth_mean: number; depth_max: number; nodes_visited_per_op: number; bytes_per_vma: number;
}

function main(): void {
  const kernel = kernelProgram();
  const rows: Row[] = [];
  for (const n of SCALES) {
    const k = createKernelSync({ policy: "linux-5.17", max_map_count: 1 << 30 });
    const p = k.createProcess();
    const before = k.stats().bytesAllocated;
    for (let i = 0; i < n; i++) {
      if (p.mmap(BASE + 2 * i * PAGE_SIZE, PAGE_SIZE, RW, FLAGS, -1, 0) !== BASE + 2 * i * PAGE_SIZE) throw new Error(`mmap ${i} failed`);
    }
    const bytesPerVma = (k.stats().bytesAllocated - before) / n;
    const idx = indices(n, OPS);
    const rw = new Uint8Array(n).fill(1);
    let sink = 0;
    const ops: [string, string, () => void][] = [
      ["mprotect R<->RW, random VMA", "mprotect", () => {
        for (let i = 0; i < OPS; i++) {
          const j = idx[i];
          rw[j] ^= 1;
          sink += p.mprotect(BASE + 2 * j * PAGE_SIZE, PAGE_SIZE, rw[j] ? RW : PROT_READ);
        }
      }],
      ["munmap+mmap, random VMA", "remap", () => {
        for (let i = 0; i < OPS; i++) {
          const a = BASE + 2 * idx[i] * PAGE_SIZE;
          sink += p.munmap(a, PAGE_SIZE);
          sink += p.mmap(a, PAGE_SIZE, RW, FLAGS, -1, 0) - a;
        }
      }],
    ];
    for (const [op, cop, loop] of ops) {
      loop(); // warm-up (and the same state as the C program's runs start from, up to the flags)
      const v0 = treeStats(k, p).visited;
      const times: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        const t0 = process.hrtime.bigint();
        loop();
        times.push(Number(process.hrtime.bigint() - t0) / OPS);
      }
      const st = treeStats(k, p);
      const e = median(times);
      const kn = kernel ? medianOrNull(Array.from({ length: RUNS }, () => kernel(cop, n, OPS))) : null;
      rows.push({
        op, scale: n, engine_ns_per_op: e, kernel_ns_per_op: kn, ratio: kn === null ? null : kn / e,
        depth_mean: st.depthMean, depth_max: st.depthMax, nodes_visited_per_op: (st.visited - v0) / (RUNS * OPS),
        bytes_per_vma: bytesPerVma,
      });
      printRow(rows[rows.length - 1]);
    }
    if (p.checkInternal() !== 0) throw new Error(`index check failed at ${n} VMAs`);
    if (sink !== 0) throw new Error(`an operation failed (sum of results ${sink})`);
  }
  if (jsonPath) {
    const out = { node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length, kernel: release(), ops_per_run: OPS, runs: RUNS, rows };
    writeFileSync(jsonPath, `${JSON.stringify(out, null, 2)}\n`);
  }
}

function medianOrNull(xs: (number | null)[]): number | null {
  return xs.some((x) => x === null) ? null : median(xs as number[]);
}

let header = false;
function printRow(r: Row): void {
  if (!header) {
    console.log(`linux ${release()}, ${OPS} ops per run, median of ${RUNS} runs`);
    console.log(`${"op".padEnd(28)} ${"VMAs".padStart(8)} ${"engine ns".padStart(10)} ${"kernel ns".padStart(10)} ${"k/e".padStart(6)} ${"depth".padStart(9)} ${"nodes/op".padStart(9)} ${"B/VMA".padStart(6)}`);
    header = true;
  }
  const kn = r.kernel_ns_per_op === null ? "-" : r.kernel_ns_per_op.toFixed(0);
  const ratio = r.ratio === null ? "-" : `${r.ratio.toFixed(2)}x`;
  const depth = `${r.depth_mean.toFixed(1)}/${r.depth_max}`;
  // below 10^5 VMAs the pools' first chunks dominate: bytes per VMA only from there
  const bytes = r.scale >= 1e5 ? r.bytes_per_vma.toFixed(1) : "-";
  console.log(`${r.op.padEnd(28)} ${String(r.scale).padStart(8)} ${r.engine_ns_per_op.toFixed(0).padStart(10)} ${kn.padStart(10)} ${ratio.padStart(6)} ${depth.padStart(9)} ${r.nodes_visited_per_op.toFixed(1).padStart(9)} ${bytes.padStart(6)}`);
}

main();
