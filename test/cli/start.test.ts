// npm start, the README's main job: build, then replay the bundled real trace
// under every policy and print the table. .ci/run runs the same command
// without the build; both must name it, and it must print the table.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { POLICIES } from "../../src/types.js";
import { cli } from "./helpers.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { scripts: Record<string, string>; files: string[] };

describe("npm start", () => {
  const m = /^node scripts\/build\.mjs && node dist\/cli\.js (.+)$/.exec(pkg.scripts.start);

  it("builds, then runs one vmasim command, which .ci/run runs too", () => {
    expect(m).not.toBeNull();
    expect(readFileSync(`${ROOT}.ci/run`, "utf8")).toContain(`\nnode dist/cli.js ${m![1]}\n`);
    expect(pkg.files).toContain("traces");
  });

  it("prints the table of the bundled trace under every policy", async () => {
    const r = await cli(m![1].split(" "));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/jemalloc_python\.perf\.txt\.gz: \d+ events, 0 unparsed; side-band .*jemalloc_python\.mmap2\.txt\.gz\n/);
    // the table, one column per policy (all of them, in POLICIES order)
    const lines = r.stdout.split("\n");
    expect(lines.find((l) => /^ +linux-/.test(l))!.trim().split(/ +/)).toEqual([...POLICIES]);
    const row = (label: string): string[] => {
      const l = lines.find((x) => x.startsWith(`${label} `));
      expect(l, label).toBeDefined();
      return l!.slice(label.length).trim().split(/ +/);
    };
    const bySeries = (p: string, series: string, other: string) => (p === "seed" || p === "seed-v2" ? series : other);
    expect(row("merge attempts")).toEqual(POLICIES.map(() => "244"));
    expect(row("enabled by the series")).toEqual(POLICIES.map((p) => bySeries(p, "4", "0")));
    // 6.1's mmap_region tries next first (601 <= kver < 612): one VMA more at the peak
    const headroom: Record<string, string> = { "seed-v2": "65454", "seed": "65454", "linux-6.1": "65451" };
    expect(row("map_count headroom")).toEqual(POLICIES.map((p) => headroom[p] ?? "65452"));
    expect(row("  busiest process (pid)")).toEqual(POLICIES.map(() => "3487"));
    // the side-band is the recording kernel's layout: policies that merge otherwise (the
    // series, 6.1's next-first order) agree on fewer calls
    const layoutDiffers = new Set(["seed-v2", "seed", "linux-6.1"]);
    row("side-band agreed").forEach((v, i) => expect(v).toMatch(layoutDiffers.has(POLICIES[i]!) ? /^\d+\/244$/ : /^244\/244$/));
    row("engine time / linux-5.17").forEach((v, i) => expect(v).toMatch(POLICIES[i] === "linux-5.17" ? /^1\.00$/ : /^\d+\.\d\d$/));
  }, 60_000);
});
