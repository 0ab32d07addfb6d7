// The browser half of `npm run build` (called by build.mjs):
//   dist/index.browser.js  the library for the `browser` export condition (no node: imports)
//   dist/web/              the playground, a static site: index.html, style.css, app.js,
//                          engine.wasm beside it, scenarios.json (the bundled scenarios)
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { build } from "esbuild";
import { browserTwins } from "./browser-twins.mjs";

/**
 * The bundled scenarios as `vmasim list` names them (src/cli/bundled.ts): the
 * path under scenarios/ without `.script`, sorted; the title is the first comment line.
 */
export function scenarioIndex(root) {
  const top = join(root, "scenarios");
  const out = [];
  for (const e of readdirSync(top, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith(".script")) continue;
    const path = join(e.parentPath, e.name);
    const text = readFileSync(path, "utf8");
    const m = /^[ \t]*#[ \t]*(.*?)[ \t]*$/m.exec(text);
    out.push({ name: relative(top, path).split(sep).join("/").replace(/\.script$/, ""), title: m ? m[1] : "", text });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function buildWeb(root) {
  const common = {
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    sourcemap: true,
    logLevel: "warning",
    absWorkingDir: root,
    plugins: [browserTwins],
  };
  mkdirSync(join(root, "dist/web"), { recursive: true });
  await Promise.all([
    build({ ...common, entryPoints: ["src/index.browser.ts"], outfile: "dist/index.browser.js" }),
    build({ ...common, entryPoints: ["src/web/app.ts"], outfile: "dist/web/app.js", minify: true }),
  ]);
  for (const f of ["index.html", "style.css"]) copyFileSync(join(root, "web", f), join(root, "dist/web", f));
  copyFileSync(join(root, "build/engine.wasm"), join(root, "dist/web/engine.wasm"));
  writeFileSync(join(root, "dist/web/scenarios.json"), JSON.stringify(scenarioIndex(root)));
}
