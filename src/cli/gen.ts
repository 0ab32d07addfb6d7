// `vmasim gen KIND --events N --seed S [-o FILE] [--pids P] [--max-map-count M]`:
// a seeded workload written as a native trace (src/gen/, docs/gen.md).

import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_MAX_MAP_COUNT, GEN_KINDS, GenError, type GenOptions, generateChunks } from "../gen/generate.js";
import { writeChunks, writeGenerated } from "../gen/write.js";
import { recordingName } from "../replay/run.js";
import type { CliIo } from "./main.js";
import { COMMAND_HELP } from "./usage.js";

function usage(io: CliIo, msg: string): number {
  io.stderr.write(`vmasim: gen: ${msg}\nTry 'vmasim gen --help'.\n`);
  return 2;
}

/** A whole number option, or undefined when absent; NaN when it is not one. */
function whole(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  return /^\d+$/.test(v) ? Number(v) : NaN;
}

export async function cmdGen(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        events: { type: "string" }, seed: { type: "string" }, pids: { type: "string" }, "max-map-count": { type: "string" },
        output: { type: "string", short: "o" }, help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(COMMAND_HELP.gen!);
    return 0;
  }
  if (positionals.length !== 1) return usage(io, positionals.length ? `unexpected argument '${positionals[1]}'` : `missing KIND (${GEN_KINDS.join(", ")})`);
  if (values.events === undefined) return usage(io, "missing --events N");
  if (values.seed === undefined) return usage(io, "missing --seed S");
  const kind = positionals[0];
  for (const k of ["events", "seed", "pids", "max-map-count"] as const) {
    const v = values[k];
    if (v !== undefined && Number.isNaN(whole(v))) return usage(io, `--${k} must be a whole number, not '${v}'`);
  }
  const opts: GenOptions = {
    events: whole(values.events)!, seed: whole(values.seed)!, pids: whole(values.pids), maxMapCount: whole(values["max-map-count"]),
  };
  if (opts.maxMapCount !== undefined && kind !== "adversarial") return usage(io, "--max-map-count is for the adversarial kind");
  const file = values.output === undefined || values.output === "-" ? null : values.output;
  try {
    if (file === null) {
      try {
        await writeChunks(generateChunks(kind, opts), io.stdout as Parameters<typeof writeChunks>[1]);
      } catch (e) {
        // the reader of the pipe has gone (vmasim gen ... | head): as much as it wanted was written
        if ((e as NodeJS.ErrnoException).code === "EPIPE") return 0;
        throw e;
      }
      return 0;
    }
    await writeGenerated(kind, opts, file);
  } catch (e) {
    if (e instanceof GenError) return usage(io, e.message);
    const err = e as NodeJS.ErrnoException;
    if (err.code === undefined) throw e;
    io.stderr.write(`vmasim: gen: cannot write '${file}': ${err.code}\n`);
    return 2;
  }
  if (opts.maxMapCount !== undefined && opts.maxMapCount !== DEFAULT_MAX_MAP_COUNT) {
    // vmasim replay reads NAME.host.json next to a trace: the trace replays under the limit it was made for
    const profile = `${recordingName(file)}.host.json`;
    writeFileSync(profile, JSON.stringify({ max_map_count: opts.maxMapCount }, null, 2) + "\n");
    io.stderr.write(`vmasim: gen: wrote ${profile} (max_map_count ${opts.maxMapCount}, read by vmasim replay)\n`);
  }
  return 0;
}
