// `vmasim compare`: scenario scripts under several policies, one row per
// script: the VMAs it ends with, the merges it made, the pages the policy
// rewrote, and whether the kernel-wide checker held after every line; then
// the merge counters of each policy over all the scripts.

import type { MergeStats } from "../engine/merge_trace.js";
import { runScenario } from "../scenario/run.js";
import { ScenarioChecker } from "./checker.js";
export { compareCsv, compareJson } from "./compare_schema.js";
import type { KernelSim, Policy } from "../types.js";

/** What compare needs of a kernel beyond KernelSim: the engine's merge counters. */
export interface CountingKernel extends KernelSim {
  mergeStats(): MergeStats;
}

export interface CompareCell {
  /** VMAs in the arena at the last dump (or the process's, from the last count), null if none printed */
  vmas: number | null;
  merged: number;
  repointed: number;
  reindexed: number;
  /** the first checker complaint and its script line, or null */
  broken: { line: number; problem: string } | null;
  /** the script's merge counters */
  stats: MergeStats;
}

export interface CompareRow {
  script: string;
  cells: CompareCell[];
}

/** a + sign * b, counter by counter. */
function combine(a: MergeStats, b: MergeStats, sign: 1 | -1): MergeStats {
  const failed: MergeStats["failed"] = {};
  for (const k of new Set([...Object.keys(a.failed), ...Object.keys(b.failed)]) as Set<keyof MergeStats["failed"]>) {
    const n = (a.failed[k] ?? 0) + sign * (b.failed[k] ?? 0);
    if (n) failed[k] = n;
  }
  const d = { ...a, failed, byCase: a.byCase.map((n, i) => n + sign * b.byCase[i]) } as MergeStats;
  for (const k of Object.keys(a) as (keyof MergeStats)[]) {
    if (typeof a[k] === "number") (d as unknown as Record<string, number>)[k] = (a[k] as number) + sign * (b[k] as number);
  }
  return d;
}

/** Counters b - a: what happened in between. */
export const statsDiff = (a: MergeStats, b: MergeStats): MergeStats => combine(b, a, -1);
/** Counters a + b. */
export const statsSum = (a: MergeStats, b: MergeStats): MergeStats => combine(a, b, 1);

/**
 * Run one script on a fresh kernel: the cell, and the script's counters. The
 * checker runs after every line, or once at the end for scripts that pad the
 * process with padvmas (tens of thousands of VMAs); its messages are in arena
 * pages.
 */
export function runCell(kernel: CountingKernel, script: string): { cell: CompareCell; stats: MergeStats } {
  let before = kernel.mergeStats();
  const checker = new ScenarioChecker(kernel, !/^\s*padvmas\b/m.test(script));
  const r = runScenario(kernel, script, {
    onStart: (_p, base) => {
      before = kernel.mergeStats();
      checker.start(base);
    },
    onStep: (_p, e) => checker.step(e.line),
  });
  const failure = checker.finish();
  const broken = failure ? { line: failure.line, problem: failure.problems[0] } : null;
  const stats = statsDiff(before, kernel.mergeStats());
  const dumps = [...r.output.matchAll(/^ {2}\((\d+) vmas\)$|process_vmas=(\d+)/gm)];
  const last = dumps.at(-1);
  const vmas = last ? Number(last[1] ?? last[2]) : null;
  return { cell: { vmas, merged: stats.merged, repointed: stats.pagesRepointed, reindexed: stats.pagesReindexed, broken, stats }, stats };
}

function cellText(c: CompareCell): string {
  let t = `${c.vmas ?? "-"} vma${c.vmas === 1 ? "" : "s"}, ${c.merged} merge${c.merged === 1 ? "" : "s"}`;
  if (c.repointed) t += `, ${c.repointed} rp`;
  if (c.reindexed) t += `, ${c.reindexed} ri`;
  return t + (c.broken ? `, CHECK@${c.broken.line}` : "");
}

/** The table, the checker's complaints, and the counters per policy. */
export function formatCompare(policies: readonly Policy[], rows: readonly CompareRow[], totals: readonly MergeStats[]): string {
  const head = ["script", ...policies];
  const table = rows.map((r) => [r.script, ...r.cells.map(cellText)]);
  const w = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells: string[], mark: string) => `${mark} ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(w[i]))).join(" | ")}`.trimEnd() + "\n";
  let out = line(head, " ");
  out += `  ${w.map((n) => "-".repeat(n)).join("-+-")}\n`;
  for (const t of table) {
    const cells = t.slice(1);
    out += line(t, cells.every((c) => c === cells[0]) ? " " : "!");
  }
  out += "\n(vmas: at the script's last dump or count; merges: successful vma_merge calls; rp/ri: pages re-pointed /\n" +
    "re-indexed by the policy; CHECK@N: the kernel-wide checker failed first after line N; ! marks rows where policies differ)\n";
  const complaints = rows.flatMap((r) => r.cells.map((c, i) => (c.broken ? `  ${r.script} under ${policies[i]}, line ${c.broken.line}: ${c.broken.problem}` : null)))
    .filter((x): x is string => x !== null);
  if (complaints.length) out += `\nchecker:\n${complaints.join("\n")}\n`;
  // counters over all scripts
  const rowsOf: [string, (s: MergeStats) => number][] = [
    ["merge attempts", (s) => s.attempts],
    ["merged", (s) => s.merged],
    ["  prev only: prev and next refused to join", (s) => s.bothRefused],
    ["not merged", (s) => s.attempts - s.merged],
  ];
  const reasons = [...new Set(totals.flatMap((t) => Object.keys(t.failed)))].sort() as (keyof MergeStats["failed"])[];
  for (const r of reasons) rowsOf.push([`  ${r}`, (s) => s.failed[r] ?? 0]);
  rowsOf.push(
    ["pages re-indexed", (s) => s.pagesReindexed],
    ["pages re-pointed", (s) => s.pagesRepointed],
    ["anon_vma refs leaked", (s) => s.anonVmaRefsLeaked],
    ["debug_vm warnings", (s) => s.debugVmWarnings],
    ["refused by max_map_count", (s) => s.mapCountRefused],
  );
  const w0 = Math.max(...rowsOf.map((r) => r[0].length));
  const ws = policies.map((p, i) => Math.max(p.length, ...rowsOf.map((r) => String(r[1](totals[i])).length)));
  out += `\n${"all scripts".padEnd(w0)}  ${policies.map((p, i) => p.padStart(ws[i])).join("  ")}\n`;
  for (const [name, f] of rowsOf) out += `${name.padEnd(w0)}  ${totals.map((t, i) => String(f(t)).padStart(ws[i])).join("  ")}\n`;
  return out;
}
