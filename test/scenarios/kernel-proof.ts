// The proof that a mainline kernel policy reproduces what its kernel
// recorded: for each recording set (a directory of NAME.TAG.out files with
// its host-profile.json, and the directory of the NAME.script files), the
// engine under the policy, configured as the recording machine was, prints
// every recording byte for byte (image-dependent count numbers masked).
// A script may differ only when the known-differences file lists it (key
// "SET/NAME") with its first differing line and the kernel change behind it;
// a listed difference that moves or disappears fails, and so does a listed
// script that has no recording. Used by linux-6.1.test.ts, linux-6.12.test.ts
// and linux-6.18-generated.test.ts.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import type { EngineBuild } from "../../src/engine/index.js";
import { imageIndependent } from "../../src/kernel/native.js";
import { runScenario } from "../../src/scenario/run.js";
import type { KernelConfig, Policy } from "../../src/types.js";
import { recordingEngineConfig, rel } from "../helpers/host.js";

export interface RecordingSet {
  /** the key prefix in the known-differences file: "corpus", "generated" */
  name: string;
  /** the directory of NAME.TAG.out and host-profile.json */
  recordings: string;
  /** the directory of NAME.script */
  scripts: string;
  /** the engine builds to run (the corpus: both; generated sets: release) */
  builds: readonly EngineBuild[];
  /** the fewest recordings the set must have */
  atLeast: number;
}

export interface KnownDifference {
  line: number;
  engine: string;
  kernel: string;
  reason: string;
}

/** [name, script, recording] of every script of `set` recorded under `tag`. */
function recorded(set: RecordingSet, tag: string): [string, string, string][] {
  if (!existsSync(set.recordings) || !existsSync(set.scripts)) return [];
  return readdirSync(set.scripts)
    .filter((f) => f.endsWith(".script"))
    .sort()
    .map((f): [string, string, string] => {
      const name = f.slice(0, -".script".length);
      return [name, path.join(set.scripts, f), path.join(set.recordings, `${name}.${tag}.out`)];
    })
    .filter(([, , out]) => existsSync(out));
}

/** The first differing line (1-based) of two outputs and both lines, or null when equal. */
export function firstDifference(engine: string[], kernel: string[]): { line: number; engine: string; kernel: string } | null {
  const n = Math.max(engine.length, kernel.length);
  for (let i = 0; i < n; i++) {
    if (engine[i] !== kernel[i]) return { line: i + 1, engine: engine[i] ?? "<end>", kernel: kernel[i] ?? "<end>" };
  }
  return null;
}

function compare(build: EngineBuild, config: KernelConfig, script: string, out: string) {
  const kernel = createKernelSync(config, { build });
  const mine = imageIndependent(runScenario(kernel, readFileSync(script, "utf8")).output).split("\n");
  const theirs = imageIndependent(readFileSync(out, "utf8")).split("\n");
  return firstDifference(mine, theirs);
}

/** Declare the tests: `policy` against every set recorded under `tag`. */
export function proveRecordings(policy: Policy, tag: string, sets: readonly RecordingSet[], knownFile: string): void {
  const known = (existsSync(knownFile) ? JSON.parse(readFileSync(knownFile, "utf8")) : {}) as Record<string, KnownDifference | string>;
  const listed = new Set(Object.keys(known).filter((k) => !k.startsWith("_")));
  const found = new Set<string>();
  describe(`engine (${policy}) reproduces the recordings of ${tag}`, () => {
    for (const set of sets) {
      const runs = recorded(set, tag);
      for (const [name] of runs) found.add(`${set.name}/${name}`);
      it(`${set.name}: finds at least ${String(set.atLeast)} recordings in ${rel(set.recordings)}`, () => {
        expect(runs.length).toBeGreaterThanOrEqual(set.atLeast);
      });
      const config = recordingEngineConfig(set.recordings, tag, policy);
      for (const build of set.builds) {
        describe(`${set.name}, ${build} build`, () => {
          for (const [name, script, out] of runs) {
            const diff = known[`${set.name}/${name}`] as KnownDifference | undefined;
            it(`${name}${diff ? ` (known difference: ${diff.reason.split(":")[0]!})` : ""}`, () => {
              const d = compare(build, config, script, out);
              if (diff) {
                expect(d, "the listed difference no longer occurs").not.toBeNull();
                expect({ line: d!.line, engine: d!.engine, kernel: d!.kernel })
                  .toEqual({ line: diff.line, engine: diff.engine, kernel: diff.kernel });
              } else {
                expect(d, d ? `line ${String(d.line)}: engine '${d.engine}' kernel '${d.kernel}'` : "").toBeNull();
              }
            });
          }
        });
      }
    }
    it(`every script listed in ${path.basename(knownFile)} has a ${tag} recording`, () => {
      expect([...listed].filter((k) => !found.has(k))).toEqual([]);
    });
  });
}
