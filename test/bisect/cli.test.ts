// `vmasim bisect`: the walk over the mainline releases, the grouping of equal
// outputs, the report and its JSON, and the usage errors (exit 2).
import { describe, expect, it } from "vitest";
import { bisectScript, firstDifferentLine, parseRelease, policiesIn } from "../../src/bisect/bisect.js";
import { KERNEL_RELEASES } from "../../src/engine/policy.js";
import { createKernelSync } from "../../src/engine/index.js";
import { readFileSync } from "node:fs";
import { cli, tree } from "../cli/helpers.js";

/** dontneed_locked arrives in 5.18, mseal in 6.10: two change points. */
const TWO_CHANGES = "mmap 0 4 rw\ntouch 0\nmlock 0 1\nmadvise 0 1 dontneed_locked\nmseal 2 1\ndump\n";

describe("bisectScript", () => {
  it("groups the releases by output: 5.10 .. 5.17, 5.18 .. 6.9, 6.10 .. 6.18", () => {
    const r = bisectScript(TWO_CHANGES);
    expect(r.map((x) => [x.from, x.to])).toEqual([["5.10", "5.17"], ["5.18", "6.9"], ["6.10", "6.18"]]);
    expect(r[0]!.firstChangedLine).toBeNull();
    expect(r[0]!.diff).toBe("");
    expect(r[1]!.firstChangedLine).toBe(4);
    expect(r[1]!.diff).toContain("--- 5.17\n+++ 5.18\n");
    expect(r[1]!.diff).toContain("-madvise 0 1 dontneed_locked => EINVAL\n+madvise 0 1 dontneed_locked => ok\n");
    expect(r[2]!.diff).toContain("-mseal 2 1 => ENOSYS\n+mseal 2 1 => ok\n");
    expect(r.map((x) => x.policies)).toEqual([["linux-5.10", "linux-5.17"], ["linux-6.1"], ["linux-6.12", "linux-6.18"]]);
  });

  it("walks every release in order, linearly: a change and a change back are two change points", () => {
    const seen: number[] = [];
    // a stand-in engine that runs 6.3 as if it were 6.18: the output changes at 6.3 and back at 6.4
    const r = bisectScript(TWO_CHANGES, {
      createKernel: (c, release) => {
        seen.push(release);
        return createKernelSync(c, { release: release === 603 ? 618 : release });
      },
    });
    expect(seen).toEqual([...KERNEL_RELEASES]);
    expect(r.map((x) => `${x.from}..${x.to}`)).toEqual(["5.10..5.17", "5.18..6.2", "6.3..6.3", "6.4..6.9", "6.10..6.18"]);
    expect(r[3]!.diff).toContain("-mseal 2 1 => ok\n+mseal 2 1 => ENOSYS\n");
    const part = bisectScript("echo x\n", { from: 600, to: 605 });
    expect(part).toHaveLength(1);
    expect(part[0]).toMatchObject({ from: "6.0", to: "6.5", policies: ["linux-6.1"] });
  });

  it("refuses releases it does not model and a reversed range", () => {
    expect(() => bisectScript("dump\n", { from: 509 })).toThrow(RangeError);
    expect(() => bisectScript("dump\n", { from: 610, to: 605 })).toThrow(/after/);
  });

  it("helpers: release names, policies in a range, the first differing line", () => {
    expect(parseRelease("5.10")).toBe(510);
    expect(parseRelease("6.1")).toBe(601);
    expect(parseRelease("6.19")).toBeNull();
    expect(parseRelease("6.x")).toBeNull();
    expect(policiesIn(KERNEL_RELEASES[0]!, KERNEL_RELEASES[KERNEL_RELEASES.length - 1]!)).toEqual(["linux-5.10", "linux-5.17", "linux-6.1", "linux-6.12", "linux-6.18"]);
    expect(firstDifferentLine("a\nb\n", "a\nc\n")).toBe(2);
    expect(firstDifferentLine("a\n", "a\n")).toBeNull();
  });
});

describe("vmasim bisect", () => {
  it("prints the ranges, the first change with its diff, the later change points", async () => {
    const dir = tree({ "s.script": TWO_CHANGES });
    const r = await cli(["bisect", `${dir}/s.script`]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    const headers = r.stdout.split("\n").filter((l) => /^\d/.test(l));
    expect(headers).toEqual([
      "5.10 .. 5.17: same  [linux-5.10, linux-5.17]",
      "5.18 .. 6.9: first change, at output line 4  [linux-6.1]",
      "6.10 .. 6.18: changed again, at output line 5  [linux-6.12, linux-6.18]",
      "2 change points: 5.18, 6.10",
    ]);
    expect(r.stdout).toContain("--- 6.9\n+++ 6.10\n");
  });

  it("--from/--to limit the walk; no change is said so", async () => {
    const r = await cli(["bisect", "--from", "6.10", "--to", "6.12", "-"], TWO_CHANGES);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("<stdin>: mainline 6.10 .. 6.12 in the engine, release by release\n6.10 .. 6.12: same  [linux-6.12]\nno change between 6.10 and 6.12\n");
  });

  it("--json: a list of {from, to, policies, firstChangedLine, diff, status}", async () => {
    const r = await cli(["bisect", "--json", "-"], TWO_CHANGES);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(j.map((x) => Object.keys(x))).toEqual(Array(3).fill(["from", "to", "policies", "firstChangedLine", "diff", "status"]));
    expect(j.map((x) => x.firstChangedLine)).toEqual([null, 4, 5]);
  });

  it("--set configures the engine's kernel (max_map_count printed by count)", async () => {
    const r = await cli(["bisect", "--json", "--set", "max_map_count=1000", "-"], "count\n");
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as Array<{ diff: string }>;
    expect(j).toHaveLength(1);
    const text = await cli(["bisect", "--set", "max_map_count=1000", "--to", "5.10", "-"], "count\n");
    expect(text.stdout).toContain("5.10: same");
    expect(bisectScript("count\n", { from: 510, to: 510, knobs: { max_map_count: 1000 } })[0]!.output).toContain("max_map_count=1000");
  });

  it("usage errors exit 2 with a message", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["bisect"], /missing SCRIPT/],
      [["bisect", "a", "b"], /unexpected argument 'b'/],
      [["bisect", "--from", "4.19", "-"], /--from must be a release from 5\.10 to 6\.18/],
      [["bisect", "--to", "7.0", "-"], /--to must be a release/],
      [["bisect", "--from", "6.5", "--to", "6.1", "-"], /--from 6\.5 is after --to 6\.1/],
      [["bisect", "--frob", "-"], /Unknown option '--frob'|unknown option/i],
      [["bisect", "--set", "nosuch=1", "-"], /nosuch/],
      [["bisect", "/nonexistent/x.script"], /cannot read script '\/nonexistent\/x.script': no such file/],
    ];
    for (const [argv, re] of cases) {
      const r = await cli(argv, "dump\n");
      expect(r.status, argv.join(" ")).toBe(2);
      expect(r.stdout, argv.join(" ")).toBe("");
      expect(r.stderr, argv.join(" ")).toMatch(re);
    }
  });

  it("a script with a parse error is reported and not run (exit 2)", async () => {
    const r = await cli(["bisect", "-"], "mmap 0 x rw\n");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^<stdin>:1: /);
  });

  it("-o FILE writes the report to a file", async () => {
    const dir = tree({});
    const r = await cli(["bisect", "-o", `${dir}/out.txt`, "-"], "echo hi\n");
    expect(r).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(readFileSync(`${dir}/out.txt`, "utf8")).toContain("5.10 .. 6.18: same");
  });
});
