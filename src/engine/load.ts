// Finding and compiling the core. The compiled module is cached per process;
// every Simulator gets its own instance (the core's state is per instance).
//
// Where the wasm is: next to the bundle (dist/engine.wasm) when running the
// built package, or build/engine.wasm when running from the sources (tests).
// VMASIM_ENGINE=debug selects the debug build (assertions and bounds checks on).

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cache = new Map<string, WebAssembly.Module>();

export type EngineBuild = "release" | "debug";

export function defaultBuild(): EngineBuild {
  return process.env.VMASIM_ENGINE === "debug" ? "debug" : "release";
}

export function wasmPath(build: EngineBuild = defaultBuild()): string {
  const name = build === "debug" ? "engine.debug.wasm" : "engine.wasm";
  const candidates = [new URL(`./${name}`, import.meta.url), new URL(`../../build/${name}`, import.meta.url)];
  for (const u of candidates) {
    const p = fileURLToPath(u);
    if (existsSync(p)) return p;
  }
  throw new Error(`vmasim: the engine (${name}) is not built; run \`npm run build\``);
}

export function loadModule(build: EngineBuild = defaultBuild()): WebAssembly.Module {
  const path = wasmPath(build);
  let m = cache.get(path);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(path));
    cache.set(path, m);
  }
  return m;
}
