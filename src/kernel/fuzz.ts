// Random differential testing against the real kernel: generated scenario
// scripts (src/scenario/generate.ts) run on the running kernel (native runner)
// and in the engine under a policy (default linux-6.18); their outputs are
// compared after masking what depends on the process image (imageIndependent),
// or the layout only (layoutOnly). Mismatches are grouped into classes by a
// signature (which op or dump field differs first, and how), and the first
// script of each class is shrunk to a minimal script that still shows the
// same mismatch (shrink.ts). Deterministic: the i-th script of seed S is
// generateScript({ seed: scriptSeed(S, i), ... }), whatever else runs.

import { unifiedDiff } from "../report/diff.js";
import { GENERATED_OPS, generateScript } from "../scenario/generate.js";
import { NotModelledError, runScenario } from "../scenario/run.js";
import type { KernelConfig, KernelSim, Policy } from "../types.js";
import { imageIndependent, layoutOnly } from "./native.js";
import { shrinkScript } from "./shrink.js";

/** A scenario run's output and exit status (native runner or engine). */
export interface RunOutput {
  output: string;
  status: number;
}

export type KernelRunner = (script: string) => RunOutput | Promise<RunOutput>;
export type EngineFactory = (config: KernelConfig) => KernelSim | Promise<KernelSim>;

/**
 * Ops the fuzzer generates by default: every generated op but `mseal` (a sealed
 * VMA can never be unmapped again, so one early seal freezes much of a short
 * script's window; it is still covered by the corpus).
 */
export const FUZZ_OPS: readonly string[] = GENERATED_OPS.filter((o) => o !== "mseal");

export interface FuzzOptions {
  /** The run's seed: script i is generated from scriptSeed(seed, i). */
  seed: number;
  /** Number of scripts. */
  count: number;
  /** Index of the first script (default 0): `start: i, count: 1` re-runs script i alone. */
  start?: number;
  /** Operations per script (default 20). */
  ops?: number;
  /** The engine's policy (default linux-6.18). */
  policy?: Policy;
  /** Compare layouts only (no anon pgoff, no av=). */
  layout?: boolean;
  /** The generator's `allow` list (default FUZZ_OPS). */
  allow?: readonly string[];
  /** The generator's topDown option (default false: every address inside the arena). */
  topDown?: boolean;
  /** Pages of the arena the generator uses (default 512). */
  arenaPages?: number;
  /** Shrink the first script of each mismatch class (default true). */
  shrink?: boolean;
  /** Budget of test runs per shrink (default 1500). */
  maxShrinkTests?: number;
  /** Runs a script on the real kernel. */
  runKernel: KernelRunner;
  /** Creates the engine's kernel (a fresh one for every run). */
  createKernel: EngineFactory;
  /** Called after each script (progress). */
  onScript?: (outcome: ScriptOutcome) => void;
}

/** The comparison of one script's two runs. */
export interface Comparison {
  agree: boolean;
  /** What differs first, e.g. `mremap: EFAULT vs ok @?N` or `dump: av` ("" when they agree). */
  signature: string;
  /** Unified diff of the compared (masked) outputs, kernel (---) vs engine (+++). */
  diff: string;
  /** They agree only up to the kernel's reuse of a freed anon_vma's address (sameUpToAnonVmaReuse). */
  avReuse?: boolean;
}

export interface ScriptOutcome extends Comparison {
  index: number;
  seed: number;
  script: string;
  /** Operations the kernel ran (output lines with a result). */
  ops: number;
}

/** A group of mismatching scripts with one signature, and its minimal script. */
export interface MismatchClass {
  signature: string;
  /** The mismatching scripts of this class, by index. */
  scripts: ScriptOutcome[];
  /** The first script shrunk: minimal script, its diff, and how many runs the shrink took. */
  minimal?: { script: string; diff: string; tests: number };
}

export interface FuzzReport {
  seed: number;
  policy: Policy;
  layout: boolean;
  run: number;
  agree: number;
  /** Of the agreeing scripts, those that agree only up to anon_vma address reuse. */
  avReuse: number;
  ops: number;
  ms: number;
  classes: MismatchClass[];
}

