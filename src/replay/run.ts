// A replay of one trace under several policies: the events are read once and
// each is applied in turn to one Replayer per policy (its own engine).

import { existsSync, readFileSync, statSync } from "node:fs";
import { createKernel } from "../engine/simulator.js";
import { knobsFromJson, type Knobs } from "../kernel/profile.js";
import type { TraceEvent } from "../trace/events.js";
import { detectFile, mergeSidecarBatches, parseFileBatches } from "../trace/import.js";
import type { ReadCounter } from "../trace/lines.js";
import type { Policy } from "../types.js";
import { type ReplayResult, Replayer } from "./replayer.js";

export interface ReplayOptions {
  trace: string;
  /** the side-band file; undefined: NAME.mmap2.txt.gz next to a NAME.perf.txt.gz trace, if there */
  sidecar?: string | null;
  policies: readonly Policy[];
  /** knobs over those of the trace's host profile */
  knobs?: Knobs;
  /** the invariant checker every this many events (0: off) */
  checkEvery?: number;
  /** called every `progressEvery` events */
  onProgress?: (progress: ReplayProgress) => void;
  progressEvery?: number;
  /** events replayed first in throwaway engines, not measured (default WARMUP_EVENTS) */
  warmupEvents?: number;
}

/** The warm-up's length: enough to reach the common code paths of exec, mmap, faults, fork and exit. */
export const WARMUP_EVENTS = 5000;

/** How far a replay is: events so far, and bytes of the trace file read (compressed, for gzip) of its size. */
export interface ReplayProgress {
  events: number;
  /** seconds since the events began to be read (the warm-up excluded) */
  seconds: number;
  bytesRead: number;
  fileBytes: number;
}

export interface ReplayReport {
  trace: string;
  sidecarFile: string | null;
  /** the host profile whose knobs were used, or null */
  hostProfile: string | null;
  /** the knobs given to every engine (host profile, then --config/--set) */
  config: Record<string, number | boolean | string>;
  events: number;
  unparsed: number;
  /** the first unparsed lines: "LINE: REASON: TEXT" */
  unparsedLines: string[];
  unmodelled: Record<string, number>;
  policies: Record<string, ReplayResult>;
  /** the whole replay's wall-clock time from the first event read to the result (reading and parsing included, the warm-up and engine creation excluded; a timing field) */
  seconds: number;
  /** events / seconds (a timing field) */
  eventsPerSecond: number;
}

/** The NAME of NAME.perf.txt[.gz], NAME.strace[.gz], NAME.trace[.gz]... (its recording's prefix). */
export function recordingName(trace: string): string {
  return trace.replace(/\.(gz)$/, "").replace(/\.(perf\.txt|strace|txt|trace|vmt)$/, "");
}

/** The side-band file recorded with a trace, if it is there. */
export function defaultSidecar(trace: string): string | null {
  const f = `${recordingName(trace)}.mmap2.txt.gz`;
  return f !== trace && existsSync(f) ? f : null;
}

/** The host profile recorded with a trace (`vmasim record`'s NAME.host.json), if it is there. */
export function defaultHostProfile(trace: string): string | null {
  const f = `${recordingName(trace)}.host.json`;
  return existsSync(f) ? f : null;
}

