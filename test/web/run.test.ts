// The playground's runner (src/web/run.ts) in Node: what it shows is what the
// CLI prints, the long merge trace of @default included, and the steps of a
// process with tens of thousands of VMAs are counted, not drawn.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MAX_DRAWN_VMAS, runPolicy } from "../../src/web/run.js";
import { cli } from "../cli/helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("the playground's runner", () => {
  it("gives @default's output, trace and verdict as vmasim run (--trace) prints them; the max_map_count steps are not drawn", async () => {
    const path = join(ROOT, "scenarios/default.script");
    const traced = await cli(["run", "--trace", "--policy", "seed", path]);
    const r = await runPolicy("seed", readFileSync(path, "utf8"), true);
    expect(r.traced).toBe(traced.stdout);
    expect(r.output).toBe(traced.stdout.replace(/^ {4}#.*\n/gm, ""));
    expect(r.stderr).toBe(traced.stderr);
    expect(r.status).toBe(0);
    const big = r.steps.filter((s) => s.notDrawn);
    expect(big.length).toBeGreaterThan(0);
    expect(big.every((s) => s.notDrawn > MAX_DRAWN_VMAS && s.vmas.length === 0)).toBe(true);
    // without the trace: the same output, no trace text
    const plain = await runPolicy("seed", readFileSync(path, "utf8"));
    expect(plain.output).toBe(r.output);
    expect(plain.traced).toBeNull();
  });

  it("reports parse errors under the editor's name, a failed checker, and the status run gives", async () => {
    const r = await runPolicy("seed-v2", "mmap 0 3 rw\nmadvise 1 1 dontdump\ntouch 0\ntouch 2\ntouch 1\nmadvise 1 1 dodump\nfrob\n");
    expect(r.output).toMatch(/^frob => EPARSE \(line 7\)$/m);
    expect(r.stderr).toMatch(/^script:7: /);
    expect(r.stderr).toMatch(/^checker: \d+ violations?, failed after the script/m);
    expect(r.status).toBe(2);
    const cliRun = await cli(["run", "--policy", "seed-v2", "-"], "mmap 0 3 rw\nmadvise 1 1 dontdump\ntouch 0\ntouch 2\ntouch 1\nmadvise 1 1 dodump\nfrob\n");
    expect(r.output).toBe(cliRun.stdout);
    expect(r.status).toBe(cliRun.status);
  });
});