/** FNV-1a over the text `S:i`: the generator seed of script i of a run with seed S (a uint32). */
export function scriptSeed(seed: number, index: number): number {
  let h = 0x811c9dc5;
  for (const c of `${seed}:${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** A result text with its numbers replaced by N (`ok @17` -> `ok @N`). */
function resultClass(r: string): string {
  return r.replace(/\d+/g, "N");
}

const DUMP_FIELDS = ["start", "end", "perms", "kind", "pgoff"] as const;

/** The first field in which two dump body lines differ. */
function dumpField(a: string | undefined, b: string | undefined): string {
  const pa = a?.trim().split(" ") ?? [];
  const pb = b?.trim().split(" ") ?? [];
  if (a === undefined || b === undefined || a.trim().startsWith("(") || b.trim().startsWith("(")) return "layout";
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    if (i < 2) return "layout";
    if (i < DUMP_FIELDS.length) return DUMP_FIELDS[i]!;
    const key = (pa[i] ?? pb[i] ?? "").replace(/=.*$/, "");
    return key || "layout";
  }
  return "layout";
}

/** The op name of an output line (`mremap 1 2 3 => ok` -> mremap). */
function opName(line: string): string {
  return line.split(" ")[0] ?? "";
}

/** Signature of the first difference of two (masked) outputs; "" when equal. */
export function mismatchSignature(kernel: string, engine: string): string {
  if (kernel === engine) return "";
  const a = kernel.split("\n");
  const b = engine.split("\n");
  let j = 0;
  while (j < a.length && j < b.length && a[j] === b[j]) j++;
  const la = a[j];
  const lb = b[j];
  const body = (l: string | undefined) => l !== undefined && l.startsWith("  ");
  if (body(la) || body(lb)) {
    let h = j - 1;
    while (h >= 0 && a[h]!.startsWith("  ")) h--;
    const header = h >= 0 ? opName(a[h]!) : "?";
    return `${header}: ${dumpField(la, lb)}`;
  }
  if (la === undefined || lb === undefined || la === "" || lb === "") return "output ends early";
  const ma = / => (.*)$/.exec(la);
  const mb = / => (.*)$/.exec(lb);
  if (ma && mb && la.slice(0, ma.index) === lb.slice(0, mb.index)) {
    return `${opName(la)}: ${resultClass(ma[1]!)} vs ${resultClass(mb[1]!)}`;
  }
  return "output structure";
}

const AV_FIELD = / av=(\d+)\/(\d+)/;

/**
 * Whether two outputs that differ only in their `av=A/R` numbers are the same
 * up to anon_vma identity, which both number by address: an anon_vma freed
 * and a new one allocated at the same address (the slab hands out the last
 * freed object first) keep one number. The engine always reuses the last
 * freed one; the kernel usually does, but on a busy machine another task or
 * CPU may take it. Accepted when, on every dump line, the lines are equal but
 * for the numbers, and the numbers pair up consistently:
 *   - within one dump, kernel and engine numbers are in bijection;
 *   - a number that turns up with a new partner on the other side (that
 *     side reused an address the other did not) never shows its previous
 *     partner again (that anon_vma was freed).
 */
export function sameUpToAnonVmaReuse(kernel: string, engine: string): boolean {
  return alignAnonVmaNumbers(kernel, engine).diverges === -1;
}

/**
 * The engine's output with its av= numbers replaced by the kernel's wherever
 * the two pair up as sameUpToAnonVmaReuse requires, up to `diverges`: the
 * index of the first line that differs otherwise (-1 when none does and the
 * outputs have as many lines).
 */
export function alignAnonVmaNumbers(kernel: string, engine: string): { engine: string; diverges: number } {
  const a = kernel.split("\n");
  const b = engine.split("\n");
  const out = [...b];
  const e2k = new Map<string, string>();
  const k2e = new Map<string, string>();
  const deadE = new Set<string>();
  const deadK = new Set<string>();
  let dumpK = new Map<string, string>();
  let dumpE = new Map<string, string>();
  const pairs = (ma: RegExpExecArray, mb: RegExpExecArray): boolean => {
    for (const [k, e] of [[ma[1]!, mb[1]!], [ma[2]!, mb[2]!]] as const) {
      if (dumpK.has(k) ? dumpK.get(k) !== e : dumpE.has(e)) return false;
      if (deadE.has(e) || deadK.has(k)) return false;
    }
    for (const [k, e] of [[ma[1]!, mb[1]!], [ma[2]!, mb[2]!]] as const) {
      dumpK.set(k, e);
      dumpE.set(e, k);
      const prevK = e2k.get(e);
      if (prevK !== undefined && prevK !== k) deadK.add(prevK);
      e2k.set(e, k);
      const prevE = k2e.get(k);
      if (prevE !== undefined && prevE !== e) deadE.add(prevE);
      k2e.set(k, e);
    }
    return true;
  };
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const la = a[i]!;
    const lb = b[i]!;
    if (!la.startsWith("  ")) {
      if (la !== lb) return { engine: out.join("\n"), diverges: i };
      dumpK = new Map();
      dumpE = new Map();
      continue;
    }
    const ma = AV_FIELD.exec(la);
    const mb = AV_FIELD.exec(lb);
    if (!ma || !mb) {
      if (la !== lb) return { engine: out.join("\n"), diverges: i };
      continue;
    }
    if (la.replace(AV_FIELD, " av=") !== lb.replace(AV_FIELD, " av=") || !pairs(ma, mb)) {
      return { engine: out.join("\n"), diverges: i };
    }
    out[i] = la;
  }
  return { engine: out.join("\n"), diverges: a.length === b.length ? -1 : n };
}

/** Compares a kernel run and an engine run (outputs masked for the mode, then exit statuses). */
export function compareRuns(kernel: RunOutput, engine: RunOutput, layout: boolean): Comparison {
  const mask = layout ? layoutOnly : imageIndependent;
  const a = mask(kernel.output);
  const mode = layout ? ", layout only" : "";
  let b = mask(engine.output);
  let avReuse = false;
  if (a !== b && !layout) {
    // av= numbers explained by the kernel's anon_vma address reuse take the kernel's numbers
    const aligned = alignAnonVmaNumbers(a, b).engine;
    avReuse = aligned !== b;
    b = aligned;
  }
  const diff = unifiedDiff(`kernel${mode}`, a, `engine${mode}`, b);
  if (diff !== "") return { agree: false, signature: mismatchSignature(a, b), diff };
  if (kernel.status !== engine.status) {
    return { agree: false, signature: "exit status", diff: `exit status: kernel ${kernel.status}, engine ${engine.status}\n` };
  }
  return avReuse ? { agree: true, signature: "", diff: "", avReuse } : { agree: true, signature: "", diff: "" };
}

/** Number of operations in an output: lines with a result (` => `), dump bodies and echo excluded. */
function opsIn(output: string): number {
  let n = 0;
  for (const line of output.split("\n")) if (!line.startsWith("  ") && line.includes(" => ")) n++;
  return n;
}

/** The fuzzer's engine run: a fresh kernel of the policy; an engine error becomes a pseudo-output. */
async function runEngine(createKernel: EngineFactory, policy: Policy, script: string): Promise<RunOutput | { error: string }> {
  const kernel = await createKernel({ policy });
  try {
    const r = runScenario(kernel, script);
    return { output: r.output, status: r.status };
  } catch (e) {
    if (e instanceof NotModelledError) return { error: `engine: not modelled (${e.ops.map((o) => o.op).join(", ")})` };
    const err = e as Error;
    return { error: `engine: ${err.name ?? "error"}: ${String(err.message).split("\n")[0]}` };
  }
}

/** Runs one script both ways and compares. */
async function compareScript(opts: FuzzOptions, policy: Policy, script: string): Promise<Comparison & { kernel: RunOutput }> {
  const kernel = await opts.runKernel(script);
  const engine = await runEngine(opts.createKernel, policy, script);
  if ("error" in engine) return { agree: false, signature: engine.error, diff: `${engine.error}\n`, kernel };
  return { ...compareRuns(kernel, engine, opts.layout ?? false), kernel };
}

/**
 * Runs `count` generated scripts on the kernel and in the engine, and returns
 * the agreement figures and the mismatch classes (each with its first script
 * shrunk, unless `shrink` is false). A script whose kernel output changes
 * from one run to the next is its own class, `kernel nondeterministic`: a
 * generator defect, never shrunk.
 */
export async function fuzzKernel(opts: FuzzOptions): Promise<FuzzReport> {
  const policy = opts.policy ?? "linux-6.18";
  const layout = opts.layout ?? false;
  const ops = opts.ops ?? 20;
  const first = opts.start ?? 0;
  const mask = layout ? layoutOnly : imageIndependent;
  const t0 = performance.now();
  const classes = new Map<string, MismatchClass>();
  let agree = 0;
  let avReuse = 0;
  let totalOps = 0;
  for (let i = first; i < first + opts.count; i++) {
    const seed = scriptSeed(opts.seed, i);
    const script = generateScript({
      seed, ops, allow: opts.allow ?? FUZZ_OPS, topDown: opts.topDown ?? false, arenaPages: opts.arenaPages ?? 512,
    });
    const c = await compareScript(opts, policy, script);
    totalOps += opsIn(c.kernel.output);
    let outcome: ScriptOutcome = { index: i, seed, script, ops: opsIn(c.kernel.output), agree: c.agree, signature: c.signature, diff: c.diff };
    if (c.agree) {
      agree++;
      if (c.avReuse) avReuse++;
      outcome.avReuse = c.avReuse;
    } else {
      const again = await opts.runKernel(script);
      if (mask(again.output) !== mask(c.kernel.output) || again.status !== c.kernel.status) {
        outcome = {
          ...outcome, signature: "kernel nondeterministic",
          diff: unifiedDiff("kernel, run 1", mask(c.kernel.output), "kernel, run 2", mask(again.output)),
        };
      }
      let cls = classes.get(outcome.signature);
      if (!cls) {
        cls = { signature: outcome.signature, scripts: [] };
        classes.set(outcome.signature, cls);
      }
      cls.scripts.push(outcome);
    }
    opts.onScript?.(outcome);
  }
  if (opts.shrink ?? true) {
    for (const cls of classes.values()) {
      if (cls.signature === "kernel nondeterministic") continue;
      const target = cls.signature;
      const stillFails = async (s: string): Promise<boolean> => {
        const r = await compareScript(opts, policy, s);
        return !r.agree && r.signature === target;
      };
      const m = await shrinkScript(cls.scripts[0]!.script, stillFails, { maxTests: opts.maxShrinkTests ?? 1500 });
      const final = await compareScript(opts, policy, m.script);
      cls.minimal = { script: m.script, diff: final.diff, tests: m.tests };
    }
  }
  return {
    seed: opts.seed, policy, layout, run: opts.count, agree, avReuse, ops: totalOps, ms: performance.now() - t0,
    classes: [...classes.values()],
  };
}
