// The property test of the memory layer: random scripts with faults (touch,
// touchn, peek), fork (both the parked child and the parent stay alive) and
// the VMA syscalls run on the reference model and on the wasm engine. After
// every line the full state must be identical - every process's VMAs,
// counters, anon_vma chains, PTEs, page tables and usage, and the kernel's
// pages and anon_vmas - and the memory invariants (src/check/memory.ts) must
// hold on both. A failing script is shrunk and printed.
//
// Scale: VMASIM_PROPERTY_SEEDS (default 24) scripts of 300 operations; every
// third one with vm.max_map_count = 60; each with the knobs seedConfig()
// draws from its seed (harness.ts: the zero page on or off).
import { describe, expect, it } from "vitest";
import { checkKernel } from "../../src/check/index.js";
import { generateScript } from "../../src/scenario/generate.js";
import type { KernelConfig } from "../../src/types.js";
import { describeConfig, failure, mismatch, seedConfig } from "./harness.js";

const SEEDS = Number(process.env.VMASIM_PROPERTY_SEEDS ?? 24);
const OPS = 300;
const ALLOW = ["mmap", "munmap", "mprotect", "brk", "touch", "touchn", "peek", "fork", "dump", "dumpheap", "count", "echo", "repeat"];
const OPTS = { memory: true, checkKernel };

describe("property: engine == reference model with faults and fork, memory invariants after every line", () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const lowLimit = seed % 3 === 0;
    const config: KernelConfig = { policy: "linux-5.17", ...(lowLimit ? { max_map_count: 60 } : {}), ...seedConfig(seed) };
    it(`seed ${seed} (${describeConfig(config)})`, () => {
      const script = generateScript({ seed: 1000 + seed, ops: OPS, allow: ALLOW, arenaPages: seed % 2 ? 256 : 1024 });
      const bad = mismatch(script, config, OPTS);
      if (bad) expect.fail(failure(seed, script, config, OPTS, bad));
    });
  }
  it("draws the zero page off in about half the runs", () => {
    let off = 0;
    for (let seed = 1; seed <= 200; seed++) if (seedConfig(seed).zero_page === false) off++;
    expect(off).toBeGreaterThanOrEqual(80);
    expect(off).toBeLessThanOrEqual(120);
  });
  it("covers at least 7,000 operations with faults and forks per run", () => {
    expect(SEEDS * OPS).toBeGreaterThanOrEqual(7_000);
  });
});
