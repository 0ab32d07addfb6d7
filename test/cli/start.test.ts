// npm start, the README's main job: build, then replay the bundled real trace
// under every policy and print the table. .ci/run runs the same command
// without the build; both must name it, and it must print the table.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
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
    expect(r.stdout).toMatch(/^ +linux-5\.17 +seed-v2 +seed +linux-6\.18 +relocate-anon$/m);
    expect(r.stdout).toMatch(/^merge attempts( +244){5}$/m);
    expect(r.stdout).toMatch(/^enabled by the series +0 +4 +4 +0 +0$/m);
    expect(r.stdout).toMatch(/^side-band agreed( +\d+\/244){3} +244\/244 +244\/244$/m);
    expect(r.stdout).toMatch(/^map_count headroom +65452 +65454 +65454 +65452 +65452$/m);
    expect(r.stdout).toMatch(/^ {2}busiest process \(pid\)( +3487){5}$/m);
    expect(r.stdout).toMatch(/^engine time \/ linux-5\.17 +1\.00( +\d+\.\d\d){4}$/m);
  }, 60_000);
});
