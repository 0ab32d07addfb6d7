// Minimisation of a failing scenario script (delta debugging). Used by the
// random differential test (fuzz.ts) to turn a long generated script whose
// kernel and engine outputs differ into a short one that still differs.
//
// A scenario script has one operation per line and no block structure: the
// generator only emits `fork parent` (the parent continues, the child stays
// parked), so any subsequence of its lines is again a well-formed script.
// Shrinking therefore works on lines:
//   1. comments and blank lines go;
//   2. ddmin (Zeller & Hildebrandt 2002) removes sets of lines, then single
//      lines, until every remaining line is needed (1-minimal);
//   3. each remaining line is simplified: optional tokens dropped (`noreserve`,
//      `populate`, `file ID FOFF`, ...), numbers made smaller; a variant is
//      tried only when the TypeScript parser accepts it (no EPARSE), so every
//      candidate stays a valid script;
//   2 and 3 repeat until nothing changes or the test budget is spent.
// The test `stillFails` decides; the shrinker never runs anything itself.

import { parseScript } from "../scenario/parse.js";

export interface ShrinkOptions {
  /** Most calls of the test (default 1500). */
  maxTests?: number;
  /**
   * Whether a candidate's lines form a valid script (default: the scenario
   * parser accepts every line); `vmasim fuzz` passes its own language's.
   */
  parses?: (lines: readonly string[]) => boolean;
}

export interface ShrinkResult {
  /** The smallest failing script found (lines joined by "\n", ending in "\n"). */
  script: string;
  /** How many times the test ran. */
  tests: number;
}

/** Whether the script (ops only) has a line the parser rejects. */
function parses(lines: readonly string[]): boolean {
  return parseScript(lines.join("\n") + "\n").every((e) => e.op !== "EPARSE");
}

/** The lines that do something: no comments, no blank lines, trimmed. */
export function scriptOps(script: string): string[] {
  return script
    .split("\n")
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter((l) => l !== "");
}

/** Simpler variants of one op line, simplest first (not yet checked by the parser). */
export function lineVariants(line: string): string[] {
  const tokens = line.split(/\s+/);
  const out: string[] = [];
  const push = (t: string[]) => {
    const s = t.join(" ");
    if (s !== line && !out.includes(s)) out.push(s);
  };
  // drop one, two or three consecutive optional tokens after the fixed arguments
  for (let width = 3; width >= 1; width--) {
    for (let i = 1; i + width <= tokens.length; i++) push([...tokens.slice(0, i), ...tokens.slice(i + width)]);
  }
  // smaller numbers: 0, 1 or half (never v-1: walking a page number down one by
  // one would spend the whole budget on a mismatch that does not depend on it)
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!/^\d+$/.test(t)) continue;
    const v = Number(t);
    for (const w of [0, 1, Math.floor(v / 2)]) {
      if (w >= 0 && w < v) push([...tokens.slice(0, i), String(w), ...tokens.slice(i + 1)]);
    }
  }
  // `dump full` -> `dump`, `touch P write` -> `touch P` are covered by dropping tokens
  return out;
}

class Budget {
  tests = 0;
  constructor(private readonly max: number) {}
  get spent(): boolean {
    return this.tests >= this.max;
  }
}

type Test = (script: string) => boolean | Promise<boolean>;

/** Runs the test on a line list (counting it), false once the budget is spent. */
async function check(lines: readonly string[], test: Test, budget: Budget): Promise<boolean> {
  if (budget.spent) return false;
  budget.tests++;
  return await test(lines.join("\n") + "\n");
}

/** ddmin over lines: a 1-minimal failing subsequence of `lines` (which fails). */
async function ddmin(lines: string[], test: Test, budget: Budget): Promise<string[]> {
  let cur = lines;
  let n = 2;
  while (cur.length >= 2 && !budget.spent) {
    const chunk = Math.ceil(cur.length / n);
    let reduced = false;
    // try each complement (remove one chunk); subsets are the complements' special case for n = 2
    for (let start = 0; start < cur.length; start += chunk) {
      const without = [...cur.slice(0, start), ...cur.slice(start + chunk)];
      if (without.length === 0) continue;
      if (await check(without, test, budget)) {
        cur = without;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (reduced) continue;
    if (n >= cur.length) break;
    n = Math.min(cur.length, n * 2);
  }
  return cur;
}

/** Replace lines by simpler variants while the script still fails. */
async function simplifyLines(lines: string[], test: Test, budget: Budget, valid: (lines: readonly string[]) => boolean): Promise<string[]> {
  const cur = [...lines];
  for (let i = 0; i < cur.length && !budget.spent; i++) {
    let changed = true;
    while (changed && !budget.spent) {
      changed = false;
      for (const v of lineVariants(cur[i]!)) {
        const cand = [...cur.slice(0, i), v, ...cur.slice(i + 1)];
        if (!valid(cand)) continue;
        if (await check(cand, test, budget)) {
          cur[i] = v;
          changed = true;
          break;
        }
      }
    }
  }
  return cur;
}

/**
 * A small script that still fails `stillFails`, from `script` (which must
 * fail). Deterministic when the test is.
 */
export async function shrinkScript(script: string, stillFails: Test, opts: ShrinkOptions = {}): Promise<ShrinkResult> {
  const budget = new Budget(opts.maxTests ?? 1500);
  let lines = scriptOps(script);
  // without comments the script must still fail; if not (it cannot, but the test decides), keep it whole
  if (!(await check(lines, stillFails, budget))) {
    return { script: script.endsWith("\n") ? script : script + "\n", tests: budget.tests };
  }
  for (;;) {
    const before = lines.join("\n");
    lines = await ddmin(lines, stillFails, budget);
    lines = await simplifyLines(lines, stillFails, budget, opts.parses ?? parses);
    if (lines.join("\n") === before || budget.spent) break;
  }
  return { script: lines.join("\n") + "\n", tests: budget.tests };
}
