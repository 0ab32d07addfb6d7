// The relocate-anon policy (docs/policies.md "relocate-anon"): linux-6.18 plus
// the 2025 MREMAP_RELOCATE_ANON / MREMAP_MUST_RELOCATE_ANON proposal. Each
// scenario checks the final layout, the result of the flagged mremap, the page
// counters (pagesReindexed / pagesRepointed, mremap pgoff updated / kept) and
// that the kernel-wide checker (rmap invariant, anon_vma refcounts) holds after
// every line, on both engine builds. Under linux-6.18 the flags are EINVAL.
import { describe, expect, it } from "vitest";
import { checkKernel } from "../../src/check/memory.js";
import { createKernelSync } from "../../src/engine/index.js";
import type { Simulator } from "../../src/engine/simulator.js";
import { generateScript } from "../../src/scenario/generate.js";
import { runScenario } from "../../src/scenario/run.js";
import type { Policy } from "../../src/types.js";

interface Outcome {
  /** the result of every mremap line, in order */
  mremaps: string[];
  /** the last dump's VMA lines ("start end perms kind pgoff av=...") */
  layout: string[];
  reindexed: number;
  repointed: number;
  pgoffUpdated: number;
  pgoffKept: number;
}

function run(policy: Policy, build: "release" | "debug", script: string): Outcome {
  const k = createKernelSync({ policy }, { build }) as unknown as Simulator;
  const problems: string[] = [];
  const r = runScenario(k, script, {
    onStep: (_p, e) => {
      for (const p of checkKernel(k)) problems.push(`after '${e.text}': ${p}`);
    },
  });
  expect(problems).toEqual([]);
  const lines = r.output.split("\n");
  const mremaps = lines.filter((l) => l.startsWith("mremap ")).map((l) => l.slice(l.indexOf("=> ") + 3));
  const lastDump = lines.lastIndexOf("dump");
  const layout = lines.slice(lastDump + 1).filter((l) => /^ {2}\d/.test(l)).map((l) => l.trim());
  const s = k.mergeStats();
  return { mremaps, layout, reindexed: s.pagesReindexed, repointed: s.pagesRepointed, pgoffUpdated: s.pgoffUpdated, pgoffKept: s.pgoffKept };
}

const out = (mremaps: string[], layout: string[], reindexed = 0, repointed = 0, pgoffUpdated = 0, pgoffKept = 0): Outcome =>
  ({ mremaps, layout, reindexed, repointed, pgoffUpdated, pgoffKept });

// S12: a faulted VMA moved next to a faulted neighbour with its own anon_vma
const S12 = (flag: string) => `
mmap 0 2 rw
touch 0
mmap 10 2 rw
touchn 10 2
mremap 10 2 2 fixed 2 ${flag}
dump
`;

interface Case {
  name: string;
  script: string;
  want: Outcome;
  /** linux-6.18's outcome, when the script passes a relocation flag (EINVAL, nothing changes) */
  linux618?: Outcome;
}

