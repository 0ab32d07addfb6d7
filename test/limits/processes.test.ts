// Limits across tasks, through the API (the scenario language has no threads
// or exec): random steps over several tasks - fork, cloneVm (threads share the
// limits, not the capabilities), exit, exec, setrlimit, capDrop - mixed with
// calls that check limits (mmap, MAP_LOCKED, mlock, mlockall, mremap, brk,
// stack growth). The model and the engine must return the same results and
// report the same limits, capabilities and counters for every task after
// every step. This exercises the engine's loading of `current` when calls
// alternate between tasks.
//
// Scale: VMASIM_PROPERTY_SEEDS (default 24) sequences of 300 steps.
import { describe, expect, it } from "vitest";
import {
  MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_LOCKED, MAP_PRIVATE, MCL_CURRENT, MCL_FUTURE, PROT_READ, PROT_WRITE,
} from "../../src/abi/constants.js";
import { createKernelSync } from "../../src/engine/index.js";
import { createModelKernel } from "../../src/model/index.js";
import type { Capability, KernelConfig, KernelSim, ProcessSim, RlimitResource } from "../../src/types.js";
import { mulberry32 } from "../helpers/random.js";

const SEEDS = Number(process.env.VMASIM_PROPERTY_SEEDS ?? 24);
const STEPS = 300;
const P = 4096;
const BASE = 0x300000000;
const RESOURCES: RlimitResource[] = ["as", "data", "stack", "memlock"];
const CAPS: Capability[] = ["ipc_lock", "sys_admin", "sys_resource"];

/** One step: which task (index into the live list at that time) and what it does. */
type Step = (tasks: ProcessSim[]) => string;

function makeSteps(seed: number): { text: string[]; steps: Step[] } {
  const r = mulberry32(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const text: string[] = [];
  const steps: Step[] = [];
  for (let i = 0; i < STEPS; i++) {
    const who = int(8);
    const kind = int(15);
    const page = int(64);
    const pages = 1 + int(6);
    const res = RESOURCES[int(4)]!;
    const cap = CAPS[int(3)]!;
    // limits near what a task uses (about 640 pages of image, a few locked)
    const lim = (): number => (r() < 0.15 ? Infinity : (res === "memlock" ? int(24) : res === "stack" ? 16 + int(40) : 560 + int(200)) * P);
    const cur = lim();
    const max = r() < 0.5 ? cur : r() < 0.5 ? Infinity : lim();
    const mcl = r() < 0.5 ? MCL_CURRENT : MCL_FUTURE;
    text.push(`task ${who}: ${kind} page ${page} pages ${pages} ${res} ${cur}/${max} ${cap}`);
    steps.push((tasks) => {
      const t = tasks[who % tasks.length]!;
      const a = BASE + page * P;
      switch (kind) {
        case 0: tasks.push(t.fork()); return "fork";
        case 1: tasks.push(t.cloneVm()); return "clone";
        case 2:
          if (tasks.length < 2) return "-";
          t.exit();
          tasks.splice(tasks.indexOf(t), 1);
          return "exit";
        case 3: t.exec(); return "exec";
        case 4: case 5: return String(t.setrlimit(res, Math.min(cur, max), max));
        case 6: t.capDrop(cap); return "drop";
        case 7: return String(t.mmap(a, pages * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
        case 8: return String(t.mmap(a, pages * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_LOCKED, -1, 0));
        case 9: return String(t.mlock(a, pages * P, 0));
        case 10: return String(t.munlock(a, pages * P));
        case 11: return String(t.mlockall(mcl));
        case 12: return String(t.mremap(a, P, pages * P, 0, 0));
        case 13: { const b = t.layout().start_brk; return String(t.brk(b + page * P) - b); }
        default: { const s = t.vmas().at(-1)!; return String(t.touch(s.start - pages * P, true)); }
      }
    });
  }
  return { text, steps };
}

function observe(tasks: ProcessSim[]): string {
  return tasks.map((t) => {
    const limits = RESOURCES.map((res) => { const l = t.getrlimit(res); return `${l.cur}/${l.max}`; }).join(" ");
    const caps = CAPS.filter((c) => t.capable(c)).join(",");
    return `${t.pid}: ${limits} [${caps}] ${JSON.stringify(t.counters())}`;
  }).join("\n");
}

function run(kernel: KernelSim, steps: Step[]): { results: string[]; states: string[] } {
  const tasks = [kernel.createProcess()];
  const results: string[] = [];
  const states: string[] = [];
  for (const s of steps) {
    results.push(s(tasks));
    states.push(observe(tasks));
  }
  return { results, states };
}

describe("property: limits and capabilities across forks, threads and exec, engine == model", () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}`, () => {
      const config: KernelConfig = { policy: "linux-5.17", cap_ipc_lock: seed % 2 === 0, rlimit_memlock: 16 * P, cap_sys_resource: seed % 3 !== 0 };
      const { text, steps } = makeSteps(9000 + seed);
      const m = run(createModelKernel(config), steps);
      const e = run(createKernelSync(config), steps);
      const i = m.results.findIndex((x, k) => x !== e.results[k] || m.states[k] !== e.states[k]);
      if (i >= 0) {
        expect.fail(`step ${i + 1}: results model ${m.results[i]} engine ${e.results[i]}\nmodel:\n${m.states[i]}\nengine:\n${e.states[i]}\nsteps:\n${text.slice(0, i + 1).join("\n")}`);
      }
    });
  }

  it("the steps meet the limits (EPERM, EAGAIN, ENOMEM, stack faults), and threads share limits set after they start", () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const config: KernelConfig = { policy: "linux-5.17", cap_ipc_lock: seed % 2 === 0, rlimit_memlock: 16 * P, cap_sys_resource: seed % 3 !== 0 };
      for (const x of run(createModelKernel(config), makeSteps(9000 + seed).steps).results) seen.add(x);
    }
    for (const want of ["-1", "-11", "-12", "11", "clone"]) expect([...seen]).toContain(want);
  });
});
