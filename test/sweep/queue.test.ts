// vmasim sweep --queue with a real redis-server (Debian's package; .ci/run
// installs it) started on a free port of 127.0.0.1 with a temporary folder:
// three worker processes, one killed with SIGKILL in the middle of a job; the
// RESULT.json equals the thread pool's byte for byte; --resume on the queue.
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireBuild, start, sweepDir, vmasim } from "./helpers.js";
import { type Redis, freePort, redisMissing as missing, startRedis, until } from "./redis.js";

if (missing) console.log(`skipping the queue tests: ${missing}`);

describe.skipIf(missing !== null)("vmasim sweep --queue (BullMQ on a real redis-server)", { timeout: 120_000 }, () => {
  let redis: Redis | undefined;
  let url = "";

  beforeAll(async () => {
    requireBuild();
    redis = await startRedis();
    url = redis.url;
  });

  afterAll(() => redis?.stop());

  it("three workers, one killed mid-job: RESULT.json equals the pool's byte for byte; --resume takes the finished jobs", async () => {
    const dir = sweepDir({ slow: true });
    expect(vmasim(["sweep", "spec.json", "--workers", "2", "-o", "pool.json"], dir).status).toBe(0);
    const sweep = start(["sweep", "spec.json", "--queue", url, "-o", "queue.json"], dir);
    const worker = (n: number) => start(["worker", "--queue", url, "--concurrency", "1", "--idle", "1", "--lock-seconds", "2", "--cache", join(dir, `cache${n}`)], dir);
    const workers = [worker(1), worker(2), worker(3)];
    // kill the first worker that takes the slow script's job, in the middle of it
    let victim = -1;
    await until("a worker taking the slow job", () => (victim = workers.findIndex((w) => /: slow\.script \|/.test(w.stderr()))) >= 0);
    const took = /worker (\S+): (slow\.script \| [^\n]*)/.exec(workers[victim].stderr())!;
    workers[victim].proc.kill("SIGKILL");
    const s = await sweep.done;
    expect(s.stderr).toMatch(/^sweep: 16 jobs \(0 resumed\), 16 ok, 0 failed; .* on queue redis:/m);
    expect(s.status).toBe(0);
    const others = await Promise.all(workers.filter((_, i) => i !== victim).map((w) => w.done));
    for (const o of others) expect(o.status).toBe(0);
    expect(readFileSync(join(dir, "queue.json"), "utf8")).toBe(readFileSync(join(dir, "pool.json"), "utf8"));
    // the killed worker's job was finished by another one
    const timing = JSON.parse(readFileSync(join(dir, "queue.timing.json"), "utf8"));
    expect(timing.mode).toBe("queue");
    expect(timing.perJob[took[2]].worker).toBeDefined();
    expect(timing.perJob[took[2]].worker).not.toBe(took[1]);
    // the workers fetched the traces through Redis into their caches, each file checked
    const cached = readdirSync(join(dir, "cache1")).flatMap((d) => readdirSync(join(dir, "cache1", d)));
    expect(cached.filter((f) => f.endsWith(".gz")).length).toBeGreaterThan(0);
    expect(cached.every((f) => !f.endsWith(".tmp"))).toBe(true);

    // --resume with every job finished: nothing is enqueued, no worker needed, the same bytes
    const again = vmasim(["sweep", "spec.json", "--queue", url, "-o", "queue.json", "--resume"], dir);
    expect(again.stderr).toMatch(/\(16 resumed\), 16 ok/);
    expect(readFileSync(join(dir, "queue.json"), "utf8")).toBe(readFileSync(join(dir, "pool.json"), "utf8"));
    // two results lost: only those two go through the queue again
    const files = readdirSync(join(dir, "queue.json.jobs")).sort();
    for (const f of files.slice(0, 2)) rmSync(join(dir, "queue.json.jobs", f));
    const resumed = start(["sweep", "spec.json", "--queue", url, "-o", "queue.json", "--resume"], dir);
    const w = worker(4);
    const r = await resumed.done;
    expect(r.stderr).toMatch(/\(14 resumed\), 16 ok/);
    expect((await w.done).stderr).toMatch(/worker: 2 jobs done/);
    expect(readFileSync(join(dir, "queue.json"), "utf8")).toBe(readFileSync(join(dir, "pool.json"), "utf8"));
  });

  it("a job whose worker fails it (its shared input is gone) is retried a bounded number of times, then recorded with its error", async () => {
    const dir = sweepDir({ policies: ["seed"], configs: [{}] });
    const spec = JSON.parse(readFileSync(join(dir, "spec.json"), "utf8"));
    writeFileSync(join(dir, "spec.json"), JSON.stringify({ ...spec, inputsVia: "path" }));
    const sweep = start(["sweep", "spec.json", "--queue", url, "-o", "r.json"], dir);
    // the sweep has read and hashed its inputs; then one disappears from the shared path
    await until("the jobs to be queued", () => Number(spawnSync("redis-cli", ["-u", url, "llen", "bull:vmasim-sweep:wait"], { encoding: "utf8" }).stdout) === 3);
    renameSync(join(dir, "jemalloc_python.head.perf.txt.gz"), join(dir, "gone.gz"));
    const w = start(["worker", "--queue", url, "--concurrency", "1", "--idle", "1"], dir);
    const s = await sweep.done;
    expect(s.status).toBe(1);
    const jobs = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")).jobs as { key: string; ok: boolean; error?: string }[];
    expect(jobs.filter((j) => !j.ok)).toEqual([{
      key: "jemalloc_python.head.perf.txt.gz | seed | defaults", input: "jemalloc_python.head.perf.txt.gz", kind: "trace", policy: "seed", config: {}, ok: false,
      error: `the queue gave up after 3 attempts: the shared input '${join(dir, "jemalloc_python.head.perf.txt.gz")}' is missing here or its SHA-256 differs`,
    }]);
    expect(jobs.filter((j) => j.ok).length).toBe(2);
    expect((await w.done).stderr.match(/attempt \d failed/g)?.length).toBe(3);
  });

  it("a worker without Redis, and a sweep without Redis, fail with status 2", async () => {
    const port = await freePort();
    const dir = sweepDir();
    const s = vmasim(["sweep", "spec.json", "--queue", `redis://127.0.0.1:${port}`, "-o", "r.json"], dir);
    expect(s.stderr).toMatch(/cannot connect to redis:\/\/127\.0\.0\.1:\d+\/0/);
    expect(s.status).toBe(2);
    const w = vmasim(["worker", "--queue", `redis://127.0.0.1:${port}`, "--idle", "0"], dir);
    expect(w.stderr).toMatch(/cannot connect/);
    expect(w.status).toBe(2);
  });
});
