// `vmasim sweep SPEC.json [--workers N | --queue redis://HOST:PORT[/DB]] -o RESULT.json
// [--csv FILE] [--resume]`: every (input, policy, configuration) of SPEC as
// one job, on this machine's threads or on queue workers (src/sweep/,
// docs/sweep.md); RESULT.json is the same whoever ran the jobs.

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { defaultWorkers, runOnPool } from "../sweep/pool.js";
import { SweepProgress, formatSeconds } from "../sweep/progress.js";
import { parseRedisUrl, runOnQueue } from "../sweep/queue.js";
import { type RunFacts, resultCsv, resultJson, timingJson, timingPath } from "../sweep/result.js";
import { SpecError, type Job, parseSpec } from "../sweep/spec.js";
import { JobStore, storeDir } from "../sweep/store.js";
import type { JobFiles, JobOutcome } from "../sweep/job.js";
import type { CliIo } from "./main.js";
import { COMMAND_HELP } from "./usage.js";

function usage(io: CliIo, cmd: string, msg: string): number {
  io.stderr.write(`vmasim: ${cmd}: ${msg}\nTry 'vmasim ${cmd} --help'.\n`);
  return 2;
}

/** A whole number option from `min` up. */
export function countOption(v: string | undefined, name: string, min: number): number | string | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > 4096) return `${name} must be a whole number from ${min} to 4096, not '${v}'`;
  return Number(v);
}

/** Writes a file whole: to a temporary name, then renamed. */
function writeWhole(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export async function cmdSweep(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        workers: { type: "string" }, queue: { type: "string" }, output: { type: "string", short: "o" },
        csv: { type: "string" }, resume: { type: "boolean" }, help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return usage(io, "sweep", (e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(COMMAND_HELP.sweep!);
    return 0;
  }
  if (positionals.length !== 1) return usage(io, "sweep", positionals.length ? `unexpected argument '${positionals[1]}'` : "missing SPEC.json");
  if (values.output === undefined || values.output === "" || values.output === "-") return usage(io, "sweep", "-o RESULT.json is required (a file: the per-job results are kept beside it)");
  const workers = countOption(values.workers, "--workers", 1);
  if (typeof workers === "string") return usage(io, "sweep", workers);
  if (workers !== undefined && values.queue !== undefined) return usage(io, "sweep", "--workers and --queue exclude each other (queue workers are started with vmasim worker)");
  const addr = values.queue === undefined ? null : parseRedisUrl(values.queue);
  if (typeof addr === "string") return usage(io, "sweep", `--queue: ${addr}`);

  const specPath = positionals[0];
  let sweep;
  try {
    sweep = parseSpec(readFileSync(specPath, "utf8"), specPath);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== undefined) {
      io.stderr.write(`vmasim: sweep: cannot read '${specPath}': ${err.code}\n`);
      return 2;
    }
    if (e instanceof SpecError) {
      io.stderr.write(`vmasim: sweep: ${err.message}\n`);
      return 2;
    }
    throw e;
  }

  const resultPath = values.output;
  const store = new JobStore(storeDir(resultPath));
  const outcomes = new Map<string, JobOutcome>();
  if (values.resume) {
    store.open();
    for (const [id, o] of store.load(sweep.jobs)) outcomes.set(id, o);
  } else store.clear();
  const resumed = outcomes.size;
  const todo = sweep.jobs.filter((j) => !outcomes.has(j.id));
  const threads = workers ?? Math.min(defaultWorkers(), Math.max(1, todo.length));
  const progress = new SweepProgress(io.stderr, sweep.jobs.length, resumed, [...outcomes.values()].filter((o) => !o.ok).length);
  const workerOf = new Map<string, string>();
  let running = 0;
  const onDone = (job: Job, o: JobOutcome) => {
    store.write(o);
    outcomes.set(job.id, o);
    if (o.timing.worker) workerOf.set(job.id, o.timing.worker);
    progress.finished(o.ok);
  };
  const t0 = performance.now();
  try {
    if (addr === null) {
      const filesOf = (j: Job): JobFiles | null => j.input.kind === "trace" ? { trace: j.input.trace.path, sidecar: j.input.sidecar?.path ?? null } : null;
      await runOnPool(todo, threads, filesOf, {
        onStart: () => progress.setRunning(++running),
        onDone: (j, o) => {
          progress.setRunning(--running);
          onDone(j, o);
        },
      });
    } else if (todo.length) {
      await runOnQueue(addr, sweep, todo, !values.resume, { onStart: () => {}, onDone, onRunning: (n) => progress.setRunning(n) });
    }
  } catch (e) {
    progress.close();
    io.stderr.write(`vmasim: sweep: ${(e as Error).message}\n`);
    return 2;
  }
  progress.close();
  const facts: RunFacts = { mode: addr === null ? "pool" : "queue", workers: addr === null ? threads : null, wallSeconds: (performance.now() - t0) / 1000, resumed };
  try {
    writeWhole(resultPath, resultJson(sweep, outcomes));
    writeWhole(timingPath(resultPath), timingJson(sweep, outcomes, facts, workerOf));
    if (values.csv !== undefined) writeWhole(values.csv, resultCsv(sweep, outcomes));
  } catch (e) {
    io.stderr.write(`vmasim: sweep: cannot write the results: ${(e as Error).message}\n`);
    return 2;
  }
  const failed = sweep.jobs.filter((j) => !outcomes.get(j.id)?.ok).length;
  const how = addr === null ? `${threads} thread${threads === 1 ? "" : "s"}` : `queue redis://${addr.host}:${addr.port}/${addr.db}`;
  io.stderr.write(`sweep: ${sweep.jobs.length} jobs (${resumed} resumed), ${sweep.jobs.length - failed} ok, ${failed} failed; ${formatSeconds(facts.wallSeconds)} on ${how}; ${resultPath}, ${timingPath(resultPath)}\n`);
  return failed ? 1 : 0;
}
