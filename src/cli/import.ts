// `vmasim import IN [--sidecar FILE] [--format F] [--strict] -o OUT`: a perf
// trace, strace output or native trace to vmasim's native trace format
// (docs/trace-format.md), with a summary on stderr.

import { createWriteStream } from "node:fs";
import { parseArgs } from "node:util";
import { createGzip } from "node:zlib";
import { TraceParseError } from "../trace/events.js";
import { type TraceFormat, detectFile, mergeSidecarBatches, parseFileBatches } from "../trace/import.js";
import { type ChunkSink, NativeByteWriter } from "../trace/native_bytes.js";
import { TraceSummary } from "../trace/summary.js";
import type { CliIo } from "./main.js";
import { COMMAND_HELP } from "./usage.js";

const FORMATS = ["perf", "strace", "native", "auto"];

function usage(io: CliIo, msg: string): number {
  io.stderr.write(`vmasim: import: ${msg}\nTry 'vmasim import --help'.\n`);
  return 2;
}

export async function cmdImport(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        sidecar: { type: "string" }, format: { type: "string" }, strict: { type: "boolean" },
        output: { type: "string", short: "o" }, help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(COMMAND_HELP.import!);
    return 0;
  }
  if (positionals.length !== 1) return usage(io, positionals.length ? `unexpected argument '${positionals[1]}'` : "missing IN");
  if (values.output === undefined) return usage(io, "missing -o OUT");
  const fmt = values.format ?? "auto";
  if (!FORMATS.includes(fmt)) return usage(io, `--format must be one of ${FORMATS.join(", ")}, not '${fmt}'`);
  const input = positionals[0];
  let format: TraceFormat | null;
  try {
    format = fmt === "auto" ? await detectFile(input) : (fmt as TraceFormat);
    if (values.sidecar !== undefined) await detectFile(values.sidecar);
  } catch (e) {
    io.stderr.write(`vmasim: import: cannot read '${(e as NodeJS.ErrnoException).path ?? input}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 2;
  }
  if (format === null || format === "sidecar") {
    io.stderr.write(`vmasim: import: cannot tell the format of '${input}'${format === "sidecar" ? " (a side-band file: give it with --sidecar)" : ""}; use --format\n`);
    return 2;
  }
  const opts = { strict: values.strict === true };
  let batches = parseFileBatches(input, format, opts);
  if (values.sidecar !== undefined) batches = mergeSidecarBatches(batches, parseFileBatches(values.sidecar, "sidecar", opts));

  const toStdout = values.output === "-";
  const file = toStdout ? null : createWriteStream(values.output);
  if (file) {
    try {
      await new Promise<void>((resolve, reject) => { file.once("open", () => resolve()); file.once("error", reject); });
    } catch (e) {
      io.stderr.write(`vmasim: import: cannot write '${values.output}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return 2;
    }
  }
  const gzip = !toStdout && values.output.endsWith(".gz") ? createGzip() : null;
  if (gzip && file) gzip.pipe(file);
  const stream = gzip ?? file;
  const toStream: ChunkSink = (chunk) => {
    if (!stream!.write(chunk)) return new Promise<void>((resolve) => stream!.once("drain", () => resolve()));
  };
  const sink: ChunkSink = stream ? toStream : (chunk) => void io.stdout.write(chunk.toString("utf8"));
  const closed = file ? new Promise<void>((resolve, reject) => { file.on("close", resolve); file.on("error", reject); }) : null;

  const summary = new TraceSummary();
  const writer = new NativeByteWriter([`imported from ${input}${values.sidecar ? ` and ${values.sidecar}` : ""} (${format})`], sink);
  let status = 0;
  try {
    for await (const batch of batches) {
      for (const e of batch) {
        summary.add(e);
        const w = writer.write(e);
        if (w) await w;
      }
    }
  } catch (e) {
    if (e instanceof TraceParseError) {
      io.stderr.write(`vmasim: import: --strict: ${e.message}\n`);
      status = 2;
    } else {
      io.stderr.write(`vmasim: import: ${(e as Error).message}\n`);
      status = 2;
    }
  }
  await writer.flush();
  if (stream) {
    stream.end();
    await closed;
  }
  io.stderr.write(summary.format());
  if (status === 0 && summary.unparsed > 0) status = 1;
  return status;
}
