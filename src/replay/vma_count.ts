// The VMA count over time: the sum of map_count over the live mms, after
// every event that can change it, weighted by trace time for the mean; its
// time series (bounded, peaks kept) and the closest approach of one mm to
// max_map_count (do_mmap() and friends refuse a new VMA when map_count would
// pass sysctl_max_map_count: mm/mmap.c, 6.18).

/** The time series keeps at most this many buckets, whatever the trace's length. */
export const SERIES_MAX = 500;
/** The first bucket width: 1 µs (the resolution of perf trace's times); it doubles as the trace goes on. */
const FIRST_WIDTH_NS = 1000;

/** Where a count was reached: the trace pid, the event's line and time (ms since the first timed event). */
export interface CountPlace {
  pid: number;
  line: number;
  timeMs: number | null;
}

/** The closest approach of any mm to max_map_count. */
export interface Headroom extends CountPlace {
  /** max_map_count - mapCount: how many more VMAs that mm could have had */
  left: number;
  maxMapCount: number;
  /** the mm's map_count then */
  mapCount: number;
}

/** The count over time: bucket i covers [i * bucketMs, (i + 1) * bucketMs) ms from the first timed event. */
export interface VmaSeries {
  bucketMs: number;
  /** the highest count held during each bucket */
  peaks: number[];
}

/**
 * The peak of each time bucket. Buckets start 1 µs wide; when the trace
 * outgrows SERIES_MAX of them, neighbours are merged in pairs (the higher
 * peak kept) and the width doubles, so the series stays bounded and the peak
 * is never lost. A bucket the trace passes without events holds the count
 * it inherited.
 */
class PeakBuckets {
  private width = FIRST_WIDTH_NS;
  private readonly peaks: number[] = [0];

  /** The count `total` held at time `t` (ns since the first timed event). */
  add(t: number, total: number): void {
    let i = Math.floor(t / this.width);
    while (i >= SERIES_MAX) {
      for (let k = 0; k < this.peaks.length; k += 2) this.peaks[k >> 1] = Math.max(this.peaks[k], this.peaks[k + 1] ?? 0);
      this.peaks.length = Math.ceil(this.peaks.length / 2);
      this.width *= 2;
      i = Math.floor(t / this.width);
    }
    // buckets passed without events held the last count
    const held = this.peaks[this.peaks.length - 1];
    while (this.peaks.length <= i) this.peaks.push(held);
    if (total > this.peaks[i]) this.peaks[i] = total;
  }

  series(): VmaSeries {
    return { bucketMs: this.width / 1e6, peaks: [...this.peaks] };
  }
}

export class VmaCount {
  private readonly perMm = new Map<number, number>();
  private total = 0;
  peak = 0;
  /** where the total first reached its peak */
  peakAt: CountPlace | null = null;
  /** the highest map_count of one mm so far */
  mmPeak = 0;
  headroom: Headroom | null = null;
  private area = 0;
  private first: number | null = null;
  private last: number | null = null;
  private readonly buckets = new PeakBuckets();

  constructor(private readonly maxMapCount: number) {}

  /**
   * The count of one mm is now `n` (0 and `gone`: the mm went away), after
   * an event of trace process `pid` at `line`. True when no mm had had as
   * many VMAs before (the caller may take a picture of it).
   */
  set(mm: number, n: number, gone: boolean, pid: number, line: number): boolean {
    this.total += n - (this.perMm.get(mm) ?? 0);
    if (gone) this.perMm.delete(mm);
    else this.perMm.set(mm, n);
    // no closure and no place object unless a record is kept: this runs after every call
    if (this.total > this.peak) {
      this.peak = this.total;
      this.peakAt = { pid, line, timeMs: this.timeMs() };
    }
    this.buckets.add(this.since(), this.total);
    if (!gone && (this.headroom === null || this.maxMapCount - n < this.headroom.left)) {
      this.headroom = { left: this.maxMapCount - n, maxMapCount: this.maxMapCount, mapCount: n, pid, line, timeMs: this.timeMs() };
    }
    if (n > this.mmPeak) {
      this.mmPeak = n;
      return true;
    }
    return false;
  }

  /** Time advances to `t` (ns): the count so far held since the previous time. */
  tick(t: number | null): void {
    if (t === null) return;
    if (this.first === null) this.first = t;
    if (this.last !== null && t > this.last) this.area += this.total * (t - this.last);
    if (this.last === null || t > this.last) this.last = t;
    this.buckets.add(this.since(), this.total);
  }

  /** ns since the first timed event (0 before it) */
  private since(): number {
    return this.first !== null && this.last !== null ? this.last - this.first : 0;
  }

  /** The current time in ms since the first timed event (µs resolution), or null before any. */
  timeMs(): number | null {
    return this.first === null ? null : Math.round(this.since() / 1000) / 1000;
  }

  get final(): number {
    return this.total;
  }

  /** The time-weighted mean over the trace's span (the final count when the span is empty). */
  get mean(): number {
    const span = this.first !== null && this.last !== null ? this.last - this.first : 0;
    return span > 0 ? this.area / span : this.total;
  }

  series(): VmaSeries {
    return this.buckets.series();
  }
}
