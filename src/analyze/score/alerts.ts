/**
 * Scoring someone else's detector: their alerts (JSON Lines with at least `txn_id`, optionally
 * `ts_ms`) against the injected ground truth. The transactions to find are those with an injected
 * outlier or made to go silent (stuck); each kind is also scored on its own, since a detector of slow
 * transactions and one of stuck transactions look for different things.
 *
 * The alerts are read first and kept by transaction (the earliest alert of each): memory grows with
 * the number of alerted transactions, which is the detector's output, not the stream. Each
 * transaction is scored when it ends (or when the stream ends), so nothing else is kept.
 */
import { FrequencyTable } from "../measure/frequency.ts";
import { linesOf } from "../read/lines.ts";
import type { AlertKindReport, AlertReport, InvalidLine } from "../report.ts";
import type { EventSource } from "../read/source.ts";
import type { TransactionLabels } from "./truth.ts";
import { tableKey } from "../measure/txn-table.ts";
import { MAX_EXAMPLES } from "../measure/violations.ts";


/**
 * Delays of detections. An alert timed before its anomaly began found the right transaction (it
 * counts as found) but not the anomaly: it is counted as early, not as a negative delay.
 */
class Delays {
  readonly table = new FrequencyTable();
  early = 0;

  add(alertTs: number, startedMs: number): void {
    if (Number.isNaN(alertTs) || Number.isNaN(startedMs)) return;
    const delay = Math.round(alertTs - startedMs);
    if (delay < 0) this.early++;
    else this.table.add(delay);
  }
}

/** Detection of one kind of anomaly. */
class KindScore {
  labelled = 0;
  detected = 0;
  readonly delays = new Delays();

  count(alertTs: number | undefined, startedMs: number): void {
    this.labelled++;
    if (alertTs === undefined) return;
    this.detected++;
    this.delays.add(alertTs, startedMs);
  }

  report(): AlertKindReport {
    return {
      labelled: this.labelled,
      detected: this.detected,
      recall: this.labelled === 0 ? null : this.detected / this.labelled,
      detection_delay_ms: this.delays.table.summary(),
      early_alerts: this.delays.early,
    };
  }
}

export class AlertScorer {
  readonly source: string;
  private readonly pending = new Map<string, number>();
  private lines = 0;
  private invalid = 0;
  private readonly invalidExamples: InvalidLine[] = [];
  private alerted = 0;
  /** Transactions with an injected outlier or made to go silent: what a detector should find. */
  private labelled = 0;
  private truePositives = 0;
  private readonly delays = new Delays();
  private readonly outlier = new KindScore();
  private readonly stuck = new KindScore();

  private constructor(source: string) {
    this.source = source;
  }

  static async load(source: EventSource): Promise<AlertScorer> {
    const scorer = new AlertScorer(source.name);
    for await (const line of linesOf(source)) scorer.read(line);
    scorer.alerted = scorer.pending.size;
    return scorer;
  }

  private read(line: string): void {
    this.lines++;
    if (line.trim() === "") return;
    const fail = (reason: string) => {
      this.invalid++;
      if (this.invalidExamples.length < MAX_EXAMPLES) this.invalidExamples.push({ source: this.source, line: this.lines, reason });
    };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      return fail(`not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("not a JSON object");
    const { txn_id: id, ts_ms: ts } = value as { txn_id?: unknown; ts_ms?: unknown };
    if (typeof id !== "string" || id === "") return fail("txn_id must be a non-empty string");
    if (ts !== undefined && (typeof ts !== "number" || !Number.isFinite(ts))) return fail("ts_ms must be a number when present");
    const key = tableKey(id);
    const earlier = this.pending.get(key);
    const time = ts === undefined ? NaN : ts;
    if (earlier === undefined || Number.isNaN(earlier) || time < earlier) this.pending.set(key, time);
  }

  /**
   * A transaction ended, or was still open when the stream ended, with these labels. The delay of a
   * detection runs from when its anomaly began: the first injected outlier wait, or going silent.
   */
  settle(key: string, labels: TransactionLabels | undefined): void {
    const alertTs = this.pending.get(key);
    if (alertTs !== undefined) this.pending.delete(key);
    const outlier = labels?.outlier;
    const stuck = labels?.stuck;
    if (outlier !== undefined) this.outlier.count(alertTs, outlier.waitStartedMs);
    if (stuck !== undefined) this.stuck.count(alertTs, stuck.silentSinceMs);
    if (outlier === undefined && stuck === undefined) return;
    this.labelled++;
    if (alertTs === undefined) return;
    this.truePositives++;
    this.delays.add(alertTs, Math.min(outlier?.waitStartedMs ?? Infinity, stuck?.silentSinceMs ?? Infinity));
  }

  report(): AlertReport {
    const tp = this.truePositives;
    return {
      source: this.source,
      lines: this.lines,
      invalid_lines: this.invalid,
      invalid_examples: this.invalidExamples,
      alerted: this.alerted,
      labelled: this.labelled,
      true_positives: tp,
      false_positives: this.alerted - tp,
      false_negatives: this.labelled - tp,
      unknown_transactions: this.pending.size,
      precision: this.alerted === 0 ? null : tp / this.alerted,
      recall: this.labelled === 0 ? null : tp / this.labelled,
      detection_delay_ms: this.delays.table.summary(),
      early_alerts: this.delays.early,
      by_kind: { outlier: this.outlier.report(), stuck: this.stuck.report() },
    };
  }
}
