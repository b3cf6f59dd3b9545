/**
 * How late the engine wakes transactions on a real clock: actual minus planned time of each wake (a
 * wake is a step_open), in real milliseconds. Counts go in 10 µs buckets up to 1 s, enough to tell a
 * 1 ms scheduler from a 10 ms one; later wakes share one overflow bucket and still count for the max.
 */
const BUCKET_MS = 0.01;
const BUCKETS = 100_000;

export interface LatenessStats {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

export class LatenessRecorder {
  private readonly counts = new Uint32Array(BUCKETS + 1);
  private count = 0;
  private max = 0;
  private sum = 0;

  record(lateMs: number): void {
    const late = lateMs > 0 ? lateMs : 0;
    const bucket = Math.min(BUCKETS, Math.floor(late / BUCKET_MS));
    this.counts[bucket]!++;
    this.count++;
    this.sum += late;
    if (late > this.max) this.max = late;
  }

  stats(): LatenessStats {
    return {
      count: this.count,
      p50Ms: this.quantile(0.5),
      p90Ms: this.quantile(0.9),
      p99Ms: this.quantile(0.99),
      p999Ms: this.quantile(0.999),
      maxMs: this.max,
    };
  }

  /** Wakes so far and their summed lateness (ms): a Prometheus histogram's _count and _sum. */
  get total(): { readonly count: number; readonly sumMs: number } {
    return { count: this.count, sumMs: this.sum };
  }

  /**
   * Wakes less than each of `boundsMs` late (ascending), to the 10 µs bucket: exact for a bound that
   * is a multiple of 10 µs. Wakes of 1 s or more are in one overflow bucket and under no bound (only
   * in `total`). One pass over the buckets.
   */
  countsAtMost(boundsMs: readonly number[]): number[] {
    const result: number[] = [];
    let seen = 0;
    let bucket = 0;
    for (const ms of boundsMs) {
      const last = Math.min(BUCKETS, Math.floor(ms / BUCKET_MS + 1e-9));
      for (; bucket < last; bucket++) seen += this.counts[bucket]!;
      result.push(seen);
    }
    return result;
  }

  /** Upper edge of the bucket holding the q-quantile (nearest rank), so the figure never flatters. */
  private quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let bucket = 0; bucket <= BUCKETS; bucket++) {
      seen += this.counts[bucket]!;
      if (seen >= rank) return bucket === BUCKETS ? this.max : Math.min(this.max, (bucket + 1) * BUCKET_MS);
    }
    return this.max;
  }
}
