// The rules the linux-5.10 policy adds (docs/policies.md "linux-5.10: what
// differs from 5.17"), beyond what the 5.10 recordings show: each gate
// script's output changes first at the release it names, and mremap's
// accounting of 5.10 (the growth charged in vma_to_resize() and given back on
// failure; a DONTUNMAP move charged after it, unchecked) against 5.17's.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { createKernelSync } from "../../src/engine/index.js";
import { KERNEL_RELEASES, releaseName } from "../../src/engine/policy.js";
import { runScenario } from "../../src/scenario/run.js";

const GATES = ["madvise-populate", "madvise-limit-enomem", "madvise-remove-maywrite", "mremap-lookup-first", "mremap-dontunmap-shared", "mremap-dontunmap-account"];
const config = resolveConfig({ policy: "linux-5.10" });

function run(script: string, release?: number) {
  return runScenario(createKernelSync(config, release === undefined ? {} : { release }), script);
}

describe("linux-5.10 gate scripts", () => {
  for (const name of GATES) {
    it(`${name}: the output is 5.10's up to the release before the one it names, and changes there`, () => {
      const script = readFileSync(new URL(`../bisect/gates/${name}.script`, import.meta.url), "utf8");
      const claim = /^# introduced: (\d+)\.(\d+)\n/.exec(script);
      expect(claim, "first line '# introduced: X.Y'").not.toBeNull();
      const introduced = Number(claim![1]) * 100 + Number(claim![2]);
      const i = KERNEL_RELEASES.indexOf(introduced);
      expect(i, `${releaseName(introduced)} is a modelled release after 5.10`).toBeGreaterThan(0);
      // (vmasim bisect checks every release; the 5.10 rules are monotonic, so the ends suffice here)
      const mainline = run(script, 510).output;
      expect(run(script, KERNEL_RELEASES[i - 1]!).output).toBe(mainline);
      expect(run(script, introduced).output).not.toBe(mainline);
      // the policy is mainline 5.10, except for the one stable backport Debian's
      // 5.10.262 carries (the stable switch's 5.10.y value): 6.7's MADV_REMOVE rule
      expect(run(script).output).toBe(name === "madvise-remove-maywrite" ? run(script, introduced).output : mainline);
    });
  }
});

/** Committed_AS (pages) after each line of the script. */
function committed(script: string, release: number): { output: string; committed: number[] } {
  const k = createKernelSync(config, { release });
  const committed: number[] = [];
  const r = runScenario(k, script, { onStep: () => committed.push(k.meminfo().committedAs) });
  return { output: r.output, committed };
}

describe("linux-5.10 mremap accounting", () => {
  const strict = ["mmap 0 6 rw", "sysctl overcommit_memory 2", "sysctl overcommit_ratio 0", "sysctl overcommit_kbytes 4", "mremap 2 2 2 fixed 20 dontunmap", ""].join("\n");

  it("5.10 charges a DONTUNMAP move after it, unchecked: it succeeds over the strict limit, 5.17 refuses it", () => {
    const old = committed(strict, 510);
    expect(old.output).toContain("mremap 2 2 2 fixed 20 dontunmap => ok @20");
    expect(old.committed[4]! - old.committed[3]!).toBe(2);
    const now = committed(strict, 517);
    expect(now.output).toContain("mremap 2 2 2 fixed 20 dontunmap => ENOMEM");
    expect(now.committed[4]).toBe(now.committed[3]);
  });

  it("a growth that fails after vma_to_resize() charged it gives the charge back (5.10), as 5.17 never took it", () => {
    const script = ["mmap 0 2 rw", "mmap 2 2 r", "mremap 0 2 4", "mremap 0 2 4 maymove", ""].join("\n");
    for (const release of [510, 517]) {
      const r = committed(script, release);
      expect(r.output).toContain("mremap 0 2 4 => ENOMEM");
      expect(r.committed[2], `release ${release}: the failed growth`).toBe(r.committed[1]);
      expect(r.committed[3]! - r.committed[2]!, `release ${release}: the move charges the growth`).toBe(2);
    }
  });

  it("an in-place growth is charged once (5.10 in vma_to_resize(), 5.17 before expanding)", () => {
    const script = ["mmap 0 2 rw", "mremap 0 2 5", ""].join("\n");
    for (const release of [510, 517]) {
      const r = committed(script, release);
      expect(r.output).toContain("mremap 0 2 5 => ok @0");
      expect(r.committed[1]! - r.committed[0]!, `release ${release}`).toBe(3);
    }
  });
});
