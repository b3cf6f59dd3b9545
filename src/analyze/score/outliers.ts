/**
 * Flagging transactions whose largest gap (or duration) is far out of line, and scoring the flags
 * against the injected ground truth, exactly and in bounded memory.
 *
 * The rule needs a threshold that depends on the whole stream, but nothing may be kept per
 * transaction. So each ended transaction's judged value goes into one of two frequency tables, kept
 * apart by ground truth (injected or not); once the stream ends and the threshold is known, flagged =
 * values above it in both tables, true positives = values above it among the injected: exact counts,
 * precision and recall. Only the `limit` most extreme transactions are remembered by name (a bounded
 * heap), which is exactly the top of the flagged list whatever the threshold turns out to be.
 *
 * Why one measure and not "largest gap or duration" at once: counting a union of two conditions with
 * thresholds known only at the end needs the joint distribution of both values, which grows with the
 * stream. Gaps are the default because that is where outliers are injected (and where their ground
 * truth lives); durations can be judged instead with `--outlier-measure duration`.
 */
import { BoundedHeap } from "../measure/bounded-heap.ts";
import { FrequencyTable, medianAbsoluteDeviation, percentile } from "../measure/frequency.ts";
import type { FlaggedTransaction, OutlierReport, OutlierRule, TimelineTransaction } from "../report.ts";

/** Scales the MAD to the standard deviation of a normal distribution (1 / Φ⁻¹(3/4)). */
export const MAD_TO_SIGMA = 1.4826;

export const OUTLIER_RULES = ["grouped", "pooled"] as const;

export interface OutlierOptions {
  readonly measure: "gap" | "duration";
  /** "grouped" (also when absent): a baseline per workflow and gap (grouped-outliers.ts); "pooled": one for all (this file). */
  readonly rule?: (typeof OUTLIER_RULES)[number] | undefined;
  /** A fixed threshold in ms; without it, median + k·1.4826·MAD. */
  readonly thresholdMs?: number | undefined;
  readonly madK: number;
  /** How many flagged (and missed) transactions are listed by name. */
  readonly listLimit: number;
}

/** One ended transaction as the rule sees it. */
export interface Judged {
  readonly seq: number;
  readonly txnId: string;
  /** The judged value, or NaN when the transaction has none (no complete gap, or no duration). */
  readonly value: number;
  readonly maxGap: number;
  readonly maxGapAfterStep: number;
  readonly duration: number;
  readonly injected: boolean;
  readonly opened: number;
  timeline?: TimelineTransaction;
}

const nullable = (value: number) => (Number.isNaN(value) ? null : value);

function listed(judged: Judged): FlaggedTransaction {
  return {
    txn_id: judged.txnId,
    value_ms: nullable(judged.value),
    max_gap_ms: nullable(judged.maxGap),
    max_gap_after_step: nullable(judged.maxGapAfterStep),
    duration_ms: nullable(judged.duration),
    injected: judged.injected,
    opened_ts_ms: nullable(judged.opened),
  };
}

/** Whether (value, seq) ranks before (otherValue, otherSeq): larger values first, then earlier transactions. */
function ranksBefore(value: number, seq: number, otherValue: number, otherSeq: number, smallerFirst = false): boolean {
  if (smallerFirst) return otherValue < value || (otherValue === value && otherSeq < seq);
  return value > otherValue || (value === otherValue && seq < otherSeq);
}
/** For near misses, no value at all comes first. */
const missKey = (value: number) => (Number.isNaN(value) ? -Infinity : value);
/** Larger values first; the earlier transaction first among equals, so the list is deterministic. */
const moreExtreme = (a: Judged, b: Judged) => ranksBefore(a.value, a.seq, b.value, b.seq);
/** Injected transactions closest to being missed: no value first, then the smallest values. */
const closerToMissed = (a: Judged, b: Judged) => ranksBefore(missKey(b.value), b.seq, missKey(a.value), a.seq, true);

