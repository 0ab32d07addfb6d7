// A generated trace written to a file (gzip when its name ends in .gz) or to
// a stream, a chunk at a time, waiting whenever the stream is full: memory
// stays constant however long the trace (Node only; generate.ts runs anywhere).

import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { createGzip } from "node:zlib";
import { type GenOptions, generateChunks } from "./generate.js";

/** Something to write to: a Node stream, or anything with write() (a test's buffer: never full). */
export interface ChunkSink {
  write(s: string): unknown;
  once?(event: "drain", f: () => void): unknown;
  on?(event: "error", f: (e: Error) => void): unknown;
  off?(event: "error", f: (e: Error) => void): unknown;
}

/**
 * Writes the chunks to `out`, waiting for 'drain' when write() says the stream
 * is full. Returns the bytes written; rejects with the stream's error (EPIPE
 * when the reader of a pipe has gone), after which nothing more is made.
 */
export async function writeChunks(chunks: Iterable<string>, out: ChunkSink): Promise<number> {
  let bytes = 0;
  let failed: Error | null = null;
  let wake: (() => void) | null = null;
  const onError = (e: Error) => {
    failed ??= e;
    wake?.();
  };
  out.on?.("error", onError);
  try {
    let n = 0;
    for (const c of chunks) {
      // a stream that never fills still gets to report an error (EPIPE comes on a later tick)
      if (++n % 16 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (failed) throw failed;
      bytes += c.length;
      if (out.write(c) === false && out.once) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          out.once!("drain", resolve);
        });
        wake = null;
      }
    }
    if (failed) throw failed;
  } finally {
    out.off?.("error", onError);
  }
  return bytes;
}

/** Generates a trace into FILE (gzip when it ends in .gz). Rejects with the file's error (ENOENT, EACCES ...). */
export async function writeGenerated(kind: string, opts: GenOptions, file: string): Promise<void> {
  const chunks = generateChunks(kind, opts); // bad options throw before the file is created
  const stream = createWriteStream(file);
  await once(stream, "open");
  const gzip = file.endsWith(".gz") ? createGzip() : null;
  if (gzip) gzip.pipe(stream);
  const sink = gzip ?? stream;
  let failed: Error | null = null;
  const fail = (e: Error) => (failed ??= e);
  stream.on("error", fail);
  gzip?.on("error", fail);
  const closed = new Promise<void>((resolve) => stream.on("close", resolve));
  await writeChunks(chunks, sink);
  sink.end();
  await closed;
  if (failed) throw failed;
}
