// wasm_file.ts for browsers (swapped in by scripts/build.mjs): the engine is
// beside the bundle, at a URL written literally as
// `new URL("./engine.wasm", import.meta.url)` so that bundlers (webpack,
// Vite) see it, copy the file and rewrite the URL. The debug build is
// looked for beside the bundle as it stands (or handed over with loadEngine).
// No node: imports.

type Build = "release" | "debug";

/** The debug build's name, kept out of the literal URL bundlers copy: apps ship the release engine only. */
const DEBUG_NAME = "./engine.debug.wasm";

/** The URL of the engine of `build`, relative to this module. */
export function engineUrl(build: Build): string {
  return build === "debug" ? new URL(DEBUG_NAME, import.meta.url).href : new URL("./engine.wasm", import.meta.url).href;
}

/** A browser cannot read files synchronously: the engine must be loaded first. */
export function readEngineSync(where: URL | string): Uint8Array {
  throw new Error(
    `vmasim: the engine is not loaded yet; \`await loadEngine()\` (or \`await createKernel(...)\`) before createKernelSync (engine: ${String(where)})`,
  );
}

/** What loadEngine() fetches when given nothing: the URL beside this module. */
export function defaultSource(build: Build): string {
  return engineUrl(build);
}
