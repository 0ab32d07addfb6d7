// Where the engine's wasm is under Node, and reading it synchronously. Next
// to the bundle (dist/engine.wasm) when running the built package, or
// build/engine.wasm when running from the sources (tests). The browser bundle
// uses wasm_file.browser.ts instead (scripts/build.mjs swaps it in).

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

type Build = "release" | "debug";

/** The path of the engine of `build`; throws when it is not built. */
export function engineUrl(build: Build): string {
  const name = build === "debug" ? "engine.debug.wasm" : "engine.wasm";
  const candidates = [new URL(`./${name}`, import.meta.url), new URL(`../../build/${name}`, import.meta.url)];
  for (const u of candidates) {
    const p = fileURLToPath(u);
    if (existsSync(p)) return p;
  }
  throw new Error(`vmasim: the engine (${name}) is not built; run \`npm run build\``);
}

/** The bytes of the wasm at a path or file: URL. */
export function readEngineSync(where: URL | string): Uint8Array {
  return readFileSync(String(where).startsWith("file:") ? fileURLToPath(where) : where);
}

/** What loadEngine() compiles when given nothing: the file's bytes. */
export function defaultSource(build: Build): Uint8Array {
  return readEngineSync(engineUrl(build));
}
