// vmasim report REPLAY.json -o FILE and vmasim replay TRACE --html FILE: the
// page is written, from a saved replay or directly; bad input is a usage error.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tree } from "./helpers.js";

const TRACE = new URL("../fixtures/traces/handwritten_family.vt", import.meta.url).pathname;

describe("vmasim report", () => {
  it("turns a saved replay --json into the page; replay --html writes the same page", async () => {
    const dir = tree({});
    const json = join(dir, "r.json");
    const direct = join(dir, "direct.html");
    const r = await cli(["replay", TRACE, "--policy", "linux-5.17,seed", "--json", "-o", json, "--html", direct]);
    expect(r.status).toBe(0);
    const out = join(dir, "report.html");
    const rep = await cli(["report", json, "-o", out]);
    expect(rep).toEqual({ status: 0, stdout: "", stderr: "" });
    const page = readFileSync(out, "utf8");
    expect(page).toMatch(/^<!DOCTYPE html>\n/);
    expect(page).toContain("<h2>VMA count over time</h2>");
    // the same replay gives the same page (the engine seconds are read from the one JSON)
    expect((await cli(["report", json])).stdout).toBe(page);
    // the page --html wrote differs only in the timing figures
    const timing = (s: string) => s.replace(/<tr class="timing">.*<\/tr>/g, "");
    expect(timing(readFileSync(direct, "utf8"))).toBe(timing(page));
  });

  it("refuses what is not a replay", async () => {
    const dir = tree({ "not.json": "{", "other.json": '{"trace": "x", "policies": {"seed": {}}}' });
    expect((await cli(["report"])).status).toBe(2);
    expect(await cli(["report", join(dir, "not.json")])).toMatchObject({ status: 2, stderr: expect.stringMatching(/is not JSON/) });
    expect(await cli(["report", join(dir, "other.json")])).toMatchObject({ status: 2, stderr: expect.stringMatching(/not the output of vmasim replay --json/) });
    expect(await cli(["report", join(dir, "missing.json")])).toMatchObject({ status: 2, stderr: expect.stringMatching(/cannot read .*ENOENT/) });
    expect((await cli(["report", join(dir, "not.json"), "extra"])).status).toBe(2);
  });

  it("replay --html into a folder that does not exist is exit 2", async () => {
    const r = await cli(["replay", TRACE, "--policy", "seed", "--html", "/nonexistent/dir/r.html"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot write '\/nonexistent\/dir\/r.html': ENOENT/);
    expect(existsSync("/nonexistent/dir/r.html")).toBe(false);
  });
});

describe("bundled traces", () => {
  it("@NAME that names no bundled trace is a usage error naming the bundled ones", async () => {
    const r = await cli(["replay", "@nosuch"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no bundled trace '@nosuch' \(bundled traces: @jemalloc_python\)/);
  });
});
