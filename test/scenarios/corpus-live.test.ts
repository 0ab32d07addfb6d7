// The whole corpus on the running kernel against the engine configured from
// the host probe (docs/configuration.md "The host profile"): whatever this
// machine's configuration — with or without the zero page, its sysctls,
// rlimits and capabilities — every corpus script must print the same on the
// kernel and in the engine under the kernel's own policy (count's image
// numbers masked, av= numbers up to renaming). On a host without the zero page
// this is the engine with zero_page=0 against that kernel, script by script.
// Needs the native runner with its BPF reader (root, BTF) and a kernel whose
// policy vmasim has (6.18.x); skipped with the reason otherwise.
import { readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { describeNonDefault } from "../../src/config/config.js";
import { createKernelSync } from "../../src/engine/index.js";
import { canRunNative, hiddenStateAvailable, runOnKernel } from "../../src/kernel/native.js";
import { runScenario } from "../../src/scenario/run.js";
import { liveEngineConfig } from "../helpers/host.js";
import { normalizeOutput } from "../helpers/outputs.js";

const CORPUS = fileURLToPath(new URL("./corpus/", import.meta.url));
const names = readdirSync(CORPUS).filter((f) => f.endsWith(".script")).map((f) => f.slice(0, -".script".length)).sort();

function unavailable(): string | null {
  const native = canRunNative();
  if (!native.ok) return `the native runner cannot run here: ${native.reason}`;
  if (!/^6\.18\./.test(os.release())) return `the running kernel is ${os.release()}, not 6.18.x (no policy of its own yet)`;
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not running as root (anon lines would read `anon ?`)";
  if (!hiddenStateAvailable()) return "the runner's BPF reader of the hidden anon state is unavailable";
  return null;
}

describe("the corpus on this kernel vs the engine configured as this host", () => {
  const why = unavailable();
  if (why !== null) {
    console.log(`live corpus comparison skipped: ${why}`);
    it.skip(`compare ${names.length} scripts (${why})`, () => {});
    return;
  }
  const config = liveEngineConfig("linux-6.18");
  console.log(`live corpus comparison: engine linux-6.18 configured as this host (${describeNonDefault(config).join(" ") || "defaults"})`);
  for (const name of names) {
    it(name, () => {
      const script = readFileSync(path.join(CORPUS, `${name}.script`), "utf8");
      const kernel = normalizeOutput(runOnKernel(script).output);
      const engine = normalizeOutput(runScenario(createKernelSync(config), script).output);
      expect(engine).toEqual(kernel);
    });
  }
});
