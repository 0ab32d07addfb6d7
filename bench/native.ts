// The benchmarks' real-kernel baselines are small C programs in bench/native/,
// compiled with the system's C compiler into build/native/ on first use (and
// again when their source is newer).

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The path of bench/native/NAME.c built, or null (with the reason on stderr) when it cannot be built. */
export function nativeProgram(name: string): string | null {
  const src = fileURLToPath(new URL(`./native/${name}.c`, import.meta.url));
  const dir = fileURLToPath(new URL("../build/native/", import.meta.url));
  const bin = `${dir}${name}`;
  try {
    mkdirSync(dir, { recursive: true });
    if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
      execFileSync(process.env.CC ?? "cc", ["-O2", "-o", bin, src], { stdio: "pipe" });
    }
  } catch (e) {
    console.error(`real-kernel baseline skipped: cannot build ${src}: ${(e as Error).message}`);
    return null;
  }
  return bin;
}
