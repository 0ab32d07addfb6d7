// `vmasim fuzz [--policy P,...|all] [--ops N] [--seed S] [--time T] [--set K=V]
// [--check-every N] [--no-shrink] [--replay FILE]`: random fuzz scripts run by
// the engine and the reference model in lock step with the checkers
// (src/fuzz/), a minimal script per failure class; docs/cli.md "vmasim fuzz".
// stdout is deterministic for a seed and --ops; timings go to stderr.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, parseSetting } from "../config/config.js";
import { documentedDefect } from "../fuzz/defects.js";
import { formatReport, fuzzPolicy, passed, type PolicyReport } from "../fuzz/fuzz.js";
import { FuzzSetupError, implementations, runLockstep } from "../fuzz/lockstep.js";
import { parseSteps, StepParseError } from "../fuzz/steps.js";
import { POLICIES, type KernelConfig, type Policy } from "../types.js";
import { knobsFromArgs } from "./host.js";
import type { CliIo } from "./main.js";
import { progressOn } from "./progress.js";
import { policiesOf } from "./policy_list.js";
import { COMMAND_HELP } from "./usage.js";

function usage(io: CliIo, msg: string): number {
  io.stderr.write(`vmasim: fuzz: ${msg}\nTry 'vmasim fuzz --help'.\n`);
  return 2;
}

/** A whole number option in [min, 2^53). */
function whole(v: string | undefined, name: string, dflt: number, min: number): number | string {
  if (v === undefined) return dflt;
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < min) return `--${name} needs a whole number >= ${min}, not '${v}'`;
  return Number(v);
}

/** A fuzz script's directives (`policy P`, `set K=V`) and its step lines. */
export function splitFuzzScript(text: string): { policy: Policy | null; set: Partial<KernelConfig>; lines: string[] } {
  let policy: Policy | null = null;
  const set: Record<string, number | boolean> = {};
  const lines: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const l = raw.replace(/#.*$/, "").trim();
    const m = /^(policy|set)\s+(\S+)$/.exec(l);
    if (!m) {
      lines.push(raw);
      return;
    }
    if (m[1] === "policy") {
      if (!(POLICIES as readonly string[]).includes(m[2]!)) throw new StepParseError(i + 1, raw, `unknown policy '${m[2]}'`);
      policy = m[2] as Policy;
    } else {
      try {
        const [k, v] = parseSetting(m[2]!);
        set[k] = v;
      } catch (e) {
        throw new StepParseError(i + 1, raw, (e as Error).message);
      }
    }
    lines.push(""); // keeps line numbers
  });
  return { policy, set: set as Partial<KernelConfig>, lines };
}

/** `--replay FILE`: one fuzz script, checked after every step. */
function replay(io: CliIo, file: string, policyArg: string | undefined, knobs: Partial<KernelConfig>): number {
  let text: string;
  try {
    text = file === "-" ? readFileSync(0, "utf8") : readFileSync(file, "utf8");
  } catch (e) {
    io.stderr.write(`vmasim: fuzz: cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 2;
  }
  let script, steps;
  try {
    script = splitFuzzScript(text);
    steps = parseSteps(script.lines);
  } catch (e) {
    if (e instanceof StepParseError) {
      io.stderr.write(`vmasim: fuzz: ${file}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let policy = script.policy ?? "linux-5.17";
  if (policyArg !== undefined) {
    const ps = policiesOf(policyArg);
    if (typeof ps === "string" || ps.length !== 1) return usage(io, typeof ps === "string" ? ps : "--replay takes one policy");
    policy = ps[0]!;
  }
  const config: KernelConfig = { ...script.set, ...knobs, policy };
  let r;
  try {
    r = runLockstep(steps, { config });
  } catch (e) {
    if (!(e instanceof FuzzSetupError)) throw e;
    io.stderr.write(`vmasim: fuzz: ${file}: ${e.message}\n`);
    return 2;
  }
  const who = implementations({ config }).model ? "engine == model" : "engine alone";
  if (!r.failure) {
    io.stdout.write(`${file}: ${r.steps} steps under ${policy} (${who}): no failure\n`);
    return 0;
  }
  const doc = documentedDefect(policy, r.failure.signature);
  io.stdout.write(`${file}: step ${r.failure.step + 1} under ${policy} (${who}): ${r.failure.signature}${doc ? ` [documented: ${doc}]` : ""}\n` +
    r.failure.detail.split("\n").map((l) => `  ${l}\n`).join(""));
  return doc ? 0 : 1;
}

export async function cmdFuzz(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: false, strict: true,
      options: {
        policy: { type: "string" }, ops: { type: "string" }, seed: { type: "string" }, time: { type: "string" },
        config: { type: "string", multiple: true }, set: { type: "string", multiple: true },
        "check-every": { type: "string" }, "no-shrink": { type: "boolean" }, replay: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    io.stdout.write(COMMAND_HELP.fuzz!);
    return 0;
  }
  let knobs: Partial<KernelConfig>;
  try {
    knobs = knobsFromArgs(values.config ?? [], values.set ?? []) as Partial<KernelConfig>;
  } catch (e) {
    if (e instanceof ConfigError) return usage(io, e.message);
    throw e;
  }
  if (values.replay !== undefined) return replay(io, values.replay, values.policy, knobs);
  const policies = policiesOf(values.policy ?? "all");
  if (typeof policies === "string") return usage(io, policies);
  const ops = whole(values.ops, "ops", 10_000, 1);
  const seed = whole(values.seed, "seed", 1, 0);
  const every = whole(values["check-every"], "check-every", 1, 1);
  const time = values.time === undefined ? undefined : Number(values.time);
  for (const v of [ops, seed, every]) if (typeof v === "string") return usage(io, v);
  if (time !== undefined && !(time > 0 && Number.isFinite(time))) return usage(io, `--time needs a number of seconds > 0, not '${values.time}'`);
  const progress = progressOn(io.stderr);
  let status = 0;
  for (const policy of policies) {
    const t0 = performance.now();
    let report: PolicyReport;
    try {
      report = await fuzzPolicy({
      policy, ops: ops as number, seed: seed as number, set: knobs, checkEvery: every as number,
      timeMs: time === undefined ? undefined : time * 1000, shrink: !values["no-shrink"],
      onEpisode: ({ ops: done, classes }) => {
        const s = (performance.now() - t0) / 1000;
        progress.update(`fuzz ${policy}: ${done}/${ops} ops, ${classes} failure class(es), ${Math.round(done / Math.max(s, 1e-3))} ops/s`);
      },
      });
    } catch (e) {
      if (!(e instanceof FuzzSetupError)) throw e;
      progress.done();
      io.stderr.write(`vmasim: fuzz: ${policy}: ${e.message}\n`);
      return 2;
    }
    progress.done();
    const s = (performance.now() - t0) / 1000;
    io.stderr.write(`fuzz ${policy}: ${report.ops} ops in ${s.toFixed(1)} s (${Math.round(report.ops / Math.max(s, 1e-3))} ops/s)${report.timedOut ? ", stopped by --time" : ""}\n`);
    io.stdout.write(formatReport(report));
    if (!passed(report)) status = 1;
  }
  return status;
}
