// `vmasim import IN [--sidecar FILE] [--format F] [--strict] -o OUT`: a perf
// trace, strace output or native trace to vmasim's native trace format
// (docs/trace-format.md), with a summary on stderr.

import { createWriteStream } from "node:fs";
import { parseArgs } from "node:util";
import { createGzip } from "node:zlib";
import { TraceParseError } from "../trace/events.js";
import { type TraceFormat, detectFile, mergeSidecarBatches, parseFileBatches } from "../trace/import.js";
import { NativeWriter } from "../trace/native.js";
import { TraceSummary } from "../trace/summary.js";
import type { CliIo } from "./main.js";
import { COMMAND_HELP } from "./usage.js";

const FORMATS = ["perf", "strace", "native", "auto"];

/** Buffers text and writes it in large chunks, waiting when the stream is full. */
class ChunkWriter {
  private buf: string[] = [];
  private size = 0;
  constructor(private readonly out: NodeJS.WritableStream) {}
  async write(s: string): Promise<void> {
    this.buf.push(s);
    this.size += s.length;
    if (this.size >= 1 << 16) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const ok = this.out.write(this.buf.join(""));
    this.buf = [];
    this.size = 0;
    if (!ok) await new Promise<void>((resolve) => this.out.once("drain", () => resolve()));
  }
}

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
  const sink = gzip ?? file;
  const out = sink ? new ChunkWriter(sink) : null;
  const closed = file ? new Promise<void>((resolve, reject) => { file.on("close", resolve); file.on("error", reject); }) : null;

  const summary = new TraceSummary();
  const writer = new NativeWriter([`imported from ${input}${values.sidecar ? ` and ${values.sidecar}` : ""} (${format})`]);
  let status = 0;
  try {
    for await (const batch of batches) {
      let text = "";
      for (const e of batch) {
        summary.add(e);
        text += writer.write(e);
      }
      if (out) await out.write(text);
      else io.stdout.write(text);
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
  if (out && sink) {
    await out.flush();
    sink.end();
    await closed;
  }
  io.stderr.write(summary.format());
  if (status === 0 && summary.unparsed > 0) status = 1;
  return status;
}
