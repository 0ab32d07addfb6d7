// Random scripts (src/scenario/generate.ts) with random overcommit settings:
// `sysctl` lines switching the mode and moving the limit are mixed in, and the
// machine is small, so that modes 0 and 2 refuse now and then. The reference
// model and both engine builds must print the same output (every errno) and
// have the same Committed_AS after every line; under linux-6.18 (engine only)
// the two builds must agree. Committed_AS must always equal the pages of the
// live processes' VM_ACCOUNT VMAs.
import { describe, expect, it } from "vitest";
import { VM_ACCOUNT } from "../../src/abi/constants.js";
import { generateScript } from "../../src/scenario/generate.js";
import { runScenario } from "../../src/scenario/run.js";
import type { KernelConfig, KernelSim, Policy } from "../../src/types.js";
import { IMPLS } from "../helpers/impls.js";
import { mulberry32Int } from "../helpers/random.js";

const SCRIPTS = 16;
const OPS = 80;

/** The kernel configuration and the script with `sysctl` lines mixed in. */
function scenario(seed: number): { config: Partial<KernelConfig>; script: string } {
  const r = mulberry32Int(seed);
  // the default image charges about 60 pages; the arena adds up to 64 per process
  const config: Partial<KernelConfig> = {
    overcommit_memory: r(3),
    totalram_pages: 40 + r(200),
    total_swap_pages: r(2) ? 0 : r(50),
    admin_reserve_kbytes: 4 * r(20),
    user_reserve_kbytes: 4 * r(10),
    cap_sys_admin: r(2) === 0,
    overcommit_ratio: 50 + r(150),
  };
  const lines = generateScript({ seed, ops: OPS, arenaPages: 64, topDown: false }).split("\n");
  const out: string[] = [];
  for (const line of lines) {
    if (line !== "" && r(12) === 0) {
      const which = r(4);
      if (which === 0) out.push(`sysctl overcommit_memory ${r(3)}`);
      else if (which === 1) out.push(`sysctl overcommit_kbytes ${4 * (60 + r(200))}`);
      else if (which === 2) out.push(`sysctl overcommit_ratio ${40 + r(200)}`);
      else out.push(`sysctl user_reserve_kbytes ${4 * r(10)}`);
    }
    out.push(line);
  }
  return { config, script: out.join("\n") };
}

interface Trace {
  output: string;
  committed: number[];
}

function accountedPages(k: KernelSim): number {
  let n = 0;
  for (const p of k.processes()) for (const v of p.vmas()) if (v.flags & VM_ACCOUNT) n += (v.end - v.start) / 4096;
  return n;
}

function trace(k: KernelSim, script: string): Trace {
  const committed: number[] = [];
  const r = runScenario(k, script, {
    onStep: (_p, e) => {
      const c = k.meminfo!().committedAs;
      const sum = accountedPages(k);
      if (c !== sum) throw new Error(`line ${e.line} (${e.text}): Committed_AS ${c}, VM_ACCOUNT pages ${sum}`);
      committed.push(c);
    },
  });
  return { output: r.output, committed };
}

describe.each(["linux-5.17", "seed", "seed-v2", "linux-6.18"] as const)("random scripts with random overcommit under %s", (policy: Policy) => {
  const impls = policy === "linux-6.18" ? IMPLS.filter((i) => i.name !== "model") : IMPLS;
  for (let i = 1; i <= SCRIPTS; i++) {
    it(`seed ${i}`, () => {
      const seed = 0x0c0e0000 + i;
      const { config, script } = scenario(seed);
      const traces = impls.map((impl) => trace(impl.create({ policy, ...config }), script));
      for (let j = 1; j < traces.length; j++) {
        expect(traces[j]!.output, `${impls[j]!.name} vs ${impls[0]!.name}`).toBe(traces[0]!.output);
        expect(traces[j]!.committed).toEqual(traces[0]!.committed);
      }
    });
  }

  it("the scripts are refused now and then (the settings reach the limits)", () => {
    let refused = 0;
    let lines = 0;
    for (let i = 1; i <= SCRIPTS; i++) {
      const { config, script } = scenario(0x0c0e0000 + i);
      const t = trace(impls[0]!.create({ policy, ...config }), script);
      lines += t.committed.length;
      refused += t.output.split("\n").filter((l) => / => ENOMEM$/.test(l) && !l.startsWith("brk")).length;
    }
    expect(lines).toBeGreaterThan(SCRIPTS * OPS);
    expect(refused).toBeGreaterThan(SCRIPTS);
  });
});
