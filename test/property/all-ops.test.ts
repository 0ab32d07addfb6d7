// The property test of every call: random scripts mixing mmap, munmap,
// mprotect, brk, faults, fork, mremap (all modes), madvise (every advice of
// the generator), mlock/munlock and mseal run on the reference model and on
// the wasm engine: identical outputs and full state after every line, memory
// invariants on both, the engine's rmap walk complete. A failing script is
// shrunk and printed.
//
// Scale: VMASIM_PROPERTY_SEEDS (default 24) scripts of 300 operations; every
// third one with vm.max_map_count = 60; each with the knobs seedConfig()
// draws from its seed (harness.ts).
import { describe, expect, it } from "vitest";
import { checkKernel } from "../../src/check/index.js";
import { generateScript, GENERATED_OPS } from "../../src/scenario/generate.js";
import type { KernelConfig } from "../../src/types.js";
import { describeConfig, failure, mismatch, seedConfig } from "./harness.js";

const SEEDS = Number(process.env.VMASIM_PROPERTY_SEEDS ?? 24);
const OPS = 300;
const OPTS = { memory: true, checkKernel };

describe("property: engine == reference model on scripts using every call", () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const lowLimit = seed % 3 === 0;
    const config: KernelConfig = { policy: "linux-5.17", ...(lowLimit ? { max_map_count: 60 } : {}), ...seedConfig(seed) };
    it(`seed ${seed} (${describeConfig(config)})`, () => {
      // topDown off: kernel-chosen addresses would leave the arena, where the dump does not look
      const script = generateScript({ seed: 5000 + seed, ops: OPS, allow: GENERATED_OPS, arenaPages: seed % 2 ? 256 : 1024, topDown: seed % 4 !== 0 });
      const bad = mismatch(script, config, OPTS);
      if (bad) expect.fail(failure(seed, script, config, OPTS, bad));
    });
  }
  it("covers at least 7,000 operations per run", () => {
    expect(SEEDS * OPS).toBeGreaterThanOrEqual(7_000);
  });
});
