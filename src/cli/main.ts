// The `vmasim` command. `main` takes the arguments and the streams (and, for
// tests, the kernel factories) and returns the exit status, so that it runs
// in-process; src/cli.ts is the executable entry.
//
//   vmasim run [--policy P[,P...]] [--trace|--ftrace] [--stats] [--maps] [--no-check] SCRIPT
//                                               the script in the engine, under one
//                                               policy or several side by side
//   vmasim compare [--policy P,...] SCRIPT|DIR... scripts under every policy, summarised
//   vmasim kernel SCRIPT                        the script on the running Linux kernel
//   vmasim diff [--policy P] [--layout] SCRIPT  unified diff: kernel vs engine
//   vmasim fuzz-kernel --seed S --count N ...   random scripts: kernel vs engine
//   vmasim fuzz [--policy P,...] [--ops N] ...  random calls: engine vs model + checkers (src/cli/fuzz.ts)
//   vmasim host [--json]                        the host profile (every KernelConfig knob)
//   vmasim record [-o NAME] [--strace] -- CMD   a perf trace of a real workload (src/cli/record.ts)
//   vmasim list                                 the bundled scenarios (SCRIPT can be @NAME)
//   vmasim import IN [--sidecar F] -o OUT       a perf/strace trace to the native trace format
//   vmasim replay TRACE [--policy P,...] [--json] a trace replayed under each policy (src/cli/replay.ts)
//   vmasim gen KIND --events N --seed S [-o F]  a seeded synthetic workload as a native trace (src/cli/gen.ts)
//   vmasim report REPLAY.json -o report.html    the replay's HTML report (src/cli/report.ts)
//   vmasim sweep SPEC.json -o RESULT.json       inputs x policies x configs on threads or a queue (src/cli/sweep.ts)
//   vmasim worker --queue redis://HOST:PORT     takes a queued sweep's jobs (src/cli/worker.ts)

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError } from "../config/config.js";
import { fuzzKernel, type FuzzReport } from "../kernel/fuzz.js";
import { hostProfile } from "../kernel/host.js";
import type { HostProfile } from "../kernel/profile.js";
import { canRunNative, hiddenStateAvailable, kernelRelease, layoutOnly, runOnKernel } from "../kernel/native.js";
import { renderMaps } from "../maps.js";
import { GENERATED_OPS } from "../scenario/generate.js";
import { ARENA_PAGES, type OpName } from "../scenario/parse.js";
import { ArenaSetupError, NotModelledError, runScenario, ScenarioAbortedError } from "../scenario/run.js";
import { POLICIES, type KernelConfig, type KernelSim, type Policy } from "../types.js";
import { ScenarioChecker, formatVerdict, type CheckFailure } from "./checker.js";
import { kernelPolicy } from "./defaults.js";
import { formatParseErrors, scriptName, staticParseErrors } from "./diagnostics.js";
import { BundledNameError, expandBundled, formatBundledList } from "./bundled.js";
import { unifiedDiff } from "../report/diff.js";
import { progressOn } from "./progress.js";
import { scriptPaths } from "./script_paths.js";
import { traceLine } from "./trace_text.js";
import { COMMAND_HELP } from "./usage.js";
import {
  type CompareRow, type CountingKernel, compareCsv, compareJson, formatCompare, runCell, statsDiff, statsSum,
} from "./compare.js";
import { type Knobs, formatProfile, knobsFromArgs, knobsFromHost, profileJson } from "./host.js";
import { cmdRecord } from "./record.js";
import { cmdImport } from "./import.js";
import { cmdReplay } from "./replay.js";
import { cmdGen } from "./gen.js";
import { cmdReport } from "./report.js";
import { cmdServe } from "./serve.js";
import { cmdSweep } from "./sweep.js";
import { cmdWorker } from "./worker.js";
import { cmdFuzz as cmdFuzzModel } from "./fuzz.js";
import { OUTPUT_COMMANDS, collectingStdout, takeOutputOption, writeCollected } from "./output_file.js";
import { sideBySide } from "./side_by_side.js";
import { type OutputStream, terminalOf } from "./terminal.js";
import {
  MERGE_REASONS, type MergeEvent, type MergeReason, type MergeStats, formatFtrace,
} from "../engine/merge_trace.js";

const MERGE_REASON_ORDER = MERGE_REASONS.slice(1);

/** Where output goes (process.stdout / process.stderr, or a test's buffer). */
export interface Writer {
  write(s: string): unknown;
}

/** Creates the engine's kernel (the wasm engine: src/engine, createKernel). */
export type KernelFactory = (config: KernelConfig) => KernelSim | Promise<KernelSim>;

/** What a scenario run printed, and its exit status. */
export interface ScenarioOutput {
  output: string;
  status: number;
}

/** The native runner on the real kernel (src/kernel/native.ts). */
export interface NativeRunner {
  runOnKernel(script: string): ScenarioOutput | Promise<ScenarioOutput>;
  /** An output reduced to what layout-only comparison keeps (no anon pgoff, no av=). */
  layoutOnly(output: string): string;
}

