// Build everything a fresh clone needs: the core (release and debug wasm),
// the bundled library and CLI in dist/, and the type declarations. Each of the
// two stages runs only when its inputs changed since its last build (a hash of
// their contents, kept in build/*.stamp), so `npm start` and `npm test` do not
// rebuild an unchanged tree.
//   node scripts/build.mjs             build what is out of date (silent when nothing is)
//   node scripts/build.mjs --force     rebuild both stages
//   node scripts/build.mjs --wasm      only the core
//   node scripts/build.mjs --verbose   also the compiler's notes (INFO diagnostics, converge notes)
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { withoutNotes } from "./build-notes.mjs";
import { buildWeb } from "./build-web.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const unknown = argv.filter((a) => !["--force", "--wasm", "--verbose"].includes(a));
if (unknown.length) {
  process.stderr.write(`build: unknown option '${unknown[0]}' (options: --force, --wasm, --verbose)\n`);
  process.exit(2);
}
const force = argv.includes("--force");
const verbose = argv.includes("--verbose");
const bin = (name) => join(root, "node_modules", ".bin", name);
const say = (s) => process.stderr.write(`build: ${s}\n`);

/** Every file under the given files and folders, relative to the root, sorted. */
function files(paths) {
  const out = [];
  const walk = (rel) => {
    const abs = join(root, rel);
    if (!existsSync(abs)) return;
    const entries = readdirSync(abs, { withFileTypes: true, recursive: true }).filter((e) => e.isFile());
    for (const e of entries) out.push(relative(root, join(e.parentPath, e.name)));
  };
  for (const p of paths) {
    if (p.endsWith("/")) walk(p);
    else if (existsSync(join(root, p))) out.push(p);
  }
  return out.sort();
}

/** A hash of the names and contents of the inputs. */
function digest(paths) {
  const h = createHash("sha256");
  for (const f of files(paths)) h.update(`${f}\0`).update(readFileSync(join(root, f))).update("\0");
  return h.digest("hex");
}

const stampPath = (stage) => join(root, "build", `${stage}.stamp`);
const upToDate = (stage, hash, outputs) =>
  !force && outputs.every((o) => existsSync(join(root, o))) && existsSync(stampPath(stage)) &&
  readFileSync(stampPath(stage), "utf8") === hash;

/**
 * Runs a command, its output captured. Without --verbose the compiler's notes
 * (INFO diagnostics and binaryen's "Last converge was suboptimal.") are left
 * out; warnings and errors are printed, and everything when the command fails.
 */
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (c) => (text += c));
    child.stderr.on("data", (c) => (text += c));
    child.on("error", reject);
    child.on("close", (status) => {
      if (status !== 0) {
        process.stderr.write(text);
        reject(new Error(`${relative(root, cmd)} ${args.join(" ")} exited with status ${status}`));
        return;
      }
      process.stderr.write(verbose ? text : withoutNotes(text));
      resolve();
    });
  });
}

/** A failed stage: its command's output is printed already; say which and stop. */
function fail(e) {
  say(`failed: ${e.message}`);
  process.exit(1);
}

const seconds = (t0) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

// Stage 1, the core: assembly/ compiled by asc (its version is in the lockfile).
const coreInputs = ["assembly/", "asconfig.json", "package-lock.json", "scripts/build.mjs"];
const coreOutputs = ["build/engine.wasm", "build/engine.debug.wasm"];
const coreHash = digest(coreInputs);
if (upToDate("core", coreHash, coreOutputs)) {
  if (verbose) say("core up to date");
} else {
  const t0 = performance.now();
  mkdirSync(join(root, "build"), { recursive: true });
  rmSync(stampPath("core"), { force: true });
  await Promise.all([run(bin("asc"), ["--target", "release"]), run(bin("asc"), ["--target", "debug"])]).catch(fail);
  writeFileSync(stampPath("core"), coreHash);
  say(`core (build/engine.wasm, engine.debug.wasm) ${seconds(t0)}`);
}
if (argv.includes("--wasm")) process.exit(0);

// Stage 2, dist/: the library and CLI bundles, the core copied beside them, the declarations,
// the browser library and the playground site (build-web.mjs).
const distInputs = [
  "src/", "web/", "scenarios/", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "scripts/build.mjs", "scripts/build-web.mjs",
  "scripts/browser-twins.mjs", ...coreOutputs,
];
const SWEEP_EXTERNAL = ["tinypool", "bullmq", "ioredis"];
const distOutputs = [
  "dist/index.js", "dist/cli.js", "dist/sweep-thread.js", "dist/index.d.ts", "dist/engine.wasm", "dist/engine.debug.wasm",
  "dist/index.browser.js", "dist/web/index.html",
];
const distHash = digest(distInputs);
if (upToDate("dist", distHash, distOutputs)) {
  if (verbose) say("dist up to date");
} else {
  const t0 = performance.now();
  rmSync(stampPath("dist"), { force: true });
  rmSync(join(root, "dist"), { recursive: true, force: true });
  mkdirSync(join(root, "dist"), { recursive: true });
  const common = {
    bundle: true,
    format: "esm",
    platform: "node",
    target: ["node20", "es2022"],
    sourcemap: true,
    logLevel: "warning",
    absWorkingDir: root,
  };
  await Promise.all([
    build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js" }),
    // the sweep's pool and queue libraries stay in node_modules: tinypool starts its threads from its own files
    build({ ...common, entryPoints: ["src/cli.ts"], outfile: "dist/cli.js", banner: { js: "#!/usr/bin/env node" }, external: SWEEP_EXTERNAL }),
    build({ ...common, entryPoints: ["src/sweep/thread.ts"], outfile: "dist/sweep-thread.js", external: SWEEP_EXTERNAL }),
    run(bin("tsc"), ["-p", "tsconfig.build.json"]),
    buildWeb(root),
  ]).catch(fail);
  copyFileSync(join(root, "build/engine.wasm"), join(root, "dist/engine.wasm"));
  copyFileSync(join(root, "build/engine.debug.wasm"), join(root, "dist/engine.debug.wasm"));
  writeFileSync(stampPath("dist"), distHash);
  say(`dist/ (library, CLI, declarations, browser library, playground in dist/web) ${seconds(t0)}`);
}
