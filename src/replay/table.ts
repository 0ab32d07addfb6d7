// The rows of the replay's table, one cell per policy: shared by the text
// table (src/cli/replay.ts) and the HTML report (src/report/html.ts).

import type { ReplayResult } from "./replayer.js";
import type { ReplayReport } from "./run.js";

export interface TableRow {
  label: string;
  /** one cell per policy, in the report's order */
  cells: string[];
  /** a detail of the row above (a failure reason under "failed"), indented */
  sub?: boolean;
  /** a timing row: wall-clock, different on every run */
  timing?: boolean;
}

const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);

/** The cover letter's figure: refused for sharing / (enabled by the series + refused), or "-" when both are 0. */
export function seriesFigure(p: ReplayResult): string {
  const all = p.merge.enabledBySeries + p.merge.refusedShared;
  return all === 0 ? "-" : `${((100 * p.merge.refusedShared) / all).toFixed(1)}%`;
}

export function tableRows(r: ReplayReport): TableRow[] {
  const cols = Object.values(r.policies);
  const reasons = [...new Set(cols.flatMap((c) => Object.keys(c.merge.byReason)))].sort();
  const row = (label: string, f: (p: ReplayResult) => string, extra: Partial<TableRow> = {}): TableRow => ({ label, cells: cols.map(f), ...extra });
  const rows: TableRow[] = [
    row("merge attempts", (p) => String(p.merge.attempts)),
    row("merged", (p) => String(p.merge.ok)),
    row("failed", (p) => String(p.merge.failed)),
    ...reasons.map((k) => row(k, (p) => String(p.merge.byReason[k] ?? 0), { sub: true })),
    row("enabled by the series", (p) => String(p.merge.enabledBySeries)),
    row("refused: shared", (p) => String(p.merge.refusedShared)),
    row("refused / (enabled + refused)", seriesFigure),
    row("VMAs peak", (p) => String(p.vmas.peak)),
    row("VMAs final", (p) => String(p.vmas.final)),
    row("VMAs mean", (p) => p.vmas.mean.toFixed(1)),
    row("map_count headroom", (p) => (p.vmas.headroom ? String(p.vmas.headroom.left) : "-")),
    row("busiest process (pid)", (p) => (p.vmas.headroom ? String(p.vmas.headroom.pid) : "-"), { sub: true }),
    row("pages re-indexed", (p) => String(p.pagesReindexed)),
    row("pages re-pointed", (p) => String(p.pagesRepointed)),
    row("placement differed", (p) => `${p.placement.differed}/${p.placement.checked}`),
    row("calls disagreeing", (p) => String(sum(p.disagreed))),
  ];
  if (r.sidecarFile !== null) rows.push(row("side-band agreed", (p) => `${p.sidecar.agreed}/${p.sidecar.checked}`));
  rows.push(row("engine seconds", (p) => p.seconds.toFixed(2), { timing: true }));
  if (cols.some((p) => p.secondsRatio !== null)) {
    rows.push(row("engine time / linux-5.17", (p) => (p.secondsRatio === null ? "-" : p.secondsRatio.toFixed(2)), { timing: true }));
  }
  return rows;
}
