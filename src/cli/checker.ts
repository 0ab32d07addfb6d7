// The invariant checkers while a scenario runs (run and compare): the
// kernel-wide checker of src/check (checkKernel: VMAs, counters, anon_vmas and
// their chains, pages, rmap and page tables) after the script or after every
// line; its messages are rewritten in arena pages, the units of the script.

import { checkKernel } from "../check/memory.js";
import { PAGE_SIZE } from "../abi/constants.js";
import { ARENA_PAGES } from "../scenario/parse.js";
import type { KernelSim } from "../types.js";

/** The first failure: the script line after which the checker first complained, and every complaint then. */
export interface CheckFailure {
  line: number;
  problems: string[];
}

/**
 * A checker's message with the addresses inside the arena written as arena
 * pages: `[0xA, 0xB)` becomes `arena pages [a, b)`, a lone `0xA` `arena page a`
 * ("arena" keeps them apart from the checker's struct page numbers, `page N (anon)`).
 * Addresses outside the arena (the process image) stay in hex.
 */
export function inArenaPages(message: string, arenaBase: number): string {
  const page = (hex: string): number | null => {
    const a = Number.parseInt(hex, 16);
    const off = a - arenaBase;
    return off >= 0 && off <= ARENA_PAGES * PAGE_SIZE && off % PAGE_SIZE === 0 ? off / PAGE_SIZE : null;
  };
  // one pass: a range is rewritten whole or not at all (never half hex, half pages)
  return message.replace(/\[0x([0-9a-f]+), 0x([0-9a-f]+)\)|\b0x([0-9a-f]+)\b/g, (m, a?: string, b?: string, lone?: string) => {
    if (lone !== undefined) {
      const p = page(lone);
      return p !== null ? `arena page ${p}` : m;
    }
    const pa = page(a!);
    const pb = page(b!);
    return pa !== null && pb !== null ? `arena pages [${pa}, ${pb})` : m;
  });
}

/** Runs checkKernel after lines of a scenario and keeps the first failure. */
export class ScenarioChecker {
  private base = 0;
  private lastLine = 0;
  failure: CheckFailure | null = null;

  /** everyLine: check after every line; else only at finish(). */
  constructor(private readonly kernel: KernelSim, private readonly everyLine: boolean) {}

  start(arenaBase: number): void {
    this.base = arenaBase;
  }

  /** After script line `line` ran. */
  step(line: number): void {
    this.lastLine = line;
    if (this.everyLine && !this.failure) this.check(line);
  }

  /** After the script: the final check (when not checked after every line). */
  finish(): CheckFailure | null {
    if (!this.everyLine && !this.failure) this.check(this.lastLine);
    return this.failure;
  }

  private check(line: number): void {
    const bad = checkKernel(this.kernel);
    if (bad.length) this.failure = { line, problems: bad.map((m) => inArenaPages(m, this.base)) };
  }
}

/** The verdict as run prints it on stderr; `who` names the policy when several ran. */
export function formatVerdict(f: CheckFailure | null, who: string, everyLine: boolean): string {
  const name = who ? `checker (${who})` : "checker";
  if (!f) return `${name}: clean${everyLine ? " after every line" : ""}\n`;
  const when = everyLine ? `first failed after line ${f.line}` : `failed after the script (line ${f.line})`;
  return `${name}: ${f.problems.length} violation${f.problems.length === 1 ? "" : "s"}, ${when}:\n` +
    f.problems.map((p) => `  ${p}\n`).join("");
}
