// The records of `compare --format json|csv`: one schema for both formats
// (docs/cli.md, "compare --format json|csv"). A record is one script under one
// policy, or the totals of one policy over all the scripts (script "(total)").
// CSV flattens the two objects of a record: by_case into case_1..case_8 and
// failed into failed_<reason>, one column per reason vmasim knows.

import { MERGE_REASONS, type MergeReason, type MergeStats } from "../engine/merge_trace.js";
import type { Policy } from "../types.js";
import type { CompareCell, CompareRow } from "./compare.js";

/** The script name of the totals records. */
export const TOTAL = "(total)";

/** One record of the schema. */
export interface CompareRecord {
  script: string;
  policy: Policy;
  /** VMAs at the script's last dump or count; null if none printed, and in totals */
  vmas: number | null;
  /** vma_merge calls */
  attempts: number;
  /** vma_merge calls that merged */
  merges: number;
  /** merges by the kernel's case number, "1".."8" (mm/mmap.c vma_merge, 5.17) */
  by_case: Record<string, number>;
  /** merges with prev only because prev and next could not join */
  both_refused: number;
  /** failed vma_merge calls by vmasim's reason (every reason, 0 included) */
  failed: Record<string, number>;
  pages_reindexed: number;
  pages_repointed: number;
  anon_vmas_created: number;
  anon_vmas_freed: number;
  anon_vma_refs_leaked: number;
  debug_vm_warnings: number;
  /** operations refused because of vm.max_map_count */
  map_count_refused: number;
  /** the script line after which the checker first failed; null when it held (and in totals) */
  check_line: number | null;
  /** its first complaint, in arena pages; null when it held; in totals, how many scripts failed */
  check_problem: string | null;
}

const REASONS = MERGE_REASONS.slice(1) as MergeReason[];

function record(script: string, policy: Policy, s: MergeStats, vmas: number | null, check: CompareCell["broken"]): CompareRecord {
  return {
    script, policy, vmas,
    attempts: s.attempts, merges: s.merged,
    by_case: Object.fromEntries(s.byCase.map((n, i) => [String(i + 1), n])),
    both_refused: s.bothRefused,
    failed: Object.fromEntries(REASONS.map((r) => [r, s.failed[r] ?? 0])),
    pages_reindexed: s.pagesReindexed, pages_repointed: s.pagesRepointed,
    anon_vmas_created: s.anonVmasCreated, anon_vmas_freed: s.anonVmasFreed,
    anon_vma_refs_leaked: s.anonVmaRefsLeaked, debug_vm_warnings: s.debugVmWarnings,
    map_count_refused: s.mapCountRefused,
    check_line: check?.line ?? null, check_problem: check?.problem ?? null,
  };
}

/** Every record: each script under each policy, then the totals of each policy. */
export function compareRecords(policies: readonly Policy[], rows: readonly CompareRow[], totals: readonly MergeStats[]): CompareRecord[] {
  const out: CompareRecord[] = [];
  for (const r of rows) r.cells.forEach((c, i) => out.push(record(r.script, policies[i], c.stats, c.vmas, c.broken)));
  policies.forEach((p, i) => {
    const failed = rows.filter((r) => r.cells[i].broken).length;
    const t = record(TOTAL, p, totals[i], null, null);
    t.check_problem = failed ? `${failed} script${failed === 1 ? "" : "s"} failed the checker` : null;
    out.push(t);
  });
  return out;
}

/** JSON: the policies, then the records, the totals last. */
export function compareJson(policies: readonly Policy[], rows: readonly CompareRow[], totals: readonly MergeStats[]): string {
  return JSON.stringify({ policies, records: compareRecords(policies, rows, totals) }, null, 2) + "\n";
}

/** The CSV columns, in order. */
export const CSV_COLUMNS: readonly string[] = [
  "script", "policy", "vmas", "attempts", "merges",
  ...Array.from({ length: 8 }, (_, i) => `case_${i + 1}`), "both_refused",
  ...REASONS.map((r) => `failed_${r}`),
  "pages_reindexed", "pages_repointed", "anon_vmas_created", "anon_vmas_freed", "anon_vma_refs_leaked",
  "debug_vm_warnings", "map_count_refused", "check_line", "check_problem",
];

/** CSV (RFC 4180 quoting): a header, then one line per record; empty fields for nulls. */
export function compareCsv(policies: readonly Policy[], rows: readonly CompareRow[], totals: readonly MergeStats[]): string {
  const q = (x: string) => (/[",\n\r]/.test(x) ? `"${x.replace(/"/g, '""')}"` : x);
  let out = CSV_COLUMNS.join(",") + "\n";
  for (const r of compareRecords(policies, rows, totals)) {
    const flat: Record<string, unknown> = { ...r };
    for (const [k, n] of Object.entries(r.by_case)) flat[`case_${k}`] = n;
    for (const [k, n] of Object.entries(r.failed)) flat[`failed_${k}`] = n;
    out += CSV_COLUMNS.map((c) => (flat[c] === null || flat[c] === undefined ? "" : q(String(flat[c])))).join(",") + "\n";
  }
  return out;
}
