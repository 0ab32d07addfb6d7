// The replay's figures over time and cost (docs/replay.md): the VMA series,
// map_count headroom, the busiest process's picture, engine time and its
// ratio, the progress callback; consistent with each other on real excerpts.
import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { progressText } from "../../src/cli/replay.js";
import { PICTURE_MAX } from "../../src/replay/peak_process.js";
import { type ReplayProgress, replayTrace } from "../../src/replay/run.js";
import { POLICY_TIMING_FIELDS, REPORT_TIMING_FIELDS, withoutTiming } from "../../src/replay/timing.js";
import { SERIES_MAX } from "../../src/replay/vma_count.js";

const DIR = new URL("../fixtures/traces/", import.meta.url).pathname;
const LUA = join(DIR, "lua_make_j2.head.perf.txt.gz");

describe("VMA series, headroom and the busiest process", () => {
  it("agree with each other and with vmas.peak under every policy asked", async () => {
    const r = await replayTrace({ trace: LUA, policies: ["linux-5.17", "seed", "linux-6.18"] });
    for (const [name, p] of Object.entries(r.policies)) {
      const v = p.vmas;
      expect(v.series.peaks.length, name).toBeLessThanOrEqual(SERIES_MAX);
      expect(Math.max(...v.series.peaks), name).toBe(v.peak);
      expect(v.series.peaks[v.series.peaks.length - 1], name).toBe(v.final);
      // the series spans the trace: its last bucket holds the peakAt time or later
      expect(v.series.peaks.length * v.series.bucketMs, name).toBeGreaterThan(v.peakAt!.timeMs!);
      const pp = v.peakProcess!;
      const h = v.headroom!;
      expect(h.maxMapCount, name).toBe(65530);
      // the closest approach to max_map_count is the busiest process at its peak
      expect(h.left, name).toBe(h.maxMapCount - pp.mapCount);
      expect(h.mapCount, name).toBe(pp.mapCount);
      expect(pp.vmas.length + pp.omitted, name).toBe(pp.mapCount);
      expect(pp.vmas.length, name).toBeLessThanOrEqual(PICTURE_MAX);
      // VMAs in address order, not overlapping; anon_vmas numbered 1, 2 ... in order of first appearance
      let end = 0;
      let seen = 0;
      for (const x of pp.vmas) {
        expect(Number(x.start), name).toBeGreaterThanOrEqual(end);
        expect(Number(x.end), name).toBeGreaterThan(Number(x.start));
        end = Number(x.end);
        if (x.anonVma > seen) expect(x.anonVma, name).toBe(++seen);
      }
      expect(pp.vmas.some((x) => x.name.endsWith("/cc1")), name).toBe(true);
    }
  });

  it("max_map_count from --set moves the headroom", async () => {
    const r = await replayTrace({ trace: LUA, policies: ["linux-6.18"], knobs: { max_map_count: 1000 } });
    const v = r.policies["linux-6.18"].vmas;
    expect(v.headroom).toMatchObject({ maxMapCount: 1000, left: 1000 - v.peakProcess!.mapCount });
  });
});

describe("engine time", () => {
  it("each policy's seconds and its ratio to linux-5.17's; null without linux-5.17", async () => {
    const r = await replayTrace({ trace: LUA, policies: ["seed", "linux-5.17"], warmupEvents: 0 });
    expect(r.policies["linux-5.17"].secondsRatio).toBe(1);
    const seed = r.policies["seed"];
    expect(seed.seconds).toBeGreaterThan(0);
    expect(seed.secondsRatio).toBeCloseTo(seed.seconds / r.policies["linux-5.17"].seconds, 2);
    expect(r.eventsPerSecond).toBeGreaterThan(0);
    const alone = await replayTrace({ trace: LUA, policies: ["seed"], warmupEvents: 0 });
    expect(alone.policies["seed"].secondsRatio).toBeNull();
  });

  it("withoutTiming removes exactly the timing fields", async () => {
    const r = await replayTrace({ trace: join(DIR, "handwritten_family.vt"), policies: ["linux-5.17", "seed"] });
    const w = withoutTiming(r) as Record<string, Record<string, Record<string, unknown>>>;
    for (const k of REPORT_TIMING_FIELDS) expect(w).not.toHaveProperty(k);
    for (const p of Object.values(w.policies)) for (const k of POLICY_TIMING_FIELDS) expect(p).not.toHaveProperty(k);
    expect(Object.keys(w.policies.seed).length).toBe(Object.keys(r.policies.seed).length - POLICY_TIMING_FIELDS.length);
  });
});

describe("progress", () => {
  for (const f of ["lua_make_j2.head.perf.txt.gz", "handwritten_family.vt"]) {
    it(`counts the file's bytes read (${f.endsWith(".gz") ? "gzip: compressed bytes" : "plain"})`, async () => {
      const trace = join(DIR, f);
      const seen: ReplayProgress[] = [];
      const r = await replayTrace({ trace, policies: ["linux-6.18"], progressEvery: 5, onProgress: (p) => seen.push(p) });
      expect(seen.length).toBe(Math.floor(r.events / 5));
      const size = statSync(trace).size;
      for (const p of seen) expect(p.fileBytes).toBe(size);
      for (let i = 1; i < seen.length; i++) expect(seen[i].seconds).toBeGreaterThanOrEqual(seen[i - 1].seconds);
      expect(seen[seen.length - 1].bytesRead).toBeGreaterThan(0);
      expect(seen[seen.length - 1].bytesRead).toBeLessThanOrEqual(size);
      for (let i = 1; i < seen.length; i++) expect(seen[i].bytesRead).toBeGreaterThanOrEqual(seen[i - 1].bytesRead);
    });
  }

  it("the line: events, events/s, percent of the file", () => {
    expect(progressText({ events: 30000, seconds: 2, bytesRead: 250, fileBytes: 1000 })).toBe("replay: 30000 events, 15000 events/s, 25% of the file");
    expect(progressText({ events: 10, seconds: 1, bytesRead: 0, fileBytes: 0 })).toBe("replay: 10 events, 10 events/s, 100% of the file");
  });
});
