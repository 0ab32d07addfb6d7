// The random property tests under the series' policies (docs/policies.md),
// on three sources of operations:
//   scripts     generated scripts with every call (as all-ops.test.ts);
//   series      scripts aimed at the series' merges (seed-scripts.ts: a small
//               window, many write faults, DONTDUMP flips, mremap moves);
//   processes   process lifecycles (as processes.test.ts: fork, threads,
//               exit, exec and the calls scripts cannot express);
// under
//   seed     the checkers (checkProcess, checkKernel: rmap invariant, no page
//            on a freed anon_vma, refcounts, ...) must pass after every line;
//   seed-v2  the series as posted breaks them on purpose: the lines after
//            which a checker fails are counted and printed, not failed.
// Two forms of each:
//   "model: ..."            the reference model alone;
//   "engine == model: ..."  the differential test (identical outputs and full
//                           state after every line, as under linux-5.17).
// Until the engine implements the seed policies' page rules, run the model
// alone: `npx vitest run test/property/policies.test.ts -t '^model'`.
//
// Scale: VMASIM_POLICY_SEEDS (default 4) runs of each source per policy:
// scripts of 300 operations (every third with vm.max_map_count = 60) and
// process sequences of 250 steps; every run under the knobs seedConfig()
// draws from its seed (harness.ts).
import { describe, expect, it } from "vitest";
import { checkKernel } from "../../src/check/index.js";
import { createKernelSync } from "../../src/engine/index.js";
import { createModelKernel } from "../../src/model/index.js";
import { generateScript, GENERATED_OPS } from "../../src/scenario/generate.js";
import type { KernelConfig, PageRewriteStats, Policy } from "../../src/types.js";
import { describeConfig, differential, failure, seedConfig, stateDiff, type HarnessOptions } from "./harness.js";
import { makeSteps, run } from "./process-steps.js";
import { seedScript } from "./seed-scripts.js";

const SEEDS = Number(process.env.VMASIM_POLICY_SEEDS ?? 4);
const OPS = 300;

interface PolicyCase {
  policy: Policy;
  /** the checkers must pass (seed) or are only counted (seed-v2) */
  countChecker: boolean;
}
const CASES: PolicyCase[] = [
  { policy: "seed", countChecker: false },
  { policy: "seed-v2", countChecker: true },
];

const script = (seed: number) =>
  generateScript({ seed: 7000 + seed, ops: OPS, allow: GENERATED_OPS, arenaPages: seed % 2 ? 256 : 1024, topDown: seed % 4 !== 0 });
const config = (policy: Policy, seed: number): KernelConfig => ({ policy, ...(seed % 3 === 0 ? { max_map_count: 60 } : {}), ...seedConfig(seed) });

/** Totals over a describe block, printed at its end. */
class Tally {
  lines = 0;
  broken = 0;
  runsBroken = 0;
  runs = 0;
  stats: PageRewriteStats = { pagesReindexed: 0, pagesRepointed: 0, anonVmaRefsLeaked: 0, debugVmWarnings: 0 };
  first: string | null = null;

  add(lines: number, broken: number, stats: PageRewriteStats | null, first: string | null): void {
    this.runs++;
    this.lines += lines;
    this.broken += broken;
    if (broken) this.runsBroken++;
    if (stats) for (const k of Object.keys(this.stats) as (keyof PageRewriteStats)[]) this.stats[k] += stats[k];
    this.first ??= first;
  }

  print(what: string): void {
    const pct = this.lines ? ((100 * this.broken) / this.lines).toFixed(1) : "0";
    console.log(`${what}: checkers failed after ${this.broken} of ${this.lines} lines (${pct}%), in ${this.runsBroken} of ${this.runs} runs; ` +
      `pageRewrites ${JSON.stringify(this.stats)}${this.first ? `; first failure: ${this.first}` : ""}`);
  }
}

for (const { policy, countChecker } of CASES) {
  const opts: HarnessOptions = { memory: true, checkKernel, countChecker };

  for (const engine of [false, true]) {
    const who = engine ? "engine == model" : "model";
    for (const [source, make] of [["scripts", script], ["series", (seed: number) => seedScript(seed, OPS)]] as const) {
      describe(`${who}: ${source === "scripts" ? "generated scripts with every call" : "scripts aimed at the series"} under ${policy}`, () => {
        const tally = new Tally();
        for (let seed = 1; seed <= SEEDS; seed++) {
          const cfg = config(policy, seed);
          it(`seed ${seed} (${describeConfig(cfg)})`, () => {
            const s = make(seed);
            const o = { ...opts, engine };
            const r = differential(s, cfg, o);
            if (r.bad) expect.fail(failure(seed, s, cfg, o, r.bad));
            tally.add(r.lines, r.broken.model, r.stats, r.firstBroken);
          });
        }
        it(`checkers ${countChecker ? "counted" : "passed after every line"}`, () => {
          tally.print(`${who}, ${source}, ${policy}`);
          if (!countChecker) expect(tally.broken).toBe(0);
          expect(tally.lines).toBeGreaterThan(0);
        });
      });
    }

    describe(`${who}: process lifecycles under ${policy}`, () => {
      const tally = new Tally();
      for (let seed = 1; seed <= SEEDS; seed++) {
        const cfg: KernelConfig = { policy, ...seedConfig(100 + seed) };
        it(`seed ${seed} (${describeConfig(cfg)})`, () => {
          const steps = makeSteps(100 + seed);
          const mk = createModelKernel(cfg);
          const m = run(mk, steps, { countChecker, states: engine });
          const where = (i: number) => `after step ${i + 1}; the steps:\n${steps.slice(0, i + 1).map((s) => s.text).join("\n")}`;
          if (m.problems.length) expect.fail(`model: ${m.problems[0]}`);
          tally.add(steps.length, m.broken, mk.pageRewrites ? mk.pageRewrites() : null, null);
          if (!engine) return;
          const e = run(createKernelSync(cfg), steps, { countChecker });
          if (e.problems.length) expect.fail(`engine: ${e.problems[0]}`);
          const ri = m.results.findIndex((x, i) => x !== e.results[i]);
          if (ri >= 0) expect.fail(`results differ (model ${m.results[ri]}, engine ${e.results[ri]}) ${where(ri)}`);
          const si = m.states.findIndex((x, i) => x !== e.states[i]);
          if (si >= 0) expect.fail(`states differ:\n${stateDiff(m.states[si], e.states[si])}\n${where(si)}`);
        });
      }
      it(`checkers ${countChecker ? "counted" : "passed after every step"}`, () => {
        tally.print(`${who}, processes, ${policy}`);
        if (!countChecker) expect(tally.broken).toBe(0);
      });
    });
  }
}
