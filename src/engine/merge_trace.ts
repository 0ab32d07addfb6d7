// Merge statistics and merge events from the core (assembly/trace/merge_trace.ts):
// decoding, and the two text formats: vmasim's own (formatMergeEvent, one
// vocabulary: vmasim's reason names, also `run --trace`'s), and the series'
// ftrace events vm_av_merge / vm_pgoff_merge (formatFtrace, the series' words).

import type { PageRewriteStats } from "../types.js";

/** The series' enum vma_merge_res, by value. */
export const MERGE_RES = ["MERGE_FAILED", "AV_MERGE_FAILED", "AV_MERGE_NULL", "AV_MERGE_SAME", "AV_MERGE_DIFFERENT"] as const;
export type MergeRes = (typeof MERGE_RES)[number];

/** Why one side of a merge failed, by value (assembly R_*); "ok" when it did not. */
export const MERGE_REASONS = [
  "ok", "not-adjacent", "special", "flags", "file", "close", "uffd", "name", "mempolicy", "pgoff",
  "anon_vma-forked", "anon_vma-unfaulted", "anon_vma-different", "anon_vma-shared", "mapped-twice", "no-memory",
] as const;
export type MergeReason = (typeof MERGE_REASONS)[number];

/** vma_merge callers, by value (assembly MERGE_CALLER_*). */
export const MERGE_CALLERS = ["?", "mmap", "brk", "mprotect", "madvise", "mlock", "mremap", "mseal"] as const;
export type MergeCaller = (typeof MERGE_CALLERS)[number];

export interface MergeSide {
  /** the series' verdict */
  res: MergeRes;
  /** vmasim's reason ("ok" if the side could merge) */
  reason: MergeReason;
}

/** One vma_merge call. */
export interface VmaMergeEvent {
  kind: "vma_merge";
  caller: MergeCaller;
  /** the process (pid) whose mm it was, 0 if none is live */
  pid: number;
  addr: number;
  end: number;
  /** the merge case 1..8, or 0 when nothing merged */
  mergeCase: number;
  prev: MergeSide;
  next: MergeSide;
  /** the both-sides test of cases 1 and 6 (MERGE_FAILED / not-adjacent when not reached) */
  both: MergeSide;
}

/** The destination of an mremap move of an anonymous VMA (copy_vma). */
export interface PgoffEvent {
  kind: "pgoff";
  caller: MergeCaller;
  pid: number;
  addr: number;
  end: number;
  /** the source VMA had an anon_vma */
  faulted: boolean;
  /** the destination got the linear pgoff of its new place */
  updated: boolean;
  /** the destination merged with a neighbour */
  merged: boolean;
  /** why a faulted VMA kept its pgoff under a policy that updates ("ok" otherwise) */
  reason: MergeReason;
}

export type MergeEvent = VmaMergeEvent | PgoffEvent;

/** Kernel-wide merge counters since the kernel was created (the page rewrites included). */
export interface MergeStats extends PageRewriteStats {
  attempts: number;
  merged: number;
  /** merges by case: byCase[0] is case 1 */
  byCase: number[];
  /** failed calls by the reason of the side that got further */
  failed: Partial<Record<MergeReason, number>>;
  /** merges with prev only because prev and next could not join (case 2, 5 or 7 instead of 1 or 6) */
  bothRefused: number;
  anonVmasCreated: number;
  anonVmasFreed: number;
  /** mremap moves of faulted anonymous VMAs that took the new pgoff / kept the old one (seed policies) */
  pgoffUpdated: number;
  pgoffKept: number;
  /** operations refused with ENOMEM (EAGAIN for madvise) because of vm.max_map_count: what missed merges cost */
  mapCountRefused: number;
}

const C = {
  attempts: 0, merged: 1, case: 2, fail: 10, bothRefused: 26, reindexed: 27, repointed: 28, created: 29, freed: 30,
  leaked: 31, debugVm: 32, pgoffUpdated: 33, pgoffKept: 34, mapCountRefused: 35,
} as const;

/** Decode the core's counter slots. */
export function decodeMergeStats(f: Float64Array, base: number): MergeStats {
  const failed: Partial<Record<MergeReason, number>> = {};
  for (let r = 1; r < MERGE_REASONS.length; r++) {
    const n = f[base + C.fail + r];
    if (n) failed[MERGE_REASONS[r]] = n;
  }
  return {
    attempts: f[base + C.attempts], merged: f[base + C.merged],
    byCase: Array.from({ length: 8 }, (_, i) => f[base + C.case + i]),
    failed, bothRefused: f[base + C.bothRefused],
    pagesReindexed: f[base + C.reindexed], pagesRepointed: f[base + C.repointed],
    anonVmasCreated: f[base + C.created], anonVmasFreed: f[base + C.freed],
    anonVmaRefsLeaked: f[base + C.leaked], debugVmWarnings: f[base + C.debugVm],
    pgoffUpdated: f[base + C.pgoffUpdated], pgoffKept: f[base + C.pgoffKept], mapCountRefused: f[base + C.mapCountRefused],
  };
}

