// A generated workload replayed without its file: the events of genEventBatches()
// (the file's events exactly) go through replayEvents(), as a trace file's do
// in replayTrace() (src/replay/run.ts), and the report has the same fields. A workload made with a max_map_count other
// than the default carries it as its knob, as the file's NAME.host.json does
// (src/cli/gen.ts). test/gen/feed.test.ts checks the two reports agree.

import type { Knobs } from "../kernel/profile.js";
import { type ReplayReport, replayEvents } from "../replay/run.js";
import type { Policy } from "../types.js";
import { DEFAULT_MAX_MAP_COUNT } from "./generate.js";
import { type GenSource, genEventBatches, genName } from "./source.js";

export interface GenReplayOptions {
  policies: readonly Policy[];
  /** knobs over the workload's own (its max_map_count) */
  knobs?: Knobs;
  /** the invariant checker every this many events (0: off) */
  checkEvery?: number;
  /** events replayed first in throwaway engines, not measured (default WARMUP_EVENTS) */
  warmupEvents?: number;
}

/** The knobs a replay of the file would take from its host profile. */
export function genKnobs(s: GenSource): Knobs {
  const m = s.opts.maxMapCount;
  return m !== undefined && m !== DEFAULT_MAX_MAP_COUNT ? { max_map_count: m } : {};
}

/** Replays a generated workload under each policy: replayTrace()'s report, `trace` being its gen: name. */
export async function replayGenerated(s: GenSource, opts: GenReplayOptions): Promise<ReplayReport> {
  const knobs: Knobs = { ...genKnobs(s), ...opts.knobs };
  // the generator writes no unparsable line: every event is applied
  const r = await replayEvents(() => genEventBatches(s), knobs, opts);
  return { trace: genName(s), sidecarFile: null, hostProfile: null, ...r };
}
