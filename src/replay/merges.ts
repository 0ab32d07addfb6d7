// The cover letter's figure from the engine's merge events (src/engine/
// merge_trace.ts; docs/replay.md "enabledBySeries and refusedShared").

import type { MergeEvent } from "../engine/merge_trace.js";

export interface SeriesCounts {
  /** merges that succeeded only because the policy lets anon_vmas differ, or updated a moved VMA's pgoff */
  enabledBySeries: number;
  /** failed merges where a side's only obstacle was a shared anon_vma or shared pages */
  refusedShared: number;
}

/**
 * A vma_merge that merged with a side whose verdict is AV_MERGE_DIFFERENT
 * (two distinct anon_vmas, which v5.17's is_mergeable_anon_vma() refuses) is
 * enabled by the series; so is an mremap move whose destination took its new
 * pgoff and merged (pgoff event updated && merged: v5.17 keeps the old pgoff,
 * so the destination could not continue its neighbour's). A vma_merge that
 * merged nothing, with a side refused for `anon_vma-shared`, is refused
 * because of sharing; so is a faulted move that kept its pgoff for
 * `anon_vma-shared` or `mapped-twice`.
 */
export function classifyMerges(events: MergeEvent[], into: SeriesCounts): void {
  for (const e of events) {
    if (e.kind === "pgoff") {
      if (!e.faulted) continue;
      if (e.updated && e.merged) into.enabledBySeries++;
      else if (!e.updated && (e.reason === "anon_vma-shared" || e.reason === "mapped-twice")) into.refusedShared++;
      continue;
    }
    const sides = [e.prev, e.next, e.both];
    if (e.mergeCase > 0) {
      if (sides.some((s) => s.reason === "ok" && s.res === "AV_MERGE_DIFFERENT")) into.enabledBySeries++;
    } else if (sides.some((s) => s.reason === "anon_vma-shared")) {
      into.refusedShared++;
    }
  }
}
