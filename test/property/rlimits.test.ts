// The property test of resource limits and capabilities: generated scripts
// (every call of the generator) with `setrlimit` and `capdrop` lines mixed in
// at random, under random starting limits and knobs (rlimit_*, cap_ipc_lock,
// cap_sys_resource, ignore_rlimit_data). The limits are drawn around what the
// process already uses, so that RLIMIT_AS, RLIMIT_DATA and RLIMIT_MEMLOCK
// refuse some calls and allow others. The reference model and the engine
// (release) must print the same and hold the same state after every line
// (the harness); the engine's debug build must print the same as the model.
//
// Scale: VMASIM_PROPERTY_SEEDS (default 24) scripts of 200 operations.
import { describe, expect, it } from "vitest";
import { checkKernel } from "../../src/check/index.js";
import { createKernelSync } from "../../src/engine/index.js";
import { createModelKernel } from "../../src/model/index.js";
import { GENERATED_OPS, generateScript } from "../../src/scenario/generate.js";
import { runScenario } from "../../src/scenario/run.js";
import type { KernelConfig } from "../../src/types.js";
import { failure, mismatch } from "./harness.js";
import { mulberry32 } from "../helpers/random.js";

const SEEDS = Number(process.env.VMASIM_PROPERTY_SEEDS ?? 24);
const OPS = 200;
const OPTS = { memory: true, checkKernel };
const P = 4096;

/** What the process image and the arena's guards use before the script runs (pages). */
function baseline(): { total: number; data: number } {
  const k = createModelKernel({ policy: "linux-5.17" });
  const r = runScenario(k, "");
  const c = r.process.counters();
  return { total: c.total_vm, data: c.data_vm };
}

const BASE = baseline();

/** A limit near `used` pages: a little above or below it, 0 or unlimited now and then. */
function limitNear(rand: () => number, used: number, spread: number): number {
  const x = rand();
  if (x < 0.1) return Infinity;
  if (x < 0.15) return 0;
  // not page aligned now and then: the kernel compares in pages, rounded down
  return Math.max(0, used + Math.floor((rand() - 0.2) * spread)) * P + (rand() < 0.2 ? 123 : 0);
}

const fmt = (v: number): string => (v === Infinity ? "unlimited" : `0x${v.toString(16)}`);

/** Starting limits. RLIMIT_AS must leave room for the 1 GiB arena the runner reserves first. */
function randomLimits(rand: () => number): Partial<KernelConfig> {
  return {
    rlimit_as: rand() < 0.5 ? Infinity : (BASE.total + 2 * 262144) * P,
    rlimit_data: limitNear(rand, BASE.data, 600),
    rlimit_memlock: limitNear(rand, 0, 64),
    cap_ipc_lock: rand() < 0.4,
    cap_sys_resource: rand() < 0.5,
    ignore_rlimit_data: rand() < 0.2,
  };
}

/** The generated script with setrlimit / capdrop lines inserted at random. */
function withLimitLines(script: string, rand: () => number): string {
  const out: string[] = [];
  for (const line of script.split("\n")) {
    if (rand() < 0.06) {
      const res = (["as", "data", "memlock", "stack"] as const)[Math.floor(rand() * 4)]!;
      const used = res === "as" ? BASE.total : res === "data" ? BASE.data : res === "memlock" ? 0 : 2048;
      const cur = limitNear(rand, used, res === "memlock" ? 64 : 800);
      const max = rand() < 0.5 ? cur : rand() < 0.5 ? Infinity : limitNear(rand, used, 800);
      out.push(max === cur ? `setrlimit ${res} ${fmt(cur)}` : `setrlimit ${res} ${fmt(cur)} ${fmt(max)}`);
    }
    if (rand() < 0.01) out.push(`capdrop ${(["ipc_lock", "sys_resource", "sys_admin"] as const)[Math.floor(rand() * 3)]}`);
    out.push(line);
  }
  return out.join("\n");
}

describe("property: resource limits and capabilities, engine == reference model", () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}`, () => {
      const rand = mulberry32(7100 + seed);
      const config: KernelConfig = { policy: "linux-5.17", ...randomLimits(rand) };
      const script = withLimitLines(
        generateScript({ seed: 7100 + seed, ops: OPS, allow: GENERATED_OPS, arenaPages: seed % 2 ? 256 : 768, topDown: false }), rand);
      const bad = mismatch(script, config, OPTS);
      if (bad) expect.fail(failure(seed, script, config, OPTS, bad));
      const model = runScenario(createModelKernel(config), script).output;
      const debug = runScenario(createKernelSync(config, { build: "debug" }), script).output;
      expect(debug, `engine-debug vs model, config ${JSON.stringify(config)}`).toBe(model);
    });
  }

  it("the limits refuse calls and the refusals vary (the test is not vacuous)", () => {
    const errnos = new Set<string>();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const rand = mulberry32(7100 + seed);
      const config: KernelConfig = { policy: "linux-5.17", ...randomLimits(rand) };
      const script = withLimitLines(
        generateScript({ seed: 7100 + seed, ops: OPS, allow: GENERATED_OPS, arenaPages: seed % 2 ? 256 : 768, topDown: false }), rand);
      const out = runScenario(createModelKernel(config), script).output;
      for (const m of out.matchAll(/^(mmap|mlock|mremap|setrlimit|brk|mprotect)\b.* => (EAGAIN|EPERM|ENOMEM|EINVAL)$/gm)) errnos.add(`${m[1]} ${m[2]}`);
    }
    for (const want of ["mmap ENOMEM", "mmap EAGAIN", "mmap EPERM", "mlock ENOMEM", "mlock EPERM", "mremap EAGAIN", "mprotect ENOMEM", "setrlimit EPERM", "setrlimit EINVAL"]) {
      expect([...errnos]).toContain(want);
    }
  });
});