export interface CliIo {
  /** isTTY, columns: run --policy A,B fits and colours a terminal */
  stdout: Writer & OutputStream;
  /** isTTY: progress lines are shown only on a terminal */
  stderr: Writer & { isTTY?: boolean };
  /** All of standard input, for SCRIPT `-` (default: process.stdin). */
  readStdin?: () => Promise<string>;
  /** The engine's kernel factory (default: the wasm engine). */
  createKernel?: KernelFactory;
  /** The real-kernel runner (default: src/kernel/native.ts). */
  native?: NativeRunner;
  /**
   * The host probe (default: src/kernel/host.ts, this machine; but none when
   * `native` stands in for the kernel: diff and fuzz-kernel then configure
   * the engine from their options only).
   */
  probe?: () => HostProfile;
}

const DEFAULT_POLICY: Policy = "linux-5.17";

/** The wasm engine's factory, loaded only by the commands that run the engine. */
async function defaultKernelFactory(): Promise<KernelFactory> {
  try {
    const { createKernel } = await import("../engine/index.js");
    return async (config) => {
      try {
        return await createKernel(config);
      } catch (e) {
        throw new CliError(`the wasm engine cannot be started: ${(e as Error).message}`);
      }
    };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`the wasm engine cannot be loaded: ${(e as Error).message}`);
  }
}

/** The real-kernel runner of src/kernel/native.ts. */
const NATIVE: NativeRunner = { runOnKernel, layoutOnly };

const HELP = `vmasim — emulator of Linux process address-space management
(VMAs, merging and splitting, anon_vmas, page tables) under several kernel policies

Usage:
  vmasim run [--policy P[,P...]] [--trace | --ftrace] [--stats] [--maps]
             [--check-every-line | --no-check] [--keep-going] SCRIPT
                                               run a scenario script in the engine; with
                                               several policies, their outputs side by
                                               side, the differing rows marked !; the
                                               checker's verdict on stderr
  vmasim compare [--policy P,...] [--format text|json|csv] [--keep-going] SCRIPT|DIR...
                                               scripts under every policy (or those listed), one
                                               row per script: VMAs, merges, pages rewritten, and
                                               whether the checker held; then merge counters;
                                               directories are searched recursively
  vmasim kernel SCRIPT                         run a scenario script on the running Linux kernel
  vmasim diff [--policy P] [--layout] SCRIPT   unified diff of the kernel's output (---)
                                               and the engine's (+++), under the kernel's
                                               own policy by default
  vmasim fuzz-kernel --seed S --count N [--policy P] [--ops K] [--layout]
                    [--start I] [--allow OPS] [--top-down] [--keep DIR]
                                               run N generated scripts on the kernel and in
                                               the engine (default: the kernel's policy); each
                                               mismatch class is shrunk to a minimal script
  vmasim fuzz [--policy P,...|all] [--ops N] [--seed S] [--time T] [--set K=V]
                                               random calls on several tasks, engine and
                                               reference model in lock step with the
                                               checkers; a minimal fuzz script per failure
  vmasim list                                  the bundled scenarios (@NAME), with their titles
  vmasim host [--json]                         the host profile: every configuration knob of
                                               the running machine, then what else the
                                               probe saw (release, THP, root, BPF, commit)
  vmasim record [-o NAME] [--strace] [--force] -- CMD [ARGS...]
                                               record a real workload with perf (root): its
                                               memory syscalls, faults and tasks into
                                               NAME.perf.txt.gz, the side-band into
                                               NAME.mmap2.txt.gz, the host profile into
                                               NAME.host.json; --strace adds NAME.strace.gz
                                               of a second run (docs/recording.md)
  vmasim import IN [--sidecar FILE] [--format perf|strace|native|auto] [--strict] -o OUT
                                               convert a perf trace / strace / native trace
                                               (plain or gzip) to vmasim's trace format
                                               (docs/trace-format.md); summary on stderr
  vmasim replay TRACE|@NAME [--sidecar MMAP2] [--policy P,...|all] [--json] [--html FILE]
                                               replay a trace under each policy: merges, VMA
                                               count, side-band agreement (docs/replay.md);
                                               @NAME: a bundled trace (traces/)
  vmasim gen allocator|server|build|adversarial --events N --seed S [-o FILE] [--pids P]
                                               a seeded synthetic workload as a trace of
                                               exactly N events, for replay (docs/gen.md)
  vmasim report REPLAY.json [-o report.html]   the HTML report of a replay --json: the table,
                                               charts, the busiest address space
  vmasim serve [--port N]                      the playground in a browser: serve dist/web on
                                               127.0.0.1 (default port 8080; docs/browser.md)
  vmasim sweep SPEC.json [--workers N | --queue redis://HOST:PORT[/DB]] -o RESULT.json
             [--csv FILE] [--resume]
                                               every input x policy x configuration of SPEC
                                               as one job, on this machine's threads or on
                                               queue workers; RESULT.json sorted by job key
                                               (docs/sweep.md)
  vmasim worker --queue redis://HOST:PORT[/DB] [--concurrency N] [--keep-running]
                                               take a queued sweep's jobs until the queue
                                               is empty
  vmasim help [COMMAND] | COMMAND --help       the help of one command
  vmasim --help | -V | --version

SCRIPT is a file, - for standard input, or @NAME for a bundled scenario
(@default, @spec-12/S05-hole-between-two-anon-vmas or just @S05; vmasim list);
the language is described in docs/scenario-language.md. Parse errors are
reported on stderr as SCRIPT:LINE: reason. docs/cli.md describes the
commands' conventions.

Options:
  --policy P   the engine's kernel policy (run: default ${DEFAULT_POLICY}; diff, fuzz-kernel:
               the running kernel's; one of: ${POLICIES.join(", ")});
               run takes a comma-separated list, or all (docs/policies.md)
  --trace      after each line, the merge attempts it made: case, or why each side failed
  --ftrace     after each line, the series' tracepoints vm_av_merge / vm_pgoff_merge as ftrace prints them
  --stats      after the script, the merge counters of each policy
  --maps       after the script, print /proc/pid/maps of the scenario's process
  --layout     compare layouts only: ignore the pgoff of anon lines and av=
  --check-every-line  (run) the invariant checkers after every line, not only after the script
  --no-check   (run) no checkers
  --keep-going (run, compare) parse errors do not stop compare nor set the exit status
  --width N    (run) fit N columns (default: a terminal's width): policies stacked when too wide
  --color WHEN (run) colour the differences: auto (a terminal, no NO_COLOR), always, never
  --json       (host) the profile as JSON: the knobs, then a "host" object

Configuration of the engine's kernel (run, compare, diff, fuzz-kernel; see
docs/configuration.md). diff and fuzz-kernel start from this host's profile
(vmasim host; the knobs that differ from the defaults are printed on stderr),
run and compare from the defaults:
  --config FILE.json   knobs from a JSON object (e.g. the output of vmasim host --json)
  --set KEY=VALUE      one knob (repeatable; a later one wins; --set over --config),
                       e.g. --set zero_page=0 --set max_map_count=1000

fuzz-kernel options:
  --seed S     the run's seed (an integer; script i uses a seed derived from S and i)
  --count N    how many scripts (default 100)
  --ops K      operations per script (default 20)
  --start I    index of the first script (default 0; --start I --count 1 re-runs script I)
  --allow OPS  the ops the generator may use, comma-separated (default: all it
               generates but mseal; e.g. --allow mmap,munmap,mprotect,touch,fork)
  --top-down   also generate mmap hint / mremap maymove, whose addresses depend on
               the process image (expect mismatches outside the engine's rules)
  --keep DIR   write every mismatching script, both outputs and each class's
               minimal script and diff into DIR
  -h, --help   show this help; after a command, that command's help
  -V, --version  print vmasim's version

Exit status: run and kernel exit with the scenario's status (2 when a line gave
EPARSE, unless --keep-going); run exits 1 when an invariant fails; compare exits
2 when a script has a parse error; diff exits 0 when the outputs agree, 1 when
they differ, 2 on EPARSE; fuzz-kernel exits 0 when every script agrees, 1 on a
mismatch; fuzz exits 0 when no failure (seed-v2: only documented defects), 1 else; record exits with the recorded command's status (1 when it left no
exit call); any command exits 2 on a usage error, an unreadable script, a bad
configuration key or value, or an op that the engine does not model yet, and
70 on an internal error.
`;

