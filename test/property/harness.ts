// The differential property harness: a generated scenario script runs on the
// reference model and on the wasm engine; outputs must be identical and,
// after every line, so must the whole observable state (VMAs with every
// field, counters, layout, and with `memory` the page tables, pages and
// anon_vmas of every live process), with the checkers passing. A failing
// script is shrunk and printed so that it reproduces the failure.
//
// The policy is the config's. Two options serve policies the engine does not
// implement yet, or whose defects break the invariants on purpose: `engine:
// false` runs the model alone (checkers only), and `countChecker` counts the
// lines after which a checker failed instead of failing (seed-v2).
//
// Every run also draws a kernel configuration from its seed (randomConfig):
// engine and model must agree whatever the knobs say.
import { checkProcess } from "../../src/check/index.js";
import { createKernelSync, type Process, type Simulator } from "../../src/engine/index.js";
import { createModelKernel } from "../../src/model/index.js";
import { runScenario } from "../../src/scenario/run.js";
import { describeConfig } from "../../src/fuzz/random.js";
import { kernelState, stateDiff, vmaState } from "../../src/fuzz/state.js";
import type { KernelConfig, KernelSim, PageRewriteStats, ProcessSim } from "../../src/types.js";

export interface HarnessOptions {
  /** compare memory snapshots (pages, PTEs, anon_vmas) too */
  memory: boolean;
  /** an extra kernel-wide checker (e.g. the memory invariants) */
  checkKernel?: (k: KernelSim) => string[];
  /** run the engine too and compare (default true); false: the model alone */
  engine?: boolean;
  /**
   * count the lines after which a checker (checkProcess, checkKernel, the
   * engine's rmap walk) failed instead of failing; the engine's own tree
   * check and every comparison still fail
   */
  countChecker?: boolean;
}

interface Run {
  output: string;
  steps: string[];
  problems: string[];
  /** lines that ran with the process alive */
  lines: number;
  /** lines after which a checker failed (countChecker) */
  broken: number;
  /** the first checker failure (countChecker) */
  firstBroken: string | null;
}

/** What one script did under one policy: the first problem or difference, and the checker failures counted. */
export interface DifferentialRun {
  bad: string | null;
  /** lines that ran (state comparisons) */
  lines: number;
  /** lines after which a checker failed, per implementation (countChecker) */
  broken: { model: number; engine: number };
  /** the model's first checker failure (countChecker) */
  firstBroken: string | null;
  /** the model kernel's pageRewrites() at the end */
  stats: PageRewriteStats | null;
}

// rng, the random configurations and the state texts live in src/fuzz/ (vmasim fuzz uses them too)
export { describeConfig, randomConfig, rng, seedConfig, type Rand } from "../../src/fuzz/random.js";
export { kernelState, stateDiff } from "../../src/fuzz/state.js";

/** The state compared after each line: one process's VMA layer, or the whole kernel. */
function state(k: KernelSim, p: ProcessSim, memory: boolean): string {
  return memory ? kernelState(k) : vmaState(p).join("\n");
}

function runOn(kernel: KernelSim, script: string, engine: boolean, opts: HarnessOptions): Run {
  const steps: string[] = [];
  const problems: string[] = [];
  let broken = 0;
  let lines = 0;
  let firstBroken: string | null = null;
  const compare = opts.engine !== false;
  const r = runScenario(kernel, script, {
    onStep: (p, entry) => {
      if (p.exited) return;
      lines++;
      if (compare) steps.push(state(kernel, p, opts.memory));
      const checker: string[] = [];
      for (const q of opts.memory ? kernel.processes() : [p]) {
        for (const v of checkProcess(q)) checker.push(`line ${entry.line}: checker (pid ${q.pid}): ${v}`);
        if (engine) {
          const c = (q as Process).checkInternal();
          if (c !== 0) problems.push(`line ${entry.line}: engine tree check failed (code ${c})`);
        }
      }
      if (opts.checkKernel) for (const v of opts.checkKernel(kernel)) checker.push(`line ${entry.line}: ${v}`);
      if (engine && opts.memory) {
        const bad = (kernel as Simulator).rmapCheck();
        if (bad) checker.push(`line ${entry.line}: the engine's rmap walk misses mappings of ${bad} PTE(s)`);
      }
      if (!opts.countChecker) problems.push(...checker);
      else if (checker.length) {
        broken++;
        firstBroken ??= checker[0];
      }
    },
  });
  return { output: r.output, steps, problems, lines, broken, firstBroken };
}

