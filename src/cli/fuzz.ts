// `vmasim fuzz [--policy P,...|all] [--ops N] [--seed S] [--time T] [--set K=V]
// [--check-every N] [--no-shrink] [--replay FILE]`: random fuzz scripts run by
// the engine and the reference model in lock step with the checkers
// (src/fuzz/), a minimal script per failure class; docs/cli.md "vmasim fuzz".
// With `--gen KIND,... [--events N] [--pids P]` generated workloads are
// replayed instead (src/fuzz/gen.ts).
// stdout is deterministic for a seed and --ops; timings go to stderr.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, parseSetting } from "../config/config.js";
import { documentedDefect } from "../fuzz/defects.js";
import { formatReport, fuzzPolicy, passed, type PolicyReport } from "../fuzz/fuzz.js";
import { formatGenReport, fuzzGenerated, genPassed } from "../fuzz/gen.js";
import { GEN_KINDS, type GenKind } from "../gen/generate.js";
import type { Knobs } from "../kernel/profile.js";
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
        gen: { type: "string" }, events: { type: "string" }, pids: { type: "string" },
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
  if (values.gen !== undefined && values.replay !== undefined) return usage(io, "--gen and --replay do not go together");
  if (values.gen === undefined) {
    for (const o of ["events", "pids"] as const) if (values[o] !== undefined) return usage(io, `--${o} is for --gen`);
  }
  if (values.replay !== undefined) return replay(io, values.replay, values.policy, knobs);
  const policies = policiesOf(values.policy ?? "all");
  if (typeof policies === "string") return usage(io, policies);
  const time = values.time === undefined ? undefined : Number(values.time);
  if (time !== undefined && !(time > 0 && Number.isFinite(time))) return usage(io, `--time needs a number of seconds > 0, not '${values.time}'`);
  if (values.gen !== undefined) return fuzzGen(io, values, policies, knobs, time);
  const ops = whole(values.ops, "ops", 10_000, 1);
  const seed = whole(values.seed, "seed", 1, 0);
  const every = whole(values["check-every"], "check-every", 1, 1);
  for (const v of [ops, seed, every]) if (typeof v === "string") return usage(io, v);
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

/** `--gen KIND,...`: generated traces of each kind under each policy (src/fuzz/gen.ts). */
async function fuzzGen(
  io: CliIo, values: Record<string, string | boolean | string[] | undefined>, policies: Policy[], knobs: Partial<KernelConfig>, time: number | undefined,
): Promise<number> {
  const kinds: GenKind[] = [];
  for (const k of (values.gen as string).split(",")) {
    if (!(GEN_KINDS as readonly string[]).includes(k)) return usage(io, `unknown kind '${k}' for --gen (kinds: ${GEN_KINDS.join(", ")})`);
    if (!kinds.includes(k as GenKind)) kinds.push(k as GenKind);
  }
  const str = (k: string) => values[k] as string | undefined;
  const events = whole(str("events"), "events", 10_000, 17);
  const seed = whole(str("seed"), "seed", 1, 0);
  const every = whole(str("check-every"), "check-every", 1000, 1);
  const pids = str("pids") === undefined ? undefined : whole(str("pids"), "pids", 1, 1);
  for (const v of [events, seed, every, pids]) if (typeof v === "string") return usage(io, v);
  if ((seed as number) > 0xffffffff) return usage(io, `--seed must be at most 4294967295 with --gen, not '${str("seed")}'`);
  if (pids !== undefined && (pids as number) > 1024) return usage(io, `--pids must be at most 1024, not '${str("pids")}'`);
  const ops = whole(str("ops"), "ops", events as number, 1);
  if (typeof ops === "string") return usage(io, ops);
  const progress = progressOn(io.stderr);
  let status = 0;
  for (const kind of kinds) {
    for (const policy of policies) {
      const t0 = performance.now();
      let report;
      try {
        report = await fuzzGenerated({
          kind, policy, events: events as number, ops: ops as number, seed: seed as number, pids: pids as number | undefined,
          set: knobs as Knobs, checkEvery: every as number, timeMs: time === undefined ? undefined : time * 1000,
          onTrace: ({ ops: done, classes }) => progress.update(`fuzz --gen ${kind} ${policy}: ${done}/${ops} events, ${classes} failure class(es)`),
        });
      } catch (e) {
        progress.done();
        io.stderr.write(`vmasim: fuzz: ${kind} under ${policy}: ${(e as Error).message}\n`);
        return 2;
      }
      progress.done();
      const s = (performance.now() - t0) / 1000;
      io.stderr.write(`fuzz --gen ${kind} ${policy}: ${report.ops} events in ${s.toFixed(1)} s (${Math.round(report.ops / Math.max(s, 1e-3))} events/s)${report.timedOut ? ", stopped by --time" : ""}\n`);
      io.stdout.write(formatGenReport(report));
      if (!genPassed(report)) status = 1;
    }
  }
  return status;
}
