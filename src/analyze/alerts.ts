/**
 * Scoring someone else's detector: their alerts (JSON Lines with at least `txn_id`, optionally
 * `ts_ms`) against the injected ground truth.
 *
 * The alerts are read first and kept by transaction (the earliest alert of each): memory grows with
 * the number of alerted transactions, which is the detector's output, not the stream. Each
 * transaction is scored when it ends, so nothing else is kept.
 */
import { createInterface } from "node:readline";
import { FrequencyTable } from "./frequency.ts";
import type { AlertReport, InvalidLine } from "./report.ts";
import type { EventSource } from "./source.ts";
import type { InjectedOutlier } from "./truth.ts";
import { Readable } from "node:stream";

const MAX_EXAMPLES = 10;

/** The id as the txn table keys it: its UTF-8 bytes, one char per byte. */
export function tableKey(txnId: string): string {
  return Buffer.from(txnId, "utf8").toString("latin1");
}

export class AlertScorer {
  readonly source: string;
  private readonly pending = new Map<string, number>();
  private lines = 0;
  private invalid = 0;
  private readonly invalidExamples: InvalidLine[] = [];
  private alerted = 0;
  private truePositives = 0;
  private readonly delays = new FrequencyTable();

  private constructor(source: string) {
    this.source = source;
  }

  static async load(source: EventSource): Promise<AlertScorer> {
    const scorer = new AlertScorer(source.name);
    const lines = createInterface({ input: Readable.from(source.chunks()), crlfDelay: Infinity });
    for await (const line of lines) scorer.read(line);
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

  /** A transaction ended (or was still open when the stream ended: `outlier` is then undefined). */
  settle(key: string, outlier: InjectedOutlier | undefined): void {
    const alertTs = this.pending.get(key);
    if (alertTs === undefined) return;
    this.pending.delete(key);
    if (outlier === undefined) return;
    this.truePositives++;
    if (!Number.isNaN(alertTs)) this.delays.add(Math.round(alertTs - outlier.waitStartedMs));
  }

  report(injected: number): AlertReport {
    const tp = this.truePositives;
    return {
      source: this.source,
      lines: this.lines,
      invalid_lines: this.invalid,
      invalid_examples: this.invalidExamples,
      alerted: this.alerted,
      true_positives: tp,
      false_positives: this.alerted - tp,
      false_negatives: injected - tp,
      unknown_transactions: this.pending.size,
      precision: this.alerted === 0 ? null : tp / this.alerted,
      recall: injected === 0 ? null : tp / injected,
      detection_delay_ms: this.delays.summary(),
    };
  }
}
