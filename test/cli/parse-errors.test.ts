// Parse errors: the scenario output keeps `EPARSE (line N)`; the reason of
// each goes to stderr as SCRIPT:LINE: reason; run and compare exit 2, unless
// --keep-going.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tree } from "./helpers.js";

const BAD = [
  "mmap 0 1 rw",
  "bogus 1", // 2: unknown op
  "munmap 0", // 3: missing argument
  "mprotect 0 1 rwz", // 4: bad prot
  "mmap 0 1 rw file 99 0", // 5: number out of range
  "madvise 0 1 frob", // 6: unknown madvise advice
  "touch 0 sideways", // 7: unknown keyword
  "repeat 3 62 1 mmap @ 1 rw file @ 0", // 8: iteration 2 has file ID 64
  "",
].join("\n");

const REASONS = [
  "<stdin>:2: unknown op 'bogus'",
  "<stdin>:3: munmap: missing N",
  "<stdin>:4: mprotect: bad PROT 'rwz'",
  "<stdin>:5: mmap: file ID must be 0..63",
  "<stdin>:6: madvise: unknown advice 'frob'",
  "<stdin>:7: touch: unknown keyword 'sideways'",
  "<stdin>:8: mmap: file ID must be 0..63 (iteration 2)",
].map((l) => l + "\n").join("");

describe("parse errors", () => {
  it("run: the output keeps EPARSE (line N), stderr says why, exit 2", async () => {
    const r = await cli(["run", "-"], BAD);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain("bogus 1 => EPARSE (line 2)\n");
    expect(r.stdout).toContain("mprotect 0 1 rwz => EPARSE (line 4)\n");
    expect(r.stdout).toContain("repeat 3 62 1 mmap @ 1 rw file @ 0 => ok x2, then i=2 (page 64): EPARSE (line 8)\n");
    expect(r.stderr).toBe(REASONS + "checker: clean\n");
  });

  it("run --keep-going: the same output, exit 0", async () => {
    const r = await cli(["run", "--keep-going", "-"], BAD);
    const strict = await cli(["run", "-"], BAD);
    expect(r).toEqual({ ...strict, status: 0 });
  });

  it("the file's name in the diagnostics", async () => {
    const dir = tree({ "x.script": "mmap 0 1 rw\nmmap 1\n" });
    const r = await cli(["run", "--no-check", join(dir, "x.script")]);
    expect(r).toEqual({ status: 2, stdout: "mmap 0 1 rw => ok\nmmap 1 => EPARSE (line 2)\n", stderr: `${join(dir, "x.script")}:2: mmap: missing N\n` });
  });

  it("compare: every script is parsed first; parse errors run nothing, exit 2", async () => {
    const dir = tree({ "a.script": "mmap 0 2 rw\ndump\n", "b.script": "mmap 0 2 rw\nfrob\nmmap 2 2 rwq\n" });
    const r = await cli(["compare", "--policy", "linux-5.17", dir]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `${join(dir, "b.script")}:2: unknown op 'frob'\n${join(dir, "b.script")}:3: mmap: bad PROT 'rwq'\n` +
      "vmasim: compare: 2 parse errors; nothing run (--keep-going runs them anyway)\n",
    );
  });

  it("compare --keep-going: diagnostics, then the table, exit 0", async () => {
    const dir = tree({ "a.script": "mmap 0 2 rw\ndump\n", "b.script": "mmap 0 2 rw\nfrob\n" });
    const r = await cli(["compare", "--keep-going", "--policy", "linux-5.17", dir]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(`${join(dir, "b.script")}:2: unknown op 'frob'\n`);
    expect(r.stdout).toMatch(/\n {2}a +\| 1 vma, 0 merges\n {2}b +\| - vmas, 0 merges\n/);
  });

  it("kernel: the runner's EPARSE lines, the parser's reasons on stderr", async () => {
    const native = { runOnKernel: () => ({ output: "bogus => EPARSE (line 1)\n", status: 2 }), layoutOnly: (o: string) => o };
    expect(await cli(["kernel", "-"], "bogus\n", { native })).toEqual({ status: 2, stdout: "bogus => EPARSE (line 1)\n", stderr: "<stdin>:1: unknown op 'bogus'\n" });
  });
});
