// The line splitter of lines.ts against readline, which the reader used
// before: the same lines for every way of cutting the same bytes into chunks.

import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../src/trace/lines.js";

async function viaReadline(chunks: Buffer[]): Promise<string[]> {
  const rl = createInterface({ input: Readable.from(chunks), crlfDelay: Infinity });
  const out: string[] = [];
  for await (const l of rl) out.push(l);
  return out;
}

function viaSplitter(chunks: Buffer[]): string[] {
  const s = new LineSplitter();
  const out: string[] = [];
  for (const c of chunks) out.push(...s.push(c));
  const rest = s.rest();
  if (rest !== null) out.push(rest);
  return out;
}

/** A deterministic generator (xorshift) for the cuts. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

function cut(bytes: Buffer, next: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = 1 + Math.floor(next() * 7);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

const TEXTS: Buffer[] = [
  Buffer.from("a\nb\r\nc\rd\n\n\r\r\n"),
  Buffer.from("no end of line"),
  Buffer.from("ends with cr\r"),
  Buffer.from("comm é/12 ü€ 😀\nnext\r\n"),
  Buffer.from([0x61, 0xe2, 0x82, 0x0a, 0x62, 0xff, 0xfe, 0x0d, 0x0a, 0x63, 0xe2, 0x82]), // bad and cut UTF-8
  Buffer.from("\r\n\r\n\n"),
  Buffer.from(""),
];

describe("LineSplitter", () => {
  it("splits as readline does, whatever the chunks", async () => {
    for (const [t, text] of TEXTS.entries()) {
      const want = await viaReadline([text]);
      expect(viaSplitter([text]), `text ${t} whole`).toEqual(want);
      const next = rng(t + 1);
      for (let k = 0; k < 40; k++) {
        const chunks = cut(text, next);
        expect(viaSplitter(chunks), `text ${t} cut ${k}`).toEqual(await viaReadline(chunks));
      }
    }
  });
});
