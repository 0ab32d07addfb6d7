// The VMA count's time series, headroom and per-mm record on their own
// (src/replay/vma_count.ts), with made-up timelines.
import { describe, expect, it } from "vitest";
import { SERIES_MAX, VmaCount } from "../../src/replay/vma_count.js";

describe("VmaCount series", () => {
  it("stays within SERIES_MAX buckets over a long trace and keeps a one-event spike", () => {
    const c = new VmaCount(65530);
    const t0 = 1_000_000_000;
    // 100 s of trace, an event every 1 ms; the count wanders between 10 and 20, one spike to 99 at 37.0005 s
    for (let i = 0; i <= 100_000; i++) {
      c.tick(t0 + i * 1_000_000);
      c.set(1, 10 + (i % 11), false, 1, i + 1);
      if (i === 37_000) {
        c.tick(t0 + i * 1_000_000 + 500_000);
        c.set(1, 99, false, 1, 999_999);
        c.set(1, 12, false, 1, 1_000_000);
      }
    }
    const s = c.series();
    expect(s.peaks.length).toBeLessThanOrEqual(SERIES_MAX);
    expect(s.peaks.length).toBeGreaterThan(SERIES_MAX / 2);
    // the buckets cover the whole span
    expect(s.peaks.length * s.bucketMs).toBeGreaterThanOrEqual(100_000);
    expect(Math.max(...s.peaks)).toBe(99);
    expect(c.peak).toBe(99);
    expect(s.peaks[Math.floor(37_000.5 / s.bucketMs)]).toBe(99);
    // the other buckets see the wandering count's top
    expect(s.peaks.filter((p) => p !== 99).every((p) => p === 20)).toBe(true);
    expect(c.peakAt).toEqual({ pid: 1, line: 999_999, timeMs: 37_000.5 });
  });

  it("a bucket passed without events holds the count it inherited", () => {
    const c = new VmaCount(65530);
    c.tick(0);
    c.set(1, 5, false, 1, 1);
    c.tick(10_000); // 10 µs later: buckets 1..9 saw no event
    c.set(1, 7, false, 1, 2);
    expect(c.series()).toEqual({ bucketMs: 0.001, peaks: [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 7] });
  });

  it("a trace without times is one bucket", () => {
    const c = new VmaCount(65530);
    c.set(1, 3, false, 1, 1);
    c.set(1, 4, false, 1, 2);
    c.set(1, 2, false, 1, 3);
    expect(c.series()).toEqual({ bucketMs: 0.001, peaks: [4] });
    expect(c.timeMs()).toBeNull();
  });
});

describe("VmaCount headroom and records", () => {
  it("is the smallest max_map_count - map_count of one mm, with where it happened", () => {
    const c = new VmaCount(100);
    c.tick(5_000_000);
    expect(c.set(1, 30, false, 10, 1)).toBe(true);
    expect(c.set(2, 60, false, 20, 2)).toBe(true);
    c.tick(7_000_000);
    expect(c.set(1, 50, false, 10, 3)).toBe(false); // mm 2 had more
    expect(c.set(2, 58, false, 20, 4)).toBe(false);
    expect(c.headroom).toEqual({ left: 40, maxMapCount: 100, mapCount: 60, pid: 20, line: 2, timeMs: 0 });
    // the total's peak is the sum over mms; an mm that goes away leaves it
    expect(c.peak).toBe(110);
    c.set(2, 0, true, 20, 5);
    expect(c.final).toBe(50);
    expect(c.mmPeak).toBe(60);
  });
});
