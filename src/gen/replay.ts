// A generated workload replayed without its file: the events of genEventBatches()
// (the file's events exactly) go through the same Replayer, warm-up and
// per-policy rotation as replayTrace() (src/replay/run.ts) gives a file, and
// the report has the same fields. A workload made with a max_map_count other
// than the default carries it as its knob, as the file's NAME.host.json does
// (src/cli/gen.ts). test/gen/feed.test.ts checks the two reports agree.

import { createKernel } from "../engine/simulator.js";
import type { Knobs } from "../kernel/profile.js";
import { type ReplayReport, WARMUP_EVENTS } from "../replay/run.js";
import { type ReplayResult, Replayer } from "../replay/replayer.js";
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

const sorted = (m: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Replays a generated workload under each policy: replayTrace()'s report, `trace` being its gen: name. */
export async function replayGenerated(s: GenSource, opts: GenReplayOptions): Promise<ReplayReport> {
  const knobs: Knobs = { ...genKnobs(s), ...opts.knobs };
  const replayersOf = async (checkEvery: number): Promise<[Policy, Replayer][]> => {
    const out: [Policy, Replayer][] = [];
    for (const policy of opts.policies) out.push([policy, new Replayer(await createKernel({ ...knobs, policy }), { checkEvery })]);
    return out;
  };
  // not measured: the first policy to reach a code path would pay for compiling it
  const warm = opts.warmupEvents ?? WARMUP_EVENTS;
  if (warm > 0) {
    const throwaway = await replayersOf(0);
    let i = 0;
    for await (const batch of genEventBatches(s)) {
      const part = batch.length > warm - i ? batch.slice(0, warm - i) : batch;
      i += part.length;
      for (const [, r] of throwaway) r.applyBatch(part);
      if (i >= warm) break;
    }
    for (const [, r] of throwaway) r.finish();
  }
  const replayers = await replayersOf(opts.checkEvery ?? 0);
  const t0 = performance.now();
  let n = 0;
  let batches = 0;
  // the generator writes no unparsable line: every event is applied
  for await (const batch of genEventBatches(s)) {
    n += batch.length;
    const first = batches++ % replayers.length;
    for (let i = 0; i < replayers.length; i++) replayers[(first + i) % replayers.length][1].applyBatch(batch);
  }
  const policies: Record<string, ReplayResult> = {};
  for (const [p, r] of replayers) {
    const res = r.finish();
    for (const k of ["failedCalls", "disagreed", "unfinished", "unknownPid"] as const) res[k] = sorted(res[k]);
    res.merge.byReason = sorted(res.merge.byReason);
    policies[p] = res;
  }
  const base = policies["linux-5.17"]?.seconds;
  for (const res of Object.values(policies)) res.secondsRatio = base ? Math.round((res.seconds / base) * 1000) / 1000 : null;
  const seconds = (performance.now() - t0) / 1000;
  const config = Object.fromEntries(Object.entries(knobs).sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => [k, v === Infinity ? "unlimited" : v as number | boolean]));
  return {
    trace: genName(s), sidecarFile: null, hostProfile: null, config, events: n, unparsed: 0, unparsedLines: [],
    unmodelled: sorted(replayers.length ? replayers[0][1].ignored : {}), policies,
    seconds, eventsPerSecond: seconds > 0 ? Math.round(n / seconds) : 0,
  };
}
