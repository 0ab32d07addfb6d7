// A sweep's SPEC.json and its jobs: every (input, policy, configuration).
// Inputs are content-addressed: a trace job names its files by SHA-256, so a
// worker on another machine can fetch them (through Redis or a shared path),
// check them and cache them; a script job carries the script's text.

import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, posix, resolve } from "node:path";
import { ConfigError, configFromJson, configToJson } from "../config/config.js";
import { GenError, generateChunks } from "../gen/generate.js";
import { checkSource, type GenSource, genName, isGenName, parseGenName } from "../gen/source.js";
import { generateScript } from "../scenario/generate.js";
import { recordingName } from "../replay/run.js";
import { POLICIES, type Policy } from "../types.js";

/** A SPEC that cannot be used: the message names the field. */
export class SpecError extends Error {}

/** One file of a trace input, by content. */
export interface InputFile {
  /** its name in the worker's input folder (the trace's own base name, so NAME.host.json still pairs with it) */
  name: string;
  sha256: string;
  bytes: number;
  /** where the sweep's machine read it (absolute); a worker uses it when the same path holds the same bytes */
  path: string;
}

export type JobInput =
  | { kind: "trace"; label: string; trace: InputFile; sidecar: InputFile | null; host: InputFile | null }
  | { kind: "script"; label: string; script: string; sha256: string }
  /** a generated workload (vmasim gen), made by the worker; `head`: SHA-256 of its first chunk, so a changed generator makes other job ids */
  | { kind: "gen"; label: string; gen: GenSource; head: string };

export interface Job {
  /** "INPUT | POLICY | CONFIG": the result's sort key, unique in a sweep */
  key: string;
  /** a hash of everything the result depends on: per-job result file name and queue job id */
  id: string;
  input: JobInput;
  policy: Policy;
  /** the knobs over the defaults (over the trace's host profile for traces), JSON form ("unlimited") */
  config: Record<string, number | boolean | string>;
  /** run the invariant checkers every this many trace events (0: only at the end of scripts) */
  checkEvery: number;
}

export interface Sweep {
  /** the SPEC file's folder: relative paths are relative to it */
  dir: string;
  inputs: JobInput[];
  policies: Policy[];
  configs: Record<string, number | boolean | string>[];
  checkEvery: number;
  /** how queue workers get trace files: "redis" (uploaded by the sweep) or "path" (a shared file system) */
  inputsVia: "redis" | "path";
  jobs: Job[];
}

const sha256 = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");

/** JSON of an object with its keys sorted, recursively (for hashes). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** Plain code-point order (not the locale's): the same on every machine. */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const FIELDS = new Set(["inputs", "policies", "configs", "checkEvery", "inputsVia"]);
const INPUT_FIELDS: Record<string, Set<string>> = {
  trace: new Set(["trace", "sidecar", "name"]),
  script: new Set(["script", "name"]),
  generate: new Set(["generate", "name"]),
  gen: new Set(["gen", "events", "seed", "seeds", "pids", "maxMapCount", "name"]),
};
const GENERATE_FIELDS = new Set(["seed", "ops", "count", "allow", "topDown"]);

