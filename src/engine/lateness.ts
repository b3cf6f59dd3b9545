/**
 * How late the engine wakes transactions on a real clock: actual minus planned time of each wake (a
 * wake is a step_open), in real milliseconds. Counts go in 10 µs buckets up to 1 s, enough to tell a
 * 1 ms scheduler from a 10 ms one; beyond, in log-linear buckets (64 to each doubling, so a figure is
 * at most 1/64 above the truth) up to 2^12 s (68 minutes), so that a run that falls seconds or minutes
 * behind reports how far (the linear buckets alone made every quantile beyond 1 s read as the max).
 * Later wakes share one overflow bucket and still count for the max.
 */
const BUCKET_MS = 0.01;
/** Linear buckets: [0, 1 s). */
const LINEAR_BUCKETS = 100_000;
const LINEAR_END_MS = LINEAR_BUCKETS * BUCKET_MS;
/** Log-linear buckets per doubling beyond 1 s, and the doublings covered. */
const SUB_BUCKETS = 64;
const DOUBLINGS = 12;
/** The overflow bucket: 2^DOUBLINGS s and later. */
const OVERFLOW = LINEAR_BUCKETS + DOUBLINGS * SUB_BUCKETS;

export interface LatenessStats {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** The bucket of a lateness of `late` ms (not negative). */
function bucketOf(late: number): number {
  if (late < LINEAR_END_MS) return Math.min(LINEAR_BUCKETS - 1, Math.floor(late / BUCKET_MS));
  const seconds = late / 1000;
  let doubling = Math.floor(Math.log2(seconds));
  // Math.log2 may round across a power of two.
  if (2 ** doubling > seconds) doubling--;
  else if (2 ** (doubling + 1) <= seconds) doubling++;
  if (doubling >= DOUBLINGS) return OVERFLOW;
  const sub = Math.min(SUB_BUCKETS - 1, Math.floor((seconds / 2 ** doubling - 1) * SUB_BUCKETS));
  return LINEAR_BUCKETS + doubling * SUB_BUCKETS + sub;
}

/** Upper edge of a bucket below the overflow, in ms. */
function upperEdgeMs(bucket: number): number {
  if (bucket < LINEAR_BUCKETS) return (bucket + 1) * BUCKET_MS;
  const doubling = Math.floor((bucket - LINEAR_BUCKETS) / SUB_BUCKETS);
  const sub = bucket - LINEAR_BUCKETS - doubling * SUB_BUCKETS;
  return 1000 * 2 ** doubling * (1 + (sub + 1) / SUB_BUCKETS);
}

export class LatenessRecorder {
  private readonly counts = new Uint32Array(OVERFLOW + 1);
  private count = 0;
  private max = 0;
  private sum = 0;

  record(lateMs: number): void {
    const late = lateMs > 0 ? lateMs : 0;
    // The common case, a wake less than 1 s late, without the call.
    const bucket = late < LINEAR_END_MS ? Math.min(LINEAR_BUCKETS - 1, Math.floor(late / BUCKET_MS)) : bucketOf(late);
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
   * Wakes less than each of `boundsMs` late (ascending), counting the buckets that end at or below the
   * bound: exact for a bound that is a multiple of 10 µs up to 1 s, or a bucket's edge beyond (a wake
   * above the bound is never counted under it). Wakes in the overflow bucket are under no bound (only
   * in `total`). One pass over the buckets.
   */
  countsAtMost(boundsMs: readonly number[]): number[] {
    const result: number[] = [];
    let seen = 0;
    let bucket = 0;
    for (const ms of boundsMs) {
      for (; bucket < OVERFLOW && upperEdgeMs(bucket) <= ms + 1e-9; bucket++) seen += this.counts[bucket]!;
      result.push(seen);
    }
    return result;
  }

  /** Upper edge of the bucket holding the q-quantile (nearest rank), so the figure never flatters. */
  private quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let bucket = 0; bucket <= OVERFLOW; bucket++) {
      seen += this.counts[bucket]!;
      if (seen >= rank) return bucket === OVERFLOW ? this.max : Math.min(this.max, upperEdgeMs(bucket));
    }
    return this.max;
  }
}
