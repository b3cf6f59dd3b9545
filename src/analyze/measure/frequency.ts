/**
 * Exact distributions of whole milliseconds in memory bounded by the number of distinct values.
 *
 * Event times are integer milliseconds, so every duration, gap and delay is an integer. A frequency
 * table (value → how many times it was seen) holds the whole sample: percentiles, the median and the
 * MAD come out exact, and the table's size depends on how many distinct values occur (a few thousand
 * for a realistic workload), never on how many events were read.
 */

/** Values in [0, DENSE_SIZE) are counted in a flat array (the common case: fast, fixed size). */
const DENSE_SIZE = 1 << 16;

/** Percentiles every summary reports, in percent. */
export const PERCENTILES = [50, 90, 95, 99] as const;

/** How a distribution is summed up in the report; the fields are null when nothing was measured. */
export type Summary =
  | { readonly count: 0; readonly min: null; readonly mean: null; readonly p50: null; readonly p90: null; readonly p95: null; readonly p99: null; readonly max: null }
  | {
      readonly count: number;
      readonly min: number;
      readonly mean: number;
      readonly p50: number;
      readonly p90: number;
      readonly p95: number;
      readonly p99: number;
      readonly max: number;
    };

export const EMPTY_SUMMARY: Summary = { count: 0, min: null, mean: null, p50: null, p90: null, p95: null, p99: null, max: null };

/** Distinct values in ascending order with their counts: the only view percentiles are taken from. */
export interface SortedCounts {
  readonly values: Float64Array;
  readonly counts: Float64Array;
  readonly total: number;
}

export class FrequencyTable {
  private dense: Float64Array | undefined;
  private readonly sparse = new Map<number, number>();
  private n = 0;
  private sum = 0;
  private lo = Infinity;
  private hi = -Infinity;
  private readonly denseSize: number;

  /**
   * `denseSize`: values in [0, denseSize) are counted in a flat array (2^16 by default); the many
   * small tables of per-group baselines take a smaller one (a few KiB), the rest go to the map.
   */
  constructor(options: { readonly denseSize?: number } = {}) {
    this.denseSize = options.denseSize ?? DENSE_SIZE;
  }

  /** Counts one integer value. */
  add(value: number, times = 1): void {
    if (value >= 0 && value < this.denseSize) {
      (this.dense ??= new Float64Array(this.denseSize))[value]! += times;
    } else {
      this.sparse.set(value, (this.sparse.get(value) ?? 0) + times);
    }
    this.n += times;
    this.sum += value * times;
    if (value < this.lo) this.lo = value;
    if (value > this.hi) this.hi = value;
  }

  get count(): number {
    return this.n;
  }

  /** How many counted values are greater than `threshold`. */
  countAbove(threshold: number): number {
    let above = 0;
    const { values, counts } = this.sorted();
    for (let i = values.length - 1; i >= 0 && values[i]! > threshold; i--) above += counts[i]!;
    return above;
  }

  /** Adds every value of another table (used to pool tables kept apart by ground truth). */
  merge(other: FrequencyTable): void {
    const { values, counts } = other.sorted();
    for (let i = 0; i < values.length; i++) this.add(values[i]!, counts[i]!);
  }

  sorted(): SortedCounts {
    const values: number[] = [];
    const counts: number[] = [];
    const sparse = [...this.sparse.entries()].sort((a, b) => a[0] - b[0]);
    let s = 0;
    while (s < sparse.length && sparse[s]![0] < 0) {
      values.push(sparse[s]![0]);
      counts.push(sparse[s]![1]);
      s++;
    }
    if (this.dense !== undefined) {
      const from = Math.max(0, this.lo);
      const to = Math.min(this.denseSize - 1, this.hi);
      for (let v = from; v <= to; v++) {
        const c = this.dense[v]!;
        if (c > 0) {
          values.push(v);
          counts.push(c);
        }
      }
    }
    for (; s < sparse.length; s++) {
      values.push(sparse[s]![0]);
      counts.push(sparse[s]![1]);
    }
    return { values: Float64Array.from(values), counts: Float64Array.from(counts), total: this.n };
  }

  summary(): Summary {
    if (this.n === 0) return EMPTY_SUMMARY;
    const sorted = this.sorted();
    return {
      count: this.n,
      min: this.lo,
      mean: this.sum / this.n,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: this.hi,
    };
  }
}

/**
 * The nearest-rank percentile: the smallest value such that at least p% of the sample is less than
 * or equal to it, i.e. the value of rank ⌈p/100 · n⌉ (1-based) in the sorted sample. Always one of
 * the observed values, never an interpolation. The sample must not be empty.
 */
export function percentile(sorted: SortedCounts, p: number): number {
  if (sorted.total === 0) throw new RangeError("percentile of an empty sample");
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.total));
  let seen = 0;
  for (let i = 0; i < sorted.values.length; i++) {
    seen += sorted.counts[i]!;
    if (seen >= rank) return sorted.values[i]!;
  }
  return sorted.values[sorted.values.length - 1]!;
}

/**
 * The median absolute deviation: the nearest-rank median of |x − median|. Worked out from the
 * distinct values alone (two pointers walking outwards from the median), so it is exact too.
 */
export function medianAbsoluteDeviation(sorted: SortedCounts, median: number): number {
  // Deviations in ascending order come from merging the values below the median (walking down) with
  // those at or above it (walking up).
  const rank = Math.max(1, Math.ceil(0.5 * sorted.total));
  const { values, counts } = sorted;
  let up = values.findIndex((v) => v >= median);
  if (up < 0) up = values.length;
  let down = up - 1;
  let seen = 0;
  for (;;) {
    const upDev = up < values.length ? values[up]! - median : Infinity;
    const downDev = down >= 0 ? median - values[down]! : Infinity;
    if (upDev <= downDev) {
      seen += counts[up]!;
      if (seen >= rank) return upDev;
      up++;
    } else {
      seen += counts[down]!;
      if (seen >= rank) return downDev;
      down--;
    }
  }
}
