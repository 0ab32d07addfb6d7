// The `vmasim` command. `main` takes the arguments and the streams (and, for
// tests, the kernel factories) and returns the exit status, so that it runs
// in-process; src/cli.ts is the executable entry.
//
//   vmasim run [--policy P] [--maps] SCRIPT     the script in the engine
//   vmasim kernel SCRIPT                        the script on the running Linux kernel
//   vmasim diff [--policy P] [--layout] SCRIPT  unified diff: kernel vs engine

import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { layoutOnly, runOnKernel } from "../kernel/native.js";
import { renderMaps } from "../maps.js";
import { ArenaSetupError, NotModelledError, runScenario } from "../scenario/run.js";
import { POLICIES, type KernelConfig, type KernelSim, type Policy } from "../types.js";
import { unifiedDiff } from "./diff.js";

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
  stdout: Writer;
  stderr: Writer;
  /** All of standard input, for SCRIPT `-` (default: process.stdin). */
  readStdin?: () => Promise<string>;
  /** The engine's kernel factory (default: the wasm engine). */
  createKernel?: KernelFactory;
  /** The real-kernel runner (default: src/kernel/native.ts). */
  native?: NativeRunner;
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
  vmasim run [--policy P] [--maps] SCRIPT      run a scenario script in the engine
  vmasim kernel SCRIPT                         run a scenario script on the running Linux kernel
  vmasim diff [--policy P] [--layout] SCRIPT   unified diff of the kernel's output (---)
                                               and the engine's (+++)
  vmasim --help | --version

SCRIPT is a file, or - for standard input; the language is described in
docs/scenario-language.md.

Options:
  --policy P   the engine's kernel policy (default ${DEFAULT_POLICY}; one of: ${POLICIES.join(", ")})
  --maps       after the script, print /proc/pid/maps of the scenario's process
  --layout     compare layouts only: ignore the pgoff of anon lines and av=
  -h, --help   show this help (also after a command)
  --version    print vmasim's version

Exit status: run and kernel exit with the scenario's status (2 when a line gave
EPARSE); diff exits 0 when the outputs agree, 1 when they differ, 2 on EPARSE;
any command exits 2 on a usage error, an unreadable script, or an op that the
engine does not model yet, and 70 on an internal error.
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

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

/** parseArgs for one command, with its errors as UsageErrors. */
function parseCommand(cmd: string, args: string[], options: OptionSpec): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
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

function policyArg(value: string | boolean | undefined): Policy {
  if (value === undefined) return DEFAULT_POLICY;
  const p = String(value);
  if (!(POLICIES as readonly string[]).includes(p)) throw new UsageError(`unknown policy '${p}' (policies: ${POLICIES.join(", ")})`);
  return p as Policy;
}

/** Runs a script in the engine; a NotModelledError becomes a CliError. */
async function runInEngine(io: CliIo, policy: Policy, script: string) {
  const factory = io.createKernel ?? (await defaultKernelFactory());
  const kernel = await factory({ policy });
  try {
    return runScenario(kernel, script);
  } catch (e) {
    if (e instanceof NotModelledError) throw new CliError(`the engine cannot run this script yet:\n${e.message}`);
    throw e;
  }
}

async function cmdRun(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand("run", args, { policy: { type: "string" }, maps: { type: "boolean" } });
  if (values.help) return help(io);
  const policy = policyArg(values.policy);
  const script = await readScript(scriptArg("run", positionals), io);
  const r = await runInEngine(io, policy, script);
  io.stdout.write(r.output);
  if (values.maps) io.stdout.write(renderMaps(r.process));
  return r.status;
}

async function cmdKernel(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand("kernel", args, {});
  if (values.help) return help(io);
  const script = await readScript(scriptArg("kernel", positionals), io);
  const r = await runNative(io.native ?? NATIVE, script);
  io.stdout.write(r.output);
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
  const { values, positionals } = parseCommand("diff", args, { policy: { type: "string" }, layout: { type: "boolean" } });
  if (values.help) return help(io);
  const policy = policyArg(values.policy);
  const script = await readScript(scriptArg("diff", positionals), io);
  // the engine first: an op it cannot run stops the command before the real kernel runs
  const engine = await runInEngine(io, policy, script);
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
  if (d !== "" && !values.layout && /^ {2}\S+ \S+ \S{4} anon \?$/m.test(kernel.output)) {
    io.stderr.write("vmasim: the kernel runner could not read anon pgoffs and anon_vmas here (`anon ?`): try --layout\n");
  }
  if (engine.status === 2 || kernel.status === 2) return 2;
  return d === "" ? 0 : 1;
}

function help(io: CliIo): number {
  io.stdout.write(HELP);
  return 0;
}

/**
 * The vmasim command: `argv` are the arguments after the program name.
 * Returns the exit status; everything is printed through `io`.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  try {
    const [cmd, ...rest] = argv;
    switch (cmd) {
      case undefined:
        throw new UsageError("missing command");
      case "-h": case "--help": case "help":
        return help(io);
      case "--version":
        io.stdout.write(`vmasim ${version()}\n`);
        return 0;
      case "run":
        return await cmdRun(rest, io);
      case "kernel":
        return await cmdKernel(rest, io);
      case "diff":
        return await cmdDiff(rest, io);
      default:
        throw new UsageError(cmd.startsWith("-") ? `unknown option '${cmd}'` : `unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`vmasim: ${e.message}\nTry 'vmasim --help'.\n`);
      return 2;
    }
    if (e instanceof CliError) {
      io.stderr.write(`vmasim: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ArenaSetupError) {
      io.stderr.write(`vmasim: internal error: ${e.message}\n`);
      return 70;
    }
    io.stderr.write(`vmasim: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 70;
  }
}
