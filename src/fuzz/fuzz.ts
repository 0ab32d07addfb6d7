// `vmasim fuzz`: random fuzz scripts (steps.ts) under one policy, in episodes
// of EPISODE_STEPS steps from a fresh kernel, each run in lock step on the
// engine and the reference model (lockstep.ts). Episode i of seed S is
// generated from subSeed(S, i) with the knobs seedConfig() draws from it (plus
// --set), so a run is deterministic and an episode can be re-run alone. The
// first failure of an episode ends it; failures are grouped by signature, and
// the first of each class is shrunk (src/kernel/shrink.ts) to a minimal fuzz
// script printed with its directives (`policy`, `set`), which `vmasim fuzz
// --replay` runs again.
import { formatValue } from "../config/config.js";
import { shrinkScript } from "../kernel/shrink.js";
import type { KernelConfig, KernelSim, Policy } from "../types.js";
import { documentedDefect } from "./defects.js";
import { implementations, runLockstep, type Failure } from "./lockstep.js";
import { rng, seedConfig, subSeed } from "./random.js";
import { generateSteps, parseSteps, stepsParse } from "./steps.js";

/** Steps per episode: long enough to build shared anon_vmas over forks, short enough to shrink fast. */
export const EPISODE_STEPS = 250;

export interface FuzzOptions {
  policy: Policy;
  /** steps to run in all */
  ops: number;
  seed: number;
  /** stop after this many milliseconds (at an episode's end) */
  timeMs?: number;
  /** knobs fixed by --set (over the episode's random draw) */
  set?: Partial<KernelConfig>;
  /** full comparison and checkers every N steps (default 1) */
  checkEvery?: number;
  /** shrink each class's first failure (default true) */
  shrink?: boolean;
  /** test runs per shrink (default 400) */
  maxShrinkTests?: number;
  /** called after every episode */
  onEpisode?: (done: { ops: number; episodes: number; classes: number }) => void;
  /** the clock (tests pass a fake one) */
  now?: () => number;
  /** the engine's kernel (tests pass a broken one) */
  createEngine?: (config: KernelConfig) => KernelSim;
}

export interface FuzzClass {
  signature: string;
  /** episodes that ended with this class */
  count: number;
  /** the first: its episode, the knobs it ran under and its steps up to the failure */
  episode: number;
  config: KernelConfig;
  lines: string[];
  failure: Failure;
  /** its minimal script (with directives) and the failure it shows */
  minimal?: { script: string; detail: string; tests: number };
  /** the docs/policies.md defect this class is (seed-v2), or null */
  documented: string | null;
}

export interface PolicyReport {
  policy: Policy;
  /** the reference model ran too (false: engine and checkers alone) */
  model: boolean;
  ops: number;
  episodes: number;
  /** full checks done */
  checks: number;
  classes: FuzzClass[];
  /** --time ended the run before --ops */
  timedOut: boolean;
}

/** The knobs of episode `index`: the seed's random draw, max_map_count 60 in every third, then --set. */
export function episodeConfig(policy: Policy, seed: number, index: number, set: Partial<KernelConfig> = {}): KernelConfig {
  const s = subSeed(seed, index);
  return { policy, ...seedConfig(s), ...(s % 3 === 0 ? { max_map_count: 60 } : {}), ...set };
}

/** The steps of episode `index` (count of them); under relocate-anon mremap also uses that policy's flags. */
export function episodeLines(seed: number, index: number, count = EPISODE_STEPS, policy?: Policy): string[] {
  return generateSteps(rng(subSeed(seed, index)), count, { relocateAnon: policy === "relocate-anon" });
}

/** A fuzz script's directive lines for a config: `policy P` and one `set K=V` per knob. */
export function directives(config: KernelConfig): string[] {
  const out = [`policy ${config.policy}`];
  for (const [k, v] of Object.entries(config)) {
    if (k !== "policy" && v !== undefined) out.push(`set ${k}=${formatValue(v as number | boolean)}`);
  }
  return out;
}

/**
 * Shrinks a failing step list to a minimal one with the same failure class.
 * Candidates are checked after their last step only (the failing step ends
 * the list, so a candidate of the class fails there; much faster), then the
 * result is checked after every step, and shrunk again that way if an
 * earlier step now fails differently.
 */
