// `vmasim report REPLAY.json [-o report.html]`: the HTML report (src/report/
// html.ts) of a replay saved with `vmasim replay TRACE --json -o REPLAY.json`.
// The page goes to standard output, or to -o FILE (src/cli/output_file.ts).

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ReplayReport } from "../replay/run.js";
import { replayHtml } from "../report/html.js";
import type { CliIo } from "./main.js";
import { COMMAND_HELP } from "./usage.js";

function usage(io: CliIo, msg: string): number {
  io.stderr.write(`vmasim: report: ${msg}\nTry 'vmasim report --help'.\n`);
  return 2;
}

/** Whether `j` has what the report draws (a replay --json object of this version). */
function isReplayReport(j: unknown): j is ReplayReport {
  const r = j as ReplayReport;
  return typeof r === "object" && r !== null && typeof r.trace === "string" && typeof r.policies === "object" && r.policies !== null
    && Object.values(r.policies).every((p) => typeof p?.merge === "object" && Array.isArray(p?.vmas?.series?.peaks));
}

export async function cmdReport(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { help: { type: "boolean", short: "h" } } });
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  if (parsed.values.help) {
    io.stdout.write(COMMAND_HELP.report!);
    return 0;
  }
  const files = parsed.positionals;
  if (files.length !== 1) return usage(io, files.length ? `unexpected argument '${files[1]}'` : "missing REPLAY.json");
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(files[0], "utf8"));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    io.stderr.write(`vmasim: report: ${err.code ? `cannot read '${files[0]}': ${err.code}` : `'${files[0]}' is not JSON: ${err.message}`}\n`);
    return 2;
  }
  if (!isReplayReport(j)) {
    io.stderr.write(`vmasim: report: '${files[0]}' is not the output of vmasim replay --json (no policies with a VMA series)\n`);
    return 2;
  }
  io.stdout.write(replayHtml(j));
  return 0;
}
