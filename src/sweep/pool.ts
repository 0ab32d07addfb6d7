// Jobs on the threads of this machine: a tinypool of worker_threads, one job
// per thread at a time (the engine is synchronous wasm, so more would only
// queue behind each other). The main thread schedules and merges only.

import { cpus } from "node:os";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { JobFiles, JobOutcome } from "./job.js";
import type { Job } from "./spec.js";

/** The thread entry: next to the bundle (dist/), or the built one when running from src/ (tests). */
export function threadEntry(): string {
  for (const rel of ["./sweep-thread.js", "../../dist/sweep-thread.js"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error("the sweep's thread entry (dist/sweep-thread.js) is not built; run `npm run build`");
}

export const defaultWorkers = (): number => Math.max(1, cpus().length);

export interface ThreadPool {
  run(job: Job, files: JobFiles | null): Promise<JobOutcome>;
  close(): Promise<void>;
}

/** A pool of `threads` threads; a job whose thread dies (e.g. out of memory) fails with the reason. */
export async function threadPool(threads: number): Promise<ThreadPool> {
  const { Tinypool } = await import("tinypool");
  const pool = new Tinypool({ filename: threadEntry(), minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: 1 });
  return {
    async run(job, files) {
      const t0 = performance.now();
      try {
        return (await pool.run({ job, files })) as JobOutcome;
      } catch (e) {
        // the thread itself failed (not the engine, whose errors runJob returns)
        return { key: job.key, id: job.id, ok: false, error: `the worker thread failed: ${(e as Error).message}`, timing: { wallSeconds: (performance.now() - t0) / 1000, measured: {} } };
      }
    },
    close: () => pool.destroy(),
  };
}

/** Runs every job on the pool, at most `threads` at once; `onStart`/`onDone` for the progress and the store. */
export async function runOnPool(
  jobs: readonly Job[], threads: number, filesOf: (job: Job) => JobFiles | null,
  hooks: { onStart(job: Job): void; onDone(job: Job, o: JobOutcome): void },
): Promise<void> {
  const pool = await threadPool(threads);
  try {
    let next = 0;
    const lane = async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        hooks.onStart(job);
        hooks.onDone(job, await pool.run(job, filesOf(job)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(threads, jobs.length) }, lane));
  } finally {
    await pool.close();
  }
}
