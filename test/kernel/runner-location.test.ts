// Where the native runner binary is built: inside the checkout or package, or
// in the user's cache when the package folder cannot be written.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runnerBinaryPath } from "../../src/kernel/native.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "vmasim-runner-location-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function source(name: string, text: string): string {
  const p = path.join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe("runnerBinaryPath", () => {
  it("is build/native/scenario-runner of the package when its nearest existing folder is writable", () => {
    const asked: string[] = [];
    const bin = runnerBinaryPath(tmp, source("a.c", "int main(void){return 0;}\n"), (dir) => (asked.push(dir), true));
    expect(bin).toBe(path.join(tmp, "build", "native", "scenario-runner"));
    expect(asked).toEqual([tmp]); // build/ does not exist yet: the package folder decides
  });

  it("is in the user's cache, named by the source's hash, when the package cannot be written", () => {
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = path.join(tmp, "cache");
    try {
      const a = runnerBinaryPath(tmp, source("a.c", "int main(void){return 0;}\n"), () => false);
      const b = runnerBinaryPath(tmp, source("b.c", "int main(void){return 1;}\n"), () => false);
      expect(a).toMatch(new RegExp(`^${path.join(tmp, "cache", "vmasim")}/scenario-runner-[0-9a-f]{16}$`));
      expect(b).not.toBe(a);
      expect(runnerBinaryPath(tmp, path.join(tmp, "a.c"), () => false)).toBe(a);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });
});
