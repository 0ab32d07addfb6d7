// `vmasim fuzz-kernel` with a stand-in for the real kernel (the engine under
// another policy, or a deliberately broken copy of it): options, report,
// --keep and exit statuses. The real-kernel run is test/kernel/fuzz.test.ts.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main, type CliIo, type NativeRunner } from "../../src/cli/main.js";
import { createKernelSync } from "../../src/engine/index.js";
import { layoutOnly } from "../../src/kernel/native.js";
import { runScenario } from "../../src/scenario/run.js";

/** A "kernel" that is the engine under linux-5.17, its output passed through `edit`. */
function standIn(edit: (out: string) => string = (o) => o): NativeRunner & { runs: number } {
  const n = {
    runs: 0,
    runOnKernel(script: string) {
      n.runs++;
      const r = runScenario(createKernelSync({ policy: "linux-5.17" }), script);
      return { output: edit(r.output), status: r.status };
    },
    layoutOnly,
  };
  return n;
}

async function cli(argv: string[], extra: Partial<CliIo> = {}) {
  let stdout = "";
  let stderr = "";
  const status = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    createKernel: (c) => createKernelSync(c),
    ...extra,
  });
  return { status, stdout, stderr };
}

/** The summary line without its time. */
const summary = (out: string) => out.trimEnd().split("\n").at(-1)!.replace(/, [\d.]+ s$/, "");

describe("vmasim fuzz-kernel", () => {
  it("runs N scripts, prints the agreement figures and exits 0 when all agree", async () => {
    const native = standIn();
    const r = await cli(["fuzz-kernel", "--seed", "3", "--count", "12", "--ops", "10", "--policy", "linux-5.17"], { native });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("fuzz-kernel: engine policy linux-5.17 (--policy)\n");
    expect(summary(r.stdout)).toMatch(/^fuzz-kernel: 12\/12 scripts agree \(100\.0%\), \d+ ops, seed 3, engine --policy linux-5.17$/);
    expect(native.runs).toBe(12);
  });

  it("is deterministic: the same seed gives the same report", async () => {
    const argv = ["fuzz-kernel", "--seed", "9", "--count", "8", "--ops", "12", "--policy", "linux-5.17", "--layout"];
    const a = await cli(argv, { native: standIn() });
    const b = await cli(argv, { native: standIn() });
    expect(summary(a.stdout)).toBe(summary(b.stdout));
    expect(summary(a.stdout)).toContain("layout only");
  });

  it("reports each mismatch class with a minimal script and its diff, keeps the files, exits 1", async () => {
    const keep = mkdtempSync(join(tmpdir(), "vmasim-fuzz-"));
    const native = standIn((o) => o.replace(/^(mprotect \d+ \d+ r) => ok$/gm, "$1 => EACCES"));
    const r = await cli(
      ["fuzz-kernel", "--seed", "1", "--count", "10", "--ops", "15", "--policy", "linux-5.17", "--allow", "mmap,mprotect,dump", "--keep", keep],
      { native },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("mismatch class 1/1: mprotect: EACCES vs ok\n");
    expect(r.stdout).toContain("  minimal script (1 lines,");
    expect(r.stdout).toContain("    mprotect 0 0 r\n  diff:\n    --- kernel\n    +++ engine\n");
    expect(summary(r.stdout)).toMatch(/^fuzz-kernel: \d\/10 scripts agree \([\d.]+%\), \d+ ops, 1 mismatch class, seed 1, engine --policy linux-5.17$/);
    const files = readdirSync(keep);
    expect(files).toContain("seed1-class1.min.script");
    expect(files).toContain("seed1-class1.min.diff");
    expect(files.some((f) => /^seed1-script\d+\.script$/.test(f))).toBe(true);
    expect(readFileSync(join(keep, "seed1-class1.min.script"), "utf8")).toMatch(/^# fuzz-kernel seed 1, class 1: mprotect: EACCES vs ok \(from script \d+\)\nmprotect 0 0 r\n$/);
  });

  it("writes nothing with --keep when every script agrees", async () => {
    const keep = join(mkdtempSync(join(tmpdir(), "vmasim-fuzz-")), "out");
    const r = await cli(["fuzz-kernel", "--seed", "2", "--count", "2", "--ops", "5", "--policy", "linux-5.17", "--keep", keep], { native: standIn() });
    expect(r.status).toBe(0);
    expect(existsSync(keep)).toBe(false);
  });

  it("rejects bad options with a usage error (exit 2)", async () => {
    const native = standIn();
    for (const [argv, msg] of [
      [["fuzz-kernel", "--count", "1"], "fuzz-kernel: missing --seed S"],
      [["fuzz-kernel", "--seed", "x"], "fuzz-kernel: --seed needs an integer"],
      [["fuzz-kernel", "--seed", "1", "--count=-1"], "fuzz-kernel: --count needs an integer >= 0"],
      [["fuzz-kernel", "--seed", "1", "--ops", "0"], "fuzz-kernel: --ops needs an integer >= 1"],
      [["fuzz-kernel", "--seed", "1", "--policy", "nope"], "unknown policy 'nope'"],
      [["fuzz-kernel", "--seed", "1", "--allow", "mmap,exit"], "fuzz-kernel: --allow: 'exit' is not a generated op"],
      [["fuzz-kernel", "--seed", "1", "extra"], "fuzz-kernel: unexpected argument 'extra'"],
    ] as const) {
      const r = await cli([...argv], { native });
      expect(r.status, argv.join(" ")).toBe(2);
      expect(r.stderr).toContain(msg);
    }
    expect(native.runs).toBe(0);
  });

  it("a failing native runner ends the run with exit 2", async () => {
    const native: NativeRunner = {
      runOnKernel: () => {
        throw new Error("no C compiler found: install gcc or set CC");
      },
      layoutOnly,
    };
    const r = await cli(["fuzz-kernel", "--seed", "1", "--count", "1"], { native });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("vmasim: fuzz-kernel: cannot run a script on the kernel: no C compiler found");
  });

  it("is in the help", async () => {
    const r = await cli(["--help"]);
    expect(r.stdout).toContain("vmasim fuzz-kernel --seed S --count N [--policy P] [--ops K] [--layout]");
  });
});
