// Sweeps across machines: BullMQ on Redis. The sweep enqueues every job and
// collects what the workers return; `vmasim worker` takes jobs on any machine.
// Trace files travel through Redis by content (vmasim:blob:SHA256), or are
// read from a path shared by every machine ("inputsVia": "path"); either way a
// worker checks their SHA-256 before using them. A worker killed mid-job
// loses its lock; BullMQ's stalled-job check hands the job to another worker.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import type { Job as BullJob, Queue, QueueEvents, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { JobFiles, JobOutcome } from "./job.js";
import { threadPool } from "./pool.js";
import { canonicalJson, type InputFile, type Job, type Sweep } from "./spec.js";

export const QUEUE_NAME = "vmasim-sweep";
/** Attempts of a job whose worker failed it (its input could not be fetched, say); engine errors are results, not retried. */
export const ATTEMPTS = 3;
const blobKey = (sha: string) => `vmasim:blob:${sha}`;
const BLOB_SECONDS = 7 * 24 * 3600;

/** What a queued job carries. */
interface QueuedJob {
  job: Job;
  inputsVia: "redis" | "path";
}

/** A redis://HOST:PORT[/DB] address. */
export interface RedisAddress {
  host: string;
  port: number;
  db: number;
}

export function parseRedisUrl(url: string): RedisAddress | string {
  const m = /^redis:\/\/(\[[0-9a-fA-F:]+\]|[^:/@[\]]+):(\d{1,5})(?:\/(\d{1,5}))?\/?$/.exec(url);
  if (!m) return `'${url}' is not redis://HOST:PORT[/DB]`;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return `'${url}': port ${port} is out of range`;
  return { host: m[1].replace(/^\[|\]$/g, ""), port, db: m[3] === undefined ? 0 : Number(m[3]) };
}

/** A connection; BullMQ's workers block on it, so commands never time out (maxRetriesPerRequest null). */
async function connect(a: RedisAddress): Promise<Redis> {
  const { Redis } = await import("ioredis");
  const r = new Redis({ host: a.host, port: a.port, db: a.db, maxRetriesPerRequest: null, lazyConnect: true });
  try {
    await r.connect();
  } catch (e) {
    r.disconnect();
    throw new Error(`cannot connect to redis://${a.host}:${a.port}/${a.db}: ${(e as Error).message}`);
  }
  return r;
}

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

function traceFiles(job: Job): InputFile[] {
  if (job.input.kind !== "trace") return [];
  return [job.input.trace, job.input.sidecar, job.input.host].filter((f): f is InputFile => f !== null);
}

/** Puts the sweep's trace files into Redis (those not there yet). */
async function uploadInputs(redis: Redis, sweep: Sweep): Promise<void> {
  const seen = new Set<string>();
  for (const job of sweep.jobs) {
    for (const f of traceFiles(job)) {
      if (seen.has(f.sha256)) continue;
      seen.add(f.sha256);
      // kept for a week after the last sweep that used them
      if (await redis.expire(blobKey(f.sha256), BLOB_SECONDS)) continue;
      const bytes = readFileSync(f.path);
      if (sha256(bytes) !== f.sha256) throw new Error(`'${f.path}' changed while the sweep started`);
      await redis.set(blobKey(f.sha256), bytes, "EX", BLOB_SECONDS);
    }
  }
}

export interface QueueHooks {
  onStart(job: Job): void;
  onDone(job: Job, o: JobOutcome): void;
  /** how many jobs the workers are running now (polled) */
  onRunning(n: number): void;
}

/** The outcome a worker returned (BullMQ may hand it back as its JSON text). */
function outcomeOf(v: unknown): JobOutcome {
  return (typeof v === "string" ? JSON.parse(v) : v) as JobOutcome;
}

/**
 * Enqueues `jobs` and waits for all of them. `fresh`: jobs of an earlier run
 * left in Redis are removed first; otherwise (--resume) their results are taken.
 */
