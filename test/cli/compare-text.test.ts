// compare's text report: a title naming the scripts, policies and any
// non-default configuration; a legend in kernel words; counters that leave out
// the scripts padding the map count (marked *), with per-script medians.
import { describe, expect, it } from "vitest";
import { cli, tree } from "./helpers.js";

const S5 = "mmap 0 2 rw\nmmap 3 2 rw\ntouch 0\ntouch 3\nmmap 2 1 rw\ndump\n";
const PAD = "mmap 0 1 rw\npadvmas 200 100\ncount\n";

describe("compare text report", () => {
  it("has a title with the scripts, the policies and the configuration when it is not the default", async () => {
    const dir = tree({ "s5.script": S5 });
    const plain = await cli(["compare", "--policy", "linux-5.17,seed", dir]);
    expect(plain.status).toBe(0);
    expect(plain.stdout.split("\n")[0]).toBe("vmasim compare: 1 script under linux-5.17, seed");
    const set = await cli(["compare", "--policy", "linux-5.17", "--set", "max_map_count=500", "--set", "zero_page=1", dir]);
    expect(set.stdout.split("\n")[0]).toBe("vmasim compare: 1 script under linux-5.17, configuration max_map_count=500 (others default)");
  });

  it("says prev-only merges in kernel words, and why calls did not merge", async () => {
    const r = await cli(["compare", "--policy", "linux-5.17", tree({ "s5.script": S5 })]);
    expect(r.stdout).toMatch(/^ {4}with prev only \(prev and next could not become one VMA\) +1$/m);
    expect(r.stdout).toMatch(/^ {4}flags: vm_flags differ +1$/m);
    expect(r.stdout).not.toMatch(/refused to join/);
  });

  it("marks scripts that pad the map count and leaves them out of the totals, medians per script", async () => {
    const dir = tree({ "a.script": S5, "b.script": "mmap 0 1 rw\nmmap 1 1 rw\ndump\n", "pad.script": PAD });
    const r = await cli(["compare", "--policy", "linux-5.17", dir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}pad \* +\|/m);
    expect(r.stdout).toMatch(/over the 2 scripts not marked \* \(1 left out\)/);
    // a: 3 calls (1 merged), b: 2 calls (1 merged); the padding script's hundreds are not in them
    expect(r.stdout).toMatch(/^vma_merge\(\) calls +5 \(2\.5\)$/m);
    expect(r.stdout).toMatch(/^ {2}merged +2 \(1\)$/m);
    const all = Number(/^with the \* scripts: vma_merge\(\) calls +(\d+)$/m.exec(r.stdout)?.[1]);
    expect(all).toBeGreaterThan(100);
    // the JSON totals still count every script
    const j = JSON.parse((await cli(["compare", "--policy", "linux-5.17", "--format", "json", dir])).stdout);
    expect(JSON.stringify(j)).toContain(`"attempts":${all}`);
  });
});
