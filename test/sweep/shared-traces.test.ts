// The sweep's acceptance run: every development trace (the perf traces of the
// shared folder CI has beside the repository) x every policy x two
// configurations, once on the thread pool and once through a real
// redis-server with three queue workers, one of them killed with SIGKILL in
// the middle of a job: the two RESULT.json files are the same bytes.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLICIES } from "../../src/types.js";
import { SHARED } from "../trace/util.js";
import { requireBuild, start, vmasim } from "./helpers.js";
import { type Redis, redisMissing, startRedis, until } from "./redis.js";

const traces = existsSync(SHARED) ? readdirSync(SHARED).filter((f) => f.endsWith(".perf.txt.gz")).sort() : [];
const skip = traces.length === 0 ? `no development traces at ${SHARED}` : redisMissing;
if (skip) console.log(`skipping the sweep of the development traces: ${skip}`);

describe.skipIf(skip !== null)("a sweep of the development traces x every policy x 2 configurations", { timeout: 600_000 }, () => {
  let redis: Redis | undefined;
  let url = "";

  beforeAll(async () => {
    requireBuild();
    redis = await startRedis();
    url = redis.url;
  });

  afterAll(() => redis?.stop());

  it("the pool with 2 threads and 3 queue workers (one killed mid-job) give the same RESULT.json", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmasim-sweep-shared-"));
    // python_glibc_nozp was recorded without the zero page: the second configuration is that host's
    writeFileSync(join(dir, "spec.json"), JSON.stringify({
      inputs: traces.map((t) => ({ trace: join(SHARED, t) })), policies: "all", configs: [{}, { zero_page: 0 }],
    }));
    const jobs = traces.length * POLICIES.length * 2;
    const pool = vmasim(["sweep", "spec.json", "--workers", "2", "-o", "pool.json"], dir);
    expect(pool.stderr).toMatch(new RegExp(`^sweep: ${jobs} jobs \\(0 resumed\\), ${jobs} ok, 0 failed`, "m"));
    expect(pool.status).toBe(0);

    const sweep = start(["sweep", "spec.json", "--queue", url, "-o", "queue.json"], dir);
    const worker = (n: number) => start(["worker", "--queue", url, "--concurrency", "1", "--idle", "2", "--lock-seconds", "2", "--cache", join(dir, `cache${n}`)], dir);
    const workers = [worker(1), worker(2), worker(3)];
    // kill the first worker that takes one of the longest jobs (node_alloc), while it runs
    let victim = -1;
    await until("a worker taking a node_alloc job", () => (victim = workers.findIndex((w) => /worker \S+: \S*node_alloc\.perf\.txt\.gz \|/.test(w.stderr()))) >= 0, 300_000);
    const took = /worker (\S+): (\S*node_alloc\.perf\.txt\.gz \| [^\n]*)/.exec(workers[victim].stderr())!;
    workers[victim].proc.kill("SIGKILL");
    const s = await sweep.done;
    expect(s.stderr).toMatch(new RegExp(`^sweep: ${jobs} jobs \\(0 resumed\\), ${jobs} ok, 0 failed; .* on queue redis:`, "m"));
    expect(s.status).toBe(0);
    await Promise.all(workers.filter((_, i) => i !== victim).map((w) => w.done));
    expect(readFileSync(join(dir, "queue.json"), "utf8")).toBe(readFileSync(join(dir, "pool.json"), "utf8"));
    const timing = JSON.parse(readFileSync(join(dir, "queue.timing.json"), "utf8"));
    expect(timing.perJob[took[2]].worker).not.toBe(took[1]);
    rmSync(dir, { recursive: true, force: true });
  });
});