/** A usage error: printed with a pointer to --help, exit status 2. */
class UsageError extends Error {}
/** Any other error that ends the command with status 2. */
class CliError extends Error {}

/** vmasim's version, from the package.json above this module (src/cli or dist). */
function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, "package.json");
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "vmasim" && pkg.version) return pkg.version;
    }
    const up = dirname(dir);
    if (up === dir) throw new CliError("cannot find vmasim's package.json");
    dir = up;
  }
}

function readStdinDefault(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on("data", (c: Buffer) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

async function readScript(path: string, io: CliIo): Promise<string> {
  if (path === "-") return (io.readStdin ?? readStdinDefault)();
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (e as Error).message;
    throw new CliError(`cannot read script '${path}': ${why}`);
  }
}

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

/** --config FILE and --set KEY=VALUE, repeatable. */
const CONFIG_OPTIONS: OptionSpec = { config: { type: "string", multiple: true }, set: { type: "string", multiple: true } };

type OptionValue = string | boolean | string[] | undefined;

/** The knobs of a command's --config and --set options. */
function configArgs(values: Record<string, OptionValue>): Knobs {
  const list = (v: OptionValue): string[] => (Array.isArray(v) ? v : typeof v === "string" ? [v] : []);
  return knobsFromArgs(list(values.config), list(values.set));
}

/**
 * The engine knobs of diff and fuzz-kernel: the host's (probed, unless a
 * stand-in kernel without a probe is used), then --config and --set; the
 * configuration used is said on stderr.
 */
function hostConfigArgs(io: CliIo, values: Record<string, OptionValue>): { knobs: Knobs; profile: HostProfile | null } {
  const options = configArgs(values);
  const probe = io.probe ?? (io.native === undefined ? hostProfile : undefined);
  const profile = probe ? probe() : null;
  const { knobs, message } = knobsFromHost(profile, options);
  if (message !== null) io.stderr.write(`${message}\n`);
  return { knobs, profile };
}

/** The engine's policy of diff and fuzz-kernel (the kernel's own by default), said on stderr. */
function enginePolicy(io: CliIo, cmd: string, value: OptionValue, profile: HostProfile | null): Policy {
  const { policy, why } = kernelPolicy(value === undefined ? null : policyArg(value), profile);
  io.stderr.write(`${cmd}: engine policy ${policy} (${why})\n`);
  return policy;
}

/** parseArgs for one command, with its errors as UsageErrors. */
function parseCommand(cmd: string, args: string[], options: OptionSpec): { values: Record<string, OptionValue>; positionals: string[] } {
  try {
    const r = parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, OptionValue>, positionals: r.positionals };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const m = /'([^']*)'/.exec((e as Error).message);
    const opt = m ? m[1].replace(/ <value>$/, "") : "";
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UsageError(`${cmd}: unknown option '${opt}'`);
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") throw new UsageError(`${cmd}: option '${opt}' needs a value`);
    throw new UsageError(`${cmd}: ${(e as Error).message}`);
  }
}