export async function runOnQueue(addr: RedisAddress, sweep: Sweep, jobs: readonly Job[], fresh: boolean, hooks: QueueHooks): Promise<void> {
  const { Queue, QueueEvents, Job: BullJobClass } = await import("bullmq");
  const redis = await connect(addr);
  let queue: Queue | null = null;
  let events: QueueEvents | null = null;
  let poll: NodeJS.Timeout | null = null;
  // BullMQ leaves the connections it is given open: each is closed here
  const eventsRedis = redis.duplicate();
  try {
    if (sweep.inputsVia === "redis") await uploadInputs(redis, sweep);
    queue = new Queue(QUEUE_NAME, { connection: redis });
    events = new QueueEvents(QUEUE_NAME, { connection: eventsRedis });
    await events.waitUntilReady();
    // one listener per job waiting for its end
    queue.setMaxListeners(jobs.length + 16);
    events.setMaxListeners(jobs.length + 16);
    if (fresh) {
      for (const j of jobs) {
        const old = await BullJobClass.fromId(queue, j.id);
        if (old) await old.remove().catch(() => {});
      }
    }
    const added = await queue.addBulk(jobs.map((job) => ({
      name: "vmasim-sweep-job",
      data: { job, inputsVia: sweep.inputsVia } satisfies QueuedJob,
      // the content id: one job per (input, policy, config) in Redis, whoever enqueued it
      opts: { jobId: job.id, attempts: ATTEMPTS, backoff: { type: "fixed", delay: 1000 }, removeOnComplete: false, removeOnFail: false },
    })));
    const q = queue;
    // the end of a job is heard on BullMQ's event stream; the stream is trimmed
    // (about 10,000 events), so the finished jobs are also listed now and then
    const heard = new Map<string, () => void>();
    let ticks = 0;
    poll = setInterval(() => {
      q.getActiveCount().then((n) => hooks.onRunning(n), () => {});
      if (++ticks % 10 === 0) {
        q.getJobs(["completed", "failed"]).then((list) => {
          for (const j of list) if (j?.id !== undefined) heard.get(j.id)?.();
        }, () => {});
      }
    }, 500);
    await Promise.all(added.map(async (bj, i) => {
      const job = jobs[i];
      hooks.onStart(job);
      let done: BullJob | undefined;
      let state: string | undefined;
      do {
        const listed = new Promise<void>((res) => heard.set(job.id, res));
        // a rejection is the job's failure: its state says whether it is final
        await Promise.race([bj.waitUntilFinished(events!).catch(() => {}), listed]);
        heard.delete(job.id);
        done = await BullJobClass.fromId(q, job.id);
        state = await done?.getState();
      } while (done && state !== "completed" && state !== "failed");
      let outcome: JobOutcome;
      if (done && state === "completed") outcome = outcomeOf(done.returnvalue);
      else {
        outcome = {
          key: job.key, id: job.id, ok: false,
          error: `the queue gave up after ${done?.attemptsMade ?? ATTEMPTS} attempts: ${done?.failedReason ?? `the job is ${state ?? "gone"}`}`,
          timing: { wallSeconds: 0, measured: {} },
        };
      }
      hooks.onDone(job, outcome);
      await done?.remove().catch(() => {});
    }));
  } finally {
    if (poll) clearInterval(poll);
    await events?.close();
    await queue?.close();
    eventsRedis.disconnect();
    redis.disconnect();
  }
}

export interface WorkerOptions {
  concurrency: number;
  /** stop once the queue has had no waiting, delayed or active job for this long (null: never stop) */
  idleSeconds: number | null;
  /** a job's lock: a worker silent for this long (killed) loses its job to another */
  lockSeconds: number;
  cacheDir: string;
  log(line: string): void;
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "vmasim", "inputs");
}

