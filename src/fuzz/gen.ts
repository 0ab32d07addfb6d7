// `vmasim fuzz --gen KIND,...`: generated workloads (src/gen/) replayed through
// the replay path (src/replay/replayer.ts). A generated trace is valid by
// construction (test/gen/gen.test.ts), so anything the replay reports against
// it is a failure: a call whose result differs from the trace's, an event the
// replay does not model, a fault the engine signals, a VMA left at the end,
// an engine crash. For the policies the reference model implements, a second
// Replayer drives the model (gen_model.ts) in lock step, event by event: the
// mm counters of every process must agree after every event, and every
// `checkEvery` events (and at the end) the VMA layers and the whole memory
// state are compared; then, for every policy, the checkers run (lockstep.ts
// checkAll(): checkProcess, checkKernel, the engine's tree check and rmap
// walk). Without the model the engine takes the events in batches (the
// typed batch of faults) up to each check. Traces of --events N each are made
// from seeds S, S+1, ... until --ops events have run; failures are grouped by
// signature (lockstep.ts normalize()), the first of each class kept with its
// seed and event (a failure seen at a sampled check is located again with
// checks after every event), and a command that makes the trace again.
import { createKernel, type Simulator } from "../engine/simulator.js";
import type { Knobs } from "../kernel/profile.js";
import { genCommand, type GenKind, type GenOptions } from "../gen/generate.js";
import { genKnobs } from "../gen/replay.js";
import { type GenSource, genEventBatches } from "../gen/source.js";
import { type ReplayResult, Replayer } from "../replay/replayer.js";
import type { TraceEvent } from "../trace/events.js";
import type { KernelConfig, Policy } from "../types.js";
import { documentedDefect } from "./defects.js";
import { modelForReplay } from "./gen_model.js";
import { checkAll, MODEL_POLICIES, normalize } from "./lockstep.js";
import { countersState, kernelState, stateDiff, vmaLayerState } from "./state.js";

/** The adversarial kind's vm.max_map_count under fuzz (unless --set gives one): low enough that a short trace reaches it. */
export const GEN_FUZZ_MAX_MAP_COUNT = 1000;
/** A failure seen at a sampled check up to this event is located again with checks after every event. */
const LOCATE_MAX_EVENTS = 20000;

export interface GenFuzzOptions {
  kind: GenKind;
  policy: Policy;
  /** events per trace */
  events: number;
  /** events to run in all (default: one trace) */
  ops?: number;
  /** the first trace's seed; the next traces take the next seeds */
  seed: number;
  /** make's -j / processes at once (vmasim gen --pids) */
  pids?: number;
  /** knobs over the workload's (--set) */
  set?: Knobs;
  /** the checkers every N events (default 1000) and at the end */
  checkEvery?: number;
  /** stop after this many milliseconds (at a trace's end) */
  timeMs?: number;
  now?: () => number;
  /** the engine's kernel (tests pass a broken one) */
  createEngine?: (config: KernelConfig) => Promise<Simulator>;
  onTrace?: (done: { ops: number; traces: number; classes: number }) => void;
}

export interface GenFailure {
  signature: string;
  detail: string;
  /** the event it was seen at (the trace's LINE), and the first event it may have come from */
  event: number;
  from: number;
}

export interface GenFuzzClass {
  signature: string;
  /** traces that showed it */
  count: number;
  /** the first trace that did */
  source: GenSource;
  failure: GenFailure;
  documented: string | null;
}

export interface GenFuzzReport {
  kind: GenKind;
  policy: Policy;
  /** the reference model ran in lock step (false: engine and checkers) */
  model: boolean;
  ops: number;
  traces: number;
  checkEvery: number;
  /** the knobs the engine ran with (the workload's, then --set) */
  knobs: Knobs;
  classes: GenFuzzClass[];
  timedOut: boolean;
}

/** The generator's options for a kind: the adversarial kind fills the kernel's max_map_count. */
export function genFuzzOptions(kind: GenKind, events: number, seed: number, pids: number | undefined, set: Knobs): GenOptions {
  const o: GenOptions = { events, seed };
  if (pids !== undefined) o.pids = pids;
  if (kind === "adversarial") o.maxMapCount = typeof set.max_map_count === "number" && Number.isFinite(set.max_map_count) ? set.max_map_count : GEN_FUZZ_MAX_MAP_COUNT;
  return o;
}

