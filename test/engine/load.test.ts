// Where the engine comes from (src/engine/load.ts): beside the library by
// default, or handed over by the caller in any of the forms loadEngine takes.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { createKernel, createKernelSync } from "../../src/engine/index.js";
import { loadEngine, wasmPath } from "../../src/engine/load.js";
import { runScenario } from "../../src/scenario/run.js";

const SCRIPT = "mmap 0 2 rw\ntouch 0\nmmap 2 2 rw\ndump\n";
const WANT = runScenario(createKernelSync({ policy: "seed" }), SCRIPT).output;

describe("loadEngine", () => {
  it("takes bytes, a file: URL, a Response, a promised Response and a compiled module; kernels then run as before", async () => {
    const bytes = readFileSync(wasmPath("release"));
    const module = await WebAssembly.compile(bytes);
    for (const source of [bytes, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), pathToFileURL(wasmPath("release")),
      new Response(bytes), Promise.resolve(new Response(bytes)), module]) {
      const m = await loadEngine(source, "release");
      expect(m).toBeInstanceOf(WebAssembly.Module);
      expect(runScenario(createKernelSync({ policy: "seed" }), SCRIPT).output).toBe(WANT);
    }
    // the module handed over is the one kernels use from then on
    expect(await loadEngine(undefined, "release")).toBe(module);
    expect(runScenario(await createKernel({ policy: "seed" }, { wasm: new Response(bytes) }), SCRIPT).output).toBe(WANT);
  });

  it("says why when the engine cannot be had", async () => {
    await expect(loadEngine(new Response("no", { status: 404, statusText: "Not Found" }), "release")).rejects.toThrow(/fetching the engine failed: 404 Not Found/);
    await expect(loadEngine(new Uint8Array([1, 2, 3]), "release")).rejects.toThrow(WebAssembly.CompileError);
    // a failed load leaves the engine that was loaded
    expect(runScenario(createKernelSync({ policy: "seed" }), SCRIPT).output).toBe(WANT);
  });
});
