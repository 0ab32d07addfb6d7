// Every NAME.browser.ts twin that the browser bundles swap in
// (scripts/browser-twins.mjs) exports the same names as its Node NAME.ts,
// so the swap can never leave an import unresolved in a browser; and the
// browser entry exports the same API as the Node one.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));
const twins = readdirSync(SRC, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".browser.ts")).sort();

describe("browser twins", () => {
  it("exist for the modules that read files (the engine's wasm, a recording's sidecar) and for the package entry", () => {
    // index.browser.ts is the browser entry itself (package.json's `browser` condition), not swapped in
    expect(twins).toEqual(["engine/wasm_file.browser.ts", "index.browser.ts", "kernel/sidecar_file.browser.ts"]);
  });

  for (const twin of twins) {
    it(`${twin} exports what ${twin.replace(".browser", "")} does`, async () => {
      const browser = await import(pathToFileURL(join(SRC, twin)).href);
      const node = await import(pathToFileURL(join(SRC, twin.replace(".browser", ""))).href);
      expect(Object.keys(browser).sort()).toEqual(Object.keys(node).sort());
    });
  }
});