const CASES: Case[] = [
  {
    name: "S12 without a flag: as linux-6.18, two VMAs",
    script: S12(""),
    want: out(["ok @2"], ["0 2 rw-p anon 0 av=1/1", "2 4 rw-p anon 10 av=2/2"]),
  },
  {
    name: "S12 relocate_anon: the moved pages join the neighbour's anon_vma, one VMA",
    script: S12("relocate_anon"),
    want: out(["ok @2"], ["0 4 rw-p anon 0 av=1/1"], 2, 2, 1),
    linux618: out(["EINVAL"], ["0 2 rw-p anon 0 av=1/1", "10 12 rw-p anon 10 av=2/2"]),
  },
  {
    name: "S12 must_relocate_anon: the same",
    script: S12("must_relocate_anon"),
    want: out(["ok @2"], ["0 4 rw-p anon 0 av=1/1"], 2, 2, 1),
    linux618: out(["EINVAL"], ["0 2 rw-p anon 0 av=1/1", "10 12 rw-p anon 10 av=2/2"]),
  },
  {
    name: "both words together: as must_relocate_anon",
    script: S12("relocate_anon must_relocate_anon"),
    want: out(["ok @2"], ["0 4 rw-p anon 0 av=1/1"], 2, 2, 1),
    linux618: out(["EINVAL"], ["0 2 rw-p anon 0 av=1/1", "10 12 rw-p anon 10 av=2/2"]),
  },
  {
    name: "shared with a fork child: must_relocate_anon is EFAULT with nothing changed, relocate_anon falls back",
    script: `
mmap 0 2 rw
touch 0
mmap 10 2 rw
touchn 10 2
fork parent
mremap 10 2 2 fixed 2 must_relocate_anon
dump
mremap 10 2 2 fixed 2 relocate_anon
dump
`,
    want: out(["EFAULT", "ok @2"], ["0 2 rw-p anon 0 av=1/1", "2 4 rw-p anon 10 av=2/2"], 0, 0, 0, 1),
    linux618: out(["EINVAL", "EINVAL"], ["0 2 rw-p anon 0 av=1/1", "10 12 rw-p anon 10 av=2/2"]),
  },
  {
    name: "a forked child's own VMA (its anon_vma has a parent): refused in the child too",
    script: `
mmap 0 2 rw
touch 0
mmap 10 2 rw
touchn 10 2
fork child
touchn 10 2
mremap 10 2 2 fixed 2 must_relocate_anon
mremap 10 2 2 fixed 2 relocate_anon
dump
`,
    want: out(["EFAULT", "ok @2"], ["0 2 rw-p anon 0 av=1/2", "2 4 rw-p anon 10 av=3/4"], 0, 0, 0, 1),
  },
  {
    name: "partial move: the moved tail re-indexed and re-pointed, the rest keeps its pages",
    script: `
mmap 0 2 rw
touch 0
mmap 10 4 rw
touchn 10 4
mremap 12 2 2 fixed 2 relocate_anon
dump
`,
    want: out(["ok @2"], ["0 4 rw-p anon 0 av=1/1", "10 12 rw-p anon 10 av=2/2"], 2, 2, 1),
  },
  {
    name: "partial move with no neighbour: relocated in place (pgoff = address), same anon_vma as the rest",
    script: `
mmap 10 4 rw
touchn 10 4
mremap 12 2 2 fixed 30 relocate_anon
mmap 32 2 rw
touch 32
dump
`,
    // the later mapping merges with the relocated VMA: its pgoff is linear now
    want: out(["ok @30"], ["10 12 rw-p anon 10 av=1/1", "30 34 rw-p anon 30 av=1/1"], 2, 0, 1),
  },
  {
    name: "without the flag the same later mapping stays apart",
    script: `
mmap 10 4 rw
touchn 10 4
mremap 12 2 2 fixed 30
mmap 32 2 rw
touch 32
dump
`,
    want: out(["ok @30"], ["10 12 rw-p anon 10 av=1/1", "30 32 rw-p anon 12 av=1/1", "32 34 rw-p anon 32 av=2/2"]),
  },
  {
    name: "an ordinary merge already happens: nothing extra",
    script: `
mmap 0 4 rw
touchn 0 4
mremap 2 2 2 fixed 20
mremap 20 2 2 fixed 2 must_relocate_anon
dump
`,
    want: out(["ok @20", "ok @2"], ["0 4 rw-p anon 0 av=1/1"]),
  },
  {
    name: "between a faulted prev and an unfaulted next: all three join (case 1)",
    script: `
mmap 0 2 rw
touch 0
mmap 4 2 rw
mmap 10 2 rw
touchn 10 2
mremap 10 2 2 fixed 2 relocate_anon
dump
`,
    want: out(["ok @2"], ["0 6 rw-p anon 0 av=1/1"], 2, 2, 1),
  },
  {
    name: "between an unfaulted prev and a faulted next: all three join, with next's anon_vma",
    script: `
mmap 0 2 rw
mmap 4 2 rw
touch 4
mmap 10 2 rw
touchn 10 2
mremap 10 2 2 fixed 2 relocate_anon
dump
`,
    want: out(["ok @2"], ["0 6 rw-p anon 0 av=1/1"], 2, 2, 1),
  },
  {
    name: "between two faulted VMAs with different anon_vmas: prev takes the range, next stays (case 2)",
    script: `
mmap 0 2 rw
touch 0
mmap 4 2 rw
touch 4
mmap 10 2 rw
touchn 10 2
mremap 10 2 2 fixed 2 relocate_anon
dump
`,
    want: out(["ok @2"], ["0 4 rw-p anon 0 av=1/1", "4 6 rw-p anon 4 av=2/2"], 2, 2, 1),
  },
  {
    name: "below a faulted next only (case 3): next's anon_vma",
    script: `
mmap 4 2 rw
touch 4
mmap 10 2 rw
touchn 10 2
mremap 10 2 2 fixed 2 relocate_anon
dump
`,
    want: out(["ok @2"], ["2 6 rw-p anon 2 av=1/1"], 2, 2, 1),
  },
  {
    name: "dontunmap: the destination relocated into the neighbour, the old VMA stays empty",
    script: `
mmap 0 2 rw
touch 0
mmap 10 2 rw
touchn 10 2
mremap 10 2 2 fixed 2 dontunmap relocate_anon
dump
`,
    want: out(["ok @2"], ["0 4 rw-p anon 0 av=1/1", "10 12 rw-p anon 10 av=-"], 2, 2, 1),
  },
  {
    name: "a private file mapping is not anonymous: must_relocate_anon EFAULT, relocate_anon an ordinary move",
    script: `
mmap 10 2 rw file 1 0
touchn 10 2
mremap 10 2 2 fixed 30 must_relocate_anon
mremap 10 2 2 fixed 30 relocate_anon
dump
`,
    // its copy-on-write pages moved with the anon_vma they had (not relocated)
    want: out(["EFAULT", "ok @30"], ["30 32 rw-p file1 0 av=1/1"]),
  },
  {
    name: "multi-VMA move (6.17): must_relocate_anon checks every part before any moves",
    script: `
mmap 13 2 rw
touchn 13 2
fork parent
mmap 10 2 rw
touchn 10 2
mremap 10 5 5 fixed 30 must_relocate_anon
dump
mremap 10 5 5 fixed 30 relocate_anon
dump
`,
    // the first part is relocated, the second (shared with the child) moves as usual
    want: out(["EFAULT", "ok @30"], ["30 32 rw-p anon 30 av=1/1", "33 35 rw-p anon 13 av=2/2"], 2, 0, 1, 1),
  },
  {
    name: "a growing move chosen by the kernel (no fixed): relocated to wherever it lands",
    script: `
mmap 10 2 rw
touchn 10 2
mmap 12 1 r
mremap 10 2 4 relocate_anon
`,
    want: out([], [], 2, 0, 1),
  },
  {
    name: "an unfaulted VMA needs no relocation: must_relocate_anon succeeds",
    script: `
mmap 0 2 rw
touch 0
mmap 10 2 rw
mremap 10 2 2 fixed 2 must_relocate_anon
dump
`,
    want: out(["ok @2"], ["0 4 rw-p anon 0 av=1/1"]),
  },
  {
    name: "without MREMAP_MAYMOVE in place: the words imply it, so a shrink in place just shrinks",
    script: `
mmap 10 4 rw
touchn 10 4
mremap 10 4 2 must_relocate_anon
dump
`,
    want: out(["ok @10"], ["10 12 rw-p anon 10 av=1/1"]),
  },
];

