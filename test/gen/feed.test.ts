// Generated workloads fed to sweeps without a file: a `gen` input's job
// replays exactly what `vmasim gen` writes (its report equals replaying the
// file), RESULT.json is the same with one thread or two, a seed range makes
// one input per seed, and bad entries are refused with the field's name.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { writeGenerated } from "../../src/gen/write.js";
import { replayGenerated } from "../../src/gen/replay.js";
import { genName, parseGenName } from "../../src/gen/source.js";
import { replayTrace } from "../../src/replay/run.js";
import { withoutTiming } from "../../src/replay/timing.js";
import { parseSpec, SpecError } from "../../src/sweep/spec.js";
import { tree } from "../cli/helpers.js";
import { requireBuild, vmasim } from "../sweep/helpers.js";

describe("gen: names", () => {
  it("gen:KIND?... round-trips, and a bad one says what is wrong", () => {
    const s = parseGenName("gen:adversarial?events=3000&seed=2&max_map_count=200");
    expect(s).toEqual({ kind: "adversarial", opts: { events: 3000, seed: 2, maxMapCount: 200 } });
    expect(genName(s)).toBe("gen:adversarial?events=3000&seed=2&max_map_count=200");
    expect(() => parseGenName("gen:frob?events=100&seed=1")).toThrow(/unknown kind 'frob'/);
    expect(() => parseGenName("gen:server?events=100")).toThrow(/events and seed are required/);
    expect(() => parseGenName("gen:server?events=100&seed=1&x=2")).toThrow(/unknown parameter 'x=2'/);
    expect(() => parseGenName("gen:server?events=1e3&seed=1")).toThrow(/events must be a whole number, not '1e3'/);
    expect(() => parseGenName("gen:build?events=100&seed=1&max_map_count=100")).toThrow(/for the adversarial kind/);
  });
});

describe("gen: replayed without a file", () => {
  it("gives the report of replaying the file vmasim gen writes (host profile included)", async () => {
    const dir = tree({});
    for (const [kind, extra] of [["allocator", {}], ["adversarial", { maxMapCount: 300 }]] as const) {
      const opts = { events: 4000, seed: 3, ...extra };
      const file = join(dir, `${kind}.vt.gz`);
      await writeGenerated(kind, opts, file);
      if ("maxMapCount" in extra) writeFileSync(join(dir, `${kind}.vt.host.json`), JSON.stringify({ max_map_count: extra.maxMapCount }));
      const policies = ["linux-5.17", "seed"] as const;
      const fromFile = withoutTiming(await replayTrace({ trace: file, policies, checkEvery: 2000 })) as Record<string, unknown>;
      const generated = withoutTiming(await replayGenerated({ kind, opts }, { policies, checkEvery: 2000 })) as Record<string, unknown>;
      expect(generated.trace).toBe(genName({ kind, opts }));
      expect(generated.hostProfile).toBe(null);
      expect({ ...generated, trace: "", hostProfile: "" }, kind).toEqual({ ...fromFile, trace: "", hostProfile: "" });
      if (kind === "adversarial") expect(generated.config).toEqual({ max_map_count: 300 });
    }
  }, 60000);
});