/** The single SCRIPT argument of a command. */
function scriptArg(cmd: string, positionals: string[]): string {
  if (positionals.length === 0) throw new UsageError(`${cmd}: missing SCRIPT (a file, or - for standard input)`);
  if (positionals.length > 1) throw new UsageError(`${cmd}: unexpected argument '${positionals[1]}'`);
  return positionals[0];
}

function policyArg(value: OptionValue): Policy {
  if (value === undefined) return DEFAULT_POLICY;
  const p = String(value);
  if (!(POLICIES as readonly string[]).includes(p)) throw new UsageError(`unknown policy '${p}' (policies: ${POLICIES.join(", ")})`);
  return p as Policy;
}

/** --policy of run: one policy, a comma-separated list, or `all`. */
function policiesArg(value: OptionValue): Policy[] {
  if (value === undefined) return [DEFAULT_POLICY];
  if (value === "all") return [...POLICIES];
  const list = String(value).split(",").map((p) => policyArg(p.trim()));
  if (new Set(list).size !== list.length) throw new UsageError(`a policy is listed twice in '${String(value)}'`);
  return list;
}

type TraceMode = "none" | "trace" | "ftrace";
/** When run's checkers run: not at all, after the script, after every line. */
type CheckMode = "none" | "end" | "every-line";

/** What the engine reports about merges (src/engine/simulator.ts); the model does not trace. */
interface MergeTracing {
  traceMerges(capacity?: number): void;
  takeMergeEvents(): MergeEvent[];
  mergeStats(): MergeStats;
}

function tracingOf(kernel: KernelSim): MergeTracing | null {
  const k = kernel as Partial<MergeTracing>;
  return typeof k.traceMerges === "function" && typeof k.takeMergeEvents === "function" && typeof k.mergeStats === "function"
    ? (k as MergeTracing) : null;
}

/** Runs a script in the engine; a NotModelledError becomes a CliError. */
async function runInEngine(io: CliIo, policy: Policy, knobs: Knobs, script: string, trace: TraceMode = "none", stats = false, check: CheckMode = "none") {
  const factory = io.createKernel ?? (await defaultKernelFactory());
  const kernel = await factory({ ...knobs, policy });
  const tracing = tracingOf(kernel);
  if ((trace !== "none" || stats) && !tracing) throw new CliError(`this kernel implementation does not report merges (--${trace !== "none" ? trace : "stats"})`);
  if (trace !== "none") tracing!.traceMerges();
  // the events of each script line (the arena's own setup is left out)
  const events: MergeEvent[][] = [];
  let base = 0;
  let before: MergeStats | null = null;
  const checker = check === "none" ? null : new ScenarioChecker(kernel, check === "every-line");
  try {
    const r = runScenario(kernel, script, {
      onStart: (_p, arenaBase) => {
        base = arenaBase;
        checker?.start(arenaBase);
        if (trace !== "none") tracing!.takeMergeEvents();
        if (stats) before = tracing!.mergeStats();
      },
      onStep: (_p, e) => {
        if (trace !== "none") events.push(tracing!.takeMergeEvents());
        checker?.step(e.line);
      },
    });
    const failure: CheckFailure | null = checker ? checker.finish() : null;
    // addresses as arena pages, like the script's
    const page = (a: number) => (a >= base && a <= base + ARENA_PAGES * 4096 ? String((a - base) / 4096) : "0x" + a.toString(16));
    let seq = 0;
    const steps = r.steps.map((s, i) => {
      const lines = [...s.output];
      for (const e of events[i] ?? []) {
        const text = trace === "trace" ? traceLine(e, page) : formatFtrace(e, ++seq);
        if (text !== null) lines.push(...text.split("\n").map((l) => (l ? `    # ${l}` : "    #")));
      }
      return lines;
    });
    return { ...r, steps, stats: stats ? statsDiff(before!, tracing!.mergeStats()) : null, failure };
  } catch (e) {
    if (e instanceof NotModelledError) throw new CliError(`the engine cannot run this script yet:\n${e.message}`);
    // a configuration can leave no room for the arena (e.g. a tiny max_map_count): the user's error, not ours
    if (e instanceof ArenaSetupError && Object.keys(knobs).length) throw new CliError(`the scenario's arena cannot be set up under this configuration: ${e.message}`);
    throw e;
  }
}

