// The VMA count over time: the sum of map_count over the live mms, after
// every event that can change it, weighted by trace time for the mean.

export class VmaCount {
  private readonly perMm = new Map<number, number>();
  private total = 0;
  peak = 0;
  private area = 0;
  private first: number | null = null;
  private last: number | null = null;

  /** The count of one mm is now `n` (0 and `gone`: the mm went away). */
  set(mm: number, n: number, gone = false): void {
    this.total += n - (this.perMm.get(mm) ?? 0);
    if (gone) this.perMm.delete(mm);
    else this.perMm.set(mm, n);
    if (this.total > this.peak) this.peak = this.total;
  }

  /** Time advances to `t` (ns): the count so far held since the previous time. */
  tick(t: number | null): void {
    if (t === null) return;
    if (this.first === null) this.first = t;
    if (this.last !== null && t > this.last) this.area += this.total * (t - this.last);
    if (this.last === null || t > this.last) this.last = t;
  }

  get final(): number {
    return this.total;
  }

  /** The time-weighted mean over the trace's span (the final count when the span is empty). */
  get mean(): number {
    const span = this.first !== null && this.last !== null ? this.last - this.first : 0;
    return span > 0 ? this.area / span : this.total;
  }
}
