// The import of the bundled trace (perf text and side-band, through the
// batched reader and parsers) against golden digests of the native text of
// its events, taken with the importer before batching (readline, one await
// per line and per event).

import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { TraceEvent } from "../../src/trace/events.js";
import { mergeSidecarBatches, parseFileBatches } from "../../src/trace/import.js";
import { NativeWriter } from "../../src/trace/native.js";

const BUNDLED = fileURLToPath(new URL("../../traces/jemalloc_python", import.meta.url));

async function digest(batches: AsyncIterable<TraceEvent[]>): Promise<[number, string]> {
  const h = createHash("sha256");
  const w = new NativeWriter([]);
  let n = 0;
  for await (const b of batches) {
    for (const e of b) h.update(w.write(e));
    n += b.length;
  }
  return [n, h.digest("hex")];
}

describe("perf import of the bundled trace", () => {
  it("gives the events the importer gave before (golden digests of the native text)", async () => {
    expect(await digest(parseFileBatches(`${BUNDLED}.perf.txt.gz`, "perf")))
      .toEqual([86570, "8bc2dc0f860bed8ca5cfad8bba486b581e53b334fa9d440d54a0e705cd95ea31"]);
    expect(await digest(mergeSidecarBatches(parseFileBatches(`${BUNDLED}.perf.txt.gz`, "perf"), parseFileBatches(`${BUNDLED}.mmap2.txt.gz`, "sidecar"))))
      .toEqual([86857, "37fd7c272e6acdc8a0e1134c2f43707651ca49e1e44cad31c7ceee8453499ad5"]);
  });
});