/** The merge counters of each policy, one row per counter. */
function statsTable(rows: { policy: Policy; stats: MergeStats }[]): string {
  const lines: [string, ...number[]][] = [];
  const add = (name: string, f: (s: MergeStats) => number) => lines.push([name, ...rows.map((r) => f(r.stats))]);
  add("merge attempts", (s) => s.attempts);
  add("merged", (s) => s.merged);
  for (let c = 1; c <= 8; c++) add(`  case ${c}`, (s) => s.byCase[c - 1]);
  add("  with prev only (prev and next could not become one VMA)", (s) => s.bothRefused);
  add("not merged", (s) => s.attempts - s.merged);
  const reasons = new Set(rows.flatMap((r) => Object.keys(r.stats.failed))) as Set<MergeReason>;
  for (const reason of MERGE_REASON_ORDER) if (reasons.has(reason)) add(`  ${reason}`, (s) => s.failed[reason] ?? 0);
  add("pages re-indexed", (s) => s.pagesReindexed);
  add("pages re-pointed", (s) => s.pagesRepointed);
  add("anon_vmas created", (s) => s.anonVmasCreated);
  add("anon_vmas freed", (s) => s.anonVmasFreed);
  add("anon_vma refs leaked", (s) => s.anonVmaRefsLeaked);
  add("debug_vm warnings", (s) => s.debugVmWarnings);
  add("mremap pgoff updated", (s) => s.pgoffUpdated);
  add("mremap pgoff kept", (s) => s.pgoffKept);
  add("refused by max_map_count", (s) => s.mapCountRefused);
  const w0 = Math.max(...lines.map((l) => l[0].length));
  const ws = rows.map((r, i) => Math.max(r.policy.length, ...lines.map((l) => String(l[i + 1]).length)));
  let out = `${"merges".padEnd(w0)}  ${rows.map((r, i) => r.policy.padStart(ws[i])).join("  ")}\n`;
  for (const l of lines) out += `${l[0].padEnd(w0)}  ${l.slice(1).map((v, i) => String(v).padStart(ws[i])).join("  ")}\n`;
  return out;
}

async function cmdRun(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand("run", args, {
    policy: { type: "string" }, maps: { type: "boolean" }, trace: { type: "boolean" }, ftrace: { type: "boolean" },
    stats: { type: "boolean" }, "check-every-line": { type: "boolean" }, "no-check": { type: "boolean" },
    "keep-going": { type: "boolean" }, color: { type: "string" }, width: { type: "string" }, ...CONFIG_OPTIONS,
  });
  if (values.help) return help(io, "run");
  const term = terminalOf(io.stdout, process.env, values.color as string | undefined, values.width as string | undefined, (m) => new UsageError(`run: ${m}`));
  const policies = policiesArg(values.policy);
  if (values["no-check"] && values["check-every-line"]) throw new UsageError("run: --no-check and --check-every-line exclude each other");
  const check: CheckMode = values["no-check"] ? "none" : values["check-every-line"] ? "every-line" : "end";
  const knobs = configArgs(values);
  if (values.trace && values.ftrace) throw new UsageError("run: --trace and --ftrace exclude each other");
  const trace: TraceMode = values.trace ? "trace" : values.ftrace ? "ftrace" : "none";
  const path = scriptArg("run", positionals);
  const script = await readScript(path, io);
  const runs = [];
  for (const policy of policies) runs.push({ policy, ...(await runInEngine(io, policy, knobs, script, trace, !!values.stats, check)) });
  // the parse errors are the same under every policy: the first run's
  io.stderr.write(formatParseErrors(scriptName(path), runs[0].parseErrors));
  if (runs.length === 1) {
    io.stdout.write(runs[0].steps.flat().map((l) => l + "\n").join(""));
  } else {
    io.stdout.write(sideBySide(runs.map((r) => ({ policy: r.policy, steps: r.steps })), term));
  }
  if (values.stats) io.stdout.write("\n" + statsTable(runs.map((r) => ({ policy: r.policy, stats: r.stats! }))));
  if (values.maps) {
    for (const r of runs) {
      if (runs.length > 1) io.stdout.write(`\n== /proc/pid/maps under ${r.policy}\n`);
      io.stdout.write(renderMaps(r.process));
    }
  }
  if (check !== "none") {
    for (const r of runs) io.stderr.write(formatVerdict(r.failure, runs.length > 1 ? r.policy : "", check === "every-line"));
  }
  // an `exit N` line's status stands; EPARSE gives 2 unless --keep-going; a failed invariant 1
  const statuses = runs.map((r) => {
    if (r.parseErrors.length && r.status === 2) return values["keep-going"] ? (r.failure ? 1 : 0) : 2;
    return r.status !== 0 ? r.status : r.failure ? 1 : 0;
  });
  return Math.max(...statuses);
}

async function cmdKernel(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand("kernel", args, {});
  if (values.help) return help(io, "kernel");
  const path = scriptArg("kernel", positionals);
  const script = await readScript(path, io);
  const r = await runNative(io.native ?? NATIVE, script);
  io.stdout.write(r.output);
  // the runner prints EPARSE without a reason: the parser's, which follows the same rules
  io.stderr.write(formatParseErrors(scriptName(path), staticParseErrors(script)));
  return r.status;
}

/** Runs a script on the real kernel; the runner's own failures become CliErrors. */
async function runNative(native: NativeRunner, script: string): Promise<ScenarioOutput> {
  try {
    return await native.runOnKernel(script);
  } catch (e) {
    throw new CliError(`cannot run the script on the kernel: ${(e as Error).message}`);
  }
}

