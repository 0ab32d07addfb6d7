// `generate(kind, opts)`: a seeded workload as lines of vmasim's native trace
// format (docs/gen.md). The lines are made as they are asked for, a step at
// a time, so memory stays constant however many events are asked for; the
// same kind, options and seed give the same lines, byte for byte.

import { rng } from "../fuzz/random.js";
import { NATIVE_MAGIC } from "../trace/native.js";
import { AdversarialWorkload } from "./adversarial.js";
import { AllocatorWorkload } from "./allocator.js";
import { BuildWorkload } from "./build.js";
import { Emitter } from "./emit.js";
import { ServerWorkload } from "./server.js";
import type { Workload } from "./workload.js";
import { World } from "./world.js";

export const GEN_KINDS = ["allocator", "server", "build", "adversarial"] as const;
export type GenKind = (typeof GEN_KINDS)[number];

export interface GenOptions {
  /** events in the trace, exactly (header and comment lines are not events) */
  events: number;
  /** the seed (an integer 0 to 2^32 - 1) */
  seed: number;
  /** processes at once: allocator and server processes, make's -j, adversarial processes (default: 1; build: 4) */
  pids?: number;
  /** adversarial: vm.max_map_count the trace runs into (default 65530, the kernel's DEFAULT_MAX_MAP_COUNT) */
  maxMapCount?: number;
}

/** A bad option: the message says which. */
export class GenError extends Error {}

/** The fewest events a trace can have: the launcher's exec and exit. */
export const MIN_EVENTS = 17;
export const DEFAULT_MAX_MAP_COUNT = 65530;

function check(kind: string, o: GenOptions): asserts kind is GenKind {
  if (!(GEN_KINDS as readonly string[]).includes(kind)) throw new GenError(`unknown kind '${kind}' (one of ${GEN_KINDS.join(", ")})`);
  if (!Number.isSafeInteger(o.events) || o.events < MIN_EVENTS) throw new GenError(`events must be a whole number of at least ${MIN_EVENTS}, not ${o.events}`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new GenError(`seed must be a whole number from 0 to 4294967295, not ${o.seed}`);
  if (o.pids !== undefined && (!Number.isInteger(o.pids) || o.pids < 1 || o.pids > 1024)) throw new GenError(`pids must be a whole number from 1 to 1024, not ${o.pids}`);
  const m = o.maxMapCount;
  if (m !== undefined && (!Number.isInteger(m) || m < 64 || m > 2 ** 31 - 1)) throw new GenError(`max map count must be a whole number from 64 to 2147483647, not ${m}`);
}

function workload(kind: GenKind, world: World, o: GenOptions): Workload {
  switch (kind) {
    case "allocator": return new AllocatorWorkload(world, o.pids ?? 1);
    case "server": return new ServerWorkload(world, o.pids ?? 1);
    case "build": return new BuildWorkload(world, o.pids ?? 4);
    case "adversarial": return new AdversarialWorkload(world, o.pids ?? 1, o.maxMapCount ?? DEFAULT_MAX_MAP_COUNT);
  }
}

/** The command line that makes this trace (the file's comment line). */
export function genCommand(kind: GenKind, o: GenOptions): string {
  let s = `vmasim gen ${kind} --events ${o.events} --seed ${o.seed}`;
  if (o.pids !== undefined) s += ` --pids ${o.pids}`;
  if (o.maxMapCount !== undefined) s += ` --max-map-count ${o.maxMapCount}`;
  return s;
}

/**
 * The trace as chunks of text, each a run of whole lines ending in a newline
 * (about `chunkEvents` events each): what a writer wants. Throws GenError on
 * bad options before anything is produced.
 */
export function generateChunks(kind: string, opts: GenOptions, chunkEvents = 4096): Generator<string> {
  check(kind, opts);
  return chunks(kind, opts, chunkEvents);
}

function* chunks(kind: GenKind, o: GenOptions, chunkEvents: number): Generator<string> {
  const r = rng(o.seed);
  const out = new Emitter(r);
  const world = new World(out, r);
  const w = workload(kind, world, o);
  const n = o.events;
  let head = `${NATIVE_MAGIC}\n# ${genCommand(kind, o)}\n`;
  const take = (): string => {
    const text = head + out.lines.join("\n") + "\n";
    head = "";
    out.lines = [];
    return text;
  };
  while (out.count + w.endCost() < n) {
    w.step(n - out.count - w.endCost());
    if (out.lines.length >= chunkEvents) yield take();
  }
  w.finish();
  if (out.count !== n) throw new Error(`generator ${kind}: made ${out.count} events, not ${n}`);
  yield take();
}

/**
 * The trace's lines (without line ends): the header, a comment naming the
 * command, then exactly `opts.events` events. A synchronous iterable, so it
 * also serves `for await` and parseNative() (src/trace/native.ts) directly.
 */
export function generate(kind: string, opts: GenOptions): Generator<string> {
  return lines(generateChunks(kind, opts));
}

function* lines(chunks: Iterable<string>): Generator<string> {
  for (const c of chunks) {
    const lines = c.split("\n");
    lines.pop();
    yield* lines;
  }
}
