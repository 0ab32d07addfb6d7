// The differential property harness: a generated scenario script runs on the
// reference model and on the wasm engine; outputs must be identical and,
// after every line, so must the whole observable state (VMAs with every
// field, counters, layout, and with `memory` the page tables, pages and
// anon_vmas of every live process), with the checkers passing. A failing
// script is shrunk and printed so that it reproduces the failure.
import { checkProcess } from "../../src/check/index.js";
import { createKernelSync, type Process, type Simulator } from "../../src/engine/index.js";
import { createModelKernel } from "../../src/model/index.js";
import { runScenario } from "../../src/scenario/run.js";
import type { KernelConfig, KernelSim, ProcessSim } from "../../src/types.js";

export interface HarnessOptions {
  /** compare memory snapshots (pages, PTEs, anon_vmas) too */
  memory: boolean;
  /** an extra kernel-wide checker (e.g. the memory invariants) */
  checkKernel?: (k: KernelSim) => string[];
}

interface Run {
  output: string;
  steps: string[];
  problems: string[];
}

function vmaState(p: ProcessSim): string[] {
  const vmas = p.vmas().map((v) => [
    v.start.toString(16), v.end.toString(16), v.flags.toString(16), v.flagsHi, v.pgoff.toString(16), v.file,
    v.anonVma, v.anonVmaRoot, v.anonName, v.special,
  ].join(" "));
  const c = p.counters(), l = p.layout();
  return [...vmas,
    `map_count=${c.map_count} total_vm=${c.total_vm} data_vm=${c.data_vm} exec_vm=${c.exec_vm} stack_vm=${c.stack_vm} locked_vm=${c.locked_vm}`,
    `mmap_base=${l.mmap_base} start_brk=${l.start_brk} brk=${l.brk} start_stack=${l.start_stack}`];
}

/**
 * The whole observable state of a kernel in a canonical text form (field order
 * fixed): every live process's VMAs, counters, layout, anon_vma chains, PTEs,
 * page tables and usage, then the kernel's pages and anon_vmas.
 */
export function kernelState(k: KernelSim): string {
  const out: string[] = [];
  for (const q of k.processes()) {
    out.push(`pid ${q.pid}`, ...vmaState(q));
    const m = q.memory();
    out.push(`mm ${m.mm} rss ${m.rssAnon}/${m.rssFile} pgtables ${m.pgtablesAccounted}: ${m.pgtables.map((t) => `${t.level}@${t.addr.toString(16)}`).join(" ")}`);
    for (const c of m.chains) if (c.chain.length) out.push(`chain ${c.start.toString(16)}: ${c.chain.join(" ")}`);
    for (const t of m.ptes) out.push(`pte ${t.addr.toString(16)} ${t.page}${t.write ? " w" : ""}`);
    out.push(`usage ${q.usage().map((u) => `${u.rss}/${u.anon}/${u.locked}`).join(" ")}`);
  }
  const km = k.memory();
  for (const pg of km.pages) out.push(`page ${pg.id} ${pg.anon ? "anon" : "file"} ${pg.mapping} ${pg.index} map=${pg.mapcount} ref=${pg.refcount} c=${pg.content}`);
  for (const av of km.anonVmas) {
    out.push(`av ${av.id} root=${av.root} parent=${av.parent} ref=${av.refcount} degree=${av.degree}: ${av.avcs.map((a) => `${a.mm}:${a.start.toString(16)}:${a.pgoff}`).join(" ")}`);
  }
  return out.join("\n");
}

/** The state compared after each line: one process's VMA layer, or the whole kernel. */
function state(k: KernelSim, p: ProcessSim, memory: boolean): string {
  return memory ? kernelState(k) : vmaState(p).join("\n");
}

/** The first line where two states differ, side by side. */
export function stateDiff(a: string, b: string): string {
  const al = a.split("\n"), bl = b.split("\n");
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `  model:  ${al[i] ?? "(none)"}\n  engine: ${bl[i] ?? "(none)"}`;
  }
  return "";
}

function runOn(kernel: KernelSim, script: string, engine: boolean, opts: HarnessOptions): Run {
  const steps: string[] = [];
  const problems: string[] = [];
  const r = runScenario(kernel, script, {
    onStep: (p, entry) => {
      if (p.exited) return;
      steps.push(state(kernel, p, opts.memory));
      for (const q of opts.memory ? kernel.processes() : [p]) {
        for (const v of checkProcess(q)) problems.push(`line ${entry.line}: checker (pid ${q.pid}): ${v}`);
        if (engine) {
          const c = (q as Process).checkInternal();
          if (c !== 0) problems.push(`line ${entry.line}: engine tree check failed (code ${c})`);
        }
      }
      if (opts.checkKernel) for (const v of opts.checkKernel(kernel)) problems.push(`line ${entry.line}: ${v}`);
      if (engine && opts.memory) {
        const bad = (kernel as Simulator).rmapCheck();
        if (bad) problems.push(`line ${entry.line}: the engine's rmap walk misses mappings of ${bad} PTE(s)`);
      }
    },
  });
  return { output: r.output, steps, problems };
}

/** The first difference between model and engine on `script`, or null. */
export function mismatch(script: string, config: KernelConfig, opts: HarnessOptions): string | null {
  let m: Run, e: Run;
  try {
    m = runOn(createModelKernel(config), script, false, opts);
  } catch (err) {
    return `model threw: ${(err as Error).message}`;
  }
  try {
    e = runOn(createKernelSync(config), script, true, opts);
  } catch (err) {
    return `engine threw: ${(err as Error).message}`;
  }
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
export function shrink(script: string, config: KernelConfig, opts: HarnessOptions): string {
  let lines = script.split("\n");
  const fails = (ls: string[]) => mismatch(ls.join("\n"), config, opts) !== null;
  for (let chunk = Math.max(1, lines.length >> 2); chunk >= 1; chunk >>= 1) {
    for (let i = 0; i < lines.length;) {
      const cand = [...lines.slice(0, i), ...lines.slice(i + chunk)];
      if (cand.length < lines.length && fails(cand)) lines = cand;
      else i += chunk;
    }
  }
  return lines.join("\n");
}

/** The assertion message of a failing seed: the difference and the minimal script. */
export function failure(seed: number, script: string, config: KernelConfig, opts: HarnessOptions, bad: string): string {
  const small = shrink(script, config, opts);
  const header = `# vmasim property failure (seed ${seed}${config.max_map_count ? `, vm.max_map_count=${config.max_map_count}` : ""})\n`;
  return `${bad}\n\nminimal script:\n${header}${small}\n\nafter shrinking: ${mismatch(small, config, opts)}`;
}