export class OutlierJudge {
  private readonly options: OutlierOptions;
  private readonly injectedValues = new FrequencyTable();
  private readonly cleanValues = new FrequencyTable();
  private injected = 0;
  private injectedGaps = 0;
  private injectedUnmeasured = 0;
  private readonly extreme: BoundedHeap<Judged>;
  private readonly nearMisses: BoundedHeap<Judged>;

  constructor(options: OutlierOptions) {
    this.options = options;
    this.extreme = new BoundedHeap(options.listLimit, moreExtreme);
    this.nearMisses = new BoundedHeap(options.listLimit, closerToMissed);
  }

  /**
   * Counts one ended transaction (value NaN: nothing to judge) and says whether it should be kept by
   * name; if so, the caller builds it and hands it to `keep`. Two steps, so that the common case
   * builds nothing at all.
   */
  count(value: number, injectedGaps: number, seq: number): boolean {
    const injected = injectedGaps > 0;
    if (injected) {
      this.injected++;
      this.injectedGaps += injectedGaps;
    }
    if (Number.isNaN(value)) {
      if (injected) this.injectedUnmeasured++;
    } else {
      (injected ? this.injectedValues : this.cleanValues).add(value);
    }
    const extreme = this.extreme.peek();
    const nearMiss = this.nearMisses.peek();
    return (
      (!Number.isNaN(value) && (extreme === undefined || ranksBefore(value, seq, extreme.value, extreme.seq))) ||
      (injected && (nearMiss === undefined || ranksBefore(missKey(nearMiss.value), nearMiss.seq, missKey(value), seq, true)))
    );
  }

  /** Keeps a transaction `count` asked for by name. */
  keep(judged: Judged): void {
    if (!Number.isNaN(judged.value)) this.extreme.push(judged);
    if (judged.injected) this.nearMisses.push(judged);
  }

  /** The rule applied with the threshold from `population` (all gaps, or all durations). */
  report(population: FrequencyTable): { report: OutlierReport; flagged: Judged[]; missed: Judged[] } {
    const rule = this.rule(population);
    const threshold = rule.threshold_ms;
    const above = (table: FrequencyTable) => (threshold === null ? 0 : table.countAbove(threshold));
    const truePositives = above(this.injectedValues);
    const flaggedCount = truePositives + above(this.cleanValues);
    const isFlagged = (judged: Judged) => threshold !== null && judged.value > threshold;
    const flagged = this.extreme.sorted().filter(isFlagged);
    const missed = this.nearMisses.sorted().filter((judged) => !isFlagged(judged));
    return {
      report: {
        rule,
        by_transaction: {
          flagged: flaggedCount,
          true_positives: truePositives,
          false_positives: flaggedCount - truePositives,
          false_negatives: this.injected - truePositives,
          precision: flaggedCount === 0 ? null : truePositives / flaggedCount,
          recall: this.injected === 0 ? null : truePositives / this.injected,
          exact: true,
          flagged_at_most: flaggedCount,
        },
        injected: this.injected,
        injected_gaps: this.injectedGaps,
        flagged: flaggedCount,
        true_positives: truePositives,
        false_positives: flaggedCount - truePositives,
        false_negatives: this.injected - truePositives,
        precision: flaggedCount === 0 ? null : truePositives / flaggedCount,
        recall: this.injected === 0 ? null : truePositives / this.injected,
        transactions: flagged.map(listed),
        listed_limit: this.options.listLimit,
        truncated: flaggedCount > flagged.length,
        missed: missed.map(listed),
      },
      flagged,
      missed,
    };
  }

  private rule(population: FrequencyTable): OutlierRule {
    const { measure, thresholdMs, madK } = this.options;
    if (thresholdMs !== undefined) {
      return { measure, method: "fixed", threshold_ms: thresholdMs, median_ms: null, mad_ms: null, k: null };
    }
    if (population.count === 0) return { measure, method: "mad", threshold_ms: null, median_ms: null, mad_ms: null, k: madK };
    const sorted = population.sorted();
    const median = percentile(sorted, 50);
    const mad = medianAbsoluteDeviation(sorted, median);
    return { measure, method: "mad", threshold_ms: median + madK * MAD_TO_SIGMA * mad, median_ms: median, mad_ms: mad, k: madK };
  }
}
