// The property test of the VMA layer: random scenario scripts (mmap, munmap,
// mprotect, brk and their edge cases) run on the reference model and on the
// wasm engine must give identical outputs, and after every line identical
// VMAs (every field), counters and layout, with the invariant checker and the
// engine's own tree check passing. A failing sequence is shrunk and printed as
// a scenario script that reproduces it.
//
// Scale: VMASIM_PROPERTY_SEEDS (default 24) scripts of 450 operations, half of
// them with vm.max_map_count = 40 so that the limit is hit often.
import { describe, expect, it } from "vitest";
import { checkProcess } from "../../src/check/index.js";
import { createKernelSync, type Process } from "../../src/engine/index.js";
import { createModelKernel } from "../../src/model/index.js";
import { generateScript } from "../../src/scenario/generate.js";
import { runScenario } from "../../src/scenario/run.js";
import type { KernelConfig, KernelSim, ProcessSim } from "../../src/types.js";

const SEEDS = Number(process.env.VMASIM_PROPERTY_SEEDS ?? 24);
const OPS = 450;
const ALLOW = ["mmap", "munmap", "mprotect", "brk", "dump", "dumpheap", "count", "echo", "repeat"];

interface Run {
  output: string;
  steps: string[];
  problems: string[];
}

/** The whole observable state in a canonical text form (field order fixed). */
function state(p: ProcessSim): string {
  const vmas = p.vmas().map((v) => [
    v.start.toString(16), v.end.toString(16), v.flags.toString(16), v.flagsHi, v.pgoff.toString(16), v.file,
    v.anonVma, v.anonVmaRoot, v.anonName, v.special,
  ].join(" "));
  const c = p.counters(), l = p.layout();
  return [...vmas, `map_count=${c.map_count} total_vm=${c.total_vm} data_vm=${c.data_vm} exec_vm=${c.exec_vm} stack_vm=${c.stack_vm} locked_vm=${c.locked_vm}`,
    `mmap_base=${l.mmap_base} start_brk=${l.start_brk} brk=${l.brk} start_stack=${l.start_stack}`].join("\n");
}

/** The first line where two states differ, side by side. */
function stateDiff(a: string, b: string): string {
  const al = a.split("\n"), bl = b.split("\n");
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `  model:  ${al[i] ?? "(none)"}\n  engine: ${bl[i] ?? "(none)"}`;
  }
  return "";
}

function runOn(kernel: KernelSim, script: string, engine: boolean): Run {
  const steps: string[] = [];
  const problems: string[] = [];
  let stepNo = 0;
  const r = runScenario(kernel, script, {
    onStep: (p, entry) => {
      stepNo++;
      steps.push(state(p));
      for (const v of checkProcess(p)) problems.push(`line ${entry.line}: checker: ${v}`);
      if (engine) {
        const c = (p as Process).checkInternal();
        if (c !== 0) problems.push(`line ${entry.line}: engine tree check failed (code ${c})`);
      }
    },
  });
  void stepNo;
  return { output: r.output, steps, problems };
}

/** The first difference between model and engine on `script`, or null. */
function mismatch(script: string, config: KernelConfig): string | null {
  const m = runOn(createModelKernel(config), script, false);
  const e = runOn(createKernelSync(config), script, true);
  if (m.problems.length) return `model: ${m.problems[0]}`;
  if (e.problems.length) return `engine: ${e.problems[0]}`;
  if (m.output !== e.output) {
    const ml = m.output.split("\n"), el = e.output.split("\n");
    const i = ml.findIndex((l, k) => l !== el[k]);
    return `outputs differ at output line ${i + 1}:\n  model:  ${ml[i]}\n  engine: ${el[i]}`;
  }
  const i = m.steps.findIndex((s, k) => s !== e.steps[k]);
  if (i >= 0) return `state differs after step ${i + 1}:\n${stateDiff(m.steps[i], e.steps[i])}`;
  return null;
}

/** Drop lines while the mismatch persists (greedy, chunks then single lines). */
function shrink(script: string, config: KernelConfig): string {
  let lines = script.split("\n");
  const fails = (ls: string[]) => mismatch(ls.join("\n"), config) !== null;
  for (let chunk = Math.max(1, lines.length >> 2); chunk >= 1; chunk >>= 1) {
    for (let i = 0; i < lines.length;) {
      const cand = [...lines.slice(0, i), ...lines.slice(i + chunk)];
      if (cand.length < lines.length && fails(cand)) lines = cand;
      else i += chunk;
    }
  }
  return lines.join("\n");
}

describe("property: engine == reference model on random VMA-layer scripts", () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const lowLimit = seed % 2 === 0;
    const config: KernelConfig = { policy: "linux-5.17", ...(lowLimit ? { max_map_count: 40 } : {}) };
    it(`seed ${seed}${lowLimit ? " (max_map_count 40)" : ""}`, () => {
      const script = generateScript({ seed, ops: OPS, allow: ALLOW, arenaPages: seed % 3 === 0 ? 96 : 512 });
      const bad = mismatch(script, config);
      if (bad) {
        const small = shrink(script, config);
        const header = `# vmasim property failure (seed ${seed}${lowLimit ? ", vm.max_map_count=40" : ""})\n`;
        expect.fail(`${bad}\n\nminimal script:\n${header}${small}\n\nafter shrinking: ${mismatch(small, config)}`);
      }
    });
  }
  it("covers at least 10,000 operations per run", () => {
    expect(SEEDS * OPS).toBeGreaterThanOrEqual(10_000);
  });
});
