// The package as a user gets it: `npm pack` (its prepack builds what is out of
// date), the tarball installed into a new project in a temporary folder, and
// the commands run from there through npx. One pack and one install serve
// every check.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = readFileSync(join(ROOT, "test", "fixtures", "default-script.out"), "utf8");
const tmp = mkdtempSync(join(tmpdir(), "vmasim-package-"));
const project = join(tmp, "project");
const installed = join(project, "node_modules", "vmasim");

function sh(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: "1" } });
  if (r.error) throw r.error;
  return r;
}

/** Runs a command and fails with its output unless it exits 0. */
function ok(cmd: string, args: string[], cwd: string): string {
  const r = sh(cmd, args, cwd);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const vmasim = (...args: string[]): SpawnSyncReturns<string> => sh("npx", ["--no-install", "vmasim", ...args], project);

/** Whether a C compiler for the native runner is there ($CC or cc), else why not. */
function compilerMissing(): string | null {
  const cc = (process.env.CC ?? "").trim().split(/\s+/).filter((w) => w !== "");
  const cmd = cc.length ? cc : ["cc"];
  const r = spawnSync(cmd[0], [...cmd.slice(1), "--version"], { stdio: "ignore" });
  return r.error === undefined && r.status === 0 ? null : `no C compiler (${cmd.join(" ")}) for the native runner`;
}

describe("the packed package installed into another project", { timeout: 300_000 }, () => {
  beforeAll(() => {
    ok("npm", ["pack", "--silent", "--pack-destination", tmp], ROOT);
    const tarball = readdirSync(tmp).find((f) => /^vmasim-.*\.tgz$/.test(f));
    if (!tarball) throw new Error(`npm pack left no tarball in ${tmp}`);
    ok("mkdir", ["-p", project], tmp);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    ok("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", join(tmp, tarball)], project);
  }, 300_000);

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("ships what the commands need: the runner's source, the scenarios, the docs, the licence", () => {
    for (const f of [
      "LICENSE", "README.md", "native/scenario-runner.c", "scenarios/default.script",
      "scenarios/spec-12/S05-hole-between-two-anon-vmas.script", "docs/scenario-language.md", "docs/policies.md",
      "docs/configuration.md", "dist/cli.js", "dist/index.js", "dist/index.d.ts", "dist/engine.wasm",
      "traces/jemalloc_python.perf.txt.gz", "traces/jemalloc_python.mmap2.txt.gz", "traces/README.md",
      "dist/index.browser.js", "dist/web/index.html", "dist/web/app.js", "dist/web/engine.wasm", "dist/web/scenarios.json", "docs/browser.md",
    ]) expect(existsSync(join(installed, f)), f).toBe(true);
    expect(readFileSync(join(installed, "LICENSE"), "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the vmasim authors\n/);
    // every doc the help names is in the package
    const help = ok("npx", ["--no-install", "vmasim", "--help"], project);
    for (const doc of help.match(/docs\/[\w-]+\.md/g) ?? []) expect(existsSync(join(installed, doc)), doc).toBe(true);
  });

  it("npx vmasim --help", () => {
    const r = vmasim("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^vmasim — /);
    expect(r.stdout).toContain("vmasim list");
  });

  it("npx vmasim list names the bundled scenarios with their titles", () => {
    const r = vmasim("list");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^@default {2,}vmasim: a guided tour of how Linux merges and splits VMAs\.$/m);
    expect(r.stdout).toMatch(/^@spec-12\/S05-hole-between-two-anon-vmas {2,}S5: /m);
  });

  it("npx vmasim run @default prints the reviewed output of scenarios/default.script", () => {
    const r = vmasim("run", "@default");
    expect(r.stderr).toBe("checker: clean\n"); // run's invariant checkers, on by default
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(FIXTURE);
  });

  it("npx vmasim compare @spec-12 and run @S05 reach the bundled scenarios", () => {
    const c = vmasim("compare", "--policy", "linux-5.17", "@spec-12");
    expect(c.status).toBe(0);
    expect(c.stdout).toContain("S38-anon-vma-reuse");
    const r = vmasim("run", "@S05");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^mmap 0 2 rw => ok\n/);
  });

  it("npx vmasim replay @jemalloc_python replays the bundled trace (npm start's table)", () => {
    const r = vmasim("replay", "@jemalloc_python", "--policy", "seed");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^enabled by the series +4$/m);
  });

  it("npx vmasim kernel @default builds the native runner inside the package and runs it", (ctx) => {
    const why = compilerMissing();
    if (why !== null) {
      console.log(`skipped: ${why}`);
      ctx.skip();
    }
    const r = vmasim("kernel", "@default");
    expect(r.stderr).not.toMatch(/cannot find|cannot run/);
    expect(r.status).toBe(0);
    expect(existsSync(join(installed, "build", "native", "scenario-runner"))).toBe(true);
    // the kernel answers every line of the script, in order (its results may differ from 5.17's)
    const ops = (s: string): string[] => s.split("\n").filter((l) => /^\S/.test(l)).map((l) => l.replace(/ => .*$/, ""));
    expect(ops(r.stdout)).toEqual(ops(FIXTURE));
  });

  it("npx vmasim diff and fuzz-kernel run the kernel and the engine from the package", (ctx) => {
    const why = compilerMissing();
    if (why !== null) {
      console.log(`skipped: ${why}`);
      ctx.skip();
    }
    // layout only, so that neither needs root; 0 or 1 is the kernel's answer, 2 and 70 the command failing
    const d = vmasim("diff", "--layout", "--policy", "linux-6.18", "@S05");
    expect(d.stderr).not.toMatch(/cannot find|cannot run|internal error/);
    expect([0, 1]).toContain(d.status);
    const f = vmasim("fuzz-kernel", "--layout", "--seed", "1", "--count", "2", "--ops", "8");
    expect(f.stderr).not.toMatch(/cannot find|cannot run|internal error/);
    expect([0, 1]).toContain(f.status);
    expect(f.stdout).toMatch(/\b\d\/2 scripts agree\b/);
  });

  it("the library: createKernel and checkKernel from 'vmasim'", () => {
    const code = `
      import { createKernel, checkKernel, checkProcess, abi } from "vmasim";
      const kernel = await createKernel({ policy: "linux-5.17" });
      const p = kernel.createProcess();
      const a = p.mmap(0, 8192, abi.PROT_READ | abi.PROT_WRITE, abi.MAP_PRIVATE | abi.MAP_ANONYMOUS, -1, 0);
      p.touch(a, true);
      console.log(JSON.stringify({ mapped: a > 0, kernel: checkKernel(kernel), process: checkProcess(p) }));
    `;
    const out = ok("node", ["--input-type=module", "-e", code], project);
    expect(JSON.parse(out)).toEqual({ mapped: true, kernel: [], process: [] });
  });
});
