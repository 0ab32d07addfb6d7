// A behaviour bisection without building kernels: a scenario script runs in
// the engine as mainline at every release from 5.10 to 6.18, in order
// (KERNEL_RELEASES; src/engine/policy.ts kernelSwitches), and the releases
// whose output equals the previous release's are grouped into ranges. Each
// range after the first starts at a release that changed the output; its
// unified diff against the range before says what changed.
//
// The walk is linear, not a binary search: a behaviour may change in one
// release and change back in a later one, and every change point is wanted.

import { createKernelSync } from "../engine/simulator.js";
import { KERNEL_POLICIES, KERNEL_RELEASES, POLICY_SWITCHES, releaseName } from "../engine/policy.js";
import type { Knobs } from "../kernel/profile.js";
import { unifiedDiff } from "../report/diff.js";
import { runScenario } from "../scenario/run.js";
import type { KernelConfig, KernelSim, Policy } from "../types.js";

/** Creates the engine's kernel as mainline at `release` (major*100+minor). */
export type ReleaseKernelFactory = (config: KernelConfig, release: number) => KernelSim;

export interface BisectOptions {
  /** First release walked (major*100+minor; default the oldest of KERNEL_RELEASES). */
  from?: number;
  /** Last release walked (default the newest). */
  to?: number;
  /** Configuration knobs of the engine's kernel (the policy is set per release). */
  knobs?: Knobs;
  /** The engine (default: the wasm engine, createKernelSync with its release option). */
  createKernel?: ReleaseKernelFactory;
}

/** Releases that give one output, and how that output differs from the range before. */
export interface BisectRange {
  /** First release of the range, "5.10". */
  from: string;
  /** Last release of the range (equal to `from` for a single release). */
  to: string;
  /** The named mainline policies whose release lies in the range (linux-5.10, ...). */
  policies: Policy[];
  /** 1-based line of this range's output that first differs from the previous range's; null for the first range. */
  firstChangedLine: number | null;
  /** Unified diff from the previous range's output (---, its last release) to this one's (+++); "" for the first range. */
  diff: string;
  /** The range's output. */
  output: string;
  /** The scenario's exit status (2 when a line gave EPARSE). */
  status: number;
}

/** The named mainline policies (linux-*) whose release is in [from, to]. */
export function policiesIn(from: number, to: number): Policy[] {
  return KERNEL_POLICIES.filter((p) => POLICY_SWITCHES[p].release >= from && POLICY_SWITCHES[p].release <= to);
}

/**
 * "5.14" -> 514, "6.1" -> 601; null when the text is not MAJOR.MINOR of a
 * release in KERNEL_RELEASES.
 */
export function parseRelease(text: string): number | null {
  const m = /^(\d+)\.(\d+)$/.exec(text.trim());
  if (!m) return null;
  const minor = Number(m[2]);
  if (minor > 99) return null;
  const r = Number(m[1]) * 100 + minor;
  return KERNEL_RELEASES.includes(r) ? r : null;
}

/** The 1-based number of the first line where two texts differ (null when equal). */
export function firstDifferentLine(a: string, b: string): number | null {
  if (a === b) return null;
  const A = a.split("\n");
  const B = b.split("\n");
  for (let i = 0; i < Math.max(A.length, B.length); i++) if (A[i] !== B[i]) return i + 1;
  return null;
}

/**
 * A mainline policy to name the engine's kernel by: the newest named one not
 * newer than the release (the switches come from the release itself; the name
 * only labels the kernel).
 */
function policyFor(release: number): Policy {
  let best = KERNEL_POLICIES[0]!;
  for (const p of KERNEL_POLICIES) if (POLICY_SWITCHES[p].release <= release) best = p;
  return best;
}

const defaultFactory: ReleaseKernelFactory = (config, release) => createKernelSync(config, { release });

/**
 * Runs `script` under mainline at every release of [from, to] and groups the
 * releases by output. Throws RangeError for a release outside KERNEL_RELEASES
 * or from > to; the engine's own errors (NotModelledError,
 * ScenarioAbortedError) pass through.
 */
export function bisectScript(script: string, opts: BisectOptions = {}): BisectRange[] {
  const from = opts.from ?? KERNEL_RELEASES[0]!;
  const to = opts.to ?? KERNEL_RELEASES[KERNEL_RELEASES.length - 1]!;
  for (const r of [from, to]) {
    if (!KERNEL_RELEASES.includes(r)) throw new RangeError(`no modelled kernel release ${releaseName(r)} (modelled: ${releaseName(KERNEL_RELEASES[0]!)} .. ${releaseName(KERNEL_RELEASES[KERNEL_RELEASES.length - 1]!)})`);
  }
  if (from > to) throw new RangeError(`--from ${releaseName(from)} is after --to ${releaseName(to)}`);
  const make = opts.createKernel ?? defaultFactory;
  const ranges: BisectRange[] = [];
  let lastRelease = from;
  for (const release of KERNEL_RELEASES.filter((r) => r >= from && r <= to)) {
    const kernel = make({ ...(opts.knobs ?? {}), policy: policyFor(release) }, release);
    const { output, status } = runScenario(kernel, script);
    const prev = ranges[ranges.length - 1];
    if (prev !== undefined && prev.output === output && prev.status === status) {
      prev.to = releaseName(release);
    } else {
      ranges.push({
        from: releaseName(release), to: releaseName(release), policies: [],
        firstChangedLine: prev === undefined ? null : (firstDifferentLine(prev.output, output) ?? 1),
        diff: prev === undefined ? "" : unifiedDiff(releaseName(lastRelease), prev.output, releaseName(release), output),
        output, status,
      });
    }
    lastRelease = release;
  }
  for (const r of ranges) r.policies = policiesIn(parseRelease(r.from)!, parseRelease(r.to)!);
  return ranges;
}

/** "5.10 .. 5.13" or "5.14" for a range of one release. */
function span(r: BisectRange): string {
  return r.from === r.to ? r.from : `${r.from} .. ${r.to}`;
}

/**
 * The report: one header line per range (the first "same", the next "first
 * change", the later ones "changed again"), each change followed by its diff.
 */
export function formatBisect(name: string, ranges: readonly BisectRange[]): string {
  const first = ranges[0]!;
  const last = ranges[ranges.length - 1]!;
  const named = (r: BisectRange): string => (r.policies.length ? `  [${r.policies.join(", ")}]` : "");
  let out = `${name}: mainline ${first.from} .. ${last.to} in the engine, release by release\n`;
  ranges.forEach((r, i) => {
    const what = i === 0 ? "same" : `${i === 1 ? "first change" : "changed again"}, at output line ${r.firstChangedLine ?? 1}`;
    out += `${span(r)}: ${what}${named(r)}\n`;
    if (r.diff) out += r.diff;
  });
  if (ranges.length === 1) out += `no change between ${first.from} and ${last.to}\n`;
  else out += `${ranges.length - 1} change point${ranges.length > 2 ? "s" : ""}: ${ranges.slice(1).map((r) => r.from).join(", ")}\n`;
  return out;
}

/** The JSON of --json: the ranges without their full outputs. */
export function bisectJson(ranges: readonly BisectRange[]): string {
  return JSON.stringify(ranges.map(({ from, to, policies, firstChangedLine, diff, status }) => ({ from, to, policies, firstChangedLine, diff, status })), null, 2) + "\n";
}
