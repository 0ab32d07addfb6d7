// Per-job result files, written as each job finishes (RESULT.json.jobs/ID.json):
// what --resume starts from. A file is written whole and renamed into place,
// so an interrupted sweep leaves either a complete result or none.

import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JobOutcome } from "./job.js";
import type { Job } from "./spec.js";

export const storeDir = (resultPath: string): string => `${resultPath}.jobs`;

export class JobStore {
  constructor(readonly dir: string) {}

  /** Starts afresh (without --resume): earlier results are removed. */
  clear(): void {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
  }

  open(): void {
    mkdirSync(this.dir, { recursive: true });
  }

  write(o: JobOutcome): void {
    const f = join(this.dir, `${o.id}.json`);
    const tmp = `${f}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(o) + "\n");
    renameSync(tmp, f);
  }

  /** The finished jobs among `jobs` (a file of another SPEC, or half written, is ignored). */
  load(jobs: readonly Job[]): Map<string, JobOutcome> {
    const byId = new Map(jobs.map((j) => [j.id, j]));
    const out = new Map<string, JobOutcome>();
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return out;
    }
    for (const n of names) {
      const m = /^([0-9a-f]+)\.json$/.exec(n);
      const job = m ? byId.get(m[1]) : undefined;
      if (!job) continue;
      try {
        const o = JSON.parse(readFileSync(join(this.dir, n), "utf8")) as JobOutcome;
        if (o.id === job.id && o.key === job.key && typeof o.ok === "boolean") out.set(job.id, o);
      } catch {
        // unreadable: the job runs again
      }
    }
    return out;
  }
}
