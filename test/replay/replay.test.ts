// Replays of the fixture traces (real excerpts and a hand-written one) under
// every policy: nothing unparsed, the invariant checkers hold along the way,
// the side-band agrees with the engine under linux-6.18, output is stable.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { replayTrace } from "../../src/replay/run.js";
import { withoutTiming } from "../../src/replay/timing.js";
import { POLICIES } from "../../src/types.js";
import { cli } from "../cli/helpers.js";

const DIR = new URL("../fixtures/traces/", import.meta.url).pathname;
const TRACES = readdirSync(DIR).filter((f) => !f.includes(".mmap2.")).sort();
const SHARED = "/work/shared/traces";

describe("replay of each fixture trace under every policy", () => {
  for (const f of TRACES) {
    it(f, async () => {
      const r = await replayTrace({ trace: join(DIR, f), policies: POLICIES, checkEvery: 250 });
      expect(r.events).toBeGreaterThan(30);
      expect(r.unparsed).toBe(0);
      for (const p of POLICIES) {
        const res = r.policies[p];
        expect(res.checker.messages, p).toEqual([]);
        expect(res.checker.runs, p).toBeGreaterThan(0);
        expect(res.merge.attempts, p).toBe(res.merge.ok + res.merge.failed);
        // the series' figure is 0 under the kernels that have no series
        if (p === "linux-5.17" || p === "linux-6.18") expect(res.merge.enabledBySeries + res.merge.refusedShared, p).toBe(0);
      }
    }, 60_000);
  }
});

describe("side-band check", () => {
  it("lua_make_j2's excerpt: every MMAP2 record agrees with the engine's VMA under linux-6.18", async () => {
    const r = await replayTrace({ trace: join(DIR, "lua_make_j2.head.perf.txt.gz"), policies: ["linux-6.18"] });
    expect(r.sidecarFile).toMatch(/lua_make_j2\.head\.mmap2\.txt\.gz$/);
    const s = r.policies["linux-6.18"].sidecar;
    expect(s.disagreements).toEqual([]);
    expect([s.agreed, s.checked]).toEqual([331, 331]);
    expect(r.policies["linux-6.18"].disagreed).toEqual({});
  });

  it("a strace trace is not paired with a side-band file (its clock is not perf's)", async () => {
    const r = await replayTrace({ trace: join(DIR, "lua_make_j2.head.strace.gz"), policies: ["linux-6.18"] });
    expect(r.sidecarFile).toBeNull();
    expect(r.policies["linux-6.18"].sidecar.checked).toBe(0);
  });

  const nozp = join(SHARED, "python_glibc_nozp.perf.txt.gz");
  it.skipIf(!existsSync(nozp))("python_glibc_nozp (captured without the zero page) agrees fully with zero_page=0", async () => {
    const r = await replayTrace({ trace: nozp, policies: ["linux-6.18"], knobs: { zero_page: false } });
    const s = r.policies["linux-6.18"].sidecar;
    expect(r.unparsed).toBe(0);
    expect([s.agreed, s.checked]).toEqual([545, 545]);
  }, 60_000);
  if (!existsSync(nozp)) console.log(`skipped the shared-trace test: ${nozp} is not on this machine`);
});

describe("hand-written trace: exec, fork + COW, vfork + exec, a thread, exits", () => {
  it("every task is applied to the right mm and every MMAP2 record agrees", async () => {
    const r = await replayTrace({ trace: join(DIR, "handwritten_family.vt"), policies: ["linux-5.17", "seed", "linux-6.18"], checkEvery: 1 });
    expect(r.unmodelled).toEqual({});
    for (const [name, p] of Object.entries(r.policies)) {
      expect(p.processes, name).toEqual({ forks: 1, vmClones: 1, threads: 1, execs: 2, execsWithoutImage: 0, exits: 3 });
      expect(p.unknownPid, name).toEqual({});
      expect(p.disagreed, name).toEqual({});
      // the child's write to the page it shares with its parent is the one COW fault
      expect(p.faults, name).toEqual({ applied: 3, write: 3, cow: 1, kernel: 0, signalled: 0, notModelled: 0 });
      // brk's heap, two anonymous mmaps that merge, the thread's MAP_FIXED mmap that joins them
      expect([p.sidecar.agreed, p.sidecar.checked], name).toEqual([4, 4]);
      expect([p.merge.attempts, p.merge.ok], name).toEqual([4, 2]);
      // at most: tiny's stack, 2 image VMAs, heap, 2 anon + the fork child's 6 ... all gone at the end
      expect(p.vmas.final, name).toBe(0);
      expect(p.vmas.peak, name).toBe(10);
      expect(p.checker.messages, name).toEqual([]);
    }
  });
});

describe("vmasim replay", () => {
  const trace = join(DIR, "lua_make_j2.head.perf.txt.gz");
  // the timing fields removed (src/replay/timing.ts), the rest serialised again as --json does
  const stable = (s: string) => JSON.stringify(withoutTiming(JSON.parse(s)), null, 2);

  it("--json is the same byte for byte across runs, apart from the timing fields", async () => {
    const a = await cli(["replay", trace, "--json", "--policy", "linux-5.17,seed"]);
    const b = await cli(["replay", trace, "--json", "--policy", "linux-5.17,seed"]);
    expect(a.status).toBe(0);
    expect(a.stderr).toBe("");
    expect(stable(a.stdout)).toBe(stable(b.stdout));
    // and nothing but the timing fields differs: the same text once they are zeroed in place
    const zeroed = (s: string) => s.replace(/"(seconds|secondsRatio|eventsPerSecond)": [0-9.e-]+/g, '"$1": 0');
    expect(zeroed(a.stdout)).toBe(zeroed(b.stdout));
    const j = JSON.parse(a.stdout);
    expect(Object.keys(j.policies)).toEqual(["linux-5.17", "seed"]);
    for (const k of ["events", "unparsed", "unmodelled", "policies"]) expect(j).toHaveProperty(k);
    for (const k of ["attempts", "ok", "failed", "byReason", "enabledBySeries", "refusedShared"]) expect(j.policies.seed.merge).toHaveProperty(k);
    for (const k of ["peak", "final", "mean", "peakAt", "headroom", "series", "peakProcess"]) expect(j.policies.seed.vmas).toHaveProperty(k);
    for (const k of ["seconds", "secondsRatio"]) expect(j.policies.seed).toHaveProperty(k);
    for (const k of ["seconds", "eventsPerSecond"]) expect(j).toHaveProperty(k);
    for (const k of ["pagesReindexed", "pagesRepointed", "seconds", "sidecar"]) expect(j.policies.seed).toHaveProperty(k);
    expect(j.policies.seed.sidecar).toMatchObject({ checked: 331 });
  });

  it("prints the table, one column per policy", async () => {
    const r = await cli(["replay", trace, "--policy", "linux-6.18"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^merge attempts +331$/m);
    expect(r.stdout).toMatch(/^side-band agreed +331\/331$/m);
  });

  it("bad arguments are usage errors", async () => {
    expect((await cli(["replay"])).status).toBe(2);
    expect((await cli(["replay", trace, "--policy", "linux-9"])).stderr).toMatch(/unknown policy 'linux-9'/);
    expect((await cli(["replay", trace, "--set", "nosuch=1"])).status).toBe(2);
    expect((await cli(["replay", join(DIR, "nonexistent.perf.txt")])).status).toBe(2);
  });
});
