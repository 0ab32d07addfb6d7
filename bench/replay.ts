// Replay throughput on traces made by `vmasim gen` (allocator, server, build,
// adversarial) and on given trace files, through the built CLI as users run
// it: per policy, events per second of engine time (`vmasim replay --policy
// all`, each policy's `seconds`) and end to end with one policy (reading,
// gunzip, parsing and the engine: events / the child's CPU seconds, node's
// start-up included, and events / the report's wall-clock `seconds`).
// bench/run.ts's throughput section calls replayGenThroughput().
//
//   npx tsx bench/replay.ts [--events N] [--kinds a,b] [--cli DIST/cli.js ...] [--json FILE] [TRACE ...]
//
// Several --cli builds take turns on the same files (before/after in one run:
// the machine's load changes between runs, the ratios within one are what
// can be compared).

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const GEN_BENCH_KINDS = ["allocator", "server", "build", "adversarial"] as const;

/** Prints the child's CPU time (user + system, µs) on stderr as it exits. */
const CPU_PROBE = 'data:text/javascript,process.on("exit",()=>{const u=process.cpuUsage();process.stderr.write("\\ncpu-us "+(u.user+u.system)+"\\n")})';

interface ReplayJson {
  events: number;
  seconds: number;
  policies: Record<string, { seconds: number }>;
}

/** One `vmasim replay --json` run: its report and the child's CPU seconds. */
function replay(cli: string, trace: string, policy: string): { report: ReplayJson; cpuSeconds: number } {
  const r = spawnSync(process.execPath, [`--import=${CPU_PROBE}`, cli, "replay", trace, "--policy", policy, "--json"], { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`vmasim replay ${trace} --policy ${policy}: exit ${r.status}: ${r.stderr}`);
  const m = /cpu-us (\d+)/.exec(r.stderr);
  return { report: JSON.parse(r.stdout) as ReplayJson, cpuSeconds: m ? Number(m[1]) / 1e6 : NaN };
}

export interface TraceThroughput {
  trace: string;
  events: number;
  /** policy -> events per second of that policy's engine time (the `--policy all` run) */
  engine: Record<string, number>;
  /** policy -> its engine time / linux-5.17's in that run */
  ratioTo517: Record<string, number>;
  /** linux-5.17 alone: events per CPU second of the whole process, and per wall-clock second of the report */
  endToEndCpu: number;
  endToEndWall: number;
}

/** Throughput of one trace file under one build. */
export function traceThroughput(cli: string, trace: string): TraceThroughput {
  const all = replay(cli, trace, "all").report;
  const one = replay(cli, trace, "linux-5.17");
  const engine: Record<string, number> = {};
  const ratioTo517: Record<string, number> = {};
  const base = all.policies["linux-5.17"]?.seconds ?? NaN;
  for (const [p, r] of Object.entries(all.policies)) {
    engine[p] = all.events / r.seconds;
    ratioTo517[p] = r.seconds / base;
  }
  return {
    trace: trace.replace(/^.*\//, ""), events: all.events, engine, ratioTo517,
    endToEndCpu: one.report.events / one.cpuSeconds, endToEndWall: one.report.events / one.report.seconds,
  };
}

/** Generates a trace of `events` events of each kind (seed 1) into `dir`; their paths. */
export function genTraces(cli: string, dir: string, events: number, kinds: readonly string[] = GEN_BENCH_KINDS): string[] {
  return kinds.map((kind) => {
    const file = join(dir, `${kind}-${events}.vt.gz`);
    execFileSync(process.execPath, [cli, "gen", kind, "--events", String(events), "--seed", "1", "-o", file], { stdio: "pipe" });
    return file;
  });
}

/** The throughput section's rows for generated traces: flat "gen KIND N: ..." keys. */
export function replayGenThroughput(cli: string, events: number): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), "vmasim-bench-gen-"));
  const out: Record<string, number> = {};
  try {
    for (const file of genTraces(cli, dir, events)) {
      const t = traceThroughput(cli, file);
      const name = `gen ${t.trace.replace(/-\d+\.vt\.gz$/, "")} ${events}`;
      out[`${name}: replay events/s linux-5.17 alone (end to end, per CPU s)`] = t.endToEndCpu;
      out[`${name}: replay events/s linux-5.17 alone (end to end, wall)`] = t.endToEndWall;
      for (const [p, v] of Object.entries(t.engine)) out[`${name}: replay events/s ${p} (engine time)`] = v;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string[] => args.flatMap((a, i) => (a === name ? [args[i + 1]] : []));
  const events = Number(opt("--events")[0] ?? 1_000_000);
  const kinds = (opt("--kinds")[0] ?? GEN_BENCH_KINDS.join(",")).split(",");
  const clis = opt("--cli").length ? opt("--cli") : [fileURLToPath(new URL("../dist/cli.js", import.meta.url))];
  const jsonPath = opt("--json")[0];
  const valued = new Set(["--events", "--kinds", "--cli", "--json"]);
  const traces = args.filter((a, i) => !a.startsWith("--") && !valued.has(args[i - 1]));
  const dir = mkdtempSync(join(tmpdir(), "vmasim-bench-replay-"));
  const rows: (TraceThroughput & { cli: string })[] = [];
  try {
    const files = [...genTraces(clis[clis.length - 1], dir, events, kinds), ...traces];
    for (const f of files) {
      for (const cli of clis) {
        const t = traceThroughput(cli, f);
        rows.push({ ...t, cli });
        const pol = Object.entries(t.engine).map(([p, v]) => `${p} ${(v / 1e6).toFixed(2)}M (${t.ratioTo517[p].toFixed(2)})`).join(", ");
        console.log(`${t.trace} [${cli}]: ${t.events} events; linux-5.17 alone end to end ${(t.endToEndCpu / 1e3).toFixed(0)}k/CPU s, ${(t.endToEndWall / 1e3).toFixed(0)}k/s wall; engine time: ${pol}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (jsonPath) writeFileSync(jsonPath, `${JSON.stringify(rows, null, 2)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
