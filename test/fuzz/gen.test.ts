// `vmasim fuzz --gen` (src/fuzz/gen.ts): every kind of generated workload
// replays cleanly on the engine and the reference model in lock step (and on
// the engine alone where the model lacks the policy); a broken engine is
// caught at the event that shows it, with the command that makes the trace
// again; seed-v2's documented defect is classed as such; the output is the
// same bytes for the same options; bad options are usage errors.
import { describe, expect, it } from "vitest";
import { createKernel } from "../../src/engine/simulator.js";
import { formatGenReport, fuzzGenerated, genPassed } from "../../src/fuzz/gen.js";
import { GEN_KINDS } from "../../src/gen/generate.js";
import type { KernelConfig } from "../../src/types.js";
import { cli } from "../cli/helpers.js";

describe("vmasim fuzz --gen: every kind is clean", () => {
  for (const kind of GEN_KINDS) {
    it(`${kind}: engine == model under linux-5.17, engine alone under linux-6.12`, async () => {
      for (const policy of ["linux-5.17", "linux-6.12"] as const) {
        const r = await fuzzGenerated({ kind, policy, events: 2500, seed: 1, checkEvery: 500 });
        expect(r.model, policy).toBe(policy === "linux-5.17");
        expect(r.classes, `${kind} under ${policy}`).toEqual([]);
        expect(r.ops).toBe(2500);
      }
    }, 60000);
  }
});

describe("vmasim fuzz --gen: failures", () => {
  it("an engine without the zero page diverges from the model at the read that maps it", async () => {
    // the server reads pages it never wrote: the zero page, or a fresh page when the knob is off
    const broken = (c: KernelConfig) => createKernel({ ...c, zero_page: false });
    const r = await fuzzGenerated({ kind: "server", policy: "seed", events: 3000, seed: 4, checkEvery: 1000, createEngine: broken });
    expect(r.classes.length).toBe(1);
    const c = r.classes[0];
    expect(c.signature).toMatch(/^diverge: (memory state|page_fault: mm counters)$/);
    expect(c.failure.from).toBe(c.failure.event); // located: checks after every event up to it
    const text = formatGenReport(r);
    expect(text).toContain(`first: seed 4, event ${c.failure.event})`);
    expect(text).toContain("  again: vmasim gen server --events 3000 --seed 4 -o server-4.vt.gz\n         vmasim replay server-4.vt.gz --policy seed --check-every 1\n");
    expect(genPassed(r)).toBe(false);
  }, 60000);

  it("engine alone: a call whose result differs from the trace's is a failure at its line", async () => {
    // the trace fills max_map_count 1000; an engine allowed 600 refuses mprotects the trace says succeeded
    const low = (c: KernelConfig) => createKernel({ ...c, max_map_count: 600 });
    const r = await fuzzGenerated({ kind: "adversarial", policy: "linux-6.18", events: 3000, seed: 2, createEngine: low });
    expect(r.classes.map((c) => c.signature)).toEqual(["disagree: mprotect result"]);
    expect(r.classes[0].failure.detail).toMatch(/^disagree: mprotect result\nmprotect@\d+: trace 0x0, engine -12$/);
  }, 60000);

  it("seed-v2: the allocator's mremap meets the documented defect, which does not fail the run", async () => {
    const r = await fuzzGenerated({ kind: "allocator", policy: "seed-v2", events: 1500, seed: 1, checkEvery: 500 });
    expect(r.classes.map((c) => c.documented)).toEqual(["mremap re-indexes pages relative to the whole VMA (rule 3)"]);
    expect(genPassed(r)).toBe(true);
  }, 60000);
});

describe("vmasim fuzz --gen: the command", () => {
  it("the same options give the same bytes; --ops runs the next seeds", async () => {
    const argv = ["fuzz", "--gen", "build,adversarial", "--policy", "linux-5.17", "--events", "800", "--ops", "1600", "--seed", "7"];
    const a = await cli(argv);
    expect(a.status).toBe(0);
    expect(a.stdout).toBe((await cli(argv)).stdout);
    expect(a.stdout).toBe(
      "build under linux-5.17: 1600 events in 2 generated trace(s) (engine == model; states and checkers every 1000 events): no failure\n" +
      "adversarial under linux-5.17: 1600 events in 2 generated trace(s) (engine == model; states and checkers every 1000 events): no failure\n");
    expect(a.stderr).toMatch(/^fuzz --gen build linux-5\.17: 1600 events in [\d.]+ s/);
  }, 60000);

  it("bad options are usage errors (status 2)", async () => {
    for (const [argv, msg] of [
      [["--gen", "frob"], /unknown kind 'frob' for --gen/],
      [["--gen", "server", "--events", "5"], /--events needs a whole number >= 17/],
      [["--gen", "server", "--pids", "0"], /--pids needs a whole number >= 1/],
      [["--events", "100"], /--events is for --gen/],
      [["--gen", "server", "--replay", "x.fuzz"], /--gen and --replay do not go together/],
    ] as const) {
      const r = await cli(["fuzz", ...argv]);
      expect(r.status, argv.join(" ")).toBe(2);
      expect(r.stderr, argv.join(" ")).toMatch(msg);
    }
  });
});