async function shrinkClass(cls: FuzzClass, maxTests: number, createEngine: FuzzOptions["createEngine"]): Promise<NonNullable<FuzzClass["minimal"]>> {
  const target = cls.signature;
  const run = (lines: readonly string[], checkEvery: number) =>
    runLockstep(parseSteps(lines), { config: cls.config, createEngine, checkEvery });
  const failsWith = (checkEvery: number) => (script: string): boolean => run(script.split("\n"), checkEvery).failure?.signature === target;
  const toLines = (script: string) => script.split("\n").filter((l) => l !== "");
  let m = await shrinkScript(cls.lines.join("\n"), failsWith(Number.MAX_SAFE_INTEGER), { maxTests, parses: stepsParse });
  let lines = toLines(m.script);
  let tests = m.tests;
  if (run(lines, 1).failure?.signature !== target) {
    m = await shrinkScript(cls.lines.join("\n"), failsWith(1), { maxTests, parses: stepsParse });
    lines = toLines(m.script);
    tests += m.tests;
  }
  const again = run(lines, 1);
  const script = [
    `# vmasim fuzz: episode ${cls.episode}, ${cls.signature}`,
    ...directives(cls.config),
    ...lines,
  ].join("\n") + "\n";
  return { script, detail: again.failure?.detail ?? "(the minimal script no longer fails)", tests };
}

/** Fuzzes one policy. */
export async function fuzzPolicy(opts: FuzzOptions): Promise<PolicyReport> {
  const now = opts.now ?? (() => performance.now());
  const t0 = now();
  const checkEvery = Math.max(1, opts.checkEvery ?? 1);
  const use = implementations({ config: { policy: opts.policy } });
  const classes = new Map<string, FuzzClass>();
  let ops = 0, episodes = 0, checks = 0, timedOut = false;
  while (ops < opts.ops) {
    if (opts.timeMs !== undefined && now() - t0 >= opts.timeMs) {
      timedOut = true;
      break;
    }
    const index = episodes++;
    const config = episodeConfig(opts.policy, opts.seed, index, opts.set);
    const lines = episodeLines(opts.seed, index, Math.min(EPISODE_STEPS, opts.ops - ops), opts.policy);
    let r = runLockstep(parseSteps(lines), { config, checkEvery, createEngine: opts.createEngine });
    ops += r.steps;
    checks += r.checks;
    if (r.failure && checkEvery > 1) {
      // a sampled check saw it late: find the step that made it
      r = runLockstep(parseSteps(lines.slice(0, r.failure.step + 1)), { config, createEngine: opts.createEngine });
    }
    const f = r.failure;
    if (f) {
      const cls = classes.get(f.signature);
      if (cls) cls.count++;
      else {
        classes.set(f.signature, {
          signature: f.signature, count: 1, episode: index, config, lines: lines.slice(0, f.step + 1), failure: f,
          documented: documentedDefect(opts.policy, f.signature),
        });
      }
    }
    opts.onEpisode?.({ ops, episodes, classes: classes.size });
  }
  const list = [...classes.values()].sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  if (opts.shrink ?? true) {
    for (const cls of list) cls.minimal = await shrinkClass(cls, opts.maxShrinkTests ?? 400, opts.createEngine);
  }
  return { policy: opts.policy, model: use.model, ops, episodes, checks, classes: list, timedOut };
}

/** Whether a report is a pass: no class, or (seed-v2) only documented defects. */
export function passed(r: PolicyReport): boolean {
  return r.classes.every((c) => c.documented !== null);
}

/** The report of one policy as text (deterministic: no timings). */
export function formatReport(r: PolicyReport): string {
  const out: string[] = [];
  const against = r.model ? "engine == model, checkers" : "engine and checkers only (no reference model for this policy)";
  out.push(`${r.policy}: ${r.ops} ops in ${r.episodes} episodes (${against}; ${r.checks} full checks): ` +
    (r.classes.length === 0 ? "no failure" : `${r.classes.length} failure class(es)`));
  r.classes.forEach((c, i) => {
    const doc = c.documented ? ` [documented: ${c.documented}]` : r.policy === "seed-v2" ? " [NEW: not a documented defect]" : "";
    out.push("", `${r.policy} class ${i + 1}: ${c.signature} (${c.count} episode(s), first: episode ${c.episode})${doc}`);
    if (c.minimal) {
      out.push(...c.minimal.detail.split("\n").map((l) => `  ${l}`), `minimal script (${c.minimal.tests} shrink runs):`);
      out.push(c.minimal.script.trimEnd());
    } else {
      out.push(...c.failure.detail.split("\n").map((l) => `  ${l}`));
    }
  });
  return out.join("\n") + "\n";
}
