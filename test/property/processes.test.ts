// The property test of process lifecycles: random sequences over several
// processes - fork, threads (cloneVm), exit, exec, user accesses and the VMA
// syscalls - drive the reference model and the wasm engine through the API
// (the scenario language has no exec or threads). After every step the whole
// state of both kernels must be identical and the memory invariants must hold
// on both. A failure prints the sequence of steps that reproduces it.
//
// Also the calls the scenario language cannot express: anon names, mlockall,
// munlockall, MADV_REMOVE, MADV_POPULATE_WRITE, mremap of 0 bytes.
//
// Scale: VMASIM_PROPERTY_SEEDS (default 24) sequences of 250 steps.
import { describe, expect, it } from "vitest";
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE,
} from "../../src/abi/constants.js";
import { checkKernel, checkProcess } from "../../src/check/index.js";
import { createKernelSync, Simulator } from "../../src/engine/index.js";
import { createModelKernel } from "../../src/model/index.js";
import type { KernelSim, ProcessSim } from "../../src/types.js";
import { kernelState, stateDiff } from "./harness.js";

const SEEDS = Number(process.env.VMASIM_PROPERTY_SEEDS ?? 24);
const STEPS = 250;
const BASE = 0x10000000;

function rng(seed: number) {
  let s = (seed * 2654435761) >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  };
}

/** One step, as text (for the failure report) and as an action on a kernel's task list. */
interface Step { text: string; run(k: KernelSim, tasks: ProcessSim[], files: number[]): unknown }

function makeSteps(seed: number): Step[] {
  const r = rng(seed);
  const steps: Step[] = [];
  let live = 1; // tasks alive, tracked the same way the steps will change them
  for (let i = 0; i < STEPS; i++) {
    const t = r(1000); // which task: index modulo the live count at run time
    const pg = r(48), n = 1 + r(6);
    const addr = BASE + pg * PAGE_SIZE;
    const kind = r(100);
    if (kind < 22) {
      const file = r(4);
      const prot = [PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE][r(3)];
      const place = r(2) ? MAP_FIXED : MAP_FIXED_NOREPLACE;
      if (file < 2) {
        steps.push({ text: `task ${t} mmap ${pg} ${n} anon prot ${prot}`, run: (_k, ts) => ts[t % ts.length].mmap(addr, n * PAGE_SIZE, prot, MAP_PRIVATE | MAP_ANONYMOUS | place, -1, 0) });
      } else {
        const shared = r(2) === 1;
        steps.push({ text: `task ${t} mmap ${pg} ${n} file${file - 2} ${shared ? "shared" : "private"} prot ${prot}`, run: (_k, ts, fs) => ts[t % ts.length].mmap(addr, n * PAGE_SIZE, prot, (shared ? MAP_SHARED : MAP_PRIVATE) | place, fs[file - 2], pg * PAGE_SIZE) });
      }
    } else if (kind < 30) {
      steps.push({ text: `task ${t} munmap ${pg} ${n}`, run: (_k, ts) => ts[t % ts.length].munmap(addr, n * PAGE_SIZE) });
    } else if (kind < 38) {
      const prot = r(3);
      steps.push({ text: `task ${t} mprotect ${pg} ${n} ${prot}`, run: (_k, ts) => ts[t % ts.length].mprotect(addr, n * PAGE_SIZE, prot) });
    } else if (kind < 70) {
      const write = r(3) > 0;
      steps.push({ text: `task ${t} touch ${pg} ${write ? "write" : "read"}`, run: (_k, ts) => ts[t % ts.length].touch(addr, write) });
    } else if (kind < 76) {
      steps.push({ text: `task ${t} peek ${pg}`, run: (_k, ts) => ts[t % ts.length].peek(addr) });
    } else if (kind < 84 && live < 6) {
      live++;
      steps.push({ text: `task ${t} fork`, run: (_k, ts) => ts.push(ts[t % ts.length].fork()) });
    } else if (kind < 88 && live < 6) {
      live++;
      steps.push({ text: `task ${t} cloneVm`, run: (_k, ts) => ts.push(ts[t % ts.length].cloneVm()) });
    } else if (kind < 94 && live > 1) {
      live--;
      steps.push({ text: `task ${t} exit`, run: (_k, ts) => { const i2 = t % ts.length; ts[i2].exit(); ts.splice(i2, 1); } });
    } else if (kind < 96) {
      steps.push({ text: `task ${t} exec`, run: (_k, ts) => ts[t % ts.length].exec() });
    } else if (kind < 97) {
      // calls the scenario language cannot express: anon names, mlockall, MADV_REMOVE, mremap of 0 bytes
      const which = r(6);
      const name = [null, "heap", "arena", "heap"][r(4)];
      if (which === 0) steps.push({ text: `task ${t} setAnonName ${pg} ${n} ${name}`, run: (_k, ts) => ts[t % ts.length].setAnonName(addr, n * PAGE_SIZE, name) });
      else if (which === 1) { const f = 1 + r(7); steps.push({ text: `task ${t} mlockall ${f}`, run: (_k, ts) => ts[t % ts.length].mlockall(f) }); }
      else if (which === 2) steps.push({ text: `task ${t} munlockall`, run: (_k, ts) => ts[t % ts.length].munlockall() });
      else if (which === 3) steps.push({ text: `task ${t} madvise ${pg} ${n} remove`, run: (_k, ts) => ts[t % ts.length].madvise(addr, n * PAGE_SIZE, 9) });
      else if (which === 4) steps.push({ text: `task ${t} madvise ${pg} ${n} populate_write`, run: (_k, ts) => ts[t % ts.length].madvise(addr, n * PAGE_SIZE, 23) });
      else { const to = BASE + (48 + r(16)) * PAGE_SIZE; steps.push({ text: `task ${t} mremap ${pg} 0 ${n} maymove`, run: (_k, ts) => ts[t % ts.length].mremap(addr, 0, n * PAGE_SIZE, 1, to) }); }
    } else {
      const delta = r(8);
      steps.push({ text: `task ${t} brk +${delta}`, run: (_k, ts) => { const p = ts[t % ts.length]; return p.brk(p.layout().start_brk + delta * PAGE_SIZE); } });
    }
  }
  return steps;
}

