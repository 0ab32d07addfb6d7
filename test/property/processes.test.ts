// The property test of process lifecycles: random sequences over several
// processes - fork, threads (cloneVm), exit, exec, user accesses and the VMA
// syscalls - drive the reference model and the wasm engine through the API
// (the scenario language has no exec or threads). After every step the whole
// state of both kernels must be identical and the memory invariants must hold
// on both. A failure prints the sequence of steps that reproduces it.
//
// The steps are `vmasim fuzz` scripts (src/fuzz/steps.ts): also the calls the
// scenario language cannot express (anon names, mlockall, munlockall,
// setrlimit, capdrop, sysctl writes).
//
// Scale: VMASIM_PROPERTY_SEEDS (default 24) sequences of 250 steps, each
// under the knobs seedConfig() draws from its seed (harness.ts).
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import { createModelKernel } from "../../src/model/index.js";
import type { KernelConfig } from "../../src/types.js";
import { describeConfig, seedConfig, stateDiff } from "./harness.js";
import { makeSteps, run } from "./process-steps.js";

const SEEDS = Number(process.env.VMASIM_PROPERTY_SEEDS ?? 24);

describe("property: processes (fork, threads, exit, exec) on engine == model, memory invariants after every step", () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const config: KernelConfig = { policy: "linux-5.17", ...seedConfig(seed) };
    it(`seed ${seed} (${describeConfig(config)})`, () => {
      const steps = makeSteps(seed);
      const m = run(createModelKernel(config), steps);
      const e = run(createKernelSync(config), steps);
      const where = (i: number) => `after step ${i + 1}; the steps:\n${steps.slice(0, i + 1).map((s) => s.text).join("\n")}`;
      if (m.problems.length) expect.fail(`model: ${m.problems[0]}`);
      if (e.problems.length) expect.fail(`engine: ${e.problems[0]}`);
      const ri = m.results.findIndex((x, i) => x !== e.results[i]);
      if (ri >= 0) expect.fail(`results differ (model ${m.results[ri]}, engine ${e.results[ri]}) ${where(ri)}`);
      const si = m.states.findIndex((x, i) => x !== e.states[i]);
      if (si >= 0) {
        expect.fail(`states differ:\n${stateDiff(m.states[si], e.states[si])}\n${where(si)}`);
      }
    });
  }
});
