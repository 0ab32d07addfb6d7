// The engine under linux-6.18 against everything recorded on Linux 6.18.44:
// every corpus script (test/scenarios/corpus/*.linux-6.18.out) and every
// example recording (test/fixtures/scenarios/*.linux-6.18.out) is reproduced byte
// for byte (image-dependent count numbers masked), by the release and the
// debug builds. One test per scenario and build.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import type { EngineBuild } from "../../src/engine/index.js";
import { imageIndependent } from "../../src/kernel/native.js";
import { runScenario } from "../../src/scenario/run.js";

const CORPUS = fileURLToPath(new URL("./corpus/", import.meta.url));
// the four example scripts and their recordings
const SHARED = fileURLToPath(new URL("../fixtures/scenarios/", import.meta.url));
const TAG = "linux-6.18";

/** [name, script path, recording path] of every script with a 6.18 recording in dir. */
function recorded(dir: string): [string, string, string][] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".script"))
    .sort()
    .map((f): [string, string, string] => {
      const name = f.slice(0, -".script".length);
      return [name, path.join(dir, f), path.join(dir, `${name}.${TAG}.out`)];
    })
    .filter(([, , out]) => existsSync(out));
}

const corpus = recorded(CORPUS);
const shared = recorded(SHARED);

/** The first differing line (1-based) of two outputs, or 0 when equal. */
function firstDifference(engine: string[], kernel: string[]): number {
  const n = Math.max(engine.length, kernel.length);
  for (let i = 0; i < n; i++) if (engine[i] !== kernel[i]) return i + 1;
  return 0;
}

function check(build: EngineBuild, scriptPath: string, outPath: string): void {
  const kernel = createKernelSync({ policy: TAG }, { build });
  const out = imageIndependent(runScenario(kernel, readFileSync(scriptPath, "utf8")).output).split("\n");
  const rec = imageIndependent(readFileSync(outPath, "utf8")).split("\n");
  const line = firstDifference(out, rec);
  expect(line, line ? `line ${line}: engine '${out[line - 1]}' kernel '${rec[line - 1]}'` : "").toBe(0);
}

describe("engine (linux-6.18) reproduces the recordings of Linux 6.18", () => {
  it("finds the corpus (at least 70 recordings)", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(70);
  });
  it("finds the shared examples (4 recordings)", () => {
    expect(shared.length).toBe(4);
  });
  for (const build of ["release", "debug"] as const) {
    describe(`${build} build`, () => {
      for (const [name, script, out] of corpus) it(`corpus ${name}`, () => check(build, script, out));
      for (const [name, script, out] of shared) it(`shared ${name}`, () => check(build, script, out));
    });
  }
});
