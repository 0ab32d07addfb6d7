// Lines of a trace file, plain or gzip (detected by the magic bytes 1f 8b, not
// by the name), streamed: memory stays bounded however large the file is.
//
// Damaged input is reported with its position, never as a bare zlib error:
// a gzip stream that is corrupt or ends early gives the complete lines decoded
// before the damage, then a LineDamage (the first line lost, or cut); a file whose
// last line has no line end gives that line, then (to a caller that asks) a
// LineDamage saying where a cut file would end.

import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { PassThrough, type Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";

/** Where a file is damaged: a 1-based line number, the text there (may be empty) and what is wrong. */
export interface LineDamage {
  line: number;
  text: string;
  reason: string;
}

/** A damaged trace file when nobody asked for its damage to be reported otherwise. */
export class TraceDamageError extends Error {
  constructor(readonly path: string, readonly damage: LineDamage) {
    super(`${path}: line ${damage.line}: ${damage.reason}`);
    this.name = "TraceDamageError";
  }
}

/** Whether the file starts with the gzip magic bytes. */
export async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Bytes of the file (compressed, for gzip) read so far: a progress measure. */
export interface ReadCounter {
  bytes: number;
}

/** zlib's error codes in words. */
function gzipReason(e: NodeJS.ErrnoException): string {
  if (e.code === "Z_BUF_ERROR" || /unexpected end/i.test(e.message)) return "the gzip data ends early (truncated file): the rest is lost";
  if (e.code === "Z_DATA_ERROR") return `the gzip data is corrupt (${e.message}): the rest is lost`;
  return `cannot decompress (${e.code ?? e.message}): the rest is lost`;
}

/** Bytes read from the file, and bytes of text handed to the line splitter, at a time. */
const READ_CHUNK = 1 << 18;

/**
 * Bytes in, lines out, as readline splits them: a line ends at "\n", "\r\n"
 * (also split between two chunks) or a lone "\r"; the bytes are UTF-8, a
 * character split between chunks is joined, bad bytes become U+FFFD.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  /** the start of a line whose end is in a later chunk */
  private carry = "";
  /** the text so far ended with "\r": a "\n" next ends no line */
  private skipLf = false;

  /** The lines `chunk` completes, after `first` when it is not null (a line the caller carries over). */
  push(chunk: Uint8Array, first: string | null = null): string[] {
    const out: string[] = first === null ? [] : [first];
    const text = this.decoder.write(chunk as Buffer);
    if (text.length === 0) return out;
    const s = this.carry.length ? this.carry + text : text;
    let start = this.skipLf && s.charCodeAt(0) === 10 ? 1 : 0;
    this.skipLf = false;
    if (s.indexOf("\r", start) < 0) {
      for (let nl = s.indexOf("\n", start); nl >= 0; nl = s.indexOf("\n", start)) {
        out.push(s.slice(start, nl));
        start = nl + 1;
      }
    } else {
      for (let i = start; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        out.push(s.slice(start, i));
        if (c === 13) {
          if (i + 1 < s.length) {
            if (s.charCodeAt(i + 1) === 10) i++;
          } else {
            this.skipLf = true;
          }
        }
        start = i + 1;
      }
    }
    this.carry = start < s.length ? s.slice(start) : "";
    return out;
  }

  /** The text after the last line end (a last line without one), or null; a character cut at the end is dropped. */
  rest(): string | null {
    return this.carry.length ? this.carry : null;
  }
}

/**
 * The lines of `path` (without their line ends; a last line without a newline
 * is a line), a batch per chunk of text: what a caller loops over without an
 * await per line. Lines end as readline ends them: "\n", "\r\n" or a lone
 * "\r"; the text is UTF-8 (bad bytes become U+FFFD; a character cut by the
 * end of the file is dropped). Damage goes to `onDamage` (then the lines end
 * normally); without it, a broken gzip stream is thrown as a
 * TraceDamageError once the lines before it are out.
 */
export async function* readLineBatches(path: string, onDamage?: (d: LineDamage) => void, counter?: ReadCounter): AsyncGenerator<string[]> {
  const gzip = await isGzip(path); // first: an unreadable file fails here, before a stream exists
  const file = createReadStream(path, { highWaterMark: READ_CHUNK });
  let stream: Readable = file;
  if (counter) file.on("data", (chunk) => (counter.bytes += chunk.length));
  let gzipError: NodeJS.ErrnoException | null = null;
  if (gzip) {
    // large output chunks: zlib's default 16 KB made its callbacks a large share of the import
    const gunzip = createGunzip({ chunkSize: READ_CHUNK });
    // a zlib error must not reach the loop below (it would reject it with the
    // bare code): the loop reads a pass-through that simply ends there
    const out = new PassThrough({ highWaterMark: READ_CHUNK });
    gunzip.on("error", (e: NodeJS.ErrnoException) => {
      gzipError = e;
      out.end();
    });
    file.pipe(gunzip).pipe(out);
    stream = out;
  }
  const report = (d: LineDamage) => {
    if (onDamage) onDamage(d);
    else throw new TraceDamageError(path, d);
  };
  const split = new LineSplitter();
  let lastByte = -1;
  let n = 0; // lines found so far
  // lines go out one behind: the line a broken gzip stream cut is held back
  let held: string | null = null;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      lastByte = chunk[chunk.length - 1]!;
      const batch = split.push(chunk, held);
      if (batch.length === 0) continue;
      n += held === null ? batch.length : batch.length - 1;
      held = batch.pop()!;
      if (batch.length) yield batch;
    }
  } finally {
    stream.destroy();
    file.destroy();
  }
  // the text after the last line end is a line too
  const rest = split.rest();
  if (rest !== null) {
    if (held !== null) yield [held];
    held = rest;
    n++;
  }
  const complete = n === 0 || lastByte === 0x0a;
  if (gzipError !== null) {
    // a cut line could parse into wrong numbers: it is not used
    if (complete && held !== null) yield [held];
    report({ line: complete ? n + 1 : n, text: complete ? "" : held ?? "", reason: gzipReason(gzipError) });
    return;
  }
  if (held !== null) yield [held];
  if (!complete && onDamage) {
    // not an error (an editor may leave it so), but where a cut file would show
    onDamage({ line: n, text: held ?? "", reason: "the last line has no line end (the file may be cut there); it was read as it is" });
  }
}

/** The lines of `path` one at a time (readLineBatches() flattened). */
export async function* readLines(path: string, onDamage?: (d: LineDamage) => void, counter?: ReadCounter): AsyncGenerator<string> {
  for await (const batch of readLineBatches(path, onDamage, counter)) yield* batch;
}

/** The first `n` lines of a file (for format detection); damage before them goes to onDamage. */
export async function headLines(path: string, n: number, onDamage: (d: LineDamage) => void = () => {}): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readLines(path, onDamage)) {
    out.push(l);
    if (out.length >= n) break;
  }
  return out;
}
