// The random process-lifecycle steps of the processes property test: fuzz
// scripts of `vmasim fuzz` (src/fuzz/steps.ts: fork, threads, exit, exec,
// user accesses, the VMA syscalls, the calls the scenario language cannot
// express, setrlimit and sysctl writes), run on one kernel with the checkers
// after every step. Shared by processes.test.ts (linux-5.17) and
// policies.test.ts (the seed policies).
import { checkAll } from "../../src/fuzz/lockstep.js";
import { rng } from "../../src/fuzz/random.js";
import { kernelState } from "../../src/fuzz/state.js";
import { generateSteps, parseSteps, startTasks, type Step } from "../../src/fuzz/steps.js";
import type { KernelSim } from "../../src/types.js";

export const STEPS = 250;

// the random source lives in src/fuzz/random.ts; re-exported for seed-scripts.ts
export { rng, type Step };

/** The steps of one seed (a fuzz script of STEPS lines). */
export function makeSteps(seed: number): Step[] {
  return parseSteps(generateSteps(rng(seed), STEPS));
}

export interface StepsRun {
  results: string[];
  /** kernelState() after every step (empty when not compared) */
  states: string[];
  problems: string[];
  /** steps after which a checker failed (countChecker) */
  broken: number;
}

/**
 * Run the steps on k, checkers after every step: their failures are problems,
 * or with countChecker only counted (seed-v2). states: false skips the state
 * text (model-only runs).
 */
export function run(k: KernelSim, steps: Step[], opts: { countChecker?: boolean; states?: boolean } = {}): StepsRun {
  const t = startTasks(k);
  const results: string[] = [], states: string[] = [], problems: string[] = [];
  let broken = 0;
  steps.forEach((s, i) => {
    results.push(s.run(t));
    if (opts.states !== false) states.push(kernelState(k));
    const checker = checkAll(k).map((v) => `step ${i + 1} (${s.text}): ${v}`);
    if (!opts.countChecker) problems.push(...checker);
    else if (checker.length) broken++;
  });
  return { results, states, problems, broken };
}
