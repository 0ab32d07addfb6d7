// `vmasim serve` without a browser: its options, and the files it will and
// will not hand out (only dist/web's, with the types a browser needs).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { siteDir, siteFile } from "../../src/cli/serve.js";
import { cli } from "../cli/helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("vmasim serve", () => {
  it("refuses a bad --port with the usage status", async () => {
    for (const port of ["x", "-1", "65536", "1.5"]) {
      const r = await cli(["serve", "--port", port]);
      expect(r.status, port).toBe(2);
      expect(r.stderr, port).toMatch(/^vmasim: serve: .*(port|--port)/);
    }
    expect((await cli(["serve", "extra"])).status).toBe(2);
  });

  it("hands out the site's files only", () => {
    const dir = siteDir();
    expect(dir, "npm run build makes dist/web").not.toBeNull();
    expect(siteFile(dir!, "/")).toBe(join(dir!, "index.html"));
    expect(siteFile(dir!, "/engine.wasm?x=1")).toBe(join(dir!, "engine.wasm"));
    for (const bad of ["/../package.json", "/%2e%2e/package.json", "/..%2fpackage.json", "/nothing.js", "/%E0%A4%A", "/a\0b"]) {
      expect(siteFile(dir!, bad), bad).toBeNull();
    }
  });

  it("serves on 127.0.0.1, the engine as application/wasm, and stops on SIGINT with status 0", async () => {
    const child = spawn(process.execPath, [join(ROOT, "dist/cli.js"), "serve", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    const url = await new Promise<string>((resolve, reject) => {
      let text = "";
      child.stdout.on("data", (c) => {
        text += c;
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(text);
        if (m) resolve(m[0]);
      });
      child.on("exit", (s) => reject(new Error(`exited ${s}: ${text}`)));
    });
    const wasm = await fetch(url + "engine.wasm");
    expect(wasm.headers.get("content-type")).toBe("application/wasm");
    expect(new Uint8Array(await wasm.arrayBuffer()).subarray(0, 4)).toEqual(new Uint8Array([0, 0x61, 0x73, 0x6d]));
    expect((await fetch(url)).headers.get("content-type")).toMatch(/^text\/html/);
    expect((await fetch(url + "missing")).status).toBe(404);
    expect((await fetch(url, { method: "POST" })).status).toBe(405);
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });
});
