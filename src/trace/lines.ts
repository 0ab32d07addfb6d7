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

const LAST_LINE_OPEN = "the last line has no line end (the file may be cut there); it was read as it is";

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
    onDamage({ line: n, text: held ?? "", reason: LAST_LINE_OPEN });
  }
}

/** Lines as byte ranges of one buffer: line k is `buf[bounds[2k], bounds[2k+1])`, its line end left out. */
export interface ByteLines {
  buf: Buffer;
  bounds: number[];
}

const NO_BYTES = Buffer.alloc(0);

/**
 * LineSplitter on bytes: the same lines (as readline splits them), as ranges
 * of the bytes instead of strings, so that a parser can read the common lines
 * without making a string of each. The last complete line stays in the
 * carry with the text after it until the next chunk (or end()) shows that
 * nothing follows: it is scanned once more then, which also joins a "\r" at
 * the end of one chunk with a "\n" at the start of the next.
 */
export class ByteLineSplitter {
  private carry: Buffer = NO_BYTES;

  /** The complete lines of `chunk` (with the carry before it) but the last one. */
  push(chunk: Buffer): ByteLines {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const bounds: number[] = [];
    const len = buf.length;
    let start = 0;
    if (buf.indexOf(13) < 0) {
      for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
        bounds.push(start, nl);
        start = nl + 1;
      }
    } else {
      for (let i = 0; i < len; i++) {
        const c = buf[i];
        if (c !== 10 && c !== 13) continue;
        bounds.push(start, i);
        if (c === 13 && i + 1 < len && buf[i + 1] === 10) i++;
        start = i + 1;
      }
    }
    if (bounds.length === 0) {
      this.carry = buf;
      return { buf, bounds };
    }
    // the last complete line is held back (with the rest)
    this.carry = buf.subarray(bounds[bounds.length - 2]);
    bounds.length -= 2;
    return { buf, bounds };
  }

  /**
   * At the end of the input: the last complete line (or null) and the text
   * after it (or null), the latter as LineSplitter.rest() gives it (UTF-8,
   * a character cut at the end dropped) but encoded again, so both are bytes.
   */
  end(): { held: Buffer | null; rest: Buffer | null } {
    const c = this.carry;
    this.carry = NO_BYTES;
    let t = -1;
    for (let i = 0; i < c.length; i++) {
      if (c[i] === 10 || c[i] === 13) {
        t = i;
        break;
      }
    }
    let held: Buffer | null = null;
    let after = 0;
    if (t >= 0) {
      held = c.subarray(0, t);
      after = c[t] === 13 && t + 1 < c.length && c[t + 1] === 10 ? t + 2 : t + 1;
    }
    if (after >= c.length) return { held, rest: null };
    const text = new StringDecoder("utf8").write(c.subarray(after));
    return { held, rest: text.length ? Buffer.from(text, "utf8") : null };
  }
}

/**
 * readLineBatches() as byte ranges (ByteLines): the same lines, the same
 * damage reports at the same lines. A line decodes to readLineBatches()'s
 * string with `buf.toString("utf8", start, end)`: line ends are ASCII, so
 * decoding line by line gives what decoding the whole text gives.
 */
export async function* readByteLineBatches(path: string, onDamage?: (d: LineDamage) => void, counter?: ReadCounter): AsyncGenerator<ByteLines> {
  const gzip = await isGzip(path); // first: an unreadable file fails here, before a stream exists
  const file = createReadStream(path, { highWaterMark: READ_CHUNK });
  let stream: Readable = file;
  if (counter) file.on("data", (chunk) => (counter.bytes += chunk.length));
  let gzipError: NodeJS.ErrnoException | null = null;
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: READ_CHUNK });
    // as readLineBatches(): a zlib error ends a pass-through instead of reaching the loop
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
  const split = new ByteLineSplitter();
  let lastByte = -1;
  let n = 0; // lines out so far
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      lastByte = chunk[chunk.length - 1]!;
      const batch = split.push(chunk);
      if (batch.bounds.length === 0) continue;
      n += batch.bounds.length / 2;
      yield batch;
    }
  } finally {
    stream.destroy();
    file.destroy();
  }
  const one = (b: Buffer): ByteLines => ({ buf: b, bounds: [0, b.length] });
  const text = (b: Buffer | null) => (b === null ? "" : b.toString("utf8"));
  const { held, rest } = split.end();
  if (held !== null) n++;
  let last = held;
  if (rest !== null) {
    if (held !== null) yield one(held);
    last = rest;
    n++;
  }
  const complete = n === 0 || lastByte === 0x0a;
  if (gzipError !== null) {
    // a cut line could parse into wrong numbers: it is not used
    if (complete && last !== null) yield one(last);
    report({ line: complete ? n + 1 : n, text: complete ? "" : text(last), reason: gzipReason(gzipError) });
    return;
  }
  if (last !== null) yield one(last);
  if (!complete && onDamage) {
    onDamage({ line: n, text: text(last), reason: LAST_LINE_OPEN });
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
