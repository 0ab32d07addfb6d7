// Parse errors as a compiler reports them: `SCRIPT:LINE: what is wrong`, on
// stderr. The scenario's own output keeps `EPARSE (line N)` (the format the
// native runner and the recordings share); the reasons are the parser's.

import { parseScript } from "../scenario/parse.js";

export interface ParseProblem {
  line: number;
  reason: string;
}

/** The name a script is reported under: its path, or <stdin> for `-`. */
export function scriptName(path: string): string {
  return path === "-" ? "<stdin>" : path;
}

/** `NAME:LINE: reason` lines, one per problem. */
export function formatParseErrors(name: string, problems: readonly ParseProblem[]): string {
  return problems.map((p) => `${name}:${p.line}: ${p.reason}\n`).join("");
}

/**
 * The lines of a script the parser rejects, before it runs (a repeat whose
 * iterations go bad shows up only when it runs).
 */
export function staticParseErrors(script: string): ParseProblem[] {
  return parseScript(script).flatMap((e) => (e.op === "EPARSE" ? [{ line: e.line, reason: e.reason }] : []));
}
