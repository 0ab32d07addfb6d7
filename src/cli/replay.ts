// `vmasim replay TRACE [--sidecar MMAP2] [--policy P,...|all] [--set K=V]
// [--config F] [--check-every N] [--json]`: a trace replayed under each
// policy (src/replay/), as a table or one JSON object (docs/replay.md).

import { parseArgs } from "node:util";
import { ConfigError } from "../config/config.js";
import { writeFileSync } from "node:fs";
import { type ReplayProgress, type ReplayReport, replayTrace } from "../replay/run.js";
import { tableRows } from "../replay/table.js";
import { replayHtml } from "../report/html.js";
import { BundledNameError } from "./bundled.js";
import { expandTrace } from "./bundled_traces.js";
import { knobsFromArgs } from "./host.js";
import type { CliIo } from "./main.js";
import { progressOn } from "./progress.js";
import { policiesOf } from "./policy_list.js";
import { COMMAND_HELP } from "./usage.js";

function usage(io: CliIo, msg: string): number {
  io.stderr.write(`vmasim: replay: ${msg}\nTry 'vmasim replay --help'.\n`);
  return 2;
}

export async function cmdReplay(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        sidecar: { type: "string" }, policy: { type: "string" }, json: { type: "boolean" },
        config: { type: "string", multiple: true }, set: { type: "string", multiple: true },
        "check-every": { type: "string" }, html: { type: "string" }, help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(COMMAND_HELP.replay!);
    return 0;
  }
  if (positionals.length !== 1) return usage(io, positionals.length ? `unexpected argument '${positionals[1]}'` : "missing TRACE");
  let trace: string;
  try {
    trace = expandTrace(positionals[0]);
  } catch (e) {
    if (e instanceof BundledNameError) return usage(io, e.message);
    throw e;
  }
  const policies = policiesOf(values.policy ?? "all");
  if (typeof policies === "string") return usage(io, policies);
  const checkEvery = values["check-every"] === undefined ? 0 : Number(values["check-every"]);
  if (!Number.isInteger(checkEvery) || checkEvery < 0) return usage(io, `--check-every must be a whole number, not '${values["check-every"]}'`);
  let knobs;
  try {
    knobs = knobsFromArgs(values.config ?? [], values.set ?? []);
  } catch (e) {
    if (e instanceof ConfigError) return usage(io, e.message);
    throw e;
  }
  const progress = progressOn(io.stderr as CliIo["stderr"] & { isTTY?: boolean });
  const start = performance.now();
  let report: ReplayReport;
  try {
    report = await replayTrace({
      trace, sidecar: values.sidecar, policies, knobs, checkEvery,
      onProgress: (p) => {
        const s = (performance.now() - start) / 1000;
        if (s > 1) progress.update(progressText(p));
      },
    });
  } catch (e) {
    progress.done();
    const err = e as NodeJS.ErrnoException;
    if (err.code !== undefined) {
      io.stderr.write(`vmasim: replay: cannot read '${err.path ?? trace}': ${err.code}\n`);
      return 2;
    }
    if (e instanceof ConfigError || /^cannot tell the format/.test(err.message)) {
      io.stderr.write(`vmasim: replay: ${err.message}\n`);
      return 2;
    }
    throw e;
  }
  progress.done();
  if (values.html !== undefined) {
    try {
      writeFileSync(values.html, replayHtml(report));
    } catch (e) {
      io.stderr.write(`vmasim: replay: cannot write '${values.html}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return 2;
    }
  }
  io.stdout.write(values.json ? JSON.stringify(report, null, 2) + "\n" : formatReplay(report));
  const checkerFailed = Object.values(report.policies).some((p) => p.checker.errors > 0);
  return report.unparsed > 0 || checkerFailed ? 1 : 0;
}

/** The progress line: events so far, their rate, and how much of the trace file (as stored: compressed for gzip) was read. */
export function progressText(p: ReplayProgress): string {
  const pct = p.fileBytes > 0 ? Math.min(100, Math.floor((100 * p.bytesRead) / p.fileBytes)) : 100;
  return `replay: ${p.events} events, ${p.seconds > 0 ? Math.round(p.events / p.seconds) : 0} events/s, ${pct}% of the file`;
}

/** The table: one column per policy. */
export function formatReplay(r: ReplayReport): string {
  const names = Object.keys(r.policies);
  const rows = tableRows(r).map((row) => ({ ...row, label: row.sub ? `  ${row.label}` : row.label }));
  const w0 = Math.max(...rows.map((row) => row.label.length));
  const widths = names.map((n, i) => Math.max(n.length, ...rows.map((row) => row.cells[i].length)));
  const line = (label: string, cells: string[]) => [label.padEnd(w0), ...cells.map((c, i) => c.padStart(widths[i]))].join("  ").trimEnd() + "\n";
  let out = `${r.trace}: ${r.events} events, ${r.unparsed} unparsed` + (r.sidecarFile ? `; side-band ${r.sidecarFile}` : "") + "\n";
  if (r.hostProfile) out += `configured as ${r.hostProfile}\n`;
  out += "\n" + line("", names);
  for (const row of rows) out += line(row.label, row.cells);
  const unmodelled = Object.entries(r.unmodelled).map(([k, n]) => `${k} ${n}`).join(", ");
  out += `\nnot modelled: ${unmodelled || "none"}\n`;
  for (const l of r.unparsedLines) out += `unparsed: ${l}\n`;
  // the first policy's view of the tasks (every policy sees the same events)
  const first = Object.values(r.policies)[0];
  if (first && first.unknownPidAt.length) out += `events of unknown tasks (not applied): ${first.unknownPidAt.join(", ")}\n`;
  if (first && first.silentChildren.length) out += `clones whose child never appears: ${first.silentChildren.join(", ")}\n`;
  const ref = r.policies["linux-6.18"];
  if (ref && ref.sidecar.disagreementsTotal > 0) {
    out += `\nside-band disagreements under linux-6.18 (${ref.sidecar.disagreementsTotal}):\n`;
    for (const d of ref.sidecar.disagreements) out += `  side-band line ${d.line} pid ${d.pid} after ${d.cause}: record ${d.record}; engine ${d.engine}\n`;
  }
  return out;
}
