#!/usr/bin/env node
// Import and replay throughput of one or more builds of the CLI on the same
// traces, the builds taking turns (so that a machine shared with other work
// loads them alike): perf-text lines per second of `vmasim import` (perf
// trace and side-band, node start-up included), and of `vmasim replay
// --policy all --json` events per second, each per wall-clock second and per
// CPU second (user + system of the process, every thread), and each policy's
// engine events per second (events / its `seconds`, wall-clock). On a loaded
// machine the process gets a share of a core: wall-clock rates then measure
// the share, CPU rates the work. Medians of the runs.
//   node scripts/trace-speed.mjs [--runs N] [--cli A.js --cli B.js] TRACE_PREFIX...
//   (TRACE_PREFIX: path/NAME of NAME.perf.txt.gz and NAME.mmap2.txt.gz)
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: "string", default: "3" }, cli: { type: "string", multiple: true }, "no-replay": { type: "boolean" } },
});
const clis = values.cli ?? ["dist/cli.js"];
const runs = Number(values.runs);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const lines = (f) => {
  const text = gunzipSync(readFileSync(f));
  let n = 0;
  for (let i = text.indexOf(10); i >= 0; i = text.indexOf(10, i + 1)) n++;
  return n;
};
const out = join(tmpdir(), `trace-speed-${process.pid}`);

/** Wall and CPU (user + system, every thread) seconds of one command. */
function timed(args) {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %U %S", process.execPath, ...args], { encoding: "utf8" });
  const [wall, user, sys] = r.stderr.trim().split("\n").pop().split(" ").map(Number);
  if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
  return { wall, cpu: user + sys };
}

for (const prefix of positionals) {
  const perf = `${prefix}.perf.txt.gz`;
  const side = `${prefix}.mmap2.txt.gz`;
  const nLines = lines(perf) + lines(side);
  const res = clis.map(() => ({ wall: [], cpu: [], eps: [], epsCpu: [], engine: {} }));
  for (let k = 0; k < runs; k++) {
    for (const [i, cli] of clis.entries()) {
      const t = timed([cli, "import", perf, "--sidecar", side, "-o", out]);
      res[i].wall.push(nLines / t.wall);
      res[i].cpu.push(nLines / t.cpu);
      if (values["no-replay"]) continue;
      const extra = prefix.endsWith("python_glibc_nozp") ? ["--set", "zero_page=0"] : [];
      const t2 = timed([cli, "replay", perf, "--policy", "all", "--json", "-o", out, ...extra]);
      const rep = JSON.parse(readFileSync(out, "utf8"));
      res[i].eps.push(rep.events / t2.wall);
      res[i].epsCpu.push(rep.events / t2.cpu);
      for (const [p, r] of Object.entries(rep.policies)) (res[i].engine[p] ??= []).push(rep.events / r.seconds);
    }
  }
  for (const [i, cli] of clis.entries()) {
    const r = res[i];
    const k = (x) => `${Math.round(x / 1000)}k`;
    let s = `${prefix.split("/").pop()} [${cli}] import ${nLines} lines: ${k(median(r.wall))} lines/s wall, ${k(median(r.cpu))} per CPU second`;
    if (!values["no-replay"]) {
      s += `; replay ${k(median(r.eps))} events/s wall, ${k(median(r.epsCpu))} per CPU second; engine events/s ${Object.entries(r.engine).map(([p, xs]) => `${p} ${k(median(xs))}`).join(", ")}`;
    }
    console.log(s);
  }
}
rmSync(out, { force: true });
