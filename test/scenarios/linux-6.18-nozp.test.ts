// The engine under linux-6.18 with zero_page: false against the recordings of
// Linux 6.18.44 booted without the zero page (test/scenarios/corpus-6.18-nozp,
// see its README): every recording is reproduced line for line by the release
// and the debug builds, the engine configured from the directory's host profile
// (host-profile.json, zero_page off) (count's image numbers masked, av= numbers compared up
// to renaming). With the zero page on, 20-read-faults must come out
// differently: the knob matters.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import type { EngineBuild } from "../../src/engine/index.js";
import { runScenario } from "../../src/scenario/run.js";
import { recordingEngineConfig } from "../helpers/host.js";
import { normalizeOutput, renumberAnonVmas } from "../helpers/outputs.js";

const DIR = fileURLToPath(new URL("./corpus-6.18-nozp/", import.meta.url));
const TAG = "linux-6.18-nozp";
const CONFIG = recordingEngineConfig(DIR, TAG, "linux-6.18");

const names = readdirSync(DIR)
  .filter((f) => f.endsWith(".script"))
  .map((f) => f.slice(0, -".script".length))
  .sort();

const normalize = normalizeOutput;

function engineOutput(build: EngineBuild, name: string, zeroPage: boolean): string[] {
  const kernel = createKernelSync({ ...CONFIG, zero_page: zeroPage }, { build });
  return normalize(runScenario(kernel, readFileSync(path.join(DIR, `${name}.script`), "utf8")).output);
}

function recording(name: string): string[] {
  return normalize(readFileSync(path.join(DIR, `${name}.${TAG}.out`), "utf8"));
}

/** The first differing line (1-based) of two outputs, or 0 when equal. */
function firstDifference(a: string[], b: string[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i + 1;
  return 0;
}

describe("engine (linux-6.18, zero_page off) reproduces Linux 6.18 without the zero page", () => {
  it("finds the recordings (5 scripts, each with its output)", () => {
    expect(names).toEqual([
      "01-adjacent-anon-unfaulted", "06-mremap-faulted-after-neighbour", "10-mprotect-split-merge",
      "15-fork-child-continues", "20-read-faults",
    ]);
  });

  it("renumbers av= in order of first appearance", () => {
    expect(renumberAnonVmas("  0 1 rw-p anon 0 av=4/1\n  1 2 rw-p anon 1 av=8/7 x\n  av=-")).toBe(
      "  0 1 rw-p anon 0 av=1/2\n  1 2 rw-p anon 1 av=3/4 x\n  av=-",
    );
  });

  for (const build of ["release", "debug"] as const) {
    describe(`${build} build`, () => {
      for (const name of names) {
        it(name, () => {
          const out = engineOutput(build, name, false);
          const rec = recording(name);
          const line = firstDifference(out, rec);
          expect(line, line ? `line ${line}: engine '${out[line - 1]}' kernel '${rec[line - 1]}'` : "").toBe(0);
        });
      }
      it("with the zero page on, 20-read-faults differs from the recording (the knob matters)", () => {
        const out = engineOutput(build, "20-read-faults", true);
        const rec = recording("20-read-faults");
        const line = firstDifference(out, rec);
        // the first dump: the read-faulted VMA has no anon_vma and no page with the zero page
        expect(line).toBe(6);
        expect(out[5]).toBe("  0 8 rw-p anon 0 av=- rss=0 anon=0 locked=0 flags=rd,wr,mr,mw,me,ac");
        expect(rec[5]).toBe("  0 8 rw-p anon 0 av=1/1 rss=1 anon=1 locked=0 flags=rd,wr,mr,mw,me,ac");
      });
    });
  }
});
