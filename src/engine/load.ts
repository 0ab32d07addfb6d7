// Finding and compiling the core. The compiled module is cached per build;
// every Simulator gets its own instance (the core's state is per instance).
//
// Where the wasm is depends on the platform (wasm_file.ts for Node, its
// wasm_file.browser.ts twin in the browser bundle, swapped in by
// scripts/build.mjs): next to the bundle, found from the module's own URL.
// A caller can also hand the engine over itself with loadEngine(source):
// bytes, a compiled WebAssembly.Module, a Response, or a URL to fetch.
// VMASIM_ENGINE=debug (Node only) selects the debug build (assertions and bounds checks on).

import { defaultSource, engineUrl, readEngineSync } from "./wasm_file.js";

export type EngineBuild = "release" | "debug";

/** What loadEngine accepts: a compiled module, the wasm's bytes, a fetch Response (or its promise), or where to fetch it from. */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | Response | Promise<Response> | URL | string;

const cache = new Map<EngineBuild, WebAssembly.Module>();

export function defaultBuild(): EngineBuild {
  // `process` exists only under Node (and in bundles that shim it)
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.VMASIM_ENGINE === "debug" ? "debug" : "release";
}

/** Where the engine of `build` is: a file path under Node, a URL in a browser. */
export function wasmPath(build: EngineBuild = defaultBuild()): string {
  return engineUrl(build);
}

/** file: URLs are read from disk under Node (fetch cannot read them there). */
const isFileUrl = (u: URL | string): boolean => String(u).startsWith("file:");

async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof Promise) return compile(await source);
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source as BufferSource);
  if (typeof Response !== "undefined" && source instanceof Response) {
    if (!source.ok) throw new Error(`vmasim: fetching the engine failed: ${source.status} ${source.statusText} (${source.url})`);
    return WebAssembly.compile(await source.arrayBuffer());
  }
  const url = source as URL | string;
  if (isFileUrl(url)) return compile(readEngineSync(url));
  return compile(await fetch(url));
}

/**
 * Compiles the engine once and keeps it for every kernel created after:
 * `source` when given, else the wasm beside the library (Node reads the file,
 * a browser fetches `new URL("./engine.wasm", import.meta.url)`). A browser
 * must call this (or `createKernel`, which does) before `createKernelSync`.
 */
export async function loadEngine(source?: WasmSource, build: EngineBuild = defaultBuild()): Promise<WebAssembly.Module> {
  if (source === undefined) {
    const have = cache.get(build);
    if (have) return have;
  }
  const m = await compile(source ?? defaultSource(build));
  cache.set(build, m);
  return m;
}

/** The compiled engine: the cached one, else (Node only) read from disk now. */
export function loadModule(build: EngineBuild = defaultBuild()): WebAssembly.Module {
  let m = cache.get(build);
  if (!m) {
    m = new WebAssembly.Module(readEngineSync(engineUrl(build)) as BufferSource);
    cache.set(build, m);
  }
  return m;
}
