// `vmasim compare`: scenario scripts under several policies, one row per
// script: the VMAs it ends with, the merges it made, the pages the policy
// rewrote, and whether the kernel-wide checker held after every line; then
// the merge counters of each policy over all the scripts.

import type { MergeStats } from "../engine/merge_trace.js";
import { runScenario } from "../scenario/run.js";
import { ScenarioChecker } from "./checker.js";
export { compareCsv, compareJson } from "./compare_schema.js";
import type { KernelSim, Policy } from "../types.js";
import { KNOBS, type ConfigKey } from "../config/config.js";
import type { Knobs } from "../kernel/profile.js";

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
  /** the script pads the map count (padvmas): left out of the text report's totals */
  padsMapCount?: boolean;
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
  const padsMapCount = /^\s*padvmas\b/m.test(script);
  const checker = new ScenarioChecker(kernel, !padsMapCount);
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
  return { cell: { vmas, merged: stats.merged, repointed: stats.pagesRepointed, reindexed: stats.pagesReindexed, broken, stats, padsMapCount }, stats };
}

function cellText(c: CompareCell): string {
  let t = `${c.vmas ?? "-"} vma${c.vmas === 1 ? "" : "s"}, ${c.merged} merge${c.merged === 1 ? "" : "s"}`;
  if (c.repointed) t += `, ${c.repointed} rp`;
  if (c.reindexed) t += `, ${c.reindexed} ri`;
  return t + (c.broken ? `, CHECK@${c.broken.line}` : "");
}

/** Scripts that pad the map count (padvmas): thousands of vma_merge calls each, left out of the totals. */
const pads = (r: CompareRow): boolean => r.cells.some((c) => c.padsMapCount);

