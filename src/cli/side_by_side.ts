// `vmasim run --policy A,B,...`: the outputs of one script under several
// policies, step by step in columns, with the rows that differ marked `!`.

/** One policy's run: for each script line that ran, the lines to show. */
export interface PolicyColumn {
  policy: string;
  steps: string[][];
}

/**
 * Columns side by side. Steps are aligned by their index (every policy runs
 * the same script); within a step, rows by position. A row whose cells are not
 * all equal starts with `!`, others with a space.
 */
export function sideBySide(cols: readonly PolicyColumn[]): string {
  const widths = cols.map((c) => Math.max(c.policy.length, ...c.steps.flat().map((l) => l.length)));
  const row = (cells: string[]) => {
    const mark = cells.every((x) => x === cells[0]) ? " " : "!";
    return `${mark} ${cells.map((x, i) => (i === cells.length - 1 ? x : x.padEnd(widths[i]))).join(" | ")}`.trimEnd() + "\n";
  };
  let out = row(cols.map((c) => c.policy)).replace(/^!/, " ");
  out += `  ${widths.map((w) => "-".repeat(w)).join("-+-")}\n`;
  const nSteps = Math.max(...cols.map((c) => c.steps.length));
  for (let s = 0; s < nSteps; s++) {
    const nRows = Math.max(...cols.map((c) => c.steps[s]?.length ?? 0));
    for (let r = 0; r < nRows; r++) out += row(cols.map((c) => c.steps[s]?.[r] ?? ""));
  }
  return out;
}
