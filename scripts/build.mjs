// Build everything a fresh clone needs: the core (release and debug wasm),
// the bundled library and CLI in dist/, and the type declarations.
//   node scripts/build.mjs            full build
//   node scripts/build.mjs --wasm     only the core
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });

mkdirSync(join(root, "build"), { recursive: true });
run(bin("asc"), ["--target", "release"]);
run(bin("asc"), ["--target", "debug"]);
if (process.argv.includes("--wasm")) process.exit(0);

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
  build({ ...common, entryPoints: ["src/cli.ts"], outfile: "dist/cli.js", banner: { js: "#!/usr/bin/env node" } }),
]);
copyFileSync(join(root, "build/engine.wasm"), join(root, "dist/engine.wasm"));
copyFileSync(join(root, "build/engine.debug.wasm"), join(root, "dist/engine.debug.wasm"));
run(bin("tsc"), ["-p", "tsconfig.build.json"]);