/** `count` results show process_vmas/other_vmas, which depend on the process image: masked. */
function maskImageCounts(output: string): string {
  return output.replace(/^(count(?: total)? => .*)$/gm, (line) =>
    line.replace(/\bprocess_vmas=\d+/, "process_vmas=*").replace(/\bother_vmas=\d+/, "other_vmas=*"));
}

async function cmdDiff(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand("diff", args, { policy: { type: "string" }, layout: { type: "boolean" }, ...CONFIG_OPTIONS });
  if (values.help) return help(io, "diff");
  if (values.policy !== undefined) policyArg(values.policy);
  const path = scriptArg("diff", positionals);
  const script = await readScript(path, io);
  const { knobs, profile } = hostConfigArgs(io, values);
  const policy = enginePolicy(io, "diff", values.policy, profile);
  // the engine first: an op it cannot run stops the command before the real kernel runs
  const engine = await runInEngine(io, policy, knobs, script);
  io.stderr.write(formatParseErrors(scriptName(path), engine.parseErrors));
  const native = io.native ?? NATIVE;
  const kernel = await runNative(native, script);
  let a = maskImageCounts(kernel.output);
  let b = maskImageCounts(engine.output);
  if (values.layout) {
    a = native.layoutOnly(a);
    b = native.layoutOnly(b);
  }
  const mode = values.layout ? ", layout only" : "";
  const d = unifiedDiff(`kernel${mode}`, a, `engine --policy ${policy}${mode}`, b);
  io.stdout.write(d);
  if (d === "") {
    const n = a.split("\n").length - 1;
    io.stdout.write(`kernel and engine agree (policy ${policy}${mode}, ${n} line${n === 1 ? "" : "s"})\n`);
  }
  if (d !== "" && !values.layout && /^ {2}\S+ \S+ \S{4} anon \?$/m.test(kernel.output)) {
    io.stderr.write("vmasim: the kernel runner could not read anon pgoffs and anon_vmas here (`anon ?`): try --layout\n");
  }
  if (engine.status === 2 || kernel.status === 2) return 2;
  return d === "" ? 0 : 1;
}

/** An integer option (default `def`), at least `min`. */
function intArg(name: string, value: OptionValue, def: number, min: number): number {
  if (value === undefined) return def;
  const s = String(value);
  const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`fuzz-kernel: --${name} needs an integer >= ${min}, got '${s}'`);
  return n;
}

/** Why the real kernel cannot be fuzzed here (no compiler, not Linux, not root ...), or null. */
function kernelUnavailable(layout: boolean): string | null {
  const n = canRunNative();
  if (!n.ok) return `the native runner cannot run here: ${n.reason}`;
  if (!layout) {
    if (typeof process.getuid === "function" && process.getuid() !== 0) {
      return "not running as root: the runner cannot read anon pgoffs and anon_vmas (BPF); run as root or use --layout";
    }
    if (!hiddenStateAvailable()) {
      return "the runner's BPF reader of anon pgoffs and anon_vmas is unavailable (needs kernel BTF, kernel >= 6.1); use --layout";
    }
  }
  return null;
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, "    ");
}

/** The report of a fuzz run: each mismatch class with its minimal script and diff, then the summary line. */
function printFuzzReport(io: CliIo, r: FuzzReport): void {
  r.classes.forEach((c, k) => {
    const first = c.scripts[0]!;
    const others = c.scripts.slice(1, 11).map((s) => s.index).join(" ");
    const more = c.scripts.length > 11 ? " ..." : "";
    io.stdout.write(`\nmismatch class ${k + 1}/${r.classes.length}: ${c.signature}\n`);
    io.stdout.write(`  ${c.scripts.length} script(s): first is script ${first.index} (generator seed ${first.seed})${others ? `; also ${others}${more}` : ""}\n`);
    if (c.minimal) {
      const n = c.minimal.script.split("\n").length - 1;
      io.stdout.write(`  minimal script (${n} lines, ${c.minimal.tests} test runs):\n${indent(c.minimal.script)}`);
      io.stdout.write(`  diff:\n${indent(c.minimal.diff)}`);
    } else {
      io.stdout.write(`  diff:\n${indent(first.diff)}`);
    }
  });
  const pct = r.run === 0 ? 100 : (100 * r.agree) / r.run;
  const classes = r.classes.length === 0 ? "" : `, ${r.classes.length} mismatch class${r.classes.length === 1 ? "" : "es"}`;
  io.stdout.write(
    `${r.classes.length ? "\n" : ""}fuzz-kernel: ${r.agree}/${r.run} scripts agree (${pct.toFixed(1)}%` +
    `${r.avReuse ? `; ${r.avReuse} up to anon_vma address reuse` : ""}), ${r.ops} ops${classes}, ` +
    `seed ${r.seed}, engine --policy ${r.policy}${r.layout ? ", layout only" : ""}, ${(r.ms / 1000).toFixed(1)} s\n`,
  );
}