/**
 * The decoded sides, one frozen object per code: an event's three sides
 * are shared values rather than three new objects (decoding is most of
 * what recording costs).
 */
const sides = new Map<number, MergeSide>();

function side(v: number): MergeSide {
  let x = sides.get(v);
  if (x === undefined) {
    x = Object.freeze({ res: MERGE_RES[v & 0xff] ?? "MERGE_FAILED", reason: MERGE_REASONS[v >>> 8] ?? "ok" });
    sides.set(v, x);
  }
  return x;
}

/** Decode one event record (8 f64 slots at f[o]); pidOf maps the core's mm handle to a pid. */
export function decodeMergeEvent(f: Float64Array, o: number, pidOf: (mm: number) => number): MergeEvent {
  const kind = f[o] & 0xff;
  const caller = MERGE_CALLERS[f[o] >>> 8] ?? "?";
  const pid = pidOf(f[o + 1]);
  const addr = f[o + 2];
  const end = f[o + 3];
  if (kind === 2) {
    const r = f[o + 4];
    return { kind: "pgoff", caller, pid, addr, end, faulted: (r & 1) !== 0, updated: (r & 2) !== 0, merged: (r & 4) !== 0,
      reason: MERGE_REASONS[f[o + 5]] ?? "ok" };
  }
  return { kind: "vma_merge", caller, pid, addr, end, mergeCase: f[o + 4], prev: side(f[o + 5]), next: side(f[o + 6]), both: side(f[o + 7]) };
}

const hex = (n: number) => "0x" + n.toString(16);

/**
 * One side of a merge attempt in vmasim's words, the single vocabulary of
 * vmasim's trace lines (the library's and `run --trace`): a side that could
 * not merge is named by its reason (MERGE_REASONS); a side that could is `ok`,
 * qualified by what the series' av_merge test saw (AV_MERGE_SAME:
 * `ok-same-anon_vma`, AV_MERGE_DIFFERENT: `ok-different-anon_vma`,
 * AV_MERGE_NULL: plain `ok`); a side that was not tried is `not-tried`. The
 * series' own AV_MERGE_* words are formatFtrace's.
 */
export function mergeSideText(x: MergeSide): string {
  if (x.reason !== "ok") return x.reason;
  switch (x.res) {
    case "AV_MERGE_NULL": return "ok";
    case "AV_MERGE_SAME": return "ok-same-anon_vma";
    case "AV_MERGE_DIFFERENT": return "ok-different-anon_vma";
    default: return "not-tried";
  }
}

/** vmasim's line for an event: what was tried, the case or why each side failed; `addrText` prints addresses (arena pages in a scenario). */
export function formatMergeEvent(e: MergeEvent, addrText: (a: number) => string = hex): string {
  const where = `pid=${e.pid} ${e.caller} [${addrText(e.addr)}, ${addrText(e.end)})`;
  if (e.kind === "pgoff") {
    return `pgoff ${where} faulted=${+e.faulted} updated=${+e.updated} merged=${+e.merged}` + (e.reason !== "ok" ? ` kept:${e.reason}` : "");
  }
  const s = (name: string, x: MergeSide) => `${name}=${mergeSideText(x)}`;
  return `merge ${where} ${e.mergeCase ? `case ${e.mergeCase}` : "none"} ${s("prev", e.prev)} ${s("next", e.next)} ${s("both", e.both)}`;
}

/**
 * The series' tracepoints as ftrace prints them (trace_pipe): vm_av_merge for
 * every vma_merge call past the VM_SPECIAL test, vm_pgoff_merge after a
 * successful merge at an mremap destination (its format ends with a newline,
 * hence the empty line). `seq` stands in for the timestamp (deterministic).
 */
export function formatFtrace(e: MergeEvent, seq: number): string | null {
  const head = `vmasim-${e.pid} [000] ..... ${seq}.000000: `;
  if (e.kind === "pgoff") {
    return e.merged ? `${head}vm_pgoff_merge: faulted=${+e.faulted} updated=${+e.updated}\n` : null;
  }
  if (e.prev.reason === "special") return null;
  const three = [e.prev.res, e.next.res, e.both.res];
  const n = (r: MergeRes) => three.filter((x) => x === r).length;
  return `${head}vm_av_merge: merged=${e.mergeCase ? 1 : 0} predecessor=${e.prev.res} successor=${e.next.res} ` +
    `predecessor_with_successor=${e.both.res} same_count=${n("AV_MERGE_SAME")} diff_count=${n("AV_MERGE_DIFFERENT")} ` +
    `failed_count=${n("AV_MERGE_FAILED")}`;
}