/** The failures a finished replay shows, in the order of the trace (each with the event it was seen at). */
function failuresOf(res: ReplayResult, ignored: Record<string, number>, events: number): GenFailure[] {
  const out: GenFailure[] = [];
  const at = (event: number, from: number, signature: string, detail: string) => out.push({ signature, detail: `${signature}\n${detail}`, event, from });
  for (const d of res.disagreements) {
    const m = /^(\w+)@(\d+): /.exec(d);
    at(Number(m?.[2] ?? 0), Number(m?.[2] ?? 0), `disagree: ${m?.[1] ?? "call"} result`, d);
  }
  for (const [k, n] of Object.entries(ignored)) at(events, 1, `unmodelled: ${k}`, `${n} event(s) of a kind the replay does not apply`);
  for (const [k, n] of Object.entries(res.unknownPid)) at(events, 1, `unknown task: ${k}`, `${n} event(s): ${res.unknownPidAt.join(", ")}`);
  for (const [k, n] of Object.entries(res.unfinished)) at(events, 1, `unfinished call: ${k}`, `${n} call(s) without a result`);
  for (const c of res.silentChildren) at(events, 1, "silent child", c);
  if (res.placement.differed) at(events, 1, "placement differs", `${res.placement.differed} of ${res.placement.checked} kernel-placed mmaps`);
  if (res.faults.signalled) at(events, 1, "fault signalled", `${res.faults.signalled} fault(s) the engine signals`);
  if (res.faults.notModelled) at(events, 1, "fault not modelled", `${res.faults.notModelled} fault(s) on special mappings`);
  if (res.vmas.final) at(events, events, "VMAs left at the end", `${res.vmas.final} VMA(s) after every process exited`);
  return out;
}

interface Run {
  source: GenSource;
  policy: Policy;
  knobs: Knobs;
  /** compare states and run the checkers every this many events */
  every: number;
  model: boolean;
  /** stop after this event (locating a failure) */
  stopAt?: number;
  createEngine: (config: KernelConfig) => Promise<Simulator>;
}

/** Replays one trace; its first failure (null: clean). */
async function runTrace(run: Run): Promise<GenFailure | null> {
  const { source, policy, knobs, every } = run;
  const config = { ...knobs, policy } as KernelConfig;
  const engine = await run.createEngine(config);
  const eng = new Replayer(engine);
  const m = run.model ? modelForReplay(config) : null;
  const mod = m ? new Replayer(m.kernel) : null;
  const stop = Math.min(run.stopAt ?? Infinity, source.opts.events);
  const fail = (event: number, signature: string, detail: string, from = event): GenFailure => ({ signature: normalize(signature), detail: `${signature}\n${detail}`.trimEnd(), event, from });
  /** states and checkers after event n */
  const check = (n: number): GenFailure | null => {
    const from = Math.max(1, n - every + 1);
    if (m) {
      const l = vmaLayerState(m.model), k = vmaLayerState(engine);
      if (l !== k) return fail(n, "diverge: VMA layer", stateDiff(l, k), from);
      const a = kernelState(m.model), b = kernelState(engine);
      if (a !== b) return fail(n, "diverge: memory state", stateDiff(a, b), from);
    }
    const cm = m ? checkAll(m.model) : [];
    const ce = checkAll(engine);
    if (m && (cm.length === 0) !== (ce.length === 0)) {
      const v = cm[0] ?? ce[0]!;
      return fail(n, `diverge: checker fails on the ${cm.length ? "model" : "engine"} only: ${v.replace(/^pid \d+: /, "")}`, v, from);
    }
    const v = cm[0] ?? ce[0];
    return v === undefined ? null : fail(n, `checker: ${v.replace(/^pid \d+: /, "")}`, (cm.length ? cm : ce).slice(0, 5).join("\n"), from);
  };
  let n = 0;
  for await (const batch of genEventBatches(source)) {
    for (let i = 0; i < batch.length && n < stop;) {
      // up to the next check
      const seg = batch.slice(i, i + Math.min(every - (n % every), stop - n));
      i += seg.length;
      if (mod) {
        for (const e of seg) {
          try {
            eng.apply(e);
          } catch (err) {
            return fail(e.line, `crash (engine): ${e.kind}: ${(err as Error).name}`, `${e.kind}@${e.line}: ${(err as Error).message}`);
          }
          try {
            mod.apply(e);
          } catch (err) {
            return fail(e.line, `crash (model): ${e.kind}: ${(err as Error).name}`, `${e.kind}@${e.line}: ${(err as Error).message}`);
          }
          const a = countersState(m!.model), b = countersState(engine);
          if (a !== b) return fail(e.line, `diverge: ${e.kind}: mm counters`, `${e.kind}@${e.line}\n${stateDiff(a, b)}`);
        }
      } else {
        try {
          eng.applyBatch(seg);
        } catch (err) {
          return crashAt(run, n, seg, err as Error);
        }
      }
      n += seg.length;
      if (n % every === 0 || n === stop) {
        const f = check(n);
        if (f) return f;
      }
    }
    if (n >= stop) break;
  }
  // a run cut short to locate a failure: its processes are still alive, the end's checks do not apply
  if (n < source.opts.events) return null;
  // the replay's own findings (a result that differs, ...) are read at the end; the earliest is reported
  const res = eng.finish();
  const f = failuresOf(res, eng.ignored, n);
  if (mod) {
    for (const d of mod.finish().disagreements) {
      const x = /^(\w+)@(\d+): /.exec(d);
      const signature = `disagree (model): ${x?.[1] ?? "call"} result`;
      f.push({ signature, detail: `${signature}\n${d}`, event: Number(x?.[2] ?? 0), from: Number(x?.[2] ?? 0) });
    }
  }
  return f.sort((a, b) => a.event - b.event)[0] ?? null;
}

