// run --trace speaks vmasim's reason names only (--ftrace keeps the series'
// AV_MERGE_* verdicts); long commands show progress on a terminal only.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { NativeRunner } from "../../src/cli/main.js";
import { PLAIN_INTERVAL_S, plainInterval, progressOn } from "../../src/cli/progress.js";
import { sideText } from "../../src/cli/trace_text.js";
import { MERGE_REASONS, MERGE_RES } from "../../src/engine/merge_trace.js";
import { createKernelSync } from "../../src/engine/index.js";
import { layoutOnly } from "../../src/kernel/native.js";
import { runScenario } from "../../src/scenario/run.js";
import { POLICIES } from "../../src/types.js";
import { cli } from "./helpers.js";

const SPEC12 = fileURLToPath(new URL("../../scenarios/spec-12/", import.meta.url));

describe("run --trace: one vocabulary", () => {
  it("no AV_MERGE_* in --trace lines over the spec-12 scenarios under every policy; --ftrace keeps them", async () => {
    for (const s of ["S05-hole-between-two-anon-vmas", "S12-mremap-faulted-next-to-faulted", "S16-live-child-refuses", "S34-case-6-three-anon-vmas"]) {
      const r = await cli(["run", "--no-check", "--policy", "all", "--trace", `${SPEC12}${s}.script`]);
      const traces = r.stdout.split("\n").filter((l) => l.includes("# merge "));
      expect(traces.length, s).toBeGreaterThan(0);
      for (const l of traces) expect(l).not.toMatch(/AV_MERGE|MERGE_FAILED/);
      for (const l of traces) {
        for (const [, word] of l.matchAll(/\b(?:prev|next|both)=(\S+)/g)) {
          expect(["ok", "ok-same-anon_vma", "ok-different-anon_vma", "not-tried", ...MERGE_REASONS.slice(1)]).toContain(word);
        }
      }
      const f = await cli(["run", "--no-check", "--policy", POLICIES[0], "--ftrace", `${SPEC12}${s}.script`]);
      expect(f.stdout).toMatch(/vm_av_merge: merged=\d predecessor=(AV_MERGE_|MERGE_FAILED)/);
    }
  });

  it("every verdict of an ok side has its word; a failed side shows its reason", () => {
    const words = MERGE_RES.map((res) => sideText({ res, reason: "ok" }));
    expect(words).toEqual(["not-tried", "not-tried", "ok", "ok-same-anon_vma", "ok-different-anon_vma"]);
    expect(sideText({ res: "AV_MERGE_FAILED", reason: "anon_vma-different" })).toBe("anon_vma-different");
  });
});

describe("progress on stderr", () => {
  const tty = () => {
    let text = "";
    return { isTTY: true, write: (s: string) => (text += s), get text() { return text; } };
  };

  it("a terminal gets one line rewritten in place, erased at the end; a pipe gets nothing", () => {
    const t = tty();
    const p = progressOn(t);
    p.update("1/2");
    p.update("2/2");
    p.done();
    expect(t.text).toBe("\r1/2\x1b[K\r2/2\x1b[K\r\x1b[K");
    let piped = "";
    const q = progressOn({ write: (s: string) => (piped += s) });
    q.update("1/2");
    q.done();
    expect(piped).toBe("");
  });

  it("VMASIM_PROGRESS=lines gives a pipe plain lines, at most one per interval; a bad value is said once and means lines", () => {
    let piped = "";
    let clock = 0;
    const out = { write: (s: string) => (piped += s) };
    const p = progressOn(out, { VMASIM_PROGRESS: "lines" }, () => clock);
    p.update("a");
    clock = 9_999;
    p.update("b");
    clock = 10_000;
    p.update("c");
    p.done();
    expect(piped).toBe("a\nc\n");
    piped = "";
    const q = progressOn(out, { VMASIM_PROGRESS: "2.5" }, () => clock);
    q.update("x");
    clock += 2_500;
    q.update("y");
    expect(piped).toBe("x\ny\n");
    piped = "";
    const r = progressOn(out, { VMASIM_PROGRESS: "often" }, () => clock);
    r.update("z");
    expect(piped).toBe('vmasim: VMASIM_PROGRESS="often" is not "lines", "off" or a number of seconds: using "lines"\nz\n');
    piped = "";
    for (const v of [undefined, "", "off"]) progressOn(out, { VMASIM_PROGRESS: v }, () => clock).update("n");
    expect(piped).toBe("");
    expect([plainInterval("lines"), plainInterval("0"), plainInterval("-1"), plainInterval("1e3")]).toEqual([PLAIN_INTERVAL_S, NaN, NaN, NaN]);
  });

  it("fuzz-kernel counts scripts and agreement on a terminal", async () => {
    const standIn: NativeRunner = {
      runOnKernel: (s) => {
        const r = runScenario(createKernelSync({ policy: "linux-5.17" }), s);
        return { output: r.output, status: r.status };
      },
      layoutOnly,
    };
    const t = tty();
    let stdout = "";
    const { main } = await import("../../src/cli/main.js");
    const status = await main(["fuzz-kernel", "--seed", "2", "--count", "3", "--ops", "5", "--policy", "linux-5.17"], {
      stdout: { write: (s: string) => (stdout += s) }, stderr: t, createKernel: (c) => createKernelSync(c), native: standIn,
    });
    expect(status).toBe(0);
    expect(t.text).toBe("fuzz-kernel: engine policy linux-5.17 (--policy)\n" +
      "\rfuzz-kernel: 1/3 scripts, 1 agree\x1b[K\rfuzz-kernel: 2/3 scripts, 2 agree\x1b[K\rfuzz-kernel: 3/3 scripts, 3 agree\x1b[K\r\x1b[K");
    expect(stdout).toMatch(/fuzz-kernel: 3\/3 scripts agree/);
  });

  it("compare shows which script runs, on a terminal only", async () => {
    const t = tty();
    const { main } = await import("../../src/cli/main.js");
    let stdout = "";
    await main(["compare", "--policy", "linux-5.17", `${SPEC12}S01-mmap-joins-unfaulted-next.script`, `${SPEC12}S02-mmap-joins-faulted-prev.script`], {
      stdout: { write: (s: string) => (stdout += s) }, stderr: t, createKernel: (c) => createKernelSync(c),
    });
    expect(t.text).toBe("\rcompare: 0/2 scripts (S01-mmap-joins-unfaulted-next)\x1b[K\rcompare: 1/2 scripts (S02-mmap-joins-faulted-prev)\x1b[K\r\x1b[K");
    expect(stdout).toContain("S02-mmap-joins-faulted-prev");
  });
});