/** The trace files of a job on this machine: from the shared path, or from the cache (fetched from Redis). */
async function materialize(job: Job, via: "redis" | "path", redis: Redis, cacheDir: string, verified: Set<string>): Promise<JobFiles | null> {
  if (job.input.kind !== "trace") return null;
  const files = traceFiles(job);
  const check = (path: string, f: InputFile): boolean => {
    if (verified.has(`${path}\0${f.sha256}`)) return true;
    if (!existsSync(path)) return false;
    if (sha256(readFileSync(path)) !== f.sha256) return false;
    verified.add(`${path}\0${f.sha256}`);
    return true;
  };
  if (via === "path") {
    for (const f of files) if (!check(f.path, f)) throw new Error(`the shared input '${f.path}' is missing here or its SHA-256 differs`);
    return { trace: job.input.trace.path, sidecar: job.input.sidecar?.path ?? null };
  }
  // one folder per input: the files keep their names, so NAME.host.json still pairs with its trace
  const dir = join(cacheDir, createHash("sha256").update(canonicalJson(files.map((f) => [f.name, f.sha256]))).digest("hex").slice(0, 32));
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    const path = join(dir, f.name);
    if (check(path, f)) continue;
    const bytes = await redis.getBuffer(blobKey(f.sha256));
    if (bytes === null) throw new Error(`the input ${f.name} (sha256 ${f.sha256}) is not in Redis`);
    if (sha256(bytes) !== f.sha256) throw new Error(`the input ${f.name} fetched from Redis does not match its SHA-256`);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
    verified.add(`${path}\0${f.sha256}`);
  }
  return { trace: join(dir, job.input.trace.name), sidecar: job.input.sidecar ? join(dir, job.input.sidecar.name) : null };
}

/** `vmasim worker`: takes jobs until the queue stays empty (or forever), `concurrency` at a time, each on a thread. */
export async function runWorker(addr: RedisAddress, opts: WorkerOptions): Promise<{ jobs: number }> {
  const { Queue, Worker: BullWorker } = await import("bullmq");
  const redis = await connect(addr);
  const pool = await threadPool(opts.concurrency);
  const verified = new Set<string>();
  const me = `${hostname()}:${process.pid}`;
  let running = 0;
  let jobs = 0;
  let worker: Worker | null = null;
  const queue: Queue = new Queue(QUEUE_NAME, { connection: redis });
  // BullMQ leaves the connections it is given open: each is closed here
  const workerRedis = redis.duplicate();
  try {
    worker = new BullWorker(QUEUE_NAME, async (bj: BullJob) => {
      running++;
      try {
        const { job, inputsVia } = bj.data as QueuedJob;
        opts.log(`worker ${me}: ${job.key}`);
        const files = await materialize(job, inputsVia, redis, opts.cacheDir, verified);
        const o = await pool.run(job, files);
        jobs++;
        return { ...o, timing: { ...o.timing, worker: me } };
      } finally {
        running--;
      }
    }, {
      connection: workerRedis, concurrency: opts.concurrency,
      lockDuration: opts.lockSeconds * 1000, stalledInterval: opts.lockSeconds * 1000,
      // a job whose worker died is handed on this many times before it is failed
      maxStalledCount: ATTEMPTS - 1,
    });
    worker.on("failed", (bj, e) => opts.log(`worker ${me}: ${(bj?.data as QueuedJob | undefined)?.job.key ?? bj?.id ?? "?"}: attempt ${bj?.attemptsMade ?? "?"} failed: ${e.message}`));
    await worker.waitUntilReady();
    opts.log(`worker ${me}: taking jobs from redis://${addr.host}:${addr.port}/${addr.db} (${opts.concurrency} at a time)`);
    // the idle rule: nothing waiting, delayed or active (a dead worker's job stays active until it is recovered)
    let idleSince = performance.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      if (opts.idleSeconds === null) continue;
      const c = await queue.getJobCounts("waiting", "active", "delayed", "prioritized");
      const pending = Object.values(c).reduce((a, b) => a + b, 0);
      if (pending > 0 || running > 0) idleSince = performance.now();
      else if (performance.now() - idleSince >= opts.idleSeconds * 1000) break;
    }
  } finally {
    await worker?.close();
    await queue.close();
    await pool.close();
    workerRedis.disconnect();
    redis.disconnect();
  }
  return { jobs };
}