/** Writes the mismatching scripts, their outputs and each class's minimal script into `dir`. */
function keepFuzzReport(dir: string, r: FuzzReport): void {
  try {
    mkdirSync(dir, { recursive: true });
    r.classes.forEach((c, k) => {
      for (const s of c.scripts) {
        const base = join(dir, `seed${r.seed}-script${s.index}`);
        writeFileSync(`${base}.script`, s.script);
        writeFileSync(`${base}.diff`, `# class ${k + 1}: ${c.signature}\n${s.diff}`);
      }
      if (c.minimal) {
        const base = join(dir, `seed${r.seed}-class${k + 1}`);
        writeFileSync(`${base}.min.script`, `# fuzz-kernel seed ${r.seed}, class ${k + 1}: ${c.signature} (from script ${c.scripts[0]!.index})\n${c.minimal.script}`);
        writeFileSync(`${base}.min.diff`, c.minimal.diff);
      }
    });
  } catch (e) {
    throw new CliError(`cannot write to --keep directory '${dir}': ${(e as Error).message}`);
  }
}

async function cmdCompare(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand("compare", args, {
    policy: { type: "string" }, format: { type: "string" }, "keep-going": { type: "boolean" }, ...CONFIG_OPTIONS,
  });
  if (values.help) return help(io, "compare");
  const knobs = configArgs(values);
  const policies = values.policy === undefined ? [...POLICIES] : policiesArg(values.policy);
  const format = values.format ?? "text";
  if (format !== "text" && format !== "json" && format !== "csv") throw new UsageError(`compare: --format must be text, json or csv, not '${String(format)}'`);
  if (!positionals.length) throw new UsageError("compare: missing SCRIPT or DIRECTORY");
  if (positionals.filter((p) => p === "-").length > 1) throw new UsageError("compare: standard input (-) given twice");
  const factory = io.createKernel ?? (await defaultKernelFactory());
  // every script is read and parsed first: parse errors stop the command before anything runs
  const scripts = [];
  let parseErrors = 0;
  for (const s of await scriptPaths(positionals, (m) => new CliError(m))) {
    const text = await readScript(s.path, io);
    const problems = staticParseErrors(text);
    io.stderr.write(formatParseErrors(scriptName(s.path), problems));
    parseErrors += problems.length;
    scripts.push({ ...s, text });
  }
  if (parseErrors && !values["keep-going"]) {
    io.stderr.write(`vmasim: compare: ${parseErrors} parse error${parseErrors === 1 ? "" : "s"}; nothing run (--keep-going runs them anyway)\n`);
    return 2;
  }
  const progress = progressOn(io.stderr);
  const rows: CompareRow[] = [];
  const totals: (MergeStats | null)[] = policies.map(() => null);
  for (const [n, { path, name, text }] of scripts.entries()) {
    progress.update(`compare: ${n}/${scripts.length} scripts (${name})`);
    const cells = [];
    for (const [i, policy] of policies.entries()) {
      const kernel = await factory({ ...knobs, policy });
      if (!tracingOf(kernel)) throw new CliError("compare: this kernel implementation does not report merges");
      try {
        const { cell, stats } = runCell(kernel as CountingKernel, text);
        cells.push(cell);
        totals[i] = totals[i] ? statsSum(totals[i]!, stats) : stats;
      } catch (e) {
        if (e instanceof NotModelledError) throw new CliError(`${scriptName(path)}: the engine cannot run this script:\n${e.message}`);
        throw e;
      }
    }
    rows.push({ script: name, cells });
  }
  progress.done();
  const t = totals as MergeStats[];
  io.stdout.write(format === "json" ? compareJson(policies, rows, t) : format === "csv" ? compareCsv(policies, rows, t) : formatCompare(policies, rows, t, knobs));
  return 0;
}

async function cmdFuzz(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand("fuzz-kernel", args, {
    seed: { type: "string" }, count: { type: "string" }, start: { type: "string" }, ops: { type: "string" },
    policy: { type: "string" }, layout: { type: "boolean" }, keep: { type: "string" }, "top-down": { type: "boolean" },
    allow: { type: "string" }, ...CONFIG_OPTIONS,
  });
  if (values.help) return help(io, "fuzz-kernel");
  if (positionals.length > 0) throw new UsageError(`fuzz-kernel: unexpected argument '${positionals[0]}'`);
  if (values.seed === undefined) throw new UsageError("fuzz-kernel: missing --seed S");
  const seed = intArg("seed", values.seed, 0, Number.MIN_SAFE_INTEGER);
  const count = intArg("count", values.count, 100, 0);
  const start = intArg("start", values.start, 0, 0);
  const ops = intArg("ops", values.ops, 20, 1);
  if (values.policy !== undefined) policyArg(values.policy);
  const layout = values.layout === true;
  const allow = typeof values.allow === "string" ? values.allow.split(",").map((o) => o.trim()).filter((o) => o !== "") : undefined;
  if (allow) {
    const unknown = allow.filter((o) => !GENERATED_OPS.includes(o as OpName));
    if (unknown.length) throw new UsageError(`fuzz-kernel: --allow: '${unknown[0]}' is not a generated op (${GENERATED_OPS.join(",")})`);
  }
  if (io.native === undefined) {
    const why = kernelUnavailable(layout);
    if (why !== null) throw new CliError(`fuzz-kernel: ${why}`);
  }
  const { knobs, profile } = hostConfigArgs(io, values);
  const policy = enginePolicy(io, "fuzz-kernel", values.policy, profile);
  const native = io.native ?? NATIVE;
  const factory = io.createKernel ?? (await defaultKernelFactory());
  const createKernel: KernelFactory = (config) => factory({ ...knobs, ...config });
  if (io.native === undefined) io.stdout.write(`fuzz-kernel: Linux ${kernelRelease()} vs engine --policy ${policy}\n`);
  const progress = progressOn(io.stderr);
  let done = 0;
  let agree = 0;
  const report = await fuzzKernel({
    seed, count, start, ops, policy, layout, allow, topDown: values["top-down"] === true, createKernel,
    onScript: (o) => {
      done++;
      if (o.agree) agree++;
      progress.update(`fuzz-kernel: ${done}/${count} scripts, ${agree} agree`);
    },
    runKernel: async (script) => {
      try {
        return await native.runOnKernel(script);
      } catch (e) {
        throw new CliError(`fuzz-kernel: cannot run a script on the kernel: ${(e as Error).message}\n${script}`);
      }
    },
  });
  progress.done();
  printFuzzReport(io, report);
  if (typeof values.keep === "string" && report.classes.length) keepFuzzReport(values.keep, report);
  return report.classes.length === 0 ? 0 : 1;
}

