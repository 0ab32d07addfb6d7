// The property test of the VMA layer: random scenario scripts (mmap, munmap,
// mprotect, brk and their edge cases) run on the reference model and on the
// wasm engine must agree line by line and state by state (harness.ts).
//
// Scale: VMASIM_PROPERTY_SEEDS (default 24) scripts of 450 operations, half of
// them with vm.max_map_count = 40 so that the limit is hit often; each with
// the knobs seedConfig() draws from its seed (harness.ts).
import { describe, expect, it } from "vitest";
import { generateScript } from "../../src/scenario/generate.js";
import type { KernelConfig } from "../../src/types.js";
import { describeConfig, failure, mismatch, seedConfig } from "./harness.js";

const SEEDS = Number(process.env.VMASIM_PROPERTY_SEEDS ?? 24);
const OPS = 450;
const ALLOW = ["mmap", "munmap", "mprotect", "brk", "dump", "dumpheap", "count", "echo", "repeat"];
const OPTS = { memory: false };

describe("property: engine == reference model on random VMA-layer scripts", () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const lowLimit = seed % 2 === 0;
    const config: KernelConfig = { policy: "linux-5.17", ...(lowLimit ? { max_map_count: 40 } : {}), ...seedConfig(seed) };
    it(`seed ${seed} (${describeConfig(config)})`, () => {
      const script = generateScript({ seed, ops: OPS, allow: ALLOW, arenaPages: seed % 3 === 0 ? 96 : 512 });
      const bad = mismatch(script, config, OPTS);
      if (bad) expect.fail(failure(seed, script, config, OPTS, bad));
    });
  }
  it("covers at least 10,000 operations per run", () => {
    expect(SEEDS * OPS).toBeGreaterThanOrEqual(10_000);
  });
});
