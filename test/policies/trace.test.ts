// Merge tracing and counters (assembly/trace/merge_trace.ts, src/engine/merge_trace.ts):
// the series' vm_av_merge / vm_pgoff_merge values that kernel-facts §12 predicts for
// its scenarios, vmasim's finer reasons, the counters, and event delivery
// through the batch path.
import { describe, expect, it } from "vitest";
import { createKernelSync, type Simulator } from "../../src/engine/index.js";
import { formatFtrace, formatMergeEvent, type MergeEvent, type VmaMergeEvent } from "../../src/engine/merge_trace.js";
import { checkKernel } from "../../src/check/memory.js";
import { traceLine } from "../../src/cli/trace_text.js";
import { runScenario } from "../../src/scenario/run.js";
import type { Policy } from "../../src/types.js";

const BUILDS = ["release", "debug"] as const;

/** Run a script; the merge events of its last line. */
function lastLineEvents(k: Simulator, script: string): MergeEvent[] {
  k.traceMerges();
  let last: MergeEvent[] = [];
  runScenario(k, script, { onStart: () => k.takeMergeEvents(), onStep: () => (last = k.takeMergeEvents()) });
  return last;
}

const ftrace = (events: MergeEvent[]) =>
  events.map((e) => formatFtrace(e, 1)).filter((l): l is string => l !== null).map((l) => l.replace(/^.*?: /, ""));

