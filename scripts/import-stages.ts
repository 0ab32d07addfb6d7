// Where `vmasim import` of a perf trace spends its time, stage by stage, the
// text path (readLineBatches + PerfParser.line + NativeWriter, what the import
// ran before the byte path) and the byte path (readByteLineBatches +
// PerfParser.bytes + NativeByteWriter) taking turns in one process, on the
// gzip file and on its text (gunzip counted in, and left out). CPU time of the
// process (every thread: zlib inflates on the thread pool), medians of the runs.
// Each stage includes the ones above it; its own cost is the difference.
//   npx tsx scripts/import-stages.ts [--runs N] TRACE.perf.txt.gz...

import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { parseArgs } from "node:util";
import { createGunzip, gunzipSync } from "node:zlib";
import type { TraceEvent } from "../src/trace/events.js";
import { parseFileBatches } from "../src/trace/import.js";
import { isGzip, readByteLineBatches, readLineBatches } from "../src/trace/lines.js";
import { NativeWriter } from "../src/trace/native.js";
import { NativeByteWriter } from "../src/trace/native_bytes.js";
import { PerfParser } from "../src/trace/perf.js";
import { TraceSummary } from "../src/trace/summary.js";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: "string", default: "5" } } });
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), "import-stages-"));
const outPath = join(dir, "out.vt");

/** The file's bytes, decompressed when gzip, as lines.ts reads them (and nothing else). */
async function readOnly(path: string): Promise<number> {
  const file = createReadStream(path, { highWaterMark: 1 << 18 });
  let s: Readable = file;
  if (await isGzip(path)) s = file.pipe(createGunzip({ chunkSize: 1 << 18 })).pipe(new PassThrough({ highWaterMark: 1 << 18 }));
  let n = 0;
  for await (const c of s as AsyncIterable<Buffer>) n += c.length;
  return n;
}

async function textLines(path: string): Promise<number> {
  let n = 0;
  for await (const b of readLineBatches(path, () => {})) n += b.length;
  return n;
}

async function byteLines(path: string): Promise<number> {
  let n = 0;
  for await (const b of readByteLineBatches(path, () => {})) n += b.bounds.length / 2;
  return n;
}

async function textParse(path: string): Promise<number> {
  const p = new PerfParser();
  let n = 0;
  for await (const lines of readLineBatches(path, () => {})) {
    const out: TraceEvent[] = [];
    for (const l of lines) p.line(l, out);
    n += out.length;
  }
  return n;
}

async function byteParse(path: string): Promise<number> {
  const p = new PerfParser();
  let n = 0;
  for await (const { buf, bounds } of readByteLineBatches(path, () => {})) {
    const out: TraceEvent[] = [];
    for (let k = 0; k < bounds.length; k += 2) p.bytes(buf, bounds[k], bounds[k + 1], out);
    n += out.length;
  }
  return n;
}

/** A file written by a stream, waiting on backpressure. */
function fileSink(): { write: (c: Buffer | string) => Promise<void> | undefined; close: () => Promise<void> } {
  const f = createWriteStream(outPath);
  const closed = new Promise<void>((resolve) => f.on("close", () => resolve()));
  return {
    write: (c) => (f.write(c) ? undefined : new Promise<void>((resolve) => f.once("drain", () => resolve()))),
    close: () => {
      f.end();
      return closed;
    },
  };
}

/** What `vmasim import` did before the byte path: events to NativeWriter strings, joined per batch. */
async function textImport(path: string): Promise<number> {
  const p = new PerfParser();
  const summary = new TraceSummary();
  const w = new NativeWriter(["x"]);
  const sink = fileSink();
  let n = 0;
  for await (const lines of readLineBatches(path, () => {})) {
    const out: TraceEvent[] = [];
    for (const l of lines) p.line(l, out);
    let text = "";
    for (const e of out) {
      summary.add(e);
      text += w.write(e);
    }
    n += out.length;
    await sink.write(text);
  }
  await sink.close();
  return n;
}

/** What `vmasim import` does now (src/cli/import.ts without the side-band). */
async function byteImport(path: string): Promise<number> {
  const summary = new TraceSummary();
  const sink = fileSink();
  const w = new NativeByteWriter(["x"], sink.write);
  let n = 0;
  for await (const batch of parseFileBatches(path, "perf")) {
    for (const e of batch) {
      summary.add(e);
      const p = w.write(e);
      if (p) await p;
    }
    n += batch.length;
  }
  await w.flush();
  await sink.close();
  return n;
}

const STAGES: [string, (p: string) => Promise<number>][] = [
  ["read (+ gunzip)", readOnly],
  ["text: + split into line strings", textLines],
  ["text: + parse (regex per line)", textParse],
  ["text: + summary, native text, write", textImport],
  ["bytes: + split into byte ranges", byteLines],
  ["bytes: + parse (fast path)", byteParse],
  ["bytes: + summary, native bytes, write", byteImport],
];

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const gz of positionals) {
  const plain = join(dir, "plain.txt");
  writeFileSync(plain, gunzipSync(readFileSync(gz)));
  const text = readFileSync(plain);
  let lines = 0;
  for (let i = text.indexOf(10); i >= 0; i = text.indexOf(10, i + 1)) lines++;
  for (const [label, path] of [["gzip", gz], ["text", plain]] as const) {
    const ms: number[][] = STAGES.map(() => []);
    for (let r = 0; r < runs + 1; r++) {
      for (const [i, [, f]] of STAGES.entries()) {
        const t = cpuMs();
        await f(path);
        if (r > 0) ms[i].push(cpuMs() - t); // the first round warms up
      }
    }
    console.log(`${gz.split("/").pop()} (${label} input, ${lines} lines, CPU ms, median of ${runs}):`);
    for (const [i, [name]] of STAGES.entries()) {
      const m = median(ms[i]);
      console.log(`  ${name.padEnd(40)} ${m.toFixed(0).padStart(6)} ms  ${(lines / m / 1000).toFixed(2).padStart(6)} M lines/s`);
    }
  }
}
rmSync(dir, { recursive: true, force: true });
