// The lines of `run --trace`: one vocabulary, vmasim's reason names
// (src/engine/merge_trace.ts MERGE_REASONS). A side that could merge is
// `ok`, qualified by what the series' av_merge test saw
// (AV_MERGE_SAME: `ok-same-anon_vma`, AV_MERGE_DIFFERENT:
// `ok-different-anon_vma`, AV_MERGE_NULL: plain `ok`); a side that was not
// tried is `not-tried`. `--ftrace` keeps the series' own format.

import type { MergeEvent, MergeSide } from "../engine/merge_trace.js";

/** One side of a merge attempt in vmasim's words. */
export function sideText(x: MergeSide): string {
  if (x.reason !== "ok") return x.reason;
  switch (x.res) {
    case "AV_MERGE_NULL": return "ok";
    case "AV_MERGE_SAME": return "ok-same-anon_vma";
    case "AV_MERGE_DIFFERENT": return "ok-different-anon_vma";
    default: return "not-tried";
  }
}

/** The line of one event; `addrText` prints addresses (arena pages in a scenario). */
export function traceLine(e: MergeEvent, addrText: (a: number) => string): string {
  const where = `pid=${e.pid} ${e.caller} [${addrText(e.addr)}, ${addrText(e.end)})`;
  if (e.kind === "pgoff") {
    return `pgoff ${where} faulted=${+e.faulted} updated=${+e.updated} merged=${+e.merged}` + (e.reason !== "ok" ? ` kept:${e.reason}` : "");
  }
  return `merge ${where} ${e.mergeCase ? `case ${e.mergeCase}` : "none"} prev=${sideText(e.prev)} next=${sideText(e.next)} both=${sideText(e.both)}`;
}
