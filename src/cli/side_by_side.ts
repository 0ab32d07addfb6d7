// `vmasim run --policy A,B,...`: the outputs of one script under several
// policies, step by step, with the rows that differ marked `!`: in columns
// side by side, or, when that is wider than the terminal, stacked (rows the
// policies agree on once; a run of differing rows once per version, named by
// the policies that print it). On a terminal the
// differing cells are coloured (src/cli/terminal.ts decides).

import { paint, type Terminal } from "./terminal.js";

/** One policy's run: for each script line that ran, the lines to show. */
export interface PolicyColumn {
  policy: string;
  steps: string[][];
}

/** The rows of the runs, steps aligned by index and rows by position within a step. */
function rowsOf(cols: readonly PolicyColumn[]): string[][] {
  const rows: string[][] = [];
  const nSteps = Math.max(...cols.map((c) => c.steps.length));
  for (let s = 0; s < nSteps; s++) {
    const nRows = Math.max(...cols.map((c) => c.steps[s]?.length ?? 0));
    for (let r = 0; r < nRows; r++) rows.push(cols.map((c) => c.steps[s]?.[r] ?? ""));
  }
  return rows;
}

const same = (cells: readonly string[]) => cells.every((x) => x === cells[0]);

/** The width of the side-by-side layout: the mark, the columns and their separators. */
export function sideBySideWidth(cols: readonly PolicyColumn[]): number {
  const widths = cols.map((c) => Math.max(c.policy.length, ...c.steps.flat().map((l) => l.length)));
  return 2 + widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1);
}

/**
 * The runs laid out for `term` (default: side by side, no colour). Side by
 * side, a row whose cells are not all equal starts with `!`, others with a
 * space; in colour, the cells that differ from the first policy's are yellow.
 */
export function sideBySide(cols: readonly PolicyColumn[], term: Terminal = { width: undefined, color: false }): string {
  return term.width !== undefined && sideBySideWidth(cols) > term.width ? stacked(cols, term) : columns(cols, term.color);
}

function columns(cols: readonly PolicyColumn[], color: boolean): string {
  const widths = cols.map((c) => Math.max(c.policy.length, ...c.steps.flat().map((l) => l.length)));
  const row = (cells: string[], head = false) => {
    const differs = !head && !same(cells);
    const text = cells.map((x, i) => {
      const padded = i === cells.length - 1 ? x : x.padEnd(widths[i]);
      return color && differs && x !== cells[0] ? paint.differs(padded) : padded;
    });
    const mark = differs ? (color ? paint.mark("!") : "!") : " ";
    return `${mark} ${text.join(" | ")}`.trimEnd() + "\n";
  };
  let out = row(cols.map((c) => c.policy), true);
  out += `  ${widths.map((w) => "-".repeat(w)).join("-+-")}\n`;
  for (const cells of rowsOf(cols)) out += row(cells);
  return out;
}

function stacked(cols: readonly PolicyColumn[], term: Terminal): string {
  let out = `  ${cols.map((c) => c.policy).join(", ")}: too wide to fit ${term.width} columns side by side (${sideBySideWidth(cols)});\n` +
    "  rows the policies agree on are shown once; where they differ (!), each version once, with the policies that print it\n\n";
  const rows = rowsOf(cols);
  for (let i = 0; i < rows.length; ) {
    if (same(rows[i])) {
      out += `  ${rows[i][0]}`.trimEnd() + "\n";
      i++;
      continue;
    }
    // a run of differing rows: each policy's lines of it, policies printing the same lines together
    let j = i;
    while (j < rows.length && !same(rows[j])) j++;
    const versions = new Map<string, { names: string[]; lines: string[] }>();
    cols.forEach((c, k) => {
      const lines = rows.slice(i, j).map((r) => r[k]);
      while (lines.length && lines.at(-1) === "") lines.pop();
      const key = lines.join("\n");
      const v = versions.get(key) ?? { names: [], lines };
      v.names.push(c.policy);
      versions.set(key, v);
    });
    const first = [...versions.values()][0].lines;
    const wp = Math.max(...[...versions.values()].map((v) => v.names.join(", ").length));
    const mark = term.color ? paint.mark("!") : "!";
    for (const v of versions.values()) {
      const lines = v.lines.length ? v.lines : [""];
      lines.forEach((x, n) => {
        const name = (n === 0 ? v.names.join(", ") : "").padEnd(wp);
        const text = term.color && x !== first[n] ? paint.differs(x) : x;
        out += `${mark} ${term.color && n === 0 ? paint.policy(name) : name} | ${text}`.trimEnd() + "\n";
      });
    }
    i = j;
  }
  return out;
}
