// The real traces shipped with vmasim (traces/ of the package), reachable by
// name: `vmasim replay @NAME` is traces/NAME.perf.txt.gz (its side-band and
// host profile beside it), as `@NAME` names a bundled scenario elsewhere.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { BundledNameError, packageRoot } from "./bundled.js";

export function tracesDir(): string {
  return join(packageRoot(), "traces");
}

/** The names of the bundled traces. */
export function bundledTraces(): string[] {
  const dir = tracesDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".perf.txt.gz")).map((f) => f.slice(0, -".perf.txt.gz".length)).sort();
}

/** `@NAME` to the path of the bundled trace; any other argument as it is. */
export function expandTrace(arg: string): string {
  if (!arg.startsWith("@")) return arg;
  const name = arg.slice(1);
  if (!bundledTraces().includes(name)) {
    throw new BundledNameError(`no bundled trace '${arg}' (bundled traces: ${bundledTraces().map((n) => "@" + n).join(", ") || "none"})`);
  }
  return join(tracesDir(), `${name}.perf.txt.gz`);
}
