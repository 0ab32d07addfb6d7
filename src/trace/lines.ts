// Lines of a trace file, plain or gzip (detected by the magic bytes 1f 8b, not
// by the name), streamed: memory stays bounded however large the file is.

import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

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

/** The lines of `path` (without their line ends; a last line without a newline is a line). */
export async function* readLines(path: string, counter?: ReadCounter): AsyncGenerator<string> {
  const gzip = await isGzip(path); // first: an unreadable file fails here, before a stream exists
  let stream: Readable = createReadStream(path);
  if (counter) stream.on("data", (chunk: Buffer) => (counter.bytes += chunk.length));
  if (gzip) stream = stream.pipe(createGunzip());
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of rl) yield line;
  } finally {
    rl.close();
    stream.destroy();
  }
}

/** The first `n` lines of a file (for format detection). */
export async function headLines(path: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readLines(path)) {
    out.push(l);
    if (out.length >= n) break;
  }
  return out;
}