function median(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Why a side could not merge, in the words of mm/mmap.c (docs/policies.md has the table). */
const REASON_TEXT: Record<string, string> = {
  "not-adjacent": "no VMA touches the range on either side",
  special: "VM_SPECIAL range (IO, PFNMAP, MIXEDMAP, DONTEXPAND)",
  flags: "vm_flags differ",
  file: "different vm_file",
  close: "neighbour has vm_ops->close",
  uffd: "different userfaultfd contexts",
  name: "different anon VMA names",
  mempolicy: "different NUMA mempolicies",
  pgoff: "vm_pgoff not contiguous",
  "anon_vma-forked": "no anon_vma next to a fork child's VMA (chain not singular)",
  "anon_vma-unfaulted": "faulted range next to an unfaulted VMA",
  "anon_vma-different": "two different anon_vmas",
  "anon_vma-shared": "two anon_vmas, the moving one not exclusive",
  "mapped-twice": "a page is mapped more than once",
  "no-memory": "out of memory applying the merge",
};

/** How the configuration differs from the defaults, "" if it does not. */
function configText(knobs: Knobs | undefined): string {
  if (!knobs) return "";
  const parts = (Object.keys(knobs) as ConfigKey[])
    .filter((k) => knobs[k] !== undefined && knobs[k] !== KNOBS[k].default)
    .map((k) => `${k}=${String(knobs[k])}`);
  return parts.length ? `, configuration ${parts.join(" ")} (others default)` : "";
}

/**
 * The text report: a title, one row per script, the checker's complaints, and
 * the merge counters per policy. The counters leave out the scripts that pad
 * the map count (marked *): S35's padvmas alone makes 65,000 vma_merge calls,
 * which would drown every other script. `totals` (all scripts, the JSON/CSV
 * totals) gives the line with them included.
 */
export function formatCompare(policies: readonly Policy[], rows: readonly CompareRow[], totals: readonly MergeStats[], knobs?: Knobs): string {
  let out = `vmasim compare: ${rows.length} script${rows.length === 1 ? "" : "s"} under ${policies.join(", ")}${configText(knobs)}\n\n`;
  const head = ["script", ...policies];
  const table = rows.map((r) => [r.script + (pads(r) ? " *" : ""), ...r.cells.map(cellText)]);
  const w = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells: string[], mark: string) => `${mark} ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(w[i]))).join(" | ")}`.trimEnd() + "\n";
  out += line(head, " ");
  out += `  ${w.map((n) => "-".repeat(n)).join("-+-")}\n`;
  for (const t of table) {
    const cells = t.slice(1);
    out += line(t, cells.every((c) => c === cells[0]) ? " " : "!");
  }
  out += "\nEach cell: the VMAs in the arena at the script's last dump (or the process's, at its last count), and\n" +
    "the vma_merge() calls that merged. rp: pages whose page->mapping the policy re-pointed to another anon_vma;\n" +
    "ri: pages whose page->index it rewrote. CHECK@N: the invariant checker failed first after script line N.\n" +
    "! marks scripts whose result differs between policies; * marks scripts that pad the map count (padvmas).\n";
  const complaints = rows.flatMap((r) => r.cells.map((c, i) => (c.broken ? `  ${r.script} under ${policies[i]}, line ${c.broken.line}: ${c.broken.problem}` : null)))
    .filter((x): x is string => x !== null);
  if (complaints.length) out += `\nInvariant checker:\n${complaints.join("\n")}\n`;

  const counted = rows.filter((r) => !pads(r));
  const padded = rows.length - counted.length;
  const sums = policies.map((_, i) => counted.reduce<MergeStats | null>((a, r) => (a ? statsSum(a, r.cells[i].stats) : r.cells[i].stats), null));
  const med = (i: number, f: (s: MergeStats) => number) => median(counted.map((r) => f(r.cells[i].stats)));
  // [label, counter, show the per-script median]
  const rowsOf: [string, (s: MergeStats) => number, boolean][] = [
    ["vma_merge() calls", (s) => s.attempts, true],
    ["  merged", (s) => s.merged, true],
    ["    with prev only (prev and next could not become one VMA)", (s) => s.bothRefused, false],
    ["  not merged, by what stopped the side that got further:", (s) => s.attempts - s.merged, true],
  ];
  const reasons = [...new Set(sums.flatMap((t) => (t ? Object.keys(t.failed) : [])))].sort() as (keyof MergeStats["failed"])[];
  for (const r of reasons) rowsOf.push([`    ${r}: ${REASON_TEXT[r] ?? r}`, (s) => s.failed[r] ?? 0, false]);
  rowsOf.push(
    ["pages whose page->index was rewritten", (s) => s.pagesReindexed, false],
    ["pages re-pointed to another anon_vma", (s) => s.pagesRepointed, false],
    ["anon_vma references leaked", (s) => s.anonVmaRefsLeaked, false],
    ["VM_WARN_ON/VM_BUG_ON hits (CONFIG_DEBUG_VM)", (s) => s.debugVmWarnings, false],
    ["operations refused by vm.max_map_count", (s) => s.mapCountRefused, false],
  );
  const cell = (i: number, f: (s: MergeStats) => number, withMedian: boolean) => {
    const total = sums[i] ? f(sums[i]!) : 0;
    return withMedian ? `${total} (${med(i, f)})` : String(total);
  };
  const lines: [string, string[]][] = rowsOf.map(([name, f, m]) => [name, policies.map((_, i) => cell(i, f, m))]);
  if (padded) {
    lines.push(["with the * scripts: vma_merge() calls", totals.map((t) => String(t.attempts))]);
    lines.push(["with the * scripts: refused by vm.max_map_count", totals.map((t) => String(t.mapCountRefused))]);
  }
  const w0 = Math.max(...lines.map((r) => r[0].length));
  const ws = policies.map((p, i) => Math.max(p.length, ...lines.map((r) => r[1][i].length)));
  out += `\nMerge counters per policy over the ${counted.length} script${counted.length === 1 ? "" : "s"}` +
    `${padded ? ` not marked * (${padded} left out)` : ""}: totals, per-script median in brackets\n`;
  out += `${"".padEnd(w0)}  ${policies.map((p, i) => p.padStart(ws[i])).join("  ")}\n`;
  for (const [name, cells] of lines) out += `${name.padEnd(w0)}  ${cells.map((c, i) => c.padStart(ws[i])).join("  ")}\n`;
  out += "\nA vma_merge() call that merged nothing is counted under the first test that failed on the side (prev or\n" +
    "next) that passed more tests; the reasons are those of `run --trace` (docs/policies.md).\n";
  return out;
}
