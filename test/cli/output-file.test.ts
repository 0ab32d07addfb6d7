// -o FILE / --output FILE: the result that would go to standard output goes to
// FILE, written when the command ends (also when its status is not 0).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { takeOutputOption } from "../../src/cli/output_file.js";
import { COMMAND_HELP } from "../../src/cli/usage.js";
import { cli, tree } from "./helpers.js";

const SCRIPT = "mmap 0 4 rw\nmmap 4 4 rw\ndump\n";

describe("-o FILE", () => {
  it("run writes its output to FILE and nothing to stdout; the same text as without -o", async () => {
    const dir = tree({ "a.script": SCRIPT });
    const plain = await cli(["run", join(dir, "a.script")]);
    for (const opt of [["-o", join(dir, "out1.txt")], ["--output", join(dir, "out2.txt")], [`--output=${join(dir, "out3.txt")}`]]) {
      const r = await cli(["run", ...opt, join(dir, "a.script")]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(plain.stderr); // the checker's verdict stays on stderr
    }
    for (const f of ["out1.txt", "out2.txt", "out3.txt"]) expect(readFileSync(join(dir, f), "utf8")).toBe(plain.stdout);
  });

  it("compare --format json -o FILE writes the JSON; -o - is standard output", async () => {
    const dir = tree({ "a.script": SCRIPT });
    const r = await cli(["compare", "--format", "json", join(dir, "a.script"), "-o", join(dir, "c.json")]);
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "c.json"), "utf8"))).toHaveProperty("records");
    const s = await cli(["compare", "--format", "json", "-o", "-", join(dir, "a.script")]);
    expect(JSON.parse(s.stdout)).toHaveProperty("records");
  });

  it("the file is written when the command fails too, with its status kept", async () => {
    const dir = tree({ "bad.script": "mmap 0 4 rw\nbogus 1\ndump\n" });
    const r = await cli(["run", "-o", join(dir, "out.txt"), join(dir, "bad.script")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.script:2: unknown op 'bogus'/);
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toMatch(/bogus 1 => EPARSE \(line 2\)/);
  });

  it("refuses a missing or repeated -o, and says when FILE cannot be written", async () => {
    const dir = tree({ "a.script": SCRIPT });
    expect(await cli(["run", join(dir, "a.script"), "-o"])).toMatchObject({ status: 2, stderr: expect.stringMatching(/run: option '-o' needs a FILE/) });
    expect(await cli(["run", "-o", "x", "-o", "y", join(dir, "a.script")])).toMatchObject({ status: 2, stderr: expect.stringMatching(/given twice/) });
    const r = await cli(["run", "-o", join(dir, "no-such-dir", "out.txt"), join(dir, "a.script")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot write .*no-such-dir\/out\.txt/);
    expect(existsSync(join(dir, "no-such-dir"))).toBe(false);
  });

  it("stops at --, and every result-printing command documents it", () => {
    expect(takeOutputOption(["a", "-o", "f", "--", "-o", "g"])).toEqual({ args: ["a", "--", "-o", "g"], file: "f" });
    for (const cmd of ["run", "compare", "kernel", "diff", "fuzz-kernel", "host", "replay"]) {
      expect(COMMAND_HELP[cmd], cmd).toMatch(/-o, --output FILE/);
    }
  });
});
