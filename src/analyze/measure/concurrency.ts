/**
 * Transactions open at once, over time, in a fixed number of buckets whatever the stream's span: when
 * an event falls past the last bucket, buckets are merged pairwise (their width doubles) until it
 * fits. Each bucket keeps the most transactions open at once within it, so the peak is never
 * averaged away.
 */
import type { ConcurrencyReport } from "../report.ts";

export const TIMELINE_BUCKETS = 512;

export class ConcurrencyTimeline {
  private start = NaN;
  private width = 1;
  /** Most open at once in each bucket; -1 for a bucket no event fell in. */
  private readonly max = new Float64Array(TIMELINE_BUCKETS).fill(-1);
  /** Open transactions after the last change within each bucket. */
  private readonly last = new Float64Array(TIMELINE_BUCKETS);
  private peak = 0;
  private peakTs = NaN;
  private used = 0;

  /** The number of open transactions changed to `open` at `ts`. */
  record(ts: number, open: number): void {
    if (Number.isNaN(this.start)) this.start = ts;
    let bucket = Math.floor((ts - this.start) / this.width);
    if (bucket < 0) bucket = 0; // out-of-order times land in the first bucket
    while (bucket >= TIMELINE_BUCKETS) {
      this.coarsen();
      bucket = Math.floor((ts - this.start) / this.width);
    }
    if (open > this.max[bucket]!) this.max[bucket] = open;
    this.last[bucket] = open;
    if (bucket >= this.used) this.used = bucket + 1;
    if (open > this.peak) {
      this.peak = open;
      this.peakTs = ts;
    }
  }

  private coarsen(): void {
    const { max, last } = this;
    for (let i = 0; i < TIMELINE_BUCKETS / 2; i++) {
      const later = max[2 * i + 1]! >= 0;
      last[i] = later ? last[2 * i + 1]! : last[2 * i]!;
      max[i] = Math.max(max[2 * i]!, max[2 * i + 1]!);
    }
    max.fill(-1, TIMELINE_BUCKETS / 2);
    this.width *= 2;
    this.used = Math.ceil(this.used / 2);
  }

  report(): ConcurrencyReport {
    // Each bucket starts with the count the previous one ended with.
    const max: number[] = [];
    let carried = 0;
    for (let i = 0; i < this.used; i++) {
      const value = this.max[i]!;
      max.push(value >= 0 ? Math.max(value, carried) : carried);
      if (value >= 0) carried = this.last[i]!;
    }
    return {
      peak: this.peak,
      peak_ts_ms: Number.isNaN(this.peakTs) ? null : this.peakTs,
      timeline: { start_ts_ms: Number.isNaN(this.start) ? null : this.start, bucket_ms: this.width, max },
    };
  }
}
