// The timing fields of a replay report: wall-clock measurements, different on
// every run. Everything else in the report is the same byte for byte across
// runs; this is the one place that says which fields are timing, for tests
// and tools that compare reports.

import type { ReplayReport } from "./run.js";

/** Timing fields of the report itself, and of each policy's result. */
export const REPORT_TIMING_FIELDS = ["seconds", "eventsPerSecond"] as const;
export const POLICY_TIMING_FIELDS = ["seconds", "secondsRatio"] as const;

/** A copy of `report` without its timing fields (e.g. to compare two replays of one trace). */
export function withoutTiming(report: ReplayReport): unknown {
  const copy = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
  for (const k of REPORT_TIMING_FIELDS) delete copy[k];
  for (const p of Object.values(copy.policies as Record<string, Record<string, unknown>>)) for (const k of POLICY_TIMING_FIELDS) delete p[k];
  return copy;
}
