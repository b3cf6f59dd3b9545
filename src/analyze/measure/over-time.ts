/**
 * The stream broken down by time (`over_time`): per interval, transactions opened and ended, events
 * and events/s, the latency of the transactions that completed then, and stream-check findings.
 *
 * The interval is the smallest of 1 s, 10 s, 1 min, 5 min, 15 min, 1 h, 6 h, 1 d, 7 d (then doubling)
 * that covers the stream's span in at most AUTO_ROWS intervals, or the one asked for (`--interval`),
 * doubled while the span needs more than ASKED_ROWS. Intervals are aligned on multiples of their
 * width since the epoch (minutes start at :00 UTC), so each width nests in the next: the analysis
 * starts at the finest and merges neighbours as the stream grows, in one pass, with memory bounded by
 * the number of intervals whatever the stream's length.
 *
 * Latency per interval cannot be exact in bounded memory (that would keep every value of every
 * interval): durations are counted in a log-linear histogram, exact below 256 ms and, above, in
 * buckets 1/128 of their octave wide. A percentile is read as the largest value of the bucket holding
 * the nearest-rank percentile, capped at the interval's largest duration (kept exactly): never below
 * the exact nearest-rank value, and less than 0.8% above it.
 */
import type { OverTimeReport, OverTimeRow, ViolationKind } from "../report.ts";
import { VIOLATION_KINDS } from "../report.ts";

/** Widths the automatic rule chooses from, in ms; beyond the last, doubling. */
export const INTERVAL_LADDER = [1_000, 10_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000, 604_800_000] as const;
/** At most this many intervals with the automatic rule. */
export const AUTO_ROWS = 200;
/** At most this many with an interval asked for: beyond, the interval doubles (and a warning says so). */
export const ASKED_ROWS = 1_000;

const EXACT_BELOW = 256;
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;

/** The histogram bucket of a whole, non-negative number of ms. */
export function bucketOf(ms: number): number {
  if (ms < EXACT_BELOW) return ms;
  const octave = Math.floor(Math.log2(ms));
  const shift = octave - SUB_BITS;
  return EXACT_BELOW + (octave - 8) * SUB + (Math.floor(ms / 2 ** shift) - SUB);
}

/** The largest whole ms in bucket `bucket`. */
export function bucketTop(bucket: number): number {
  if (bucket < EXACT_BELOW) return bucket;
  const octave = 8 + Math.floor((bucket - EXACT_BELOW) / SUB);
  const mantissa = ((bucket - EXACT_BELOW) % SUB) + SUB;
  const shift = octave - SUB_BITS;
  return (mantissa + 1) * 2 ** shift - 1;
}

class Row {
  opened = 0;
  completed = 0;
  failed = 0;
  aborted = 0;
  events = 0;
  readonly findings = new Float64Array(VIOLATION_KINDS.length);
  /** Counts by bucket (bucketOf), grown as needed. */
  durations: Uint32Array | undefined = undefined;
  durationCount = 0;
  durationMax = -Infinity;

  addDuration(ms: number): void {
    const bucket = bucketOf(ms);
    this.room(bucket)[bucket]!++;
    this.durationCount++;
    if (ms > this.durationMax) this.durationMax = ms;
  }

  /** The histogram, long enough to hold `bucket`. */
  private room(bucket: number): Uint32Array {
    let counts = this.durations;
    if (counts === undefined || bucket >= counts.length) {
      const grown = new Uint32Array(Math.max(64, 2 ** Math.ceil(Math.log2(bucket + 1))));
      if (counts !== undefined) grown.set(counts);
      this.durations = counts = grown;
    }
    return counts;
  }

  merge(other: Row): void {
    this.opened += other.opened;
    this.completed += other.completed;
    this.failed += other.failed;
    this.aborted += other.aborted;
    this.events += other.events;
    for (let i = 0; i < this.findings.length; i++) this.findings[i]! += other.findings[i]!;
    const counts = other.durations;
    if (counts === undefined) return;
    const into = this.room(counts.length - 1);
    for (let bucket = 0; bucket < counts.length; bucket++) into[bucket]! += counts[bucket]!;
    this.durationCount += other.durationCount;
    if (other.durationMax > this.durationMax) this.durationMax = other.durationMax;
  }