function run(k: KernelSim, steps: Step[]): { results: string[]; states: string[]; problems: string[] } {
  const files = [k.createFile("/tmp/vmasim-prop0", 32), k.createFile("/tmp/vmasim-prop1", 64)];
  const tasks: ProcessSim[] = [k.createProcess()];
  const results: string[] = [], states: string[] = [], problems: string[] = [];
  steps.forEach((s, i) => {
    let res: string;
    try {
      res = String(s.run(k, tasks, files) ?? "");
    } catch (e) {
      res = `threw ${(e as Error).message}`;
    }
    results.push(res);
    states.push(kernelState(k));
    for (const p of k.processes()) for (const v of checkProcess(p)) problems.push(`step ${i + 1} (${s.text}): pid ${p.pid}: ${v}`);
    for (const v of checkKernel(k)) problems.push(`step ${i + 1} (${s.text}): ${v}`);
    if (k instanceof Simulator && k.rmapCheck() !== 0) problems.push(`step ${i + 1} (${s.text}): the engine's rmap walk misses mappings`);
  });
  return { results, states, problems };
}

describe("property: processes (fork, threads, exit, exec) on engine == model, memory invariants after every step", () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}`, () => {
      const steps = makeSteps(seed);
      const m = run(createModelKernel({ policy: "linux-5.17" }), steps);
      const e = run(createKernelSync({ policy: "linux-5.17" }), steps);
      const where = (i: number) => `after step ${i + 1}; the steps:\n${steps.slice(0, i + 1).map((s) => s.text).join("\n")}`;
      if (m.problems.length) expect.fail(`model: ${m.problems[0]}`);
      if (e.problems.length) expect.fail(`engine: ${e.problems[0]}`);
      const ri = m.results.findIndex((x, i) => x !== e.results[i]);
      if (ri >= 0) expect.fail(`results differ (model ${m.results[ri]}, engine ${e.results[ri]}) ${where(ri)}`);
      const si = m.states.findIndex((x, i) => x !== e.states[i]);
      if (si >= 0) {
        expect.fail(`states differ:\n${stateDiff(m.states[si], e.states[si])}\n${where(si)}`);
      }
    });
  }
});