/**
 * Run `script` on the model and (unless opts.engine is false) on the engine
 * under config's policy: the first problem or difference, and what the
 * checkers counted.
 */
export function differential(script: string, config: KernelConfig, opts: HarnessOptions): DifferentialRun {
  const out: DifferentialRun = { bad: null, lines: 0, broken: { model: 0, engine: 0 }, firstBroken: null, stats: null };
  let m: Run, e: Run;
  const mk = createModelKernel(config);
  try {
    m = runOn(mk, script, false, opts);
  } catch (err) {
    return { ...out, bad: `model threw: ${(err as Error).message}` };
  }
  out.lines = m.lines;
  out.broken.model = m.broken;
  out.firstBroken = m.firstBroken;
  out.stats = mk.pageRewrites ? mk.pageRewrites() : null;
  if (m.problems.length) return { ...out, bad: `model: ${m.problems[0]}` };
  if (opts.engine === false) return out;
  try {
    e = runOn(createKernelSync(config), script, true, opts);
  } catch (err) {
    return { ...out, bad: `engine threw: ${(err as Error).message}` };
  }
  out.broken.engine = e.broken;
  if (e.problems.length) return { ...out, bad: `engine: ${e.problems[0]}` };
  if (m.output !== e.output) {
    const ml = m.output.split("\n"), el = e.output.split("\n");
    const i = ml.findIndex((l, k) => l !== el[k]);
    return { ...out, bad: `outputs differ at output line ${i + 1}:\n  model:  ${ml[i]}\n  engine: ${el[i]}` };
  }
  const i = m.steps.findIndex((s, k) => s !== e.steps[k]);
  if (i >= 0) return { ...out, bad: `state differs after step ${i + 1}:\n${stateDiff(m.steps[i], e.steps[i])}` };
  if (m.broken !== e.broken) return { ...out, bad: `the checkers failed after ${m.broken} lines on the model, ${e.broken} on the engine` };
  return out;
}

/** The first difference between model and engine on `script` (or, with opts.engine false, the model's first problem), or null. */
export function mismatch(script: string, config: KernelConfig, opts: HarnessOptions): string | null {
  return differential(script, config, opts).bad;
}

/** Drop lines while the mismatch persists (greedy, chunks then single lines). */
export function shrink(script: string, config: KernelConfig, opts: HarnessOptions): string {
  let lines = script.split("\n");
  const fails = (ls: string[]) => mismatch(ls.join("\n"), config, opts) !== null;
  for (let chunk = Math.max(1, lines.length >> 2); chunk >= 1; chunk >>= 1) {
    for (let i = 0; i < lines.length;) {
      const cand = [...lines.slice(0, i), ...lines.slice(i + chunk)];
      if (cand.length < lines.length && fails(cand)) lines = cand;
      else i += chunk;
    }
  }
  return lines.join("\n");
}

/** The assertion message of a failing seed: the difference and the minimal script. */
export function failure(seed: number, script: string, config: KernelConfig, opts: HarnessOptions, bad: string): string {
  const small = shrink(script, config, opts);
  const knobs = describeConfig(config);
  const header = `# vmasim property failure (seed ${seed}, policy ${config.policy}${knobs ? `, ${knobs}` : ""})\n`;
  return `${bad}\n\nminimal script:\n${header}${small}\n\nafter shrinking: ${mismatch(small, config, opts)}`;
}