async function cmdHost(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand("host", args, { json: { type: "boolean" } });
  if (values.help) return help(io, "host");
  if (positionals.length > 0) throw new UsageError(`host: unexpected argument '${positionals[0]}'`);
  const profile = (io.probe ?? hostProfile)();
  io.stdout.write(values.json ? profileJson(profile) : formatProfile(profile));
  return 0;
}

/** The help of `cmd` (COMMAND_HELP), or the global help. */
function help(io: CliIo, cmd?: string): number {
  io.stdout.write((cmd !== undefined ? COMMAND_HELP[cmd] : undefined) ?? HELP);
  return 0;
}

/**
 * The vmasim command: `argv` are the arguments after the program name.
 * Returns the exit status; everything is printed through `io`.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [cmd0, ...rest0] = argv;
  if (cmd0 !== undefined && OUTPUT_COMMANDS.has(cmd0)) {
    const o = takeOutputOption(rest0);
    if ("error" in o) {
      io.stderr.write(`vmasim: ${cmd0}: ${o.error}\nTry 'vmasim ${cmd0} --help'.\n`);
      return 2;
    }
    if (o.file !== null) {
      const collected = collectingStdout();
      const status = await main([cmd0, ...o.args], { ...io, stdout: collected });
      const err = writeCollected(o.file, collected.text());
      if (err !== null) {
        io.stderr.write(`vmasim: ${cmd0}: ${err}\n`);
        return 2;
      }
      return status;
    }
    argv = [cmd0, ...o.args];
  }
  try {
    const [cmd, ...given] = argv;
    // @NAME arguments name bundled scenarios (src/cli/bundled.ts)
    const rest = ["run", "kernel", "diff", "compare"].includes(cmd ?? "") ? expandBundled(given) : given;
    switch (cmd) {
      case undefined:
        throw new UsageError("missing command");
      case "-h": case "--help":
        return help(io);
      case "help":
        if (rest[0] !== undefined && COMMAND_HELP[rest[0]] === undefined) throw new UsageError(`help: unknown command '${rest[0]}'`);
        return help(io, rest[0]);
      case "-V": case "--version":
        io.stdout.write(`vmasim ${version()}\n`);
        return 0;
      case "run":
        return await cmdRun(rest, io);
      case "kernel":
        return await cmdKernel(rest, io);
      case "diff":
        return await cmdDiff(rest, io);
      case "fuzz-kernel":
        return await cmdFuzz(rest, io);
      case "fuzz":
        return await cmdFuzzModel(rest, io);
      case "compare":
        return await cmdCompare(rest, io);
      case "host":
        return await cmdHost(rest, io);
      case "record":
        return await cmdRecord(rest, io);
      case "list":
        if (rest[0] === "-h" || rest[0] === "--help") return help(io, "list");
        if (rest.length) throw new UsageError(`list: unexpected argument '${rest[0]}'`);
        io.stdout.write(formatBundledList());
        return 0;
      case "import":
        return await cmdImport(rest, io);
      case "replay":
        return await cmdReplay(rest, io);
      case "gen":
        return await cmdGen(rest, io);
      case "report":
        return await cmdReport(rest, io);
      case "serve":
        return await cmdServe(rest, io);
      case "sweep":
        return await cmdSweep(rest, io);
      case "worker":
        return await cmdWorker(rest, io);
      default:
        throw new UsageError(cmd.startsWith("-") ? `unknown option '${cmd}'` : `unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`vmasim: ${e.message}\nTry 'vmasim --help'.\n`);
      return 2;
    }
    if (e instanceof CliError || e instanceof ConfigError || e instanceof BundledNameError) {
      io.stderr.write(`vmasim: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ScenarioAbortedError) {
      // a resource limit of the engine (or a trap): what ran is printed, then where it stopped
      io.stdout.write(e.output);
      io.stderr.write(`vmasim: ${e.message}\n`);
      return 1;
    }
    if (e instanceof ArenaSetupError) {
      io.stderr.write(`vmasim: internal error: ${e.message}\n`);
      return 70;
    }
    io.stderr.write(`vmasim: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 70;
  }
}
