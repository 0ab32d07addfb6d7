// The engine under linux-5.17 against the whole corpus recorded on Linux 6.18:
// every script reproduces its recording byte for byte (image-dependent count
// numbers masked), except where 5.17 and 6.18 differ; each such script is
// listed in linux-5.17-vs-6.18.json with its first differing line and the
// kernel change that explains it. A new difference, or a listed one that
// moves or disappears, fails.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import { imageIndependent } from "../../src/kernel/native.js";
import { runScenario } from "../../src/scenario/run.js";

const dir = new URL("./corpus/", import.meta.url);
const expected = JSON.parse(readFileSync(new URL("./linux-5.17-vs-6.18.json", import.meta.url), "utf8")) as
  Record<string, { line: number; engine: string; kernel: string; reason: string }>;
const scripts = readdirSync(dir).filter((f) => f.endsWith(".script")).sort();

describe("engine (linux-5.17) against the corpus recorded on 6.18", () => {
  for (const f of scripts) {
    const name = f.replace(/\.script$/, "");
    const diff = expected[name];
    it(`${name}${diff ? ` (differs: ${diff.reason.split(":")[0]})` : ""}`, () => {
      const script = readFileSync(new URL(f, dir), "utf8");
      const out = imageIndependent(runScenario(createKernelSync({ policy: "linux-5.17" }), script).output).split("\n");
      const rec = imageIndependent(readFileSync(new URL(`${name}.linux-6.18.out`, dir), "utf8")).split("\n");
      const i = out.findIndex((l, k) => l !== rec[k]);
      const first = i < 0 && out.length !== rec.length ? Math.min(out.length, rec.length) : i;
      if (!diff) {
        expect(first, `first difference at output line ${first + 1}: engine '${out[first]}' kernel '${rec[first]}'`).toBe(-1);
      } else {
        expect({ line: first + 1, engine: out[first], kernel: rec[first] }).toEqual({ line: diff.line, engine: diff.engine, kernel: diff.kernel });
      }
    });
  }
  it("lists no script that is not in the corpus", () => {
    const names = new Set(scripts.map((f) => f.replace(/\.script$/, "")));
    expect(Object.keys(expected).filter((k) => k !== "_doc" && !names.has(k))).toEqual([]);
  });
});
