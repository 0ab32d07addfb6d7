// run shows the invariant checkers' verdict (the ones compare uses) on stderr,
// exits 1 where an invariant fails; the checker's messages speak in arena
// pages while a scenario runs.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { inArenaPages } from "../../src/cli/checker.js";
import { cli } from "./helpers.js";

const S05 = fileURLToPath(new URL("../../scenarios/spec-12/S05-hole-between-two-anon-vmas.script", import.meta.url));

describe("run runs the checkers", () => {
  it("S05 under seed-v2 leaks an anon_vma: run says so and exits 1, like compare's CHECK", async () => {
    const r = await cli(["run", "--policy", "seed-v2", S05]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("  0 5 rw-p anon 0 av=1/1\n");
    expect(r.stderr).toMatch(/^checker: 1 violation, failed after the script \(line 7\):\n {2}anon_vma \d+: refcount 1, expected 0\n$/);
    const every = await cli(["run", "--policy", "seed-v2", "--check-every-line", S05]);
    expect(every.status).toBe(1);
    expect(every.stderr).toMatch(/^checker: 1 violation, first failed after line 6:\n/);
    const compare = await cli(["compare", "--policy", "seed-v2", S05]);
    expect(compare.stdout).toContain(", CHECK@6\n");
    // the same complaint in both
    const problem = /\n {2}(anon_vma .*)\n$/.exec(every.stderr)![1];
    expect(compare.stdout).toContain(`line 6: ${problem}\n`);
  });

  it("clean under linux-5.17; --no-check prints no verdict and exits 0", async () => {
    expect(await cli(["run", S05])).toMatchObject({ status: 0, stderr: "checker: clean\n" });
    expect(await cli(["run", "--check-every-line", S05])).toMatchObject({ status: 0, stderr: "checker: clean after every line\n" });
    const off = await cli(["run", "--no-check", "--policy", "seed-v2", S05]);
    expect(off).toMatchObject({ status: 0, stderr: "" });
    expect((await cli(["run", "--no-check", "--check-every-line", S05])).status).toBe(2);
  });

  it("several policies: one verdict each; the exit status is the worst", async () => {
    const r = await cli(["run", "--policy", "linux-5.17,seed-v2", S05]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^checker \(linux-5\.17\): clean\nchecker \(seed-v2\): 1 violation, failed after the script \(line 7\):\n/);
  });

  it("an EPARSE line gives 2 even when the checker fails; an exit line's status stands", async () => {
    const script = "mmap 0 2 rw\nmmap 3 2 rw\ntouch 0\ntouch 3\nmmap 2 1 rw\nbogus\n";
    expect((await cli(["run", "--policy", "seed-v2", "-"], script)).status).toBe(2);
    expect((await cli(["run", "--policy", "seed-v2", "--keep-going", "-"], script)).status).toBe(1);
    expect((await cli(["run", "-"], "mmap 0 1 rw\nexit 7\n")).status).toBe(7);
  });
});

describe("the checker's messages in arena pages", () => {
  const base = 0x7f0000000000;
  const at = (page: number) => "0x" + (base + page * 4096).toString(16);
  it("ranges and lone addresses inside the arena become arena pages; others stay hex", () => {
    expect(inArenaPages(`mm 1 VMA [${at(3)}, ${at(5)}): its anon_vma 2 is not live`, base))
      .toBe("mm 1 VMA arena pages [3, 5): its anon_vma 2 is not live");
    expect(inArenaPages(`mm 1 PTE ${at(7)}: anon page 12 has index 3, the VMA's linear index is 7`, base))
      .toBe("mm 1 PTE arena page 7: anon page 12 has index 3, the VMA's linear index is 7");
    expect(inArenaPages("mm 1 PTE 0x555555554000: outside every VMA", base)).toBe("mm 1 PTE 0x555555554000: outside every VMA");
    // a range half outside the arena stays hex, whole
    expect(inArenaPages(`VMA [0x1000, ${at(1)}) overlaps`, base)).toBe(`VMA [0x1000, ${at(1)}) overlaps`);
  });
});
