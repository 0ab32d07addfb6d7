// SPEC to jobs (src/sweep/spec.ts) and the progress bar (src/sweep/progress.ts), in-process.
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SweepProgress } from "../../src/sweep/progress.js";
import { SpecError, parseSpec } from "../../src/sweep/spec.js";
import { POLICIES } from "../../src/types.js";
import { ROOT } from "./helpers.js";

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), "vmasim-spec-"));
  for (const f of ["lua_make_j2.head.perf.txt.gz", "lua_make_j2.head.mmap2.txt.gz"]) copyFileSync(join(ROOT, "test/fixtures/traces", f), join(d, f));
  return d;
}

describe("SPEC", () => {
  it("makes one job per input x policy x config, keyed INPUT | POLICY | CONFIG and sorted; ids follow the contents", () => {
    const d = dir();
    const spec = { inputs: [{ trace: "lua_make_j2.head.perf.txt.gz" }, { generate: { seed: 7, ops: 5, count: 2 } }], policies: ["seed", "linux-5.17"], configs: [{}, { zero_page: 0, rlimit_as: "unlimited" }] };
    const s = parseSpec(JSON.stringify(spec), join(d, "spec.json"));
    expect(s.jobs.map((j) => j.key)).toEqual([
      "generate:seed=7:ops=5 | linux-5.17 | defaults", "generate:seed=7:ops=5 | linux-5.17 | zero_page=false,rlimit_as=unlimited",
      "generate:seed=7:ops=5 | seed | defaults", "generate:seed=7:ops=5 | seed | zero_page=false,rlimit_as=unlimited",
      "generate:seed=8:ops=5 | linux-5.17 | defaults", "generate:seed=8:ops=5 | linux-5.17 | zero_page=false,rlimit_as=unlimited",
      "generate:seed=8:ops=5 | seed | defaults", "generate:seed=8:ops=5 | seed | zero_page=false,rlimit_as=unlimited",
      "lua_make_j2.head.perf.txt.gz | linux-5.17 | defaults", "lua_make_j2.head.perf.txt.gz | linux-5.17 | zero_page=false,rlimit_as=unlimited",
      "lua_make_j2.head.perf.txt.gz | seed | defaults", "lua_make_j2.head.perf.txt.gz | seed | zero_page=false,rlimit_as=unlimited",
    ]);
    // the side-band next to a perf trace is found, as replay does; "sidecar": null leaves it out
    const trace = s.inputs[0];
    expect(trace.kind === "trace" && trace.sidecar?.name).toBe("lua_make_j2.head.mmap2.txt.gz");
    const none = parseSpec(JSON.stringify({ ...spec, inputs: [{ trace: "lua_make_j2.head.perf.txt.gz", sidecar: null }] }), join(d, "spec.json"));
    expect(none.inputs[0].kind === "trace" && none.inputs[0].sidecar).toBe(null);
    // the same SPEC elsewhere gives the same ids; changed contents give others
    const again = parseSpec(JSON.stringify(spec), join(dir(), "spec.json"));
    expect(again.jobs.map((j) => j.id)).toEqual(s.jobs.map((j) => j.id));
    writeFileSync(join(d, "lua_make_j2.head.mmap2.txt.gz"), "other bytes");
    const changed = parseSpec(JSON.stringify(spec), join(d, "spec.json"));
    expect(changed.jobs.filter((j, i) => j.id !== s.jobs[i].id).map((j) => j.input.label)).toEqual(Array(4).fill("lua_make_j2.head.perf.txt.gz"));
  });

  it("policies default to all, configs to the defaults; bad fields are SpecErrors", () => {
    const d = dir();
    const s = parseSpec('{"inputs": [{"generate": {"seed": 1}}]}', join(d, "spec.json"));
    expect(s.policies).toEqual([...POLICIES]);
    expect(s.configs).toEqual([{}]);
    const bad = (spec: string) => () => parseSpec(spec, join(d, "spec.json"));
    expect(bad("[]")).toThrow(SpecError);
    expect(bad('{"inputs": [{"trace": "a", "script": "b"}]}')).toThrow(/exactly one of/);
    expect(bad('{"inputs": [{"generate": {"seed": -1}}]}')).toThrow(/generate.seed/);
    expect(bad('{"inputs": [{"generate": {"seed": 1}}], "inputsVia": "ftp"}')).toThrow(/inputsVia/);
    expect(bad('{"inputs": [{"generate": {"seed": 1}}], "configs": [{}, {}]}')).toThrow(/'defaults' is listed twice/);
  });
});

describe("progress bar", () => {
  it("shows done, running, failed and an ETA on a terminal, nothing elsewhere", () => {
    let tty = "";
    const p = new SweepProgress({ isTTY: true, write: (s: string) => (tty += s) }, 4, 1, 0);
    p.setRunning(2);
    p.finished(false);
    expect(tty).toMatch(/sweep \[#{12}-{12}\] 2\/4 done, 2 running, 1 failed, ETA [\d.]+ s\x1b\[K$/);
    p.close();
    expect(tty.endsWith("\r\x1b[K")).toBe(true);
    let pipe = "";
    const q = new SweepProgress({ write: (s: string) => (pipe += s) }, 4, 0, 0);
    q.finished(true);
    q.close();
    expect(pipe).toBe("");
  });
});
