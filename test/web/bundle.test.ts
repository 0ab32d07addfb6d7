// The library as a web app gets it: `import ... from "vmasim"` bundled by
// esbuild for the browser platform (the package's `browser` export
// condition), with no node: imports, run in headless Chromium; its output
// hashes equal those of the Node build for the same scripts and policies.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { siteServer } from "../../src/cli/serve.js";
import { POLICIES } from "../../src/types.js";
import { chromiumMissing, launchChromium } from "./chromium.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SCRIPTS = ["scenarios/spec-12/S12r-relocate-anon.script", "scenarios/spec-12/S05-hole-between-two-anon-vmas.script", "scenarios/spec-12/S17-child-faulted-after-fork.script", "scenarios/spec-12/S34-case-6-three-anon-vmas.script"];

// The consumer's code: the library's API end to end, results as hashes.
const ENTRY = `
import { createKernel, loadEngine, runScenario, checkKernel, formatMergeEvent, probeHost, POLICY_SWITCHES } from "vmasim";
async function sha256(text) {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
window.vmasimTest = {
  async run(script, policies, wasm) {
    if (wasm) await loadEngine(new URL(wasm, location.href));
    const out = {};
    for (const policy of policies) {
      const k = await createKernel({ policy });
      k.traceMerges();
      const r = runScenario(k, script);
      out[policy] = { output: await sha256(r.output), trace: await sha256(k.takeMergeEvents().map((e) => formatMergeEvent(e)).join("\\n")), problems: checkKernel(k).length };
    }
    return out;
  },
  probeHost() {
    try { probeHost(); return "no error"; } catch (e) { return e.message; }
  },
  policies: Object.keys(POLICY_SWITCHES),
};
`;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

describe.skipIf(chromiumMissing)("the library bundled for a browser", () => {
  const tmp = mkdtempSync(join(tmpdir(), "vmasim-bundle-"));
  const site = join(tmp, "site");
  let text = "";
  let inputs: string[] = [];
  let server: Server;
  let base = "";
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    readFileSync(join(ROOT, "dist/index.browser.js")); // npm test builds it first
    mkdirSync(join(tmp, "node_modules"), { recursive: true });
    symlinkSync(ROOT, join(tmp, "node_modules", "vmasim"));
    writeFileSync(join(tmp, "main.js"), ENTRY);
    const r = await build({
      entryPoints: [join(tmp, "main.js")], bundle: true, format: "esm", platform: "browser", outfile: join(site, "a", "app.js"),
      metafile: true, logLevel: "silent", absWorkingDir: tmp,
    });
    inputs = Object.keys(r.metafile.inputs);
    text = readFileSync(join(site, "a", "app.js"), "utf8");
    // a: the engine beside the bundle (where new URL("./engine.wasm", import.meta.url) finds it);
    // b: the same bundle, the engine elsewhere (handed over with loadEngine)
    copyFileSync(join(ROOT, "dist/engine.wasm"), join(site, "a", "engine.wasm"));
    mkdirSync(join(site, "b", "assets"), { recursive: true });
    copyFileSync(join(site, "a", "app.js"), join(site, "b", "app.js"));
    copyFileSync(join(ROOT, "dist/engine.wasm"), join(site, "b", "assets", "vmasim-engine.wasm"));
    const html = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="app.js"></script>`;
    writeFileSync(join(site, "a", "index.html"), html);
    writeFileSync(join(site, "b", "index.html"), html);
    server = siteServer(site.endsWith("/") ? site : site + "/");
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    browser = await launchChromium();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("takes the browser build through the package's exports and has no node: imports", () => {
    expect(inputs.some((f) => f.endsWith("dist/index.browser.js")), inputs.join(", ")).toBe(true);
    expect(inputs.some((f) => f.endsWith("dist/index.js"))).toBe(false);
    expect(text).not.toMatch(/["']node:[a-z]/);
    expect(text).not.toMatch(/\brequire\(/);
    // the URL bundlers look for, kept literally
    expect(text).toContain('new URL("./engine.wasm", import.meta.url)');
  });

  it("runs in Chromium: outputs and merge traces hash as under Node, for every policy", async () => {
    const node = (await import(pathToFileURL(join(ROOT, "dist/index.js")).href)) as typeof import("../../src/index.js");
    await page.goto(`${base}/a/`);
    await page.waitForFunction(() => "vmasimTest" in window);
    expect(await page.evaluate(() => (window as unknown as { vmasimTest: { policies: string[] } }).vmasimTest.policies)).toEqual([...POLICIES]);
    for (const f of SCRIPTS) {
      const script = readFileSync(join(ROOT, f), "utf8");
      const got = await page.evaluate(([s, ps]) => (window as any).vmasimTest.run(s, ps), [script, [...POLICIES]] as const);
      for (const policy of POLICIES) {
        const k = await node.createKernel({ policy });
        k.traceMerges();
        const r = node.runScenario(k, script);
        const want = { output: sha256(r.output), trace: sha256(k.takeMergeEvents().map((e) => node.formatMergeEvent(e)).join("\n")),
          problems: node.checkKernel(k).length };
        expect(got[policy], `${f} under ${policy}`).toEqual(want);
      }
    }
  });

  it("takes the engine from the caller (loadEngine) when it is not beside the bundle; probeHost says it needs Node", async () => {
    await page.goto(`${base}/b/`);
    await page.waitForFunction(() => "vmasimTest" in window);
    const script = "mmap 0 2 rw\ntouch 0\ndump\n";
    const missing = await page.evaluate((s) => (window as any).vmasimTest.run(s, ["seed"]).then(() => "ran", (e: Error) => e.message), script);
    expect(missing).toMatch(/fetching the engine failed: 404/);
    const got = await page.evaluate((s) => (window as any).vmasimTest.run(s, ["seed"], "assets/vmasim-engine.wasm"), script);
    expect(got.seed.output).toBe(sha256("mmap 0 2 rw => ok\ntouch 0 => ok\ndump\n  0 2 rw-p anon 0 av=1/1\n  (1 vmas)\n"));
    expect(await page.evaluate(() => (window as any).vmasimTest.probeHost())).toMatch(/needs Node/);
  });
});