function fileOf(path: string, where: string): InputFile {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new SpecError(`${where}: cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isFile()) throw new SpecError(`${where}: '${path}' is not a file`);
  const bytes = readFileSync(path);
  return { name: basename(path), sha256: sha256(bytes), bytes: bytes.length, path };
}

/** An input's name: its path as the SPEC writes it (normalized), the same on every machine. */
function labelOf(written: string): string {
  return posix.normalize(written.split("\\").join("/"));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function checkFields(obj: Record<string, unknown>, known: Set<string>, where: string): void {
  for (const k of Object.keys(obj)) if (!known.has(k)) throw new SpecError(`${where}: unknown field '${k}' (fields: ${[...known].join(", ")})`);
}

function str(v: unknown, where: string): string {
  if (typeof v !== "string" || v === "") throw new SpecError(`${where}: expected a non-empty string`);
  return v;
}

function wholeNumber(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new SpecError(`${where}: expected a whole number from ${min} to ${max}`);
  return v;
}

function traceInput(o: Record<string, unknown>, dir: string, where: string): JobInput {
  if (isGenName(str(o.trace, `${where}.trace`))) {
    if (o.sidecar !== undefined && o.sidecar !== null) throw new SpecError(`${where}.sidecar: a generated trace has no side-band`);
    let s: GenSource;
    try {
      s = parseGenName(o.trace as string);
    } catch (e) {
      if (e instanceof GenError) throw new SpecError(`${where}.trace: ${e.message}`);
      throw e;
    }
    return genInput(s, o.name === undefined ? genName(s) : str(o.name, `${where}.name`));
  }
  const trace = fileOf(resolve(dir, str(o.trace, `${where}.trace`)), `${where}.trace`);
  // the side-band: given, null for none, or NAME.mmap2.txt.gz next to a perf trace (as vmasim replay does)
  let sidecar: InputFile | null = null;
  if (o.sidecar !== undefined && o.sidecar !== null) sidecar = fileOf(resolve(dir, str(o.sidecar, `${where}.sidecar`)), `${where}.sidecar`);
  else if (o.sidecar === undefined && /\.perf\.txt(\.gz)?$/.test(trace.path)) {
    const f = `${recordingName(trace.path)}.mmap2.txt.gz`;
    if (existsSync(f)) sidecar = fileOf(f, `${where}.sidecar`);
  }
  // the recording's host profile (vmasim record's NAME.host.json): replay configures the engine from it
  const hostPath = `${recordingName(trace.path)}.host.json`;
  const host = existsSync(hostPath) ? fileOf(hostPath, `${where} (host profile)`) : null;
  if (sidecar && (sidecar.name === trace.name || (host && sidecar.name === host.name))) throw new SpecError(`${where}.sidecar: the side-band has the same name as the trace or its host profile`);
  const label = o.name === undefined ? labelOf(o.trace as string) : str(o.name, `${where}.name`);
  return { kind: "trace", label, trace, sidecar, host };
}

function scriptInput(o: Record<string, unknown>, dir: string, where: string): JobInput {
  const written = str(o.script, `${where}.script`);
  const path = resolve(dir, written);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new SpecError(`${where}.script: cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const label = o.name === undefined ? labelOf(written) : str(o.name, `${where}.name`);
  return { kind: "script", label, script: text, sha256: sha256(text) };
}

/** `{"generate": {"seed": S, "ops": K, "count": N}}`: N generated scripts, seeds S..S+N-1. */
function generatedInputs(o: Record<string, unknown>, where: string): JobInput[] {
  const g = o.generate;
  if (!isObject(g)) throw new SpecError(`${where}.generate: expected an object {"seed", "ops", "count", "allow", "topDown"}`);
  checkFields(g, GENERATE_FIELDS, `${where}.generate`);
  const seed = wholeNumber(g.seed, `${where}.generate.seed`, 0, 2 ** 32 - 1);
  const ops = wholeNumber(g.ops ?? 20, `${where}.generate.ops`, 1, 10000);
  const count = wholeNumber(g.count ?? 1, `${where}.generate.count`, 1, 100000);
  let allow: string[] | undefined;
  if (g.allow !== undefined) {
    if (!Array.isArray(g.allow) || !g.allow.every((a) => typeof a === "string")) throw new SpecError(`${where}.generate.allow: expected a list of op names`);
    allow = g.allow as string[];
  }
  if (g.topDown !== undefined && typeof g.topDown !== "boolean") throw new SpecError(`${where}.generate.topDown: expected true or false`);
  const name = o.name === undefined ? "generate" : str(o.name, `${where}.name`);
  const out: JobInput[] = [];
  for (let i = 0; i < count; i++) {
    let script: string;
    try {
      script = generateScript({ seed: seed + i, ops, allow, topDown: g.topDown as boolean | undefined });
    } catch (e) {
      throw new SpecError(`${where}.generate: ${(e as Error).message}`);
    }
    out.push({ kind: "script", label: `${name}:seed=${seed + i}:ops=${ops}`, script, sha256: sha256(script) });
  }
  return out;
}

/** A generated workload's input: the first chunk's hash stands for the generator's version. */
function genInput(s: GenSource, label: string): JobInput {
  const first = generateChunks(s.kind, s.opts).next().value as string;
  return { kind: "gen", label, gen: s, head: sha256(first) };
}

/**
 * `{"gen": KIND, "events": N, "seed": S}` (or `"seeds": [FIRST, LAST]`, one
 * input per seed), with `pids` and `maxMapCount` as vmasim gen takes them.
 */
function genInputs(o: Record<string, unknown>, where: string): JobInput[] {
  const kind = str(o.gen, `${where}.gen`);
  if ((o.seed === undefined) === (o.seeds === undefined)) throw new SpecError(`${where}: expected exactly one of "seed", "seeds"`);
  let seeds: number[];
  if (o.seed !== undefined) seeds = [wholeNumber(o.seed, `${where}.seed`, 0, 2 ** 32 - 1)];
  else {
    if (!Array.isArray(o.seeds) || o.seeds.length !== 2) throw new SpecError(`${where}.seeds: expected [FIRST, LAST]`);
    const first = wholeNumber(o.seeds[0], `${where}.seeds[0]`, 0, 2 ** 32 - 1);
    const last = wholeNumber(o.seeds[1], `${where}.seeds[1]`, first, Math.min(2 ** 32 - 1, first + 99999));
    seeds = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  }
  const events = wholeNumber(o.events, `${where}.events`, 0, Number.MAX_SAFE_INTEGER);
  const pids = o.pids === undefined ? undefined : wholeNumber(o.pids, `${where}.pids`, 0, 2 ** 31 - 1);
  const maxMapCount = o.maxMapCount === undefined ? undefined : wholeNumber(o.maxMapCount, `${where}.maxMapCount`, 0, 2 ** 31 - 1);
  const name = o.name === undefined ? null : str(o.name, `${where}.name`);
  return seeds.map((seed) => {
    const s = { kind, opts: { events, seed, pids, maxMapCount } } as GenSource;
    if (pids === undefined) delete s.opts.pids;
    if (maxMapCount === undefined) delete s.opts.maxMapCount;
    try {
      checkSource(s);
    } catch (e) {
      if (e instanceof GenError) throw new SpecError(`${where}: ${e.message}`);
      throw e;
    }
    return genInput(s, name === null ? genName(s) : seeds.length === 1 ? name : `${name}:seed=${seed}`);
  });
}

function configOf(v: unknown, where: string): Record<string, number | boolean | string> {
  if (!isObject(v)) throw new SpecError(`${where}: expected an object of configuration knobs ({} = the defaults)`);
  try {
    return configToJson(configFromJson(JSON.stringify(v), where));
  } catch (e) {
    if (e instanceof ConfigError) throw new SpecError(e.message.startsWith(where) ? e.message : `${where}: ${e.message}`);
    throw e;
  }
}

/** "defaults" or "k=v,k=v" in the knobs' own order. */
export function configLabel(c: Record<string, number | boolean | string>): string {
  const parts = Object.entries(c).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(",") : "defaults";
}

/** The sweep of a SPEC (its JSON text, and the path it was read from). */
export function parseSpec(text: string, specPath: string): Sweep {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new SpecError(`${specPath}: not JSON: ${(e as Error).message}`);
  }
  if (!isObject(obj)) throw new SpecError(`${specPath}: expected a JSON object {"inputs", "policies", "configs"}`);
  checkFields(obj, FIELDS, specPath);
  const dir = dirname(resolve(specPath));
  if (!Array.isArray(obj.inputs) || obj.inputs.length === 0) throw new SpecError(`${specPath}: "inputs" must be a non-empty list`);
  const inputs: JobInput[] = [];
  obj.inputs.forEach((i: unknown, n: number) => {
    const where = `inputs[${n}]`;
    if (!isObject(i)) throw new SpecError(`${where}: expected an object with "trace", "script", "generate" or "gen"`);
    const kinds = Object.keys(INPUT_FIELDS).filter((k) => k in i);
    if (kinds.length !== 1) throw new SpecError(`${where}: expected exactly one of "trace", "script", "generate", "gen"`);
    checkFields(i, INPUT_FIELDS[kinds[0]], where);
    if (kinds[0] === "trace") inputs.push(traceInput(i, dir, where));
    else if (kinds[0] === "script") inputs.push(scriptInput(i, dir, where));
    else if (kinds[0] === "gen") inputs.push(...genInputs(i, where));
    else inputs.push(...generatedInputs(i, where));
  });
  const labels = new Set<string>();
  for (const i of inputs) {
    if (labels.has(i.label)) throw new SpecError(`${specPath}: two inputs are named '${i.label}' (give one a "name")`);
    labels.add(i.label);
  }
  let policies: Policy[];
  if (obj.policies === undefined || obj.policies === "all") policies = [...POLICIES];
  else {
    if (!Array.isArray(obj.policies) || obj.policies.length === 0) throw new SpecError(`${specPath}: "policies" must be "all" or a non-empty list`);
    policies = [];
    for (const p of obj.policies) {
      if (!(POLICIES as readonly unknown[]).includes(p)) throw new SpecError(`policies: unknown policy '${String(p)}' (policies: ${POLICIES.join(", ")})`);
      if (policies.includes(p as Policy)) throw new SpecError(`policies: '${p}' is listed twice`);
      policies.push(p as Policy);
    }
  }
  const configsRaw = obj.configs === undefined ? [{}] : obj.configs;
  if (!Array.isArray(configsRaw) || configsRaw.length === 0) throw new SpecError(`${specPath}: "configs" must be a non-empty list of objects`);
  const configs = configsRaw.map((c: unknown, n: number) => configOf(c, `configs[${n}]`));
  const seen = new Set<string>();
  for (const c of configs) {
    const l = configLabel(c);
    if (seen.has(l)) throw new SpecError(`configs: the configuration '${l}' is listed twice`);
    seen.add(l);
  }
  const checkEvery = obj.checkEvery === undefined ? 0 : wholeNumber(obj.checkEvery, "checkEvery", 0, 2 ** 31 - 1);
  const via = obj.inputsVia ?? "redis";
  if (via !== "redis" && via !== "path") throw new SpecError(`inputsVia: expected "redis" or "path"`);
  const jobs: Job[] = [];
  for (const input of inputs) {
    for (const policy of policies) {
      for (const config of configs) {
        const key = `${input.label} | ${policy} | ${configLabel(config)}`;
        // the paths are left out: the same bytes give the same job wherever they are
        const content = input.kind === "trace"
          ? { kind: input.kind, label: input.label, files: [input.trace, input.sidecar, input.host].map((f) => f && { name: f.name, sha256: f.sha256 }) }
          : input.kind === "gen" ? { kind: input.kind, label: input.label, gen: input.gen, head: input.head }
            : { kind: input.kind, label: input.label, sha256: input.sha256 };
        const id = sha256(canonicalJson({ key, content, policy, config, checkEvery })).slice(0, 32);
        jobs.push({ key, id, input, policy, config, checkEvery });
      }
    }
  }
  jobs.sort((a, b) => byCodePoint(a.key, b.key));
  return { dir, inputs, policies, configs, checkEvery, inputsVia: via, jobs };
}
