// `vmasim bisect SCRIPT [--from X.Y] [--to X.Y] [--set K=V ...] [--config F]
// [--json]`: the script under mainline at every release in order, the releases
// with one output grouped, each change point with its diff (src/bisect/).

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { bisectJson, bisectScript, formatBisect, parseRelease } from "../bisect/bisect.js";
import { ConfigError } from "../config/config.js";
import { KERNEL_RELEASES, releaseName } from "../engine/policy.js";
import { BundledNameError, expandBundled } from "./bundled.js";
import { formatParseErrors, scriptName, staticParseErrors } from "./diagnostics.js";
import { knobsFromArgs } from "./host.js";
import type { CliIo } from "./main.js";
import { COMMAND_HELP } from "./usage.js";

function usage(io: CliIo, msg: string): number {
  io.stderr.write(`vmasim: bisect: ${msg}\nTry 'vmasim bisect --help'.\n`);
  return 2;
}

/** A --from/--to value as a release number, or the usage message. */
function releaseOption(name: string, v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  const r = parseRelease(v);
  if (r !== null) return r;
  return `${name} must be a release from ${releaseName(KERNEL_RELEASES[0]!)} to ${releaseName(KERNEL_RELEASES[KERNEL_RELEASES.length - 1]!)} (MAJOR.MINOR), not '${v}'`;
}

export async function cmdBisect(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        from: { type: "string" }, to: { type: "string" }, json: { type: "boolean" },
        config: { type: "string", multiple: true }, set: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(COMMAND_HELP.bisect!);
    return 0;
  }
  if (positionals.length !== 1) return usage(io, positionals.length ? `unexpected argument '${positionals[1]}'` : "missing SCRIPT (a file, - for standard input, or @NAME)");
  const from = releaseOption("--from", values.from);
  if (typeof from === "string") return usage(io, from);
  const to = releaseOption("--to", values.to);
  if (typeof to === "string") return usage(io, to);
  if (from !== undefined && to !== undefined && from > to) return usage(io, `--from ${values.from} is after --to ${values.to}`);
  let knobs;
  try {
    knobs = knobsFromArgs(values.config ?? [], values.set ?? []);
  } catch (e) {
    if (e instanceof ConfigError) return usage(io, e.message);
    throw e;
  }
  let path: string;
  try {
    path = expandBundled([positionals[0]!])[0]!;
  } catch (e) {
    if (e instanceof BundledNameError) return usage(io, e.message);
    throw e;
  }
  let script: string;
  try {
    script = path === "-" ? await (io.readStdin ?? readStdin)() : await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    io.stderr.write(`vmasim: bisect: cannot read script '${path}': ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (code ?? (e as Error).message)}\n`);
    return 2;
  }
  const problems = staticParseErrors(script);
  if (problems.length) {
    io.stderr.write(formatParseErrors(scriptName(path), problems));
    io.stderr.write("vmasim: bisect: the script has parse errors: nothing was run\n");
    return 2;
  }
  const ranges = bisectScript(script, { from, to, knobs });
  io.stdout.write(values.json ? bisectJson(ranges) : formatBisect(scriptName(path), ranges));
  return 0;
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on("data", (c: Buffer) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}
