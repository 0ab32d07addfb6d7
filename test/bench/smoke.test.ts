// The benchmarks' smoke run (`bench/run.ts --smoke`: a few milliseconds per
// task): every benchmark runs and the JSON has what the performance issue
// asks of it. The figures themselves are not looked at (a shared, noisy
// machine): only their presence, shape and arithmetic.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";
import { POLICIES } from "../../src/types.js";
import { type MatrixRow, matrixName } from "../../bench/matrix.js";
import type { MergeCostRow } from "../../bench/merge_cost.js";

const ROOT = resolve(import.meta.dirname, "../..");
const hasCc = spawnSync(process.env.CC ?? "cc", ["--version"]).error === undefined;

it("npm run bench -- --smoke --json F --chart C: comparisons against the model (and the kernel with a C compiler), throughput, memory, the matrix, the merge cost and its chart", { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "vmasim-bench-"));
  try {
    const out = join(dir, "bench.json");
    const chart = join(dir, "merge.svg");
    execFileSync(join(ROOT, "node_modules/.bin/tsx"), ["bench/run.ts", "--smoke", "--json", out, "--chart", chart], { cwd: ROOT, stdio: "pipe" });
    const r = JSON.parse(readFileSync(out, "utf8"));
    expect(r.smoke).toBe(true);
    const baselines = new Set(r.comparisons.map((c: { baseline: string }) => c.baseline));
    expect(baselines.has("model")).toBe(true);
    if (hasCc) expect(baselines.has("kernel")).toBe(true);
    for (const c of r.comparisons) {
      expect(Object.keys(c).sort()).toEqual(["baseline", "baseline_ns_per_op", "engine_ns_per_op", "name", "ratio", "scale"]);
      expect(c.engine_ns_per_op).toBeGreaterThan(0);
      expect(c.baseline_ns_per_op).toBeGreaterThan(0);
      expect(c.ratio).toBeCloseTo(c.baseline_ns_per_op / c.engine_ns_per_op, 9);
      expect(Number.isInteger(c.scale) && c.scale > 0).toBe(true);
    }
    // every engine op has its model comparison; the fork's process has its 1,000 VMAs
    const names = r.comparisons.filter((c: { baseline: string }) => c.baseline === "model").map((c: { name: string }) => c.name);
    const mix = ["256", "16,384"].flatMap((w) => [`random operation mix in a ${w}-page window: per call`, `random operation mix in a ${w}-page window: typed batch`]);
    expect(names).toEqual(["mmap+munmap pair", "mprotect split + re-merge", "write fault", "mremap move of a faulted 1-page VMA", "fork of 1,000 faulted VMAs", ...mix]);
    // the mix: engine and model ran the same sequence (the benchmark checks their results); the large window holds more VMAs
    const mixScales = r.comparisons.filter((c: { name: string }) => c.name.startsWith("random operation mix")).map((c: { scale: number }) => c.scale);
    expect(mixScales[2]).toBeGreaterThanOrEqual(mixScales[0]);
    expect(r.comparisons.find((c: { name: string }) => c.name.startsWith("fork")).scale).toBeGreaterThanOrEqual(1000);
    for (const p of POLICIES) expect(r.throughput[`replay events/s ${p} (engine time)`]).toBeGreaterThan(0);
    expect(r.throughput["import lines/s (perf text, with process start)"]).toBeGreaterThan(0);
    // replay of `vmasim gen` traces: every kind, every policy's engine time, linux-5.17 alone end to end
    for (const kind of ["allocator", "server", "build", "adversarial"]) {
      for (const p of POLICIES) expect(r.throughput[`gen ${kind} 2000: replay events/s ${p} (engine time)`]).toBeGreaterThan(0);
      expect(r.throughput[`gen ${kind} 2000: replay events/s linux-5.17 alone (end to end, per CPU s)`]).toBeGreaterThan(0);
    }
    expect(r.memory.engineBytesPerVma).toBeGreaterThan(0);
    expect(r.memory.engineBytesPerResidentPage).toBeGreaterThan(0);
    expect(r.memory.engineBytesPerResidentPageBig).toBeGreaterThan(0);
    expect(r.memory.engineBytesPerFilePageBig).toBeGreaterThan(0);

    // the matrix: every op at every smoke scale, fixed and random (10,000 adjacent mmaps: fixed only; fork: no address)
    const rows: MatrixRow[] = r.matrix.rows;
    for (const scale of [100, 1000]) {
      const at = rows.filter((x) => x.scale === scale);
      const keys = at.map((x) => `${x.op} ${x.mode}`).sort();
      const both = ["pair", "split", "mprotect_unfaulted", "mprotect_written", "mremap_unfaulted", "mremap_written", "read_fault", "write_fault"];
      expect(keys).toEqual([...both.flatMap((o) => [`${o} fixed`, `${o} random`]), "adjacent fixed", "fork none"].sort());
      for (const x of at) {
        expect(Object.keys(x).sort()).toEqual(["batch_ns", "call_ns", "kernel_ns", "mode", "op", "scale"]);
        expect(x.call_ns).toBeGreaterThan(0);
        if (x.op === "fork") expect(x.batch_ns).toBeNull();
        else expect(x.batch_ns).toBeGreaterThan(0);
        if (hasCc) expect(x.kernel_ns).toBeGreaterThan(0);
      }
    }
    // each kernel figure gives a per-call and (but fork) a typed-batch comparison, named by address mode
    const matrixComparisons = r.comparisons.filter((c: { name: string }) => / \((per call|typed batch)\)$/.test(c.name));
    expect(matrixComparisons.length).toBe(hasCc ? 2 * (2 * 17 + 1) : 0);
    for (const c of matrixComparisons) {
      const row = rows.find((x) => x.scale === c.scale && c.name.startsWith(matrixName(x)))!;
      expect(c.name.includes("random")).toBe(row.mode === "random");
      expect(c.baseline_ns_per_op).toBe(row.kernel_ns);
      expect(c.engine_ns_per_op).toBe(c.name.endsWith("(per call)") ? row.call_ns : row.batch_ns);
    }

    // the merge cost: the series' merges happen and move every page; linux-5.17 moves none
    const mc: MergeCostRow[] = r.mergeCost.rows;
    expect(mc.length).toBe(2 * 3 * r.mergeCost.pages.length);
    for (const x of mc) {
      const base = mc.find((y) => y.case === x.case && y.pages === x.pages && y.policy === "linux-5.17")!;
      expect(x.ns_per_page).toBeCloseTo(x.ns_per_op / x.pages, 9);
      expect(x.extra_ns_per_page_vs_linux_5_17).toBeCloseTo((x.ns_per_op - base.ns_per_op) / x.pages, 9);
      if (x.policy === "linux-5.17") {
        expect([x.merged, x.pages_reindexed_per_op, x.pages_repointed_per_op]).toEqual([false, 0, 0]);
      } else {
        expect(x.merged).toBe(true);
        // mremap: both re-index the moved pages (seed-v2 update_faulted_pgoff); the hole: both re-point next's pages
        if (x.case === "mremap") expect(x.pages_reindexed_per_op).toBe(x.pages);
        else expect(x.pages_repointed_per_op).toBe(x.pages);
      }
    }
    const svg = readFileSync(chart, "utf8");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it("npm run bench:scale -- --smoke --json F: comparisons against the kernel and the native B-tree", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "vmasim-bench-"));
  try {
    const out = join(dir, "scale.json");
    execFileSync(join(ROOT, "node_modules/.bin/tsx"), ["bench/scale.ts", "--smoke", "--json", out], { cwd: ROOT, stdio: "pipe" });
    const r = JSON.parse(readFileSync(out, "utf8"));
    const baselines = r.comparisons.map((c: { baseline: string }) => c.baseline);
    if (hasCc) expect([...new Set(baselines)].sort()).toEqual(["btree", "kernel"]);
    for (const c of r.comparisons) {
      expect(Object.keys(c).sort()).toEqual(["baseline", "baseline_ns_per_op", "engine_ns_per_op", "name", "ratio", "scale"]);
      expect(c.name).toContain("random");
      expect(c.scale).toBe(1000);
      expect(c.ratio).toBeCloseTo(c.baseline_ns_per_op / c.engine_ns_per_op, 9);
      const row = r.rows.find((x: { op: string }) => x.op === c.name);
      expect(c.baseline_ns_per_op).toBe(c.baseline === "btree" ? row.btree_ns_per_op : row.kernel_ns_per_op);
    }
    if (hasCc) {
      // the B-tree visits one node per level for a find (depth 3 at 10^3 one-page VMAs)
      expect(r.rows.find((x: { op: string }) => x.op.startsWith("mprotect")).btree_nodes_per_op).toBe(3);
      expect(r.btree_gap_search).toHaveLength(1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