/** An engine error in a batch: the events before it again, then the batch event by event, find the event. */
async function crashAt(run: Run, before: number, seg: readonly TraceEvent[], err: Error): Promise<GenFailure> {
  const r = new Replayer(await run.createEngine({ ...run.knobs, policy: run.policy } as KernelConfig));
  let n = 0;
  for await (const b of genEventBatches(run.source)) {
    if (n >= before) break;
    const part = b.slice(0, before - n);
    r.applyBatch(part);
    n += part.length;
  }
  for (const e of seg) {
    try {
      r.apply(e);
    } catch (again) {
      const signature = `crash (engine): ${e.kind}: ${(again as Error).name}`;
      return { signature, detail: `${signature}\n${e.kind}@${e.line}: ${(again as Error).message}`, event: e.line, from: e.line };
    }
  }
  return { signature: `crash (engine): ${err.name}`, detail: err.message, event: before + seg.length, from: before + 1 };
}

/** A failure seen at a sampled check, located with checks after every event (when it is early enough in the trace). */
async function locate(run: Run, f: GenFailure): Promise<GenFailure> {
  if (f.from === f.event || f.event > LOCATE_MAX_EVENTS) return f;
  return (await runTrace({ ...run, every: 1, stopAt: f.event })) ?? f;
}

/** Fuzzes one kind under one policy. */
export async function fuzzGenerated(opts: GenFuzzOptions): Promise<GenFuzzReport> {
  const now = opts.now ?? (() => performance.now());
  const t0 = now();
  const every = Math.max(1, opts.checkEvery ?? 1000);
  const set = opts.set ?? {};
  const total = opts.ops ?? opts.events;
  const classes = new Map<string, GenFuzzClass>();
  let ops = 0, traces = 0, timedOut = false;
  let knobs: Knobs = {};
  const model = MODEL_POLICIES.includes(opts.policy);
  while (ops < total) {
    if (opts.timeMs !== undefined && now() - t0 >= opts.timeMs) {
      timedOut = true;
      break;
    }
    const source: GenSource = { kind: opts.kind, opts: genFuzzOptions(opts.kind, opts.events, (opts.seed + traces) >>> 0, opts.pids, set) };
    knobs = { ...genKnobs(source), ...set };
    traces++;
    ops += opts.events;
    const run: Run = { source, policy: opts.policy, knobs, every, model, createEngine: opts.createEngine ?? createKernel };
    let f = await runTrace(run);
    if (f) {
      f = await locate(run, f);
      const cls = classes.get(f.signature);
      if (cls) cls.count++;
      else classes.set(f.signature, { signature: f.signature, count: 1, source, failure: f, documented: documentedDefect(opts.policy, f.signature) });
    }
    opts.onTrace?.({ ops, traces, classes: classes.size });
  }
  const list = [...classes.values()].sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  return { kind: opts.kind, policy: opts.policy, model, ops, traces, checkEvery: every, knobs, classes: list, timedOut };
}

export const genPassed = (r: GenFuzzReport): boolean => r.classes.every((c) => c.documented !== null);

const knobArgs = (k: Knobs) => Object.entries(k).map(([n, v]) => ` --set ${n}=${v === Infinity ? "unlimited" : v}`).join("");

/** One kind and policy's report as text (deterministic: no timings). */
export function formatGenReport(r: GenFuzzReport): string {
  const against = r.model ? "engine == model" : "engine alone (no reference model for this policy)";
  const out = [`${r.kind} under ${r.policy}: ${r.ops} events in ${r.traces} generated trace(s) (${against}; states and checkers every ${r.checkEvery} events): ` +
    (r.classes.length === 0 ? "no failure" : `${r.classes.length} failure class(es)`)];
  r.classes.forEach((c, i) => {
    const doc = c.documented ? ` [documented: ${c.documented}]` : r.policy === "seed-v2" ? " [NEW: not a documented defect]" : "";
    const f = c.failure;
    const where = f.from === f.event ? `event ${f.event}` : `events ${f.from}-${f.event}`;
    const file = `${c.source.kind}-${c.source.opts.seed}.vt.gz`;
    out.push("", `${r.kind} under ${r.policy} class ${i + 1}: ${c.signature} (${c.count} trace(s), first: seed ${c.source.opts.seed}, ${where})${doc}`);
    out.push(...f.detail.split("\n").map((l) => `  ${l}`));
    out.push(`  again: ${genCommand(c.source.kind, c.source.opts)} -o ${file}`);
    out.push(`         vmasim replay ${file} --policy ${r.policy} --check-every 1${knobArgs(Object.fromEntries(Object.entries(r.knobs).filter(([k]) => !(k === "max_map_count" && c.source.opts.maxMapCount !== undefined))))}`);
  });
  return out.join("\n") + "\n";
}
