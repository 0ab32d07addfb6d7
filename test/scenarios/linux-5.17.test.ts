// The engine under linux-5.17 against the whole corpus as recorded on real
// kernels around it: 6.18 (this machine, test/scenarios/corpus), and 6.1 and
// 5.10 (Debian kernels under qemu, recorded once by hand with
// scripts/qemu-record.sh into corpus-6.1 and corpus-5.10: this test only READS
// them). Every script reproduces its recording (image-dependent count numbers
// masked; 5.10 layout only: no BPF task_vma iterator before 5.12, its anon
// lines read `anon ?`), except where 5.17 and that kernel differ: each such
// script is listed in linux-5.17-vs-<kernel>.json with its first differing
// line and the kernel change that explains it. A new difference, or a listed
// one that moves or disappears, fails. The engine is configured as each
// recording machine was (its directory's host-profile.json; knobs it states
// unknown keep their defaults).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import { imageIndependent, layoutOnly } from "../../src/kernel/native.js";
import { runScenario } from "../../src/scenario/run.js";
import { recordingEngineConfig } from "../helpers/host.js";

const corpus = new URL("./corpus/", import.meta.url);
const scripts = readdirSync(corpus).filter((f) => f.endsWith(".script")).sort();

type Expected = Record<string, { line: number; engine: string; kernel: string; reason: string }>;

const KERNELS = [
  { tag: "linux-6.18", dir: "./corpus/", list: "./linux-5.17-vs-6.18.json", mask: imageIndependent, how: "recorded on 6.18" },
  { tag: "linux-6.1", dir: "./corpus-6.1/", list: "./linux-5.17-vs-6.1.json", mask: imageIndependent, how: "recorded on linux-6.1 under qemu" },
  { tag: "linux-5.10", dir: "./corpus-5.10/", list: "./linux-5.17-vs-5.10.json", mask: layoutOnly, how: "recorded on linux-5.10 under qemu" },
];

for (const k of KERNELS) {
  const dir = new URL(k.dir, import.meta.url);
  const expected = JSON.parse(readFileSync(new URL(k.list, import.meta.url), "utf8")) as Expected;
  const config = recordingEngineConfig(fileURLToPath(dir), k.tag, "linux-5.17");
  describe(`engine (linux-5.17) against the corpus ${k.how}`, () => {
    for (const f of scripts) {
      const name = f.replace(/\.script$/, "");
      const diff = expected[name];
      it(`${name}${diff ? ` (differs: ${diff.reason.split(":")[0]})` : ""}`, () => {
        const recFile = new URL(`${name}.${k.tag}.out`, dir);
        expect(existsSync(recFile), `${name}.${k.tag}.out is missing`).toBe(true);
        const script = readFileSync(new URL(f, corpus), "utf8");
        const out = k.mask(runScenario(createKernelSync(config), script).output).split("\n");
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
