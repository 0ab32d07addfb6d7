// `-o FILE` / `--output FILE` of the commands that print results (run,
// compare, kernel, diff, fuzz-kernel, host, replay, report): what the command would
// print on standard output goes to FILE, written once when the command ends
// (whatever its exit status), so another tool never reads a half-written
// result. `-o -` is standard output. Messages and progress stay on stderr.

import { writeFileSync } from "node:fs";

/** The commands whose standard output is their result. */
export const OUTPUT_COMMANDS: ReadonlySet<string> = new Set(["run", "compare", "kernel", "diff", "fuzz-kernel", "fuzz", "host", "replay", "report", "bisect"]);

/** The help line every such command shows. */
export const OUTPUT_HELP = "  -o, --output FILE   write the results to FILE instead of standard output (- = stdout)\n";

/**
 * Takes `-o FILE`, `--output FILE` or `--output=FILE` out of a command's
 * arguments (before a `--`). Returns the other arguments and the file, or
 * an error message for a missing or repeated option.
 */
export function takeOutputOption(args: readonly string[]): { args: string[]; file: string | null } | { error: string } {
  const out: string[] = [];
  let file: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    let value: string | undefined;
    if (a === "-o" || a === "--output") {
      value = args[++i];
      if (value === undefined || value === "") return { error: `option '${a}' needs a FILE` };
    } else if (a.startsWith("--output=")) {
      value = a.slice("--output=".length);
      if (value === "") return { error: "option '--output' needs a FILE" };
    } else {
      out.push(a);
      continue;
    }
    if (file !== null) return { error: "-o/--output given twice" };
    file = value;
  }
  return { args: out, file: file === "-" ? null : file };
}

/** A standard output that collects what is written, for writeCollected(). */
export function collectingStdout(): { write(s: string): boolean; isTTY: false; text(): string } {
  const chunks: string[] = [];
  return {
    write(s: string): boolean {
      chunks.push(s);
      return true;
    },
    isTTY: false,
    text: () => chunks.join(""),
  };
}

/** Writes the collected result; returns an error message when the file cannot be written. */
export function writeCollected(file: string, text: string): string | null {
  try {
    writeFileSync(file, text);
    return null;
  } catch (e) {
    return `cannot write ${file}: ${(e as Error).message}`;
  }
}
