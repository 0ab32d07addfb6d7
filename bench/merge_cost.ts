// What a merge the series enables costs, as a function of the resident pages
// it re-indexes (page->index) or re-points (page->mapping), under seed,
// seed-v2 and linux-5.17 (which does not merge there: the baseline). Two
// cases, each on P = 1 .. 10^5 written pages:
//   mremap next to a neighbour   a P-page written VMA moved (MREMAP_FIXED) right
//                                after a written 1-page VMA with another anon_vma:
//                                seed and seed-v2 re-index the moved pages
//                                (move_pgoff) and merge it into the neighbour
//                                (seed also re-points them); 5.17 only moves it
//   hole filled                  a 1-page mmap filling the hole between a written
//                                1-page VMA and a P-page written VMA with another
//                                anon_vma (kernel-facts S5): seed and seed-v2 merge
//                                all three, re-pointing the P pages of the second;
//                                5.17 merges the new page with the first only
// Each measured operation runs on a configuration of its own, built beforehand
// (not timed): K of them side by side per P, each timed alone (wall time with
// the timer's own cost taken off, or CPU time for operations over 100 µs,
// which a shared machine is likely to preempt); the figure is the median. Reported per op and per page,
// with the pages the engine says it re-indexed and re-pointed per op
// (KernelSim.pageRewrites()) and whether the VMAs merged.

import type * as Lib from "../src/index.js";
import type { Process } from "../src/index.js";
import { lineChart } from "../src/report/chart.js";
import { cpuNs } from "./matrix.js";

const PG = 4096;
const BASE = 0x100000000;
const RW = 3;
const NOREPLACE = 0x02 | 0x20 | 0x100000; // MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE
const MREMAP_MOVE = 1 | 2; // MREMAP_MAYMOVE | MREMAP_FIXED
const STRIDE = 8;

export const MERGE_POLICIES = ["seed", "seed-v2", "linux-5.17"] as const;
export const MERGE_CASES = { mremap: "mremap next to a neighbour", hole: "hole filled between two anon_vmas" } as const;
export type MergeCase = keyof typeof MERGE_CASES;

export interface MergeCostRow {
  case: MergeCase;
  policy: (typeof MERGE_POLICIES)[number];
  /** resident pages of the VMA whose pages the merge moves */
  pages: number;
  /** configurations measured (the median of their times is the figure) */
  ops: number;
  ns_per_op: number;
  ns_per_page: number;
  /** (ns_per_op - linux-5.17's ns_per_op) / pages: what the series adds per page; 0 for linux-5.17 itself */
  extra_ns_per_page_vs_linux_5_17: number;
  /** every operation merged the VMA with its neighbour(s) (the series' merge happened) */
  merged: boolean;
  pages_reindexed_per_op: number;
  pages_repointed_per_op: number;
}

export interface MergeCostOptions { pages: number[]; configs: (pages: number) => number }

/** The cost of hrtime itself, in ns: the median of many empty measurements. */
function timerCost(): number {
  const xs: number[] = [];
  for (let i = 0; i < 2001; i++) {
    const t0 = process.hrtime.bigint();
    xs.push(Number(process.hrtime.bigint() - t0));
  }
  return xs.sort((a, b) => a - b)[1000];
}

function batch(p: Process, cmds: number[][], what: string): void {
  const buf = new Float64Array(cmds.length * STRIDE);
  cmds.forEach(([op, ...a], i) => {
    buf[i * STRIDE] = op;
    a.forEach((x, j) => (buf[i * STRIDE + 2 + j] = x));
  });
  const res = new Float64Array(cmds.length);
  p.runBatch(buf, res);
  for (let i = 0; i < cmds.length; i++) {
    const want = cmds[i][0] === 1 ? cmds[i][1] : 0;
    if (res[i] !== want) throw new Error(`merge cost: ${what}: command ${i} gave ${res[i]}`);
  }
}

