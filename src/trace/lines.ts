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
import { createInterface } from "node:readline";
import { PassThrough, type Readable } from "node:stream";
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

/**
 * The lines of `path` (without their line ends; a last line without a newline
 * is a line). Damage goes to `onDamage` (then the lines end normally); without
 * it, a broken gzip stream is thrown as a TraceDamageError once the lines
 * before it are out.
 */
export async function* readLines(path: string, onDamage?: (d: LineDamage) => void, counter?: ReadCounter): AsyncGenerator<string> {
  const gzip = await isGzip(path); // first: an unreadable file fails here, before a stream exists
  const file = createReadStream(path);
  let stream: Readable = file;
  if (counter) file.on("data", (chunk) => (counter.bytes += chunk.length));
  let lastByte = -1;
  let gzipError: NodeJS.ErrnoException | null = null;
  if (gzip) {
    const gunzip = createGunzip();
    // a zlib error must not reach readline (it would reject the loop with the
    // bare code): readline reads a pass-through that simply ends there
    const out = new PassThrough();
    gunzip.on("error", (e: NodeJS.ErrnoException) => {
      gzipError = e;
      out.end();
    });
    file.pipe(gunzip).pipe(out);
    stream = out;
  }
  stream.on("data", (chunk: Buffer) => {
    if (chunk.length) lastByte = chunk[chunk.length - 1]!;
  });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  const report = (d: LineDamage) => {
    if (onDamage) onDamage(d);
    else throw new TraceDamageError(path, d);
  };
  // lines go out one behind: the line a broken gzip stream cut is held back
  let n = 0;
  let held: string | null = null;
  try {
    for await (const line of rl) {
      if (held !== null) yield held;
      held = line;
      n++;
    }
  } finally {
    rl.close();
    stream.destroy();
    file.destroy();
  }
  const complete = n === 0 || lastByte === 0x0a;
  if (gzipError !== null) {
    // a cut line could parse into wrong numbers: it is not used
    if (complete && held !== null) yield held;
    report({ line: complete ? n + 1 : n, text: complete ? "" : held ?? "", reason: gzipReason(gzipError) });
    return;
  }
  if (held !== null) yield held;
  if (!complete && onDamage) {
    // not an error (an editor may leave it so), but where a cut file would show
    onDamage({ line: n, text: held ?? "", reason: "the last line has no line end (the file may be cut there); it was read as it is" });
  }
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
