// Determinism: the same input (and seed) gives the same bytes - `vmasim run`
// of a generated script, the same script on the release and the debug build
// of the engine, a replay (its timing fields aside: the table's `engine ...`
// rows and the JSON fields src/replay/timing.ts lists are wall-clock figures),
// and `vmasim fuzz` (test/fuzz/). Node against a browser: test/web/.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import { runLockstep } from "../../src/fuzz/lockstep.js";
import { episodeLines, episodeConfig } from "../../src/fuzz/fuzz.js";
import { kernelState } from "../../src/fuzz/state.js";
import { parseSteps, startTasks } from "../../src/fuzz/steps.js";
import { generateScript } from "../../src/scenario/generate.js";
import { runScenario } from "../../src/scenario/run.js";
import { type ReplayReport } from "../../src/replay/run.js";
import { withoutTiming } from "../../src/replay/timing.js";
import { cli, tree } from "../cli/helpers.js";

const TRACE = new URL("../fixtures/traces/node_alloc.head.perf.txt.gz", import.meta.url).pathname;
/** A replay's output (its table or its JSON) without its wall-clock figures. */
const untimed = (s: string) => s.trimStart().startsWith("{")
  ? JSON.stringify(withoutTiming(JSON.parse(s) as ReplayReport))
  : s.replace(/^engine (seconds|time) .*$/gm, "");

describe("determinism", () => {
  it("vmasim run: a generated script twice, the same bytes; another seed, another script", async () => {
    const script = generateScript({ seed: 42, ops: 150 });
    expect(generateScript({ seed: 42, ops: 150 })).toBe(script);
    expect(generateScript({ seed: 43, ops: 150 })).not.toBe(script);
    const dir = tree({ "g.script": script });
    const a = await cli(["run", "--stats", join(dir, "g.script")]);
    const b = await cli(["run", "--stats", join(dir, "g.script")]);
    expect(a.stdout.length).toBeGreaterThan(1000);
    expect(b).toEqual(a);
  });

  it("the release and the debug build give the same output and the same whole state", () => {
    for (const policy of ["linux-5.17", "seed-v2", "linux-6.18"] as const) {
      const script = generateScript({ seed: 7, ops: 120 });
      const rel = runScenario(createKernelSync({ policy }, { build: "release" }), script).output;
      const dbg = runScenario(createKernelSync({ policy }, { build: "debug" }), script).output;
      expect(dbg, policy).toBe(rel);
    }
    const lines = episodeLines(3, 0);
    const states = (["release", "debug"] as const).map((build) => {
      const k = createKernelSync(episodeConfig("linux-5.17", 3, 0), { build });
      const t = startTasks(k);
      const results = parseSteps(lines).map((s) => s.run(t));
      return `${results.join(",")}\n${kernelState(k)}`;
    });
    expect(states[1]).toBe(states[0]);
    expect(runLockstep(parseSteps(lines), { config: episodeConfig("linux-5.17", 3, 0) }).failure).toBeNull();
  });

  it("vmasim replay: the same trace twice, the same bytes but the timings (text and JSON)", async () => {
    for (const extra of [[], ["--json"]]) {
      const a = await cli(["replay", TRACE, "--policy", "linux-5.17,seed", ...extra]);
      const b = await cli(["replay", TRACE, "--policy", "linux-5.17,seed", ...extra]);
      expect(a.status).toBe(b.status);
      expect(a.stdout.length).toBeGreaterThan(500);
      expect(untimed(b.stdout)).toBe(untimed(a.stdout));
    }
  });
});
