// Runs a fuzz script (steps.ts) on the wasm engine and the reference model in
// lock step: after every step both results must be equal and so must the mm
// counters of every live process; every `checkEvery` steps (and after the
// last) the VMA layer of every process and the whole kernel state (page
// tables, pages, anon_vmas) are compared and the
// invariant checkers run on both: checkProcess on every live process,
// checkKernel, and the engine's own rmap walk and tree check. Policies the
// model does not implement run the engine alone with the checkers. The first
// failure ends the run; its signature (numbers replaced by N) names its class.
import { checkKernel, checkProcess } from "../check/index.js";
import { createKernelSync, Process, Simulator } from "../engine/index.js";
import { createModelKernel } from "../model/index.js";
import type { KernelConfig, KernelSim } from "../types.js";
import { countersState, kernelState, stateDiff, vmaLayerState } from "./state.js";
import { startTasks, type Step, type Tasks } from "./steps.js";

/** The kernels could not be created (no engine build, a refused config): the run cannot go on. */
export class FuzzSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FuzzSetupError";
  }
}

/** The policies the reference model implements (src/model/policy.ts). */
export const MODEL_POLICIES: readonly string[] = ["linux-5.17", "seed-v2", "seed"];

export interface LockstepOptions {
  config: KernelConfig;
  /** run the reference model (default: when it implements the policy) */
  model?: boolean;
  /** run the engine (default true) */
  engine?: boolean;
  /** full state comparison and checkers every N steps and after the last (default 1: every step) */
  checkEvery?: number;
  /** the engine's kernel (default createKernelSync; tests pass a broken one) */
  createEngine?: (config: KernelConfig) => KernelSim;
}

export interface Failure {
  /** index of the failing step (0-based) */
  step: number;
  /** the class: what failed, numbers replaced by N */
  signature: string;
  /** the failure in full */
  detail: string;
}

export interface LockstepResult {
  failure: Failure | null;
  /** steps run */
  steps: number;
  /** full checks done */
  checks: number;
}

/** A message with its numbers (decimal or hex) replaced by N: failures that differ only in addresses share a class. */
export function normalize(s: string): string {
  return s.replace(/\b(0x)?[0-9a-f]*[0-9][0-9a-f]*\b/gi, "N");
}

/** Every checker's complaints about one kernel. */
export function checkAll(k: KernelSim): string[] {
  const out: string[] = [];
  for (const p of k.processes()) {
    for (const v of checkProcess(p)) out.push(`pid ${p.pid}: ${v}`);
    if (p instanceof Process) {
      const c = p.checkInternal();
      if (c !== 0) out.push(`pid ${p.pid}: the engine's VMA tree check failed (code ${c})`);
    }
  }
  out.push(...checkKernel(k));
  if (k instanceof Simulator) {
    const bad = k.rmapCheck();
    if (bad) out.push(`the engine's rmap walk misses mappings of ${bad} PTE(s)`);
  }
  return out;
}

/** A result that says the implementation broke (an exception other than a syscall's errno). */
function crashed(result: string): boolean {
  return result.startsWith("threw ") && !/errno \d+$/.test(result);
}

/** The implementations a run of this config uses. */
export function implementations(opts: LockstepOptions): { model: boolean; engine: boolean } {
  return {
    model: opts.model ?? MODEL_POLICIES.includes(opts.config.policy),
    engine: opts.engine ?? true,
  };
}

/** Runs `steps` on fresh kernels of opts.config until the first failure. */
export function runLockstep(steps: readonly Step[], opts: LockstepOptions): LockstepResult {
  const use = implementations(opts);
  const every = Math.max(1, opts.checkEvery ?? 1);
  let model: Tasks | null = null, engine: Tasks | null = null;
  let checks = 0;
  const fail = (step: number, what: string, detail: string): LockstepResult => ({
    failure: { step, signature: normalize(what), detail: `${what}\n${detail}`.trimEnd() }, steps: step + 1, checks,
  });
  try {
    if (use.model) model = startTasks(createModelKernel(opts.config));
    if (use.engine) engine = startTasks((opts.createEngine ?? createKernelSync)(opts.config));
  } catch (e) {
    // not a finding: the engine is missing or the config refused
    throw new FuzzSetupError(`cannot create the kernel: ${(e as Error).message}`);
  }
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    let rm = "", re = "";
    if (model) rm = s.run(model);
    if (engine) {
      try {
        re = s.run(engine);
      } catch (e) {
        // an engine error that escaped the call wrapper (a trap, out of memory)
        return fail(i, `crash (engine): ${s.verb}: ${(e as Error).name}`, `${s.text}: ${(e as Error).message}`);
      }
    }
    if (model && crashed(rm)) return fail(i, `crash (model): ${s.verb}: ${rm}`, s.text);
    if (engine && crashed(re)) return fail(i, `crash (engine): ${s.verb}: ${re}`, s.text);
    if (model && engine) {
      if (rm !== re) return fail(i, `diverge: ${s.verb} result`, `${s.text}\n  model:  ${rm}\n  engine: ${re}`);
      const a = countersState(model.kernel), b = countersState(engine.kernel);
      if (a !== b) return fail(i, `diverge: ${s.verb}: mm counters`, `${s.text}\n${stateDiff(a, b)}`);
    }
    if ((i + 1) % every !== 0 && i !== steps.length - 1) continue;
    checks++;
    if (model && engine) {
      const l = vmaLayerState(model.kernel), m = vmaLayerState(engine.kernel);
      if (l !== m) return fail(i, `diverge: ${s.verb}: VMA layer`, `${s.text}\n${stateDiff(l, m)}`);
      const a = kernelState(model.kernel), b = kernelState(engine.kernel);
      if (a !== b) return fail(i, `diverge: ${s.verb}: memory state`, `${s.text}\n${stateDiff(a, b)}`);
    }
    const cm = model ? checkAll(model.kernel) : [];
    const ce = engine ? checkAll(engine.kernel) : [];
    if (model && engine && (cm.length === 0) !== (ce.length === 0)) {
      const who = cm.length ? "model" : "engine";
      const v = cm[0] ?? ce[0]!;
      return fail(i, `diverge: checker fails on the ${who} only: ${v}`, s.text);
    }
    const v = cm[0] ?? ce[0];
    if (v !== undefined) return fail(i, `checker: ${v.replace(/^pid \d+: /, "")}`, `${s.text}\n${[...(cm.length ? cm : ce)].slice(0, 5).join("\n")}`);
  }
  return { failure: null, steps: steps.length, checks };
}
