// A generated workload as a trace source: its name (`gen:KIND?events=N&seed=S`,
// the form sweeps and fuzz reports use) and its events, parsed from the very
// lines `vmasim gen` writes, so a consumer sees what a replay of the file sees
// without the file ever being written.

import type { TraceEvent } from "../trace/events.js";
import { parseNative } from "../trace/native.js";
import { GEN_KINDS, GenError, type GenKind, type GenOptions, generate, generateChunks } from "./generate.js";

/** One generated trace: its kind and options. */
export interface GenSource {
  kind: GenKind;
  opts: GenOptions;
}

/** Events per batch, as the file reader gives a native trace (src/trace/import.ts). */
const BATCH_EVENTS = 4096;

/** The name of a generated trace: `gen:KIND?events=N&seed=S[&pids=P][&max_map_count=M]`. */
export function genName(s: GenSource): string {
  let q = `events=${s.opts.events}&seed=${s.opts.seed}`;
  if (s.opts.pids !== undefined) q += `&pids=${s.opts.pids}`;
  if (s.opts.maxMapCount !== undefined) q += `&max_map_count=${s.opts.maxMapCount}`;
  return `gen:${s.kind}?${q}`;
}

const PARAMS: Record<string, keyof GenOptions> = { events: "events", seed: "seed", pids: "pids", max_map_count: "maxMapCount" };

/** Whether a trace name is a generated trace's (`gen:...`), not a file. */
export const isGenName = (name: string): boolean => name.startsWith("gen:");

/** The source a `gen:` name stands for; GenError names what is wrong. */
export function parseGenName(name: string): GenSource {
  const m = /^gen:([a-z]+)\?(.*)$/.exec(name);
  if (m === null) throw new GenError(`'${name}' is not gen:KIND?events=N&seed=S`);
  const opts: Partial<Record<keyof GenOptions, number>> = {};
  for (const part of m[2].split("&")) {
    const [k, v, extra] = part.split("=");
    const field = PARAMS[k];
    if (field === undefined || v === undefined || extra !== undefined) throw new GenError(`'${name}': unknown parameter '${part}' (events, seed, pids, max_map_count)`);
    if (!/^[0-9]+$/.test(v)) throw new GenError(`'${name}': ${k} must be a whole number, not '${v}'`);
    if (field in opts) throw new GenError(`'${name}': ${k} is given twice`);
    opts[field] = Number(v);
  }
  if (opts.events === undefined || opts.seed === undefined) throw new GenError(`'${name}': events and seed are required`);
  const s = { kind: m[1] as GenKind, opts: opts as GenOptions };
  checkSource(s);
  return s;
}

/** Throws GenError for a bad kind or option (generate()'s own checks). */
export function checkSource(s: GenSource): void {
  if (s.opts.maxMapCount !== undefined && s.kind !== "adversarial") throw new GenError(`max_map_count is for the adversarial kind (${GEN_KINDS.join(", ")})`);
  generateChunks(s.kind, s.opts).return(undefined);
}

/** The trace's events in batches of BATCH_EVENTS (parseNative over generate(): the file's events exactly). */
export async function* genEventBatches(s: GenSource): AsyncGenerator<TraceEvent[]> {
  let out: TraceEvent[] = [];
  for await (const e of parseNative(generate(s.kind, s.opts))) {
    out.push(e);
    if (out.length >= BATCH_EVENTS) {
      yield out;
      out = [];
    }
  }
  if (out.length) yield out;
}
