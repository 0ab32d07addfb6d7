// The release gates of the rules and `vmasim bisect`: every scenario of
// test/bisect/gates/ names the mainline release that introduced a behaviour
// (`# introduced: X.Y` on its first line) and bisect must find exactly that
// release as the first change; and every release that a rule in assembly/ tests
// (`kver >= N`, `kver < N`, ... ; the anon_vma switch of 6.16) has such a
// script. An optional `# from: X.Y` second line starts the walk later, for a
// behaviour that refines one an earlier release introduced.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cli } from "../cli/helpers.js";
import { KERNEL_RELEASES, kernelSwitches, releaseName } from "../../src/engine/policy.js";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const GATES = path.join(ROOT, "test", "bisect", "gates");
const ASSEMBLY = path.join(ROOT, "assembly");

interface Gate { file: string; introduced: string; from: string | null }

function gates(): Gate[] {
  return readdirSync(GATES).filter((f) => f.endsWith(".script")).sort().map((file) => {
    const lines = readFileSync(path.join(GATES, file), "utf8").split("\n");
    const m = /^# introduced: (\d+\.\d+)$/.exec(lines[0] ?? "");
    const f = /^# from: (\d+\.\d+)$/.exec(lines[1] ?? "");
    return { file, introduced: m ? m[1]! : "", from: f ? f[1]! : null };
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []);
}

/** The next release after `n` in KERNEL_RELEASES order (for `kver > N`). */
function nextRelease(n: number): number {
  const later = KERNEL_RELEASES.filter((r) => r > n);
  return later.length ? later[0]! : n + 1;
}

/**
 * The releases at which a rule of assembly/ starts or stops applying: N for
 * `kver >= N` and `kver < N`, the release after N for `kver > N` and
 * `kver <= N` (either side of the comparison), outside comments.
 */
export function gatedReleases(source: string): number[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const out: number[] = [];
  for (const m of code.matchAll(/\bkver\s*(>=|<=|>|<|==|!=)\s*(\d+)|(\d+)\s*(>=|<=|>|<|==|!=)\s*kver\b/g)) {
    // normalise to `kver OP N`
    const flip: Record<string, string> = { ">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!=" };
    const op = m[1] ?? flip[m[4]!]!;
    const n = Number(m[2] ?? m[3]);
    out.push(op === ">" || op === "<=" ? nextRelease(n) : n);
    if (op === "==" || op === "!=") out.push(nextRelease(n));
  }
  return out;
}

describe("gate scripts", () => {
  const all = gates();

  it("each has `# introduced: X.Y` first, a release bisect walks", () => {
    expect(all.length).toBeGreaterThan(0);
    for (const g of all) {
      expect(g.introduced, `${g.file}: first line`).toMatch(/^\d+\.\d+$/);
      expect(KERNEL_RELEASES.map(releaseName), g.file).toContain(g.introduced);
    }
  });

  for (const g of all) {
    it(`${g.file}: vmasim bisect finds ${g.introduced} as the first change`, async () => {
      const argv = ["bisect", "--json", ...(g.from ? ["--from", g.from] : []), path.join(GATES, g.file)];
      const r = await cli(argv);
      expect(r.status, r.stderr).toBe(0);
      const ranges = JSON.parse(r.stdout) as Array<{ from: string }>;
      expect(ranges.length, `${g.file}: the output never changes`).toBeGreaterThan(1);
      expect(ranges[1]!.from, g.file).toBe(g.introduced);
    });
  }
});

/**
 * Gated releases that no scenario script can show, with the reason. Keep it
 * short: a release leaves this list as soon as a script shows its gate.
 */
const NOT_SHOWABLE: Readonly<Record<string, string>> = {
  // anon_vma_clone()'s reuse test at fork (assembly/rmap/anon_vma.ts): 5.17 and
  // 6.0 differ only for an anon_vma in the forking VMA's chain, not its own,
  // used by exactly one VMA and with no child. That needs an ancestor's VMA to
  // go away (or a reuse that abandons a leaf) AFTER a descendant's fork, while
  // the descendant runs on: a script runs one process at a time (`fork`
  // freezes the parent, `fork parent` the child), so it cannot set this up.
  "6.0": "the fork-time anon_vma reuse test needs two processes acting in turn",
};

describe("every release gated in assembly/ has a gate script", () => {
  it("finds the gates of the rules (the parser of kver comparisons)", () => {
    expect(gatedReleases("if (kver >= 605 && x) y; // kver < 999\nreturn kver < 616 ? a : b; if (kver > 612) z; if (601 <= kver) w;"))
      .toEqual([605, 616, 613, 601]);
  });

  it("each gated release (and 6.16's anon_vma switch) is some script's `introduced`", () => {
    const gated = new Set<number>();
    for (const f of sourceFiles(ASSEMBLY)) for (const r of gatedReleases(readFileSync(f, "utf8"))) gated.add(r);
    // the anon_vma merge rule is a switch of the policy row, not a kver test
    for (let i = 1; i < KERNEL_RELEASES.length; i++) {
      if (kernelSwitches(KERNEL_RELEASES[i]!).anonMerge !== kernelSwitches(KERNEL_RELEASES[i - 1]!).anonMerge) gated.add(KERNEL_RELEASES[i]!);
    }
    expect(gated.size).toBeGreaterThan(0);
    const covered = new Set(gates().map((g) => g.introduced));
    const missing = [...gated].sort((a, b) => a - b).map(releaseName).filter((r) => !covered.has(r) && NOT_SHOWABLE[r] === undefined);
    expect(missing, "gated releases without a test/bisect/gates script").toEqual([]);
    // an exception that a script now covers, or that no gate needs any more, must go
    for (const r of Object.keys(NOT_SHOWABLE)) {
      expect(covered.has(r), `${r} has a gate script: drop it from NOT_SHOWABLE`).toBe(false);
      expect([...gated].map(releaseName), `${r} is gated no more: drop it from NOT_SHOWABLE`).toContain(r);
    }
  });
});
