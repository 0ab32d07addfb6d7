// Scripts with `setrlimit` and `capdrop` (test/limits/scripts/NN-name.script)
// against the real kernel. Their outputs were recorded on Linux 6.18.44 as
// root with the runner's BPF reader (`vmasim kernel SCRIPT >
// NN-name.linux-6.18.out`). They are not in the scenario corpus because every
// corpus script also needs recordings from 6.1 and 5.10 under qemu.
//   (a) always: the engine under linux-6.18 reproduces each recording; the
//       engine and the model under linux-5.17 print the same result lines
//       (` => `; their dumps differ from 6.18's where merging does);
//       the parser agrees with the recording on which lines are EPARSE;
//   (b) with the native runner (as root: the scripts drop capabilities and
//       lower limits; the host's hard limits of RLIMIT_AS and RLIMIT_DATA must be
//       unlimited, RLIMIT_MEMLOCK's and RLIMIT_STACK's at least 64 KiB and 8 MiB):
//       the running kernel prints what the engine under linux-6.18 prints
//       (layout only without the BPF reader), and on 6.18.x with it, exactly the
//       recording. The limits are chosen with margins so that the process
//       image (the runner's static buffers, the engine's default image) does
//       not change any result.
import { readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import { canRunNative, hiddenStateAvailable, imageIndependent, layoutOnly, runOnKernel } from "../../src/kernel/native.js";
import { createModelKernel } from "../../src/model/index.js";
import { parseScript } from "../../src/scenario/parse.js";
import { runScenario } from "../../src/scenario/run.js";

const DIR = fileURLToPath(new URL("./scripts/", import.meta.url));
const names = readdirSync(DIR).filter((f) => f.endsWith(".script")).map((f) => f.slice(0, -".script".length)).sort();
const script = (n: string): string => readFileSync(path.join(DIR, `${n}.script`), "utf8");
const recording = (n: string): string => readFileSync(path.join(DIR, `${n}.linux-6.18.out`), "utf8");
const results = (out: string): string[] => out.split("\n").filter((l) => l.includes(" => "));

/** Why the kernel cannot answer here, or null. */
function kernelUnavailable(): string | null {
  const native = canRunNative();
  if (!native.ok) return `the native runner cannot run here: ${native.reason}`;
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not root: the scripts need to drop capabilities a root process has";
  return null;
}
const why = kernelUnavailable();
if (why) console.log(`limit scripts on the real kernel skipped: ${why}`);
const hidden = why === null && hiddenStateAvailable();
const exact = hidden && /^6\.18\./.test(os.release());

describe("limit scripts: the engine and the model against the 6.18 recordings", () => {
  it("has the scripts and their recordings", () => {
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const n of names) expect(script(n).startsWith("# "), n).toBe(true);
  });

  for (const n of names) {
    it(`${n}: engine linux-6.18 == recording; linux-5.17 engine and model give the same results`, () => {
      const rec = recording(n);
      expect(imageIndependent(runScenario(createKernelSync({ policy: "linux-6.18" }), script(n)).output)).toBe(imageIndependent(rec));
      const e517 = runScenario(createKernelSync({ policy: "linux-5.17" }), script(n)).output;
      const m517 = runScenario(createModelKernel({ policy: "linux-5.17" }), script(n)).output;
      expect(results(e517)).toEqual(results(rec));
      expect(m517).toBe(e517);
      for (const e of parseScript(script(n))) {
        const line = rec.split("\n").find((l) => l.startsWith(`${e.text} => `) || l === e.text);
        expect(line, `line ${e.line} in the recording`).toBeDefined();
        expect(line!.endsWith(` => EPARSE (line ${e.line})`), `line ${e.line}: EPARSE`).toBe(e.op === "EPARSE");
      }
    });
  }
});

describe.skipIf(why !== null)("limit scripts on the running kernel", () => {
  for (const n of names) {
    it(`${n}: the kernel prints what the engine (linux-6.18) prints${exact ? ", and the recording" : ""}`, () => {
      const k = runOnKernel(script(n));
      const mask = hidden ? imageIndependent : layoutOnly;
      const engine = runScenario(createKernelSync({ policy: "linux-6.18" }), script(n)).output;
      expect(mask(k.output)).toBe(mask(engine));
      if (exact) expect(imageIndependent(k.output)).toBe(imageIndependent(recording(n)));
    });
  }
});
