// The engine under linux-5.17 against the corpus outputs recorded on older
// Debian kernels under qemu (scripts/qemu-record.sh; recorded once, by hand,
// into test/scenarios/corpus-6.1 and corpus-5.10: this test only READS them and
// never needs qemu). Every script reproduces its recording, except those listed
// in linux-5.17-vs-6.1.json / linux-5.17-vs-5.10.json with their first
// differing line. 6.1 is compared like the 6.18 corpus (image-dependent count
// numbers masked); 5.10 layout-only (its anon lines read `anon ?`: no BPF
// task_vma iterator before 5.12).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import { imageIndependent, layoutOnly } from "../../src/kernel/native.js";
import { runScenario } from "../../src/scenario/run.js";

const corpus = new URL("./corpus/", import.meta.url);
const scripts = readdirSync(corpus).filter((f) => f.endsWith(".script")).sort();

type Expected = Record<string, { line: number; engine: string; kernel: string; reason: string }>;

const kernels = [
  { tag: "linux-6.1", dir: "./corpus-6.1/", list: "./linux-5.17-vs-6.1.json", mask: imageIndependent },
  { tag: "linux-5.10", dir: "./corpus-5.10/", list: "./linux-5.17-vs-5.10.json", mask: layoutOnly },
];

for (const k of kernels) {
  const dir = new URL(k.dir, import.meta.url);
  const expected = JSON.parse(readFileSync(new URL(k.list, import.meta.url), "utf8")) as Expected;
  describe(`engine (linux-5.17) against the corpus recorded on ${k.tag} under qemu`, () => {
    for (const f of scripts) {
      const name = f.replace(/\.script$/, "");
      const diff = expected[name];
      it(`${name}${diff ? ` (differs: ${diff.reason.split(":")[0]})` : ""}`, () => {
        const recFile = new URL(`${name}.${k.tag}.out`, dir);
        expect(existsSync(recFile), `${name}.${k.tag}.out missing: record it with scripts/qemu-record.sh`).toBe(true);
        const script = readFileSync(new URL(f, corpus), "utf8");
        const out = k.mask(runScenario(createKernelSync({ policy: "linux-5.17" }), script).output).split("\n");
        const rec = k.mask(readFileSync(recFile, "utf8")).split("\n");
        const i = out.findIndex((l, j) => l !== rec[j]);
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
      expect(Object.keys(expected).filter((n) => n !== "_doc" && !names.has(n))).toEqual([]);
    });
  });
}