  /** The nearest-rank percentile's bucket top, capped at the largest duration. */
  percentile(p: number): number | null {
    const counts = this.durations;
    if (counts === undefined || this.durationCount === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.durationCount));
    let seen = 0;
    for (let bucket = 0; bucket < counts.length; bucket++) {
      seen += counts[bucket]!;
      if (seen >= rank) return Math.min(bucketTop(bucket), this.durationMax);
    }
    return this.durationMax;
  }
}

export interface OverTimeOptions {
  /** An interval asked for, in ms; undefined: the automatic rule. */
  readonly intervalMs?: number | undefined;
}

export class OverTime {
  private readonly asked: number | undefined;
  private width: number;
  private ladderStep = 0;
  /** Index (floor(ts / width)) of rows[0]. */
  private first = NaN;
  private rows: (Row | undefined)[] = [];
  /** The row events fall in most of the time, and its bounds: no division per event. */
  private current: Row | undefined = undefined;
  private currentStart = 0;
  private currentEnd = -Infinity;

  constructor(options: OverTimeOptions = {}) {
    this.asked = options.intervalMs;
    this.width = this.asked ?? INTERVAL_LADDER[0];
  }

  private get limit(): number {
    return this.asked === undefined ? AUTO_ROWS : ASKED_ROWS;
  }

  /** The row of `ts`, made when needed (merging rows while the span needs too many). */
  private row(ts: number): Row {
    if (ts >= this.currentStart && ts < this.currentEnd) return this.current!;
    let index = Math.floor(ts / this.width);
    if (Number.isNaN(this.first)) this.first = index;
    while (Math.max(index, this.first + this.rows.length - 1) - Math.min(index, this.first) + 1 > this.limit) {
      this.coarsen();
      index = Math.floor(ts / this.width);
    }
    if (index < this.first) {
      this.rows = [...new Array<Row | undefined>(this.first - index).fill(undefined), ...this.rows];
      this.first = index;
    }
    const at = index - this.first;
    while (this.rows.length <= at) this.rows.push(undefined);
    const row = (this.rows[at] ??= new Row());
    this.current = row;
    this.currentStart = index * this.width;
    this.currentEnd = this.currentStart + this.width;
    return row;
  }

  private nextWidth(): number {
    if (this.asked !== undefined) return this.width * 2;
    this.ladderStep++;
    return INTERVAL_LADDER[this.ladderStep] ?? this.width * 2;
  }

  private coarsen(): void {
    const width = this.nextWidth();
    const rows: (Row | undefined)[] = [];
    const first = Math.floor((this.first * this.width) / width);
    this.rows.forEach((row, i) => {
      if (row === undefined) return;
      const at = Math.floor(((this.first + i) * this.width) / width) - first;
      while (rows.length <= at) rows.push(undefined);
      const into = rows[at];
      if (into === undefined) rows[at] = row;
      else into.merge(row);
    });
    this.rows = rows;
    this.first = first;
    this.width = width;
    this.current = undefined;
    this.currentEnd = -Infinity;
  }

  event(ts: number): void {
    this.row(ts).events++;
  }

  opened(ts: number): void {
    this.row(ts).opened++;
  }

  ended(ts: number, outcome: "completed" | "aborted" | "failed", duration: number): void {
    const row = this.row(ts);
    row[outcome]++;
    if (outcome === "completed" && duration >= 0 && Number.isFinite(duration)) row.addDuration(Math.round(duration));
  }

  finding(kind: ViolationKind, ts: number, delta = 1): void {
    if (!Number.isFinite(ts)) return;
    this.row(ts).findings[VIOLATION_KINDS.indexOf(kind)]! += delta;
  }

  report(): OverTimeReport {
    const rows: OverTimeRow[] = [];
    const seconds = this.width / 1000;
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i] ?? new Row();
      const findings = {} as Record<ViolationKind, number>;
      VIOLATION_KINDS.forEach((kind, k) => (findings[kind] = row.findings[k]!));
      rows.push({
        start_ts_ms: (this.first + i) * this.width,
        opened: row.opened,
        completed: row.completed,
        failed: row.failed,
        aborted: row.aborted,
        events: row.events,
        events_per_s: row.events / seconds,
        duration_p50_ms: row.percentile(50),
        duration_p99_ms: row.percentile(99),
        duration_max_ms: row.durationCount === 0 ? null : row.durationMax,
        findings,
      });
    }
    const coarsened = this.asked !== undefined && this.width !== this.asked;
    return {
      interval_ms: this.width,
      chosen_by: this.asked === undefined ? "auto" : "asked",
      asked_ms: this.asked ?? null,
      max_rows: this.limit,
      coarsened,
      rows,
    };
  }
}