function sorted(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export async function replayTrace(opts: ReplayOptions): Promise<ReplayReport> {
  const format = await detectFile(opts.trace);
  if (format === null || format === "sidecar") throw new Error(`cannot tell the format of '${opts.trace}'${format === "sidecar" ? " (a side-band file: give it with --sidecar)" : ""}`);
  // the side-band's clock is perf's: it pairs with a perf trace only
  const sidecar = opts.sidecar === undefined ? (format === "perf" ? defaultSidecar(opts.trace) : null) : opts.sidecar;
  const hostProfile = defaultHostProfile(opts.trace);
  const knobs: Knobs = { ...(hostProfile ? knobsFromJson(readFileSync(hostProfile, "utf8"), hostProfile) : {}), ...opts.knobs };
  const stream = (counter?: ReadCounter): AsyncIterable<TraceEvent[]> => {
    const main = parseFileBatches(opts.trace, format, {}, counter);
    return sidecar === null ? main : mergeSidecarBatches(main, parseFileBatches(sidecar, "sidecar"));
  };
  const r = await replayEvents(stream, knobs, { ...opts, fileBytes: statSync(opts.trace).size });
  return { trace: opts.trace, sidecarFile: sidecar, hostProfile, ...r };
}

/** What replayEvents() is told besides the events: replayTrace()'s options without the files. */
export interface EventReplayOptions {
  policies: readonly Policy[];
  checkEvery?: number;
  onProgress?: (progress: ReplayProgress) => void;
  progressEvery?: number;
  warmupEvents?: number;
  /** the size of what `stream` reads, for progress (0: unknown) */
  fileBytes?: number;
}

/**
 * The events of `stream` (called once for the warm-up, once for the replay;
 * `counter` counts the bytes read) replayed under each policy with `knobs`:
 * the report without its file fields. replayTrace() gives it a trace file's
 * events, src/gen/replay.ts a generated workload's.
 */
export async function replayEvents(
  stream: (counter?: ReadCounter) => AsyncIterable<TraceEvent[]>,
  knobs: Knobs,
  opts: EventReplayOptions,
): Promise<Omit<ReplayReport, "trace" | "sidecarFile" | "hostProfile">> {
  const replayersOf = async (checkEvery: number): Promise<[Policy, Replayer][]> => {
    const out: [Policy, Replayer][] = [];
    for (const policy of opts.policies) out.push([policy, new Replayer(await createKernel({ ...knobs, policy }), { checkEvery })]);
    return out;
  };
  // Warm-up, not measured: the first policy to reach a code path would pay
  // for compiling it (JavaScript and the wasm engine's lazily compiled
  // functions), which made whichever policy came first look several times
  // slower on short traces. Throwaway engines replay the trace's first events.
  const warm = opts.warmupEvents ?? WARMUP_EVENTS;
  if (warm > 0) {
    const throwaway = await replayersOf(0);
    let i = 0;
    for await (const batch of stream()) {
      const part = batch.length > warm - i ? batch.slice(0, warm - i) : batch;
      i += part.length;
      for (const [, r] of throwaway) r.applyBatch(part);
      if (i >= warm) break;
    }
    for (const [, r] of throwaway) r.finish();
  }
  const replayers = await replayersOf(opts.checkEvery ?? 0);
  const reading = performance.now();
  const counter = { bytes: 0 };
  const fileBytes = opts.fileBytes ?? 0;
  const events = stream(counter);
  let n = 0;
  let unparsed = 0;
  const unparsedLines: string[] = [];
  const every = opts.progressEvery ?? 10000;
  let nextProgress = every;
  let batches = 0;
  for await (const batch of events) {
    n += batch.length;
    let applied: TraceEvent[] = batch;
    if (batch.some((e) => e.kind === "unparsed")) {
      applied = [];
      for (const e of batch) {
        if (e.kind !== "unparsed") applied.push(e);
        else {
          unparsed++;
          if (unparsedLines.length < 20) unparsedLines.push(`${e.line}: ${e.reason}: ${e.text}`);
        }
      }
    }
    // each batch goes first to another policy in turn: what the first one pays (caches) is shared out
    const first = batches++ % replayers.length;
    for (let i = 0; i < replayers.length; i++) replayers[(first + i) % replayers.length][1].applyBatch(applied);
    // one call per `every` events passed (a batch may pass several)
    for (; opts.onProgress && nextProgress <= n; nextProgress += every) {
      opts.onProgress({ events: nextProgress, seconds: (performance.now() - reading) / 1000, bytesRead: counter.bytes, fileBytes });
    }
  }
  const policies: Record<string, ReplayResult> = {};
  for (const [p, r] of replayers) {
    const res = r.finish();
    for (const k of ["failedCalls", "disagreed", "unfinished", "unknownPid"] as const) res[k] = sorted(res[k]);
    res.merge.byReason = sorted(res.merge.byReason);
    policies[p] = res;
  }
  // the emulated cost of each policy next to the kernel the series was written against
  const base = policies["linux-5.17"]?.seconds;
  for (const res of Object.values(policies)) res.secondsRatio = base ? Math.round((res.seconds / base) * 1000) / 1000 : null;
  const seconds = (performance.now() - reading) / 1000;
  const config = Object.fromEntries(Object.entries(knobs).sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => [k, v === Infinity ? "unlimited" : v as number | boolean]));
  return {
    config, events: n, unparsed, unparsedLines,
    unmodelled: sorted(replayers.length ? replayers[0][1].ignored : {}), policies,
    seconds, eventsPerSecond: seconds > 0 ? Math.round(n / seconds) : 0,
  };
}
