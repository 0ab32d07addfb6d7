// vmasim sweep on this machine's threads: the result does not depend on the
// number of threads, a job's result is what replay --json / run print, a
// failing job is a result, --resume reruns only the missing jobs.
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { withoutTiming } from "../../src/replay/timing.js";
import { requireBuild, sweepDir, vmasim } from "./helpers.js";

beforeAll(requireBuild);

interface ResultJob { key: string; input: string; kind: string; policy: string; ok: boolean; result?: Record<string, unknown>; error?: string }
const jobsOf = (file: string): ResultJob[] => JSON.parse(readFileSync(file, "utf8")).jobs;

describe("vmasim sweep (thread pool)", () => {
  it("gives byte-identical RESULT.json with 1 and 2 threads; jobs sorted by key; wall times apart", () => {
    const dir = sweepDir();
    const one = vmasim(["sweep", "spec.json", "--workers", "1", "-o", "one.json", "--csv", "one.csv"], dir);
    expect(one.stderr).toMatch(/^sweep: 12 jobs \(0 resumed\), 12 ok, 0 failed; .* on 1 thread;/m);
    expect(one.status).toBe(0);
    const two = vmasim(["sweep", "spec.json", "--workers", "2", "-o", "two.json"], dir);
    expect(two.status).toBe(0);
    expect(readFileSync(join(dir, "two.json"), "utf8")).toBe(readFileSync(join(dir, "one.json"), "utf8"));
    const jobs = jobsOf(join(dir, "one.json"));
    expect(jobs.map((j) => j.key)).toEqual(jobs.map((j) => j.key).sort());
    expect(jobs.length).toBe(12);
    expect(readFileSync(join(dir, "one.json"), "utf8")).not.toMatch(/"seconds"|eventsPerSecond|secondsRatio|wall/i);
    const timing = JSON.parse(readFileSync(join(dir, "one.timing.json"), "utf8"));
    expect(timing.mode).toBe("pool");
    expect(timing.workers).toBe(1);
    expect(Object.keys(timing.perJob).length).toBe(12);
    // the CSV: a header, one row per job in the same order
    const csv = readFileSync(join(dir, "one.csv"), "utf8").trimEnd().split("\n");
    expect(csv.length).toBe(13);
    expect(csv[0]).toMatch(/^key,input,kind,policy,config,ok,error,/);
    expect(csv[1].startsWith(jobs[0].key + ",")).toBe(true);
  });

  it("a trace job's result is vmasim replay --json of that policy; a script job's output is vmasim run's", () => {
    const dir = sweepDir({ configs: [{ max_map_count: 65530 }], policies: ["seed"] });
    expect(vmasim(["sweep", "spec.json", "-o", "r.json"], dir).status).toBe(0);
    const jobs = jobsOf(join(dir, "r.json"));
    const lua = jobs.find((j) => j.input === "lua_make_j2.head.perf.txt.gz")!;
    const replay = JSON.parse(vmasim(["replay", "lua_make_j2.head.perf.txt.gz", "--policy", "seed", "--set", "max_map_count=65530", "--json"], dir).stdout);
    expect(lua.result).toEqual(withoutTiming(replay));
    expect(lua.result!.sidecarFile).toBe("lua_make_j2.head.mmap2.txt.gz");
    const script = jobs.find((j) => j.kind === "script")!;
    const run = vmasim(["run", "--policy", "seed", "--set", "max_map_count=65530", "split-merge.script"], dir);
    expect(script.result!.output).toBe(run.stdout);
    expect(script.result!.check).toBe(null);
  });

  it("records a failing job with its error and goes on (exit 1)", () => {
    const dir = sweepDir({ configs: [{}, { max_map_count: 1 }], policies: ["linux-5.17"] });
    const r = vmasim(["sweep", "spec.json", "-o", "r.json"], dir);
    expect(r.status).toBe(1);
    const jobs = jobsOf(join(dir, "r.json"));
    const failed = jobs.filter((j) => !j.ok);
    // the script's arena cannot be set up with one VMA allowed; the traces replay (their calls fail)
    expect(failed.map((j) => j.key)).toEqual(["split-merge.script | linux-5.17 | max_map_count=1"]);
    expect(failed[0].error).toMatch(/^ArenaSetupError: .*ENOMEM/);
    expect(jobs.filter((j) => j.ok).length).toBe(5);
  });

  it("--resume keeps the finished jobs and runs only the others; the result is the same", () => {
    const dir = sweepDir();
    expect(vmasim(["sweep", "spec.json", "-o", "r.json"], dir).status).toBe(0);
    const first = readFileSync(join(dir, "r.json"), "utf8");
    const files = readdirSync(join(dir, "r.json.jobs")).sort();
    expect(files.length).toBe(12);
    // an interrupted sweep: three results missing, one half written
    for (const f of files.slice(0, 3)) rmSync(join(dir, "r.json.jobs", f));
    writeFileSync(join(dir, "r.json.jobs", files[3]), '{"key": "trunc');
    rmSync(join(dir, "r.json"));
    const r = vmasim(["sweep", "spec.json", "-o", "r.json", "--resume"], dir);
    expect(r.stderr).toMatch(/^sweep: 12 jobs \(8 resumed\), 12 ok, 0 failed;/m);
    expect(readFileSync(join(dir, "r.json"), "utf8")).toBe(first);
    expect(JSON.parse(readFileSync(join(dir, "r.timing.json"), "utf8")).resumed).toBe(8);
    // without --resume everything runs again
    expect(vmasim(["sweep", "spec.json", "-o", "r.json"], dir).stderr).toMatch(/\(0 resumed\)/);
  });

  it("refuses a bad SPEC or bad options with status 2 and the field's name", () => {
    const dir = sweepDir();
    const bad = (spec: object, msg: RegExp) => {
      writeFileSync(join(dir, "bad.json"), JSON.stringify(spec));
      const r = vmasim(["sweep", "bad.json", "-o", "r.json"], dir);
      expect(r.stderr).toMatch(msg);
      expect(r.status).toBe(2);
    };
    bad({ inputs: [{ script: "split-merge.script" }], frob: 1 }, /unknown field 'frob'/);
    bad({ inputs: [] }, /"inputs" must be a non-empty list/);
    bad({ inputs: [{ trace: "missing.perf.txt.gz" }] }, /inputs\[0\]\.trace: cannot read .*ENOENT/);
    bad({ inputs: [{ script: "split-merge.script" }], policies: ["linux-9"] }, /unknown policy 'linux-9'/);
    bad({ inputs: [{ script: "split-merge.script" }], configs: [{ max_map_count: -1 }] }, /configs\[0\].*max_map_count/);
    bad({ inputs: [{ script: "split-merge.script" }, { script: "./split-merge.script" }] }, /two inputs are named 'split-merge.script'/);
    expect(vmasim(["sweep", "spec.json"], dir).stderr).toMatch(/-o RESULT.json is required/);
    expect(vmasim(["sweep", "spec.json", "-o", "r.json", "--workers", "0"], dir).status).toBe(2);
    expect(vmasim(["sweep", "spec.json", "-o", "r.json", "--queue", "http://x"], dir).stderr).toMatch(/is not redis:\/\/HOST:PORT/);
  });
});
