// One sweep job, run wherever it is scheduled (a pool thread, a queue worker):
// a trace (a file, or a workload generated here) replayed under one policy and
// configuration, or a scenario script run under them. Its result must not depend on where it ran: file paths are
// replaced by the SPEC's names, and the replay's timing fields are moved out
// of the result into the job's timing.

import { createKernel } from "../engine/simulator.js";
import { configFromJson } from "../config/config.js";
import { limitReport } from "../gen/limit.js";
import { genKnobs, replayGenerated } from "../gen/replay.js";
import { replayTrace } from "../replay/run.js";
import { POLICY_TIMING_FIELDS, REPORT_TIMING_FIELDS } from "../replay/timing.js";
import { runScenario } from "../scenario/run.js";
import { ScenarioChecker } from "../cli/checker.js";
import { statsDiff } from "../cli/compare.js";
import type { Knobs } from "../kernel/profile.js";
import type { Job } from "./spec.js";

/** Where the files of a trace job are on the machine running it. */
export interface JobFiles {
  trace: string;
  sidecar: string | null;
}

/** What a job gives: its result (ok) or its error, never both. */
export interface JobOutcome {
  key: string;
  id: string;
  ok: boolean;
  result?: unknown;
  error?: string;
  /** wall-clock figures: never compared */
  timing: { wallSeconds: number; measured: Record<string, number | null>; worker?: string };
}

/**
 * Moves the replay's timing fields (src/replay/timing.ts: the report's and
 * each policy's) out of a trace job's result into `into`, by path: they
 * differ from run to run.
 */
export function takeTimings(report: Record<string, unknown>, into: Record<string, number | null>): void {
  const move = (o: Record<string, unknown>, k: string, path: string) => {
    if (!(k in o)) return;
    into[path] = o[k] as number | null;
    delete o[k];
  };
  for (const k of REPORT_TIMING_FIELDS) move(report, k, k);
  for (const [p, r] of Object.entries((report.policies ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const k of POLICY_TIMING_FIELDS) move(r, k, `policies.${p}.${k}`);
  }
}

/** The knobs of a job's configuration (JSON form, "unlimited" included). */
function knobsOf(job: Job): Knobs {
  return configFromJson(JSON.stringify(job.config), job.key) as Knobs;
}

async function traceResult(job: Job, files: JobFiles): Promise<unknown> {
  if (job.input.kind !== "trace") throw new Error("not a trace job");
  const input = job.input;
  const report = await replayTrace({
    trace: files.trace, sidecar: files.sidecar, policies: [job.policy], knobs: knobsOf(job), checkEvery: job.checkEvery,
  });
  // the names of the SPEC, not this machine's paths
  const out = report as unknown as Record<string, unknown>;
  out.trace = input.label;
  out.sidecarFile = input.sidecar ? input.sidecar.name : null;
  out.hostProfile = report.hostProfile === null ? null : input.host ? input.host.name : report.hostProfile;
  return out;
}

/** A generated workload, made here and replayed as its file would be (src/gen/replay.ts). */
async function genResult(job: Job): Promise<unknown> {
  if (job.input.kind !== "gen") throw new Error("not a generated workload's job");
  const knobs = knobsOf(job);
  const report = await replayGenerated(job.input.gen, { policies: [job.policy], knobs, checkEvery: job.checkEvery });
  const out = report as unknown as Record<string, unknown>;
  out.trace = job.input.label;
  // the adversarial kind's limit: VMAs there and its first refused call, tried on this policy's engine
  if (job.input.gen.kind === "adversarial") out.limit = await limitReport(job.input.gen, { ...genKnobs(job.input.gen), ...knobs }, job.policy, report.policies[job.policy]);
  return out;
}

async function scriptResult(job: Job): Promise<unknown> {
  if (job.input.kind !== "script") throw new Error("not a script job");
  const kernel = await createKernel({ ...knobsOf(job), policy: job.policy });
  // as compare does: the checker after every line, or at the end of scripts that pad the map count
  const padsMapCount = /^\s*padvmas\b/m.test(job.input.script);
  const checker = new ScenarioChecker(kernel, !padsMapCount);
  let before = kernel.mergeStats();
  const r = runScenario(kernel, job.input.script, {
    onStart: (_p, base) => {
      before = kernel.mergeStats();
      checker.start(base);
    },
    onStep: (_p, e) => checker.step(e.line),
  });
  const failure = checker.finish();
  return {
    script: job.input.label,
    status: r.status,
    parseErrors: r.parseErrors,
    merges: statsDiff(before, kernel.mergeStats()),
    check: failure ? { line: failure.line, problems: failure.problems } : null,
    output: r.output,
  };
}

/** An error as a result: its class and message, this machine's paths replaced by the SPEC's names. */
function errorText(e: unknown, job: Job, files: JobFiles | null): string {
  let msg = e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e);
  if (files && job.input.kind === "trace") {
    msg = msg.split(files.trace).join(job.input.label);
    if (files.sidecar && job.input.sidecar) msg = msg.split(files.sidecar).join(job.input.sidecar.name);
  }
  return msg;
}

/** Runs one job; an engine error (the memory cap included) is its result, not a throw. */
export async function runJob(job: Job, files: JobFiles | null): Promise<JobOutcome> {
  const t0 = performance.now();
  const measured: Record<string, number | null> = {};
  const done = (o: Pick<JobOutcome, "ok" | "result" | "error">): JobOutcome => ({
    key: job.key, id: job.id, ...o, timing: { wallSeconds: (performance.now() - t0) / 1000, measured },
  });
  try {
    let result: unknown;
    if (job.input.kind === "trace") {
      if (!files) throw new Error("the trace's files are missing");
      result = await traceResult(job, files);
      takeTimings(result as Record<string, unknown>, measured);
    } else if (job.input.kind === "gen") {
      result = await genResult(job);
      takeTimings(result as Record<string, unknown>, measured);
    } else result = await scriptResult(job);
    return done({ ok: true, result });
  } catch (e) {
    return done({ ok: false, error: errorText(e, job, files) });
  }
}