describe.each(["release", "debug"] as const)("relocate-anon (%s build)", (build) => {
  for (const c of CASES) {
    it(c.name, () => {
      const got = run("relocate-anon", build, c.script);
      if (c.name.startsWith("a growing move")) {
        // the address is the kernel's choice: compare the counters only
        expect(got.mremaps).toHaveLength(1);
        expect(got.mremaps[0]).toMatch(/^ok @/);
        expect({ ...got, mremaps: [], layout: [] }).toEqual(c.want);
      } else {
        expect(got).toEqual(c.want);
      }
      if (c.linux618) expect(run("linux-6.18", build, c.script)).toEqual(c.linux618);
    });
  }

  it("linux-5.17 and linux-6.18 answer EINVAL to both flags, before any other check", () => {
    for (const policy of ["linux-5.17", "linux-6.18"] as const) {
      const k = createKernelSync({ policy }, { build });
      const p = k.createProcess();
      // an address in no VMA: the flag check comes first (v5.17 would otherwise answer +EFAULT)
      expect(p.mremap(0x10000000, 4096, 4096, 1 | 8, 0)).toBe(-22);
      expect(p.mremap(0x10000000, 4096, 4096, 1 | 16, 0)).toBe(-22);
    }
  });

  it("relocate-anon: the relocation flags without MREMAP_MAYMOVE are EINVAL", () => {
    const k = createKernelSync({ policy: "relocate-anon" }, { build });
    const p = k.createProcess();
    const a = p.mmap(0, 8192, 3, 0x22, -1, 0);
    expect(a).toBeGreaterThan(0);
    expect(p.mremap(a, 8192, 8192, 8, 0)).toBe(-22);
    expect(p.mremap(a, 8192, 8192, 16, 0)).toBe(-22);
    expect(p.mremap(a, 8192, 8192, 32 | 1, 0)).toBe(-22);
  });
});

// Random scripts (src/scenario/generate.ts, which does not emit the new words):
// without the flags relocate-anon prints exactly what linux-6.18 prints; with
// every mremap line given one of the flags, the checker passes after every line.
describe("relocate-anon on random scripts", () => {
  const SCRIPTS = 16;
  const withFlags = (script: string, seed: number): string =>
    script.split("\n").map((l, i) => (l.startsWith("mremap ") ? `${l} ${(i + seed) % 3 === 0 ? "must_relocate_anon" : "relocate_anon"}` : l)).join("\n");

  for (let seed = 1; seed <= SCRIPTS; seed++) {
    it(`seed ${seed}: same output as linux-6.18 without the flags; checker clean with them`, () => {
      const script = generateScript({ seed: 0x4e10c000 + seed, ops: 120, arenaPages: 64 });
      const a = runScenario(createKernelSync({ policy: "linux-6.18" }), script).output;
      const b = runScenario(createKernelSync({ policy: "relocate-anon" }), script).output;
      expect(b).toBe(a);
      const k = createKernelSync({ policy: "relocate-anon" }, { build: seed % 2 ? "release" : "debug" });
      let first: string | null = null;
      const flagged = withFlags(script, seed);
      expect(flagged).toMatch(/relocate_anon/);
      runScenario(k, flagged, {
        onStep: (_p, e) => {
          if (first === null) first = checkKernel(k).map((x) => `line ${e.line} '${e.text}': ${x}`)[0] ?? null;
        },
      });
      expect(first).toBeNull();
    });
  }
});