export function runMergeCost(lib: typeof Lib, o: MergeCostOptions, log: (line: string) => void = () => {}): MergeCostRow[] {
  const OP = lib.BATCH_OP;
  const overhead = timerCost();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const rows: MergeCostRow[] = [];
  for (const kase of Object.keys(MERGE_CASES) as MergeCase[]) {
    for (const pages of o.pages) {
      const configs = o.configs(pages);
      const stride = (2 * pages + 32) * PG;
      for (const policy of MERGE_POLICIES) {
        const k = lib.createKernelSync({ policy, max_map_count: 1 << 30 });
        const p = k.createProcess();
        // the configurations, side by side (not timed)
        const setup: number[][] = [];
        for (let i = 0; i < configs; i++) {
          const s = BASE + i * stride;
          setup.push([OP.mmap, s, PG, RW, NOREPLACE], [OP.touch, s, 1]);
          const big = kase === "mremap" ? s + (pages + 8) * PG : s + 2 * PG;
          setup.push([OP.mmap, big, pages * PG, RW, NOREPLACE]);
          for (let j = 0; j < pages; j++) setup.push([OP.touch, big + j * PG, 1]);
        }
        for (let at = 0; at < setup.length; at += 65536) batch(p, setup.slice(at, at + 65536), `${kase} ${policy} setup`);
        const before = k.pageRewrites();
        const vmasBefore = p.vmas().length;
        // each operation timed alone: its wall time when under 100 µs (a time slice is
        // rarely lost in so short a time, and process.cpuUsage() counts in 1 µs steps),
        // its CPU time above (where preemption on a shared machine is likely)
        const times: number[] = [];
        for (let i = 0; i < configs; i++) {
          const s = BASE + i * stride;
          const c0 = cpuNs();
          const w0 = process.hrtime.bigint();
          const r = kase === "mremap"
            ? p.mremap(s + (pages + 8) * PG, pages * PG, pages * PG, MREMAP_MOVE, s + PG)
            : p.mmap(s + PG, PG, RW, NOREPLACE, -1, 0);
          const wall = Number(process.hrtime.bigint() - w0) - overhead;
          const cpu = cpuNs() - c0;
          if (r !== s + PG) throw new Error(`merge cost: ${kase} under ${policy} at ${pages} pages gave ${r}`);
          times.push(Math.max(0, wall < 100_000 ? wall : cpu));
        }
        const ns = median(times);
        const after = k.pageRewrites();
        // merged: the 2 VMAs of each configuration (with the new page: 3) became 1
        const merged = p.vmas().length === vmasBefore - configs;
        if (p.checkInternal() !== 0) throw new Error(`merge cost: the engine's internal check failed (${kase}, ${policy})`);
        k.dispose?.();
        rows.push({
          case: kase, policy, pages, ops: configs, ns_per_op: ns, ns_per_page: ns / pages, extra_ns_per_page_vs_linux_5_17: 0, merged,
          pages_reindexed_per_op: (after.pagesReindexed - before.pagesReindexed) / configs,
          pages_repointed_per_op: (after.pagesRepointed - before.pagesRepointed) / configs,
        });
      }
      const base = rows.find((r) => r.case === kase && r.pages === pages && r.policy === "linux-5.17")!;
      for (const r of rows) if (r.case === kase && r.pages === pages) r.extra_ns_per_page_vs_linux_5_17 = (r.ns_per_op - base.ns_per_op) / pages;
      for (const r of rows.filter((x) => x.case === kase && x.pages === pages)) {
        log(`${MERGE_CASES[kase].padEnd(34)} ${r.policy.padEnd(11)} ${String(pages).padStart(7)} ${r.ns_per_op.toFixed(0).padStart(10)} ${r.ns_per_page.toFixed(1).padStart(9)} ${r.extra_ns_per_page_vs_linux_5_17.toFixed(1).padStart(9)} ${(r.merged ? "yes" : "no").padStart(6)} ${r.pages_reindexed_per_op.toFixed(0).padStart(9)} ${r.pages_repointed_per_op.toFixed(0).padStart(9)}`);
      }
    }
  }
  return rows;
}

export const MERGE_COST_HEADER = `${"case".padEnd(34)} ${"policy".padEnd(11)} ${"pages".padStart(7)} ${"ns/op".padStart(10)} ${"ns/page".padStart(9)} ${"+ns/page".padStart(9)} ${"merged".padStart(6)} ${"reindexed".padStart(9)} ${"repointed".padStart(9)}`;

/** The figures as an SVG line chart: log10 ns per op against log10 pages, one line per case and policy. */
export function mergeCostChart(rows: readonly MergeCostRow[]): string {
  const series = (Object.keys(MERGE_CASES) as MergeCase[]).flatMap((kase) => MERGE_POLICIES.map((policy) => ({
    name: `${kase}, ${policy}`,
    points: rows.filter((r) => r.case === kase && r.policy === policy).map((r) => [Math.log10(r.pages), Math.log10(Math.max(r.ns_per_op, 1))] as [number, number]),
  })));
  const svg = lineChart(series, { xLabel: "log10 resident pages re-indexed / re-pointed by the merge", yLabel: "log10 ns per operation", width: 1000 });
  // a file of its own: the namespace that inline SVG in HTML does without
  return `${svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ')}\n`;
}
