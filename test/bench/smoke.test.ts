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

const ROOT = resolve(import.meta.dirname, "../..");
const hasCc = spawnSync(process.env.CC ?? "cc", ["--version"]).error === undefined;

it("npm run bench -- --smoke --json F: comparisons against the model (and the kernel with a C compiler), throughput, memory", { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "vmasim-bench-"));
  try {
    const out = join(dir, "bench.json");
    execFileSync(join(ROOT, "node_modules/.bin/tsx"), ["bench/run.ts", "--smoke", "--json", out], { cwd: ROOT, stdio: "pipe" });
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
    expect(names).toEqual(["mmap+munmap pair", "mprotect split + re-merge", "write fault", "mremap move of a faulted 1-page VMA", "fork of 1,000 faulted VMAs"]);
    expect(r.comparisons.find((c: { name: string }) => c.name.startsWith("fork")).scale).toBeGreaterThanOrEqual(1000);
    for (const p of POLICIES) expect(r.throughput[`replay events/s ${p} (engine time)`]).toBeGreaterThan(0);
    expect(r.throughput["import lines/s (perf text, with process start)"]).toBeGreaterThan(0);
    expect(r.memory.engineBytesPerVma).toBeGreaterThan(0);
    expect(r.memory.engineBytesPerResidentPage).toBeGreaterThan(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
