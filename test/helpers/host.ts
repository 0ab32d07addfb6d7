// The host profile as the tests use it (docs/configuration.md, "The host
// profile"): the live kernel is compared with the engine configured from the
// probe, a recording with the live kernel only when the live profile matches
// the recording's sidecar, and the engine with a recording under the
// sidecar's configuration.
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { hostProfile } from "../../src/kernel/host.js";
import {
  engineConfig, readRecordingProfile, recordingSkipReason, type HostProfile,
} from "../../src/kernel/profile.js";
import type { KernelConfig, Policy } from "../../src/types.js";

/** This machine's profile (probed once per test file). */
export function live(): HostProfile {
  return hostProfile();
}

/** The engine configuration of `policy` on this machine. */
export function liveEngineConfig(policy: Policy): KernelConfig {
  return engineConfig(live(), policy);
}

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** A directory relative to the repository, for messages. */
export const rel = (dir: string): string => path.relative(REPO, dir) || ".";

/** The recording profile of `tag` in `dir`; throws when the directory states none. */
export function recordingProfile(dir: string, tag: string): HostProfile {
  const p = readRecordingProfile(dir, tag);
  if (p === null) throw new Error(`${rel(dir)} states no host profile for its ${tag} recordings (host-profile.json)`);
  return p;
}

/** The engine configuration of `policy` on the machine that recorded `tag` in `dir`. */
export function recordingEngineConfig(dir: string, tag: string, policy: Policy): KernelConfig {
  return engineConfig(recordingProfile(dir, tag), policy);
}

/** null when the recordings of `tag` in `dir` may be compared with the live kernel, else why not. */
export function liveVsRecording(dir: string, tag: string): string | null {
  return recordingSkipReason(live(), readRecordingProfile(dir, tag), `${rel(dir)} (${tag})`);
}

/** The recording directories of the corpus: test/scenarios/corpus*, each with NAME.TAG.out files. */
export function corpusRecordingDirs(): string[] {
  const base = fileURLToPath(new URL("../scenarios/", import.meta.url));
  return readdirSync(base)
    .filter((d) => d.startsWith("corpus") && statSync(path.join(base, d)).isDirectory())
    .sort()
    .map((d) => path.join(base, d));
}

/** The recordings of a directory: tag -> script name -> file (NAME.TAG.out, TAG from `linux-`). */
export function recordingsIn(dir: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) {
    const m = /^(.+?)\.(linux-[^/]+)\.out$/.exec(f);
    if (!m) continue;
    if (!out.has(m[2]!)) out.set(m[2]!, new Map());
    out.get(m[2]!)!.set(m[1]!, path.join(dir, f));
  }
  return out;
}
