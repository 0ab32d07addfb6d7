// The random process-lifecycle steps of the processes property test (fork,
// threads, exit, exec, user accesses, the VMA syscalls and the calls the
// scenario language cannot express), and running them on one kernel with the
// checkers after every step. Shared by processes.test.ts (linux-5.17) and
// policies.test.ts (the seed policies).
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE,
} from "../../src/abi/constants.js";
import { checkKernel, checkProcess } from "../../src/check/index.js";
import { Simulator } from "../../src/engine/index.js";
import type { KernelSim, ProcessSim } from "../../src/types.js";
import { kernelState, rng } from "./harness.js";

export const STEPS = 250;
const BASE = 0x10000000;

// the random source lives in harness.ts (with randomConfig); re-exported for seed-scripts.ts
export { rng };

/** One step, as text (for the failure report) and as an action on a kernel's task list. */
export interface Step { text: string; run(k: KernelSim, tasks: ProcessSim[], files: number[]): unknown }

export function makeSteps(seed: number): Step[] {
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

export interface StepsRun {
  results: string[];
  /** kernelState() after every step (empty when not compared) */
  states: string[];
  problems: string[];
  /** steps after which a checker failed (countChecker) */
  broken: number;
}

/**
 * Run the steps on k, checkers after every step: their failures are problems,
 * or with countChecker only counted (seed-v2). states: false skips the state
 * text (model-only runs).
 */
export function run(k: KernelSim, steps: Step[], opts: { countChecker?: boolean; states?: boolean } = {}): StepsRun {
  const files = [k.createFile("/tmp/vmasim-prop0", 32), k.createFile("/tmp/vmasim-prop1", 64)];
  const tasks: ProcessSim[] = [k.createProcess()];
  const results: string[] = [], states: string[] = [], problems: string[] = [];
  let broken = 0;
  steps.forEach((s, i) => {
    let res: string;
    try {
      res = String(s.run(k, tasks, files) ?? "");
    } catch (e) {
      res = `threw ${(e as Error).message}`;
    }
    results.push(res);
    if (opts.states !== false) states.push(kernelState(k));
    const checker: string[] = [];
    for (const p of k.processes()) for (const v of checkProcess(p)) checker.push(`step ${i + 1} (${s.text}): pid ${p.pid}: ${v}`);
    for (const v of checkKernel(k)) checker.push(`step ${i + 1} (${s.text}): ${v}`);
    if (k instanceof Simulator && k.rmapCheck() !== 0) checker.push(`step ${i + 1} (${s.text}): the engine's rmap walk misses mappings`);
    if (!opts.countChecker) problems.push(...checker);
    else if (checker.length) broken++;
  });
  return { results, states, problems, broken };
}
