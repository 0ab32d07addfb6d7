// The sweep's tests run the built CLI (dist/cli.js) as separate processes: the
// pool's threads start from dist/sweep-thread.js and queue workers are
// processes of their own (killed with SIGKILL by one test).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const CLI = join(ROOT, "dist/cli.js");

export function requireBuild(): void {
  if (!existsSync(CLI) || !existsSync(join(ROOT, "dist/sweep-thread.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
}

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function vmasim(args: string[], cwd: string): Ran {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A running vmasim process; `stderr` grows as it prints. */
export interface Child {
  proc: ChildProcess;
  stderr: () => string;
  done: Promise<Ran>;
}

export function start(args: string[], cwd: string): Child {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (c) => (out += c));
  proc.stderr!.on("data", (c) => (err += c));
  const done = new Promise<Ran>((res) => proc.on("close", (status) => res({ status, stdout: out, stderr: err })));
  return { proc, stderr: () => err, done };
}

const TRACES = join(ROOT, "test/fixtures/traces");
const SCENARIOS = join(ROOT, "test/fixtures/scenarios");

/**
 * A folder with a small sweep: two head traces (one with its side-band), a
 * scenario script, and optionally a slow script (tens of thousands of VMAs,
 * about half a second) that a test can kill a worker in the middle of.
 */
export function sweepDir(opts: { slow?: boolean; configs?: object[]; policies?: string[] } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "vmasim-sweep-"));
  for (const f of ["lua_make_j2.head.perf.txt.gz", "lua_make_j2.head.mmap2.txt.gz", "jemalloc_python.head.perf.txt.gz"]) copyFileSync(join(TRACES, f), join(dir, f));
  copyFileSync(join(SCENARIOS, "10-mprotect-split-merge.script"), join(dir, "split-merge.script"));
  const inputs: object[] = [{ trace: "lua_make_j2.head.perf.txt.gz" }, { trace: "jemalloc_python.head.perf.txt.gz" }, { script: "split-merge.script" }];
  if (opts.slow) {
    let s = "padvmas 30000 0\n";
    for (let i = 0; i < 2; i++) s += "repeat 15000 0 2 mprotect @ 1 rw\nrepeat 15000 0 2 mprotect @ 1 r\n";
    writeFileSync(join(dir, "slow.script"), s + "count\n");
    inputs.push({ script: "slow.script" });
  }
  writeFileSync(join(dir, "spec.json"), JSON.stringify({
    inputs, policies: opts.policies ?? ["linux-5.17", "seed"], configs: opts.configs ?? [{}, { max_map_count: 65530 }],
  }));
  return dir;
}
