// The sweep's progress bar on stderr (a terminal only): jobs done, running,
// failed, and an ETA from this run's pace.

import { progressOn } from "../cli/progress.js";
import type { Writer } from "../cli/main.js";

export class SweepProgress {
  private done = 0;
  private failed = 0;
  private running = 0;
  private readonly t0 = performance.now();
  private last = 0;
  private readonly line;

  /** `total` jobs of which `resumed` are done already (their failures included in `resumedFailed`). */
  constructor(stream: Writer & { isTTY?: boolean }, private readonly total: number, private readonly resumed: number, resumedFailed: number) {
    this.line = progressOn(stream);
    this.done = resumed;
    this.failed = resumedFailed;
  }

  setRunning(n: number): void {
    this.running = n;
    this.show(false);
  }

  finished(ok: boolean): void {
    this.done++;
    if (!ok) this.failed++;
    this.show(true);
  }

  private show(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.last < 200) return;
    this.last = now;
    const width = 24;
    const fill = this.total ? Math.round((this.done / this.total) * width) : width;
    const ran = this.done - this.resumed;
    const s = (now - this.t0) / 1000;
    const eta = ran > 0 ? ((this.total - this.done) * s) / ran : null;
    this.line.update(`sweep [${"#".repeat(fill)}${"-".repeat(width - fill)}] ${this.done}/${this.total} done, ${this.running} running, ${this.failed} failed, ETA ${eta === null ? "?" : formatSeconds(eta)}`);
  }

  close(): void {
    this.line.done();
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s % 60)).padStart(2, "0")} s`;
}
