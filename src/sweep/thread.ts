// The entry of a pool thread (bundled as dist/sweep-thread.js): runs the jobs
// the main thread hands it, each on its own engine instance; the compiled wasm
// module is shared by the jobs of the thread (src/engine/load.ts).

import { type JobFiles, type JobOutcome, runJob } from "./job.js";
import type { Job } from "./spec.js";

export default function run(task: { job: Job; files: JobFiles | null }): Promise<JobOutcome> {
  return runJob(task.job, task.files);
}