describe.each(BUILDS)("merge tracing (%s build)", (build) => {
  const kernel = (policy: Policy) => createKernelSync({ policy }, { build });

  it("S1: an unfaulted range joins an unfaulted next (case 3): successor AV_MERGE_SAME", () => {
    const ev = lastLineEvents(kernel("seed-v2"), "mmap 12 2 rw\nmmap 10 2 rw\n");
    expect(ftrace(ev)).toEqual([
      "vm_av_merge: merged=1 predecessor=MERGE_FAILED successor=AV_MERGE_SAME predecessor_with_successor=MERGE_FAILED same_count=1 diff_count=0 failed_count=0",
    ]);
  });

  it("S2: a new range joins a faulted prev: predecessor AV_MERGE_NULL", () => {
    const ev = lastLineEvents(kernel("seed-v2"), "mmap 10 2 rw\ntouch 10\nmmap 12 2 rw\n");
    expect(ftrace(ev)[0]).toMatch(/^vm_av_merge: merged=1 predecessor=AV_MERGE_NULL successor=MERGE_FAILED /);
  });

  it("S5: a hole between two faulted VMAs: 5.17 refuses the both-sides test (case 2), the seeds merge all three (case 1)", () => {
    const script = "mmap 0 2 rw\nmmap 3 2 rw\ntouch 0\ntouch 3\nmmap 2 1 rw\n";
    const v517 = lastLineEvents(kernel("linux-5.17"), script)[0] as VmaMergeEvent;
    expect(v517.mergeCase).toBe(2);
    expect(v517.both).toEqual({ res: "AV_MERGE_FAILED", reason: "anon_vma-different" });
    for (const p of ["seed-v2", "seed"] as const) {
      const ev = lastLineEvents(kernel(p), script);
      expect((ev[0] as VmaMergeEvent).mergeCase).toBe(1);
      expect(ftrace(ev)).toEqual([
        "vm_av_merge: merged=1 predecessor=AV_MERGE_NULL successor=AV_MERGE_NULL predecessor_with_successor=AV_MERGE_DIFFERENT same_count=0 diff_count=1 failed_count=0",
      ]);
    }
  });

  it("S8: a faulted range next to an unfaulted VMA: AV_MERGE_FAILED, reason anon_vma-unfaulted (6.16 merges)", () => {
    const script = "mmap 0 4 rw\nmadvise 2 2 dontfork\ntouch 2\nmadvise 2 2 dofork\n";
    const ev = lastLineEvents(kernel("seed-v2"), script)[0] as VmaMergeEvent;
    expect(ev.caller).toBe("madvise");
    expect(ev.mergeCase).toBe(0);
    expect(ev.prev).toEqual({ res: "AV_MERGE_FAILED", reason: "anon_vma-unfaulted" });
    expect(formatMergeEvent(ev, (a) => a.toString(16))).toMatch(/ none prev=anon_vma-unfaulted next=/);
    const v618 = lastLineEvents(kernel("linux-6.18"), script)[0] as VmaMergeEvent;
    expect(v618.mergeCase).toBe(7);
  });

  it("formatMergeEvent speaks one vocabulary (vmasim's, as run --trace does); formatFtrace keeps the series' words", () => {
    const events = lastLineEvents(kernel("seed-v2"), "mmap 0 2 rw\nmmap 10 2 rw\ntouch 0\ntouch 10\ntouch 11\nmremap 10 2 2 fixed 2\n");
    const lines = events.map((e) => formatMergeEvent(e));
    expect(lines.join("\n")).toMatch(/ case 2 prev=ok-different-anon_vma /);
    for (const l of lines) expect(l).not.toMatch(/AV_MERGE|MERGE_FAILED/);
    expect(lines).toEqual(events.map((e) => traceLine(e, (a) => "0x" + a.toString(16))));
    expect(ftrace(events).join("\n")).toMatch(/predecessor=AV_MERGE_DIFFERENT/);
  });

  it("S11: an unfaulted VMA moved next to its sibling: vm_pgoff_merge faulted=0 updated=1", () => {
    const ev = lastLineEvents(kernel("seed-v2"), "mmap 0 2 rw\nmmap 10 2 rw\nmremap 10 2 2 fixed 2\n");
    expect(ftrace(ev)).toContain("vm_pgoff_merge: faulted=0 updated=1\n");
  });

  it("S12: a faulted VMA moved next to a faulted VMA: seed-v2 re-bases it and merges (AV_MERGE_DIFFERENT); 5.17 keeps the pgoff", () => {
    const script = "mmap 0 2 rw\ntouch 0\nmmap 10 2 rw\ntouch 10\ntouch 11\nmremap 10 2 2 fixed 2\n";
    expect(ftrace(lastLineEvents(kernel("seed-v2"), script))).toEqual([
      "vm_av_merge: merged=1 predecessor=AV_MERGE_DIFFERENT successor=MERGE_FAILED predecessor_with_successor=MERGE_FAILED same_count=0 diff_count=1 failed_count=0",
      "vm_pgoff_merge: faulted=1 updated=1\n",
    ]);
    const ev = lastLineEvents(kernel("linux-5.17"), script);
    expect((ev[0] as VmaMergeEvent).prev.reason).toBe("pgoff");
    // no merge, so no vm_pgoff_merge line; vmasim's own event still says the pgoff was kept
    expect(ftrace(ev)).toHaveLength(1);
    expect(ev[1]).toMatchObject({ kind: "pgoff", faulted: true, updated: false, merged: false });
  });

  it("S13: moving a piece back next to its sibling: case 1 with the source itself, same_count=3", () => {
    const ev = lastLineEvents(kernel("seed"), "mmap 0 4 rw\ntouchn 0 4\nmunmap 2 1\nmremap 3 1 1 fixed 2\n");
    expect(ftrace(ev)).toEqual([
      "vm_av_merge: merged=1 predecessor=AV_MERGE_SAME successor=AV_MERGE_SAME predecessor_with_successor=AV_MERGE_SAME same_count=3 diff_count=0 failed_count=0",
      "vm_pgoff_merge: faulted=1 updated=1\n",
    ]);
  });

  it("S16: with a live child, the seed refuses (anon_vma-shared); the pgoff of a move of shared pages is kept", () => {
    const script = "mmap 0 2 rw\nmmap 3 2 rw\ntouch 0\ntouch 3\nfork parent\nmmap 2 1 rw\n";
    const ev = lastLineEvents(kernel("seed"), script)[0] as VmaMergeEvent;
    expect(ev.mergeCase).toBe(2);
    expect(ev.both).toEqual({ res: "AV_MERGE_FAILED", reason: "anon_vma-shared" });
    const k = kernel("seed");
    const mv = lastLineEvents(k, "mmap 10 2 rw\ntouch 10\nfork parent\nmremap 10 2 2 fixed 20\n");
    expect(mv.find((e) => e.kind === "pgoff")).toMatchObject({ faulted: true, updated: false, reason: "anon_vma-shared" });
    expect(k.mergeStats().pgoffKept).toBe(1);
  });

  it("counters: attempts = merged + failed; cases and pages re-pointed (S5 under seed)", () => {
    const k = kernel("seed");
    runScenario(k, "mmap 0 2 rw\nmmap 3 2 rw\ntouch 0\ntouch 3\nmmap 2 1 rw\n");
    const s = k.mergeStats();
    const failed = Object.values(s.failed).reduce((a, b) => a + (b ?? 0), 0);
    expect(s.attempts).toBe(s.merged + failed);
    expect(s.byCase[0]).toBe(1);
    expect(s.pagesRepointed).toBe(1);
    expect(s.anonVmasFreed).toBe(1);
    expect(s.anonVmaRefsLeaked).toBe(0);
    const v2 = kernel("seed-v2");
    runScenario(v2, "mmap 0 2 rw\nmmap 3 2 rw\ntouch 0\ntouch 3\nmmap 2 1 rw\n");
    expect(v2.mergeStats()).toMatchObject({ pagesRepointed: 1, anonVmaRefsLeaked: 1, anonVmasFreed: 0 });
    // the leaked anon_vma stays, linked to no VMA, with the leaked reference; the checker names it
    expect(v2.memory().anonVmas.filter((a) => a.avcs.length === 0 && a.refcount === 1)).toHaveLength(1);
    expect(checkKernel(v2)).toEqual([expect.stringMatching(/^anon_vma \d+: refcount 1, expected 0$/)]);
  });

  it("a batch that emits more events than the ring holds stops early, is drained and goes on: nothing is lost", () => {
    const k = kernel("linux-5.17");
    const p = k.createProcess();
    k.traceMerges(8192);
    const base = 0x100000000;
    // 20,000 separate one-page mappings, every other page: each mmap is one vma_merge call
    const cmds = Array.from({ length: 20000 }, (_, i) => ["mmap", base + i * 0x2000, 4096, 3, 0x32, 0, 0] as const);
    const r = p.batch(cmds);
    expect(r).toHaveLength(20000);
    expect(r.every((x, i) => x === base + i * 0x2000)).toBe(true);
    const ev = k.takeMergeEvents();
    expect(ev).toHaveLength(20000);
    expect(ev.every((e, i) => e.kind === "vma_merge" && e.addr === base + i * 0x2000 && e.pid === p.pid)).toBe(true);
  });
});