describe("gen: sweep inputs", () => {
  beforeAll(requireBuild);

  it("a seed range is one input per seed; bad entries are refused", () => {
    const sw = parseSpec(JSON.stringify({ inputs: [{ gen: "server", events: 100, seeds: [4, 6] }, { trace: "gen:build?events=200&seed=1&pids=2", name: "b" }], policies: ["seed"] }), "/x/spec.json");
    expect(sw.jobs.map((j) => j.key)).toEqual([
      "b | seed | defaults",
      "gen:server?events=100&seed=4 | seed | defaults", "gen:server?events=100&seed=5 | seed | defaults", "gen:server?events=100&seed=6 | seed | defaults",
    ]);
    const named = parseSpec(JSON.stringify({ inputs: [{ gen: "server", events: 100, seeds: [1, 2], name: "srv" }] }), "/x/s.json");
    expect(named.inputs.map((i) => i.label)).toEqual(["srv:seed=1", "srv:seed=2"]);
    const bad = (input: object) => () => parseSpec(JSON.stringify({ inputs: [input] }), "/x/s.json");
    expect(bad({ gen: "server", events: 100 })).toThrow(new SpecError('inputs[0]: expected exactly one of "seed", "seeds"'));
    expect(bad({ gen: "server", events: 100, seeds: [5, 4] })).toThrow(/inputs\[0\]\.seeds\[1\]: expected a whole number from 5/);
    expect(bad({ gen: "server", events: 10, seed: 1 })).toThrow(/inputs\[0\]: events must be a whole number of at least 17/);
    expect(bad({ gen: "frob", events: 100, seed: 1 })).toThrow(/inputs\[0\]: unknown kind 'frob'/);
    expect(bad({ gen: "server", events: 100, seed: 1, ops: 3 })).toThrow(/inputs\[0\]: unknown field 'ops'/);
    expect(bad({ trace: "gen:server?events=100", name: "x" })).toThrow(/inputs\[0\]\.trace: .*events and seed are required/);
  });

  it("RESULT.json is the same with 1 and 2 threads, and each job is the replay of the generated file", async () => {
    const dir = tree({});
    writeFileSync(join(dir, "spec.json"), JSON.stringify({
      inputs: [{ gen: "allocator", events: 2000, seeds: [1, 2] }, { trace: "gen:adversarial?events=2000&seed=5&max_map_count=200" }],
      policies: ["linux-5.17", "seed-v2"], configs: [{}], checkEvery: 1000,
    }));
    const one = vmasim(["sweep", "spec.json", "--workers", "1", "-o", "one.json"], dir);
    expect(one.stderr).toMatch(/^sweep: 6 jobs \(0 resumed\), 6 ok, 0 failed;/m);
    const two = vmasim(["sweep", "spec.json", "--workers", "2", "-o", "two.json"], dir);
    expect(two.status).toBe(0);
    const text = readFileSync(join(dir, "one.json"), "utf8");
    expect(readFileSync(join(dir, "two.json"), "utf8")).toBe(text);
    const res = JSON.parse(text);
    expect(res.spec.inputs[1]).toMatchObject({ kind: "gen", name: "gen:allocator?events=2000&seed=2", gen: { kind: "allocator", events: 2000, seed: 2 } });
    expect(vmasim(["gen", "adversarial", "--events", "2000", "--seed", "5", "--max-map-count", "200", "-o", "adv.vt.gz"], dir).status).toBe(0);
    const file = JSON.parse(vmasim(["replay", "adv.vt.gz", "--policy", "seed-v2", "--check-every", "1000", "--json"], dir).stdout);
    const job = res.jobs.find((j: { key: string }) => j.key === "gen:adversarial?events=2000&seed=5&max_map_count=200 | seed-v2 | defaults");
    const { limit, ...replay } = job.result;
    expect({ ...replay, trace: "", hostProfile: "" }).toEqual({ ...(withoutTiming(file) as object), trace: "", hostProfile: "" });
    expect(job.result.policies["seed-v2"].vmas.headroom.mapCount).toBe(201);
    expect(limit.vmasAtLimit).toBe(201);
  }, 120000);

  it("the adversarial kind reaches max_map_count under every policy; its first refused call is ENOMEM on each engine", () => {
    const dir = tree({});
    writeFileSync(join(dir, "spec.json"), JSON.stringify({ inputs: [{ gen: "adversarial", events: 2500, seed: 9, maxMapCount: 300 }], policies: "all" }));
    const r = vmasim(["sweep", "spec.json", "-o", "r.json", "--csv", "r.csv"], dir);
    expect(r.status).toBe(0);
    const jobs = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")).jobs as { policy: string; result: { limit: Record<string, unknown>; policies: Record<string, { disagreed: object }> } }[];
    expect(jobs.length).toBe(8);
    const first = jobs[0].result.limit.firstRefused as { event: number; call: string };
    for (const j of jobs) {
      expect(j.result.policies[j.policy].disagreed, j.policy).toEqual({});
      expect(j.result.limit, j.policy).toEqual({
        maxMapCount: 300, vmasAtLimit: 301, refused: jobs[0].result.limit.refused,
        firstRefused: { event: first.event, call: first.call, engine: -12, mapCount: expect.any(Number), mapCountAfter: expect.any(Number) },
      });
      const f = j.result.limit.firstRefused as { mapCount: number; mapCountAfter: number };
      expect(f.mapCountAfter, j.policy).toBe(f.mapCount);
      expect(f.mapCount, j.policy).toBeGreaterThanOrEqual(298);
    }
    expect(jobs[0].result.limit.refused).toBeGreaterThan(10);
    expect(readFileSync(join(dir, "r.csv"), "utf8").split("\n")[0]).toContain("limit.firstRefused.engine");
  }, 120000);
});
