// The engine under linux-5.10 against everything recorded on Debian's Linux
// 5.10 under qemu: the corpus (test/scenarios/corpus-5.10, scripts in
// corpus/) by the release and the debug builds, and the generated scripts
// (test/scenarios/generated-5.10, scripts there or in generated/) by the
// release build. 5.10 has no BPF task_vma iterator, so its anon lines read
// `anon ?`: outputs are compared layout only (layoutOnly). The engine is
// configured as the recording machine was (the directory's host-profile.json).
// A script may differ only where linux-5.10-known.json lists its first
// differing line with the kernel change behind it; a listed difference that
// no longer occurs (or moves) fails too.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import type { EngineBuild } from "../../src/engine/index.js";
import { layoutOnly } from "../../src/kernel/native.js";
import { runScenario } from "../../src/scenario/run.js";
import type { KernelConfig } from "../../src/types.js";
import { recordingEngineConfig } from "../helpers/host.js";

const TAG = "linux-5.10";
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

type Known = { line: number; engine: string; kernel: string; reason: string };
const KNOWN = JSON.parse(readFileSync(here("./linux-5.10-known.json"), "utf8")) as Record<string, Record<string, Known> | string>;

/** A recording directory and where its scripts live (the first directory holding NAME.script). */
const SETS = [
  { name: "corpus-5.10", dir: here("./corpus-5.10/"), scripts: [here("./corpus/")], builds: ["release", "debug"] as EngineBuild[], min: 78 },
  { name: "generated-5.10", dir: here("./generated-5.10/"), scripts: [here("./generated-5.10/"), here("./generated/")], builds: ["release"] as EngineBuild[], min: 1 },
];

/** [name, script, recording] of every NAME.linux-5.10.out in dir. */
function recordings(dir: string, scriptDirs: string[]): [string, string, string][] {
  if (!existsSync(dir)) return [];
  const suffix = `.${TAG}.out`;
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f): [string, string, string] => {
      const name = f.slice(0, -suffix.length);
      const script = scriptDirs.map((d) => path.join(d, `${name}.script`)).find((p) => existsSync(p)) ?? path.join(scriptDirs[0]!, `${name}.script`);
      return [name, script, path.join(dir, f)];
    });
}

/** The first differing line of the engine's output and the recording (layout only), or null. */
function firstDifference(build: EngineBuild, config: KernelConfig, script: string, recording: string): { line: number; engine: string; kernel: string } | null {
  const kernel = createKernelSync(config, { build });
  const out = layoutOnly(runScenario(kernel, readFileSync(script, "utf8")).output).split("\n");
  const rec = layoutOnly(readFileSync(recording, "utf8")).split("\n");
  const n = Math.max(out.length, rec.length);
  for (let i = 0; i < n; i++) {
    if (out[i] !== rec[i]) return { line: i + 1, engine: out[i] ?? "(end of output)", kernel: rec[i] ?? "(end of output)" };
  }
  return null;
}

for (const set of SETS) {
  const recs = recordings(set.dir, set.scripts);
  const known = (KNOWN[set.name] ?? {}) as Record<string, Known>;
  describe(`engine (linux-5.10) against ${set.name}`, () => {
    if (!existsSync(set.dir)) {
      it.skip(`${set.name} is not in this checkout (recorded by scripts/qemu-record.sh)`, () => {});
      return;
    }
    it(`finds the recordings (at least ${set.min}) and their scripts`, () => {
      expect(recs.length).toBeGreaterThanOrEqual(set.min);
      expect(recs.filter(([, script]) => !existsSync(script)).map(([name]) => name)).toEqual([]);
    });
    it("lists known differences only of recorded scripts", () => {
      const names = new Set(recs.map(([name]) => name));
      expect(Object.keys(known).filter((n) => !names.has(n))).toEqual([]);
    });
    const config = recordingEngineConfig(set.dir, TAG, "linux-5.10");
    for (const build of set.builds) {
      describe(`${build} build`, () => {
        for (const [name, script, rec] of recs) {
          const k = known[name];
          it(`${name}${k ? ` (known: ${k.reason.split(":")[0]})` : ""}`, () => {
            const d = firstDifference(build, config, script, rec);
            if (!k) expect(d, d ? `line ${d.line}: engine '${d.engine}' kernel '${d.kernel}'` : "").toBeNull();
            else expect(d, "a listed difference no longer occurs").toEqual({ line: k.line, engine: k.engine, kernel: k.kernel });
          });
        }
      });
    }
  });
}
