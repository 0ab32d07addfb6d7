// RESULT.json, its timing file and the CSV. RESULT.json depends only on the
// SPEC and the inputs' contents: jobs sorted by key, no wall-clock figure, no
// path of the machine, no worker count; the wall times go to RESULT.timing.json.

import type { JobOutcome } from "./job.js";
import { byCodePoint, type Sweep } from "./spec.js";

export const RESULT_FORMAT = "vmasim-sweep/1";

export const timingPath = (resultPath: string): string => resultPath.replace(/(\.json)?$/, ".timing.json");

function inputSummary(sweep: Sweep) {
  return sweep.inputs.map((i) => i.kind === "trace"
    ? {
        kind: i.kind, name: i.label,
        files: Object.fromEntries((["trace", "sidecar", "host"] as const).filter((r) => i[r]).map((r) => [r, { name: i[r]!.name, sha256: i[r]!.sha256, bytes: i[r]!.bytes }])),
      }
    : i.kind === "gen" ? { kind: i.kind, name: i.label, gen: { kind: i.gen.kind, ...i.gen.opts }, head: i.head }
      : { kind: i.kind, name: i.label, sha256: i.sha256 });
}

/** RESULT.json's text. */
export function resultJson(sweep: Sweep, outcomes: ReadonlyMap<string, JobOutcome>): string {
  const jobs = sweep.jobs.map((j) => {
    const o = outcomes.get(j.id);
    const head = { key: j.key, input: j.input.label, kind: j.input.kind, policy: j.policy, config: j.config };
    if (!o) return { ...head, ok: false, error: "not run" };
    return o.ok ? { ...head, ok: true, result: o.result } : { ...head, ok: false, error: o.error };
  });
  const failed = jobs.filter((j) => !j.ok).length;
  return JSON.stringify({
    format: RESULT_FORMAT,
    spec: { inputs: inputSummary(sweep), policies: sweep.policies, configs: sweep.configs, checkEvery: sweep.checkEvery },
    summary: { jobs: jobs.length, ok: jobs.length - failed, failed },
    jobs,
  }, null, 2) + "\n";
}

export interface RunFacts {
  mode: "pool" | "queue";
  workers: number | null;
  wallSeconds: number;
  /** jobs taken from the per-job files (--resume) */
  resumed: number;
}

/** RESULT.timing.json's text: how long each job took, where, and the whole run. */
export function timingJson(sweep: Sweep, outcomes: ReadonlyMap<string, JobOutcome>, facts: RunFacts, worker: ReadonlyMap<string, string>): string {
  const jobs: Record<string, unknown> = {};
  let busy = 0;
  for (const j of sweep.jobs) {
    const o = outcomes.get(j.id);
    if (!o) continue;
    busy += o.timing.wallSeconds;
    jobs[j.key] = { ...o.timing, ...(worker.has(j.id) ? { worker: worker.get(j.id) } : {}) };
  }
  const ran = sweep.jobs.length - facts.resumed;
  return JSON.stringify({
    ...facts, jobs: sweep.jobs.length,
    jobsPerSecond: facts.wallSeconds > 0 ? ran / facts.wallSeconds : null,
    jobSecondsTotal: busy,
    perJob: jobs,
  }, null, 2) + "\n";
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The scalar leaves of a result (numbers, booleans), by dotted path; lists are left out. */
function leaves(v: unknown, path: string, out: Map<string, number | boolean>): void {
  if (typeof v === "number" || typeof v === "boolean") out.set(path, v);
  else if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) leaves(x, path ? `${path}.${k}` : k, out);
  }
}

/** One row per job: its key fields, then every numeric or boolean field of its result (columns sorted). */
export function resultCsv(sweep: Sweep, outcomes: ReadonlyMap<string, JobOutcome>): string {
  const rows = sweep.jobs.map((j) => {
    const o = outcomes.get(j.id);
    const m = new Map<string, number | boolean>();
    if (o?.ok) leaves(o.result, "", m);
    return { j, o, m };
  });
  const cols = [...new Set(rows.flatMap((r) => [...r.m.keys()]))].sort(byCodePoint);
  const head = ["key", "input", "kind", "policy", "config", "ok", "error", ...cols];
  const lines = [head.map(csvCell).join(",")];
  for (const { j, o, m } of rows) {
    const config = Object.entries(j.config).map(([k, v]) => `${k}=${v}`).join(" ");
    lines.push([j.key, j.input.label, j.input.kind, j.policy, config, o?.ok ?? false, o ? (o.error ?? "") : "not run", ...cols.map((c) => m.get(c))].map(csvCell).join(","));
  }
  return lines.join("\n") + "\n";
}
