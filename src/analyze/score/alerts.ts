/**
 * Scoring someone else's detector: their alerts (JSON Lines with at least `txn_id`, optionally
 * `ts_ms`, or the fields alert-fields.ts names) against the injected ground truth. The transactions to find are those with an injected
 * outlier or made to go silent (stuck); each kind is also scored on its own, since a detector of slow
 * transactions and one of stuck transactions look for different things. Alerts that say which kind
 * they are (`kind`: `outlier` or `stuck`) are matched by kind: an outlier alert on a stuck
 * transaction finds nothing for either kind, and each kind gets its own precision.
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
import type { AlertFalsePositive, AlertMiss } from "../report.ts";
import { alertTime, alertValue, DEFAULT_ALERT_FIELDS, type AlertFields } from "./alert-fields.ts";

/** An alert more than this before the stream's first event cannot be about it. */
export const DAY_MS = 86_400_000;

const idOf = (key: string) => Buffer.from(key, "latin1").toString("utf8");


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

/** Distinct alert kinds other than outlier and stuck counted by name; more go under "(other)". */
const MAX_OTHER_KINDS = 20;

/** Earliest alert time of one transaction: of any kind, and of each scored kind (NaN: no ts_ms). */
export interface Alerted {
  any: number;
  outlier: number | undefined;
  stuck: number | undefined;
}

/**
 * Detection of one kind of anomaly. When the alerts carry `kind`, only alerts of this kind count for
 * it, and its precision is reported too: the alerts of this kind that fell on a transaction with
 * this kind of anomaly.
 */
class KindScore {
  labelled = 0;
  detected = 0;
  /** Transactions alerted on with this kind; those of them with this kind of anomaly. */
  alerted = 0;
  alertedRight = 0;
  readonly delays = new Delays();

  count(alertTs: number | undefined, startedMs: number): void {
    this.labelled++;
    if (alertTs === undefined) return;
    this.detected++;
    this.delays.add(alertTs, startedMs);
  }

  report(byKind: boolean): AlertKindReport {
    return {
      labelled: this.labelled,
      detected: this.detected,
      recall: this.labelled === 0 ? null : this.detected / this.labelled,
      detection_delay_ms: this.delays.table.summary(),
      early_alerts: this.delays.early,
      alerted: byKind ? this.alerted : null,
      true_positives: byKind ? this.alertedRight : null,
      false_positives: byKind ? this.alerted - this.alertedRight : null,
      precision: byKind && this.alerted > 0 ? this.alertedRight / this.alerted : null,
    };
  }
}

export class AlertScorer {
  readonly source: string;
  private readonly pending = new Map<string, Alerted>();
  /** Lines with a `kind` (then each kind is scored on its own alerts), and those of kinds not scored. */
  private withKind = 0;
  private readonly otherKinds = new Map<string, number>();
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
  /** Named lists, in the order the transactions ended, at most `limit` each. */
  private readonly limit: number;
  private readonly falsePositiveList: AlertFalsePositive[] = [];
  private readonly missedList: AlertMiss[] = [];
  /** Each alerted transaction's earliest alert time, to tell times that cannot belong to the stream. */
  private readonly times: number[] = [];
  /** Where an alert holds its transaction id and time. */
  private readonly fields: AlertFields;

  private constructor(source: string, limit: number, fields: AlertFields) {
    this.source = source;
    this.limit = limit;
    this.fields = fields;
  }

  /**
   * `limit`: how many false positives and misses are listed by name (`--list`); `fields`: where the
   * alerts hold the transaction id and the time (wfsim's txn_id and ts_ms unless given).
   */
  static async load(source: EventSource, limit = 20, fields: AlertFields = DEFAULT_ALERT_FIELDS): Promise<AlertScorer> {
    const scorer = AlertScorer.reading(source.name, limit, fields);
    for await (const line of linesOf(source)) scorer.read(line);
    return scorer.sealed();
  }

  /**
   * A scorer that is given its alert lines one by one (`read`), as live scoring receives them; scoring
   * starts on `sealed()` copies of it, so the alerts keep coming in while a copy scores what came so far.
   */
  static reading(source: string, limit = 20, fields: AlertFields = DEFAULT_ALERT_FIELDS): AlertScorer {
    return new AlertScorer(source, limit, fields);
  }

  /**
   * A copy of the alerts read so far, ready to score (`settle`, then `report`); this one keeps reading.
   * What `load` returns once every line is read.
   */
  sealed(): AlertScorer {
    const copy = new AlertScorer(this.source, this.limit, this.fields);
    for (const [key, alerted] of this.pending) copy.pending.set(key, { ...alerted });
    copy.withKind = this.withKind;
    for (const [kind, count] of this.otherKinds) copy.otherKinds.set(kind, count);
    copy.lines = this.lines;
    copy.invalid = this.invalid;
    copy.invalidExamples.push(...this.invalidExamples);
    copy.alerted = copy.pending.size;
    for (const alerted of copy.pending.values()) {
      if (!Number.isNaN(alerted.any)) copy.times.push(alerted.any);
      if (alerted.outlier !== undefined) copy.outlier.alerted++;
      if (alerted.stuck !== undefined) copy.stuck.alerted++;
    }
    return copy;
  }

  /** The earliest alert read so far on a transaction (by its table key): any kind, and by kind. */
  alertOn(key: string): Readonly<Alerted> | undefined {
    return this.pending.get(key);
  }

  /** Transactions alerted on so far, by table key. */
  alertedKeys(): IterableIterator<string> {
    return this.pending.keys();
  }

  /** Alert lines read so far, and those that could not be read. */
  get lineCounts(): { readonly lines: number; readonly invalid: number } {
    return { lines: this.lines, invalid: this.invalid };
  }

  /** Some alert line carried `kind`: alerts are then matched to anomalies by kind. */
  get byKind(): boolean {
    return this.withKind > 0;
  }

  /** One alert line (JSON); one that cannot be read is counted and the first few kept. */
  read(line: string): void {
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
    const fields = this.fields;
    const id = alertValue(value, fields.txnId);
    const ts = alertValue(value, fields.time);
    const kind = (value as { kind?: unknown }).kind;
    if (typeof id !== "string" || id === "") return fail(`${fields.txnId.name} must be a non-empty string`);
    const read = ts === undefined ? NaN : alertTime(ts, fields);
    if (typeof read !== "number") return fail(read.invalid);
    if (kind !== undefined && typeof kind !== "string") return fail("kind must be a string when present");
    const key = tableKey(id);
    const time = read;
    let alerted = this.pending.get(key);
    if (alerted === undefined) this.pending.set(key, (alerted = { any: time, outlier: undefined, stuck: undefined }));
    else alerted.any = earliest(alerted.any, time);
    if (kind === undefined) return;
    this.withKind++;
    if (kind === "outlier" || kind === "stuck") alerted[kind] = earliest(alerted[kind], time);
    else if (this.otherKinds.has(kind) || this.otherKinds.size < MAX_OTHER_KINDS) this.otherKinds.set(kind, (this.otherKinds.get(kind) ?? 0) + 1);
    else this.otherKinds.set("(other)", (this.otherKinds.get("(other)") ?? 0) + 1);
  }

  /**
   * A transaction ended, or was still open when the stream ended, with these labels. The delay of a
   * detection runs from when its anomaly began: the first injected outlier wait, or going silent.
   */
  settle(key: string, labels: TransactionLabels | undefined): void {
    const alerted = this.pending.get(key);
    if (alerted !== undefined) this.pending.delete(key);
    const alertTs = alerted?.any;
    const outlier = labels?.outlier;
    const stuck = labels?.stuck;
    const byKind = this.withKind > 0;
    if (outlier !== undefined) {
      this.outlier.count(byKind ? alerted?.outlier : alertTs, outlier.waitStartedMs);
      if (alerted?.outlier !== undefined) this.outlier.alertedRight++;
    }
    if (stuck !== undefined) {
      this.stuck.count(byKind ? alerted?.stuck : alertTs, stuck.silentSinceMs);
      if (alerted?.stuck !== undefined) this.stuck.alertedRight++;
    }
    if (outlier === undefined && stuck === undefined) {
      if (alerted !== undefined) keepFirst(this.falsePositiveList, falsePositive(key, alerted, true), this.limit, byAlertTime);
      return;
    }
    this.labelled++;
    if (alertTs === undefined) {
      const kind = outlier !== undefined && stuck !== undefined ? "outlier+stuck" : outlier !== undefined ? "outlier" : "stuck";
      const began = Math.min(outlier?.waitStartedMs ?? Infinity, stuck?.silentSinceMs ?? Infinity);
      keepFirst(this.missedList, { txn_id: idOf(key), kind, anomaly_began_ms: Number.isFinite(began) ? began : null }, this.limit, byAnomalyTime);
      return;
    }
    this.truePositives++;
    this.delays.add(alertTs, Math.min(outlier?.waitStartedMs ?? Infinity, stuck?.silentSinceMs ?? Infinity));
  }

  /**
   * Warnings about the alerts as a whole: times that cannot belong to the stream (`firstTs`..`lastTs`,
   * epoch ms), and alerts that name none of its transactions.
   */
  warnings(firstTs: number, lastTs: number): string[] {
    const warnings: string[] = [];
    if (Number.isFinite(firstTs)) {
      const early = this.times.filter((t) => t < firstTs - DAY_MS);
      if (early.length > 0) {
        // Seconds since the epoch are a thousand times smaller: times 1000× larger fall in the stream's span.
        const seconds = early.filter((t) => t * 1000 >= firstTs - DAY_MS && t * 1000 <= lastTs + DAY_MS).length;
        const first = Math.min(...early);
        warnings.push(
          `${this.source}: ${early.length} of ${this.times.length} alerted transactions have ts_ms more than a day before the stream's first event ` +
            `(${new Date(firstTs).toISOString()}; earliest alert ts_ms ${first})` +
            (seconds > 0 ? `; ${seconds} of them look like seconds, not milliseconds (×1000 falls within the stream)` : ""),
        );
      }
    }
    if (this.alerted > 0 && this.pending.size === this.alerted) {
      warnings.push(`${this.source}: none of the ${this.alerted} alerted transactions is in the stream: alerts of another run?`);
    }
    return warnings;
  }

  report(): AlertReport {
    const tp = this.truePositives;
    const unknown: AlertFalsePositive[] = [];
    for (const [key, alerted] of this.pending) keepFirst(unknown, falsePositive(key, alerted, false), Math.max(0, this.limit - this.falsePositiveList.length), byAlertTime);
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
      by_kind: { outlier: this.outlier.report(this.withKind > 0), stuck: this.stuck.report(this.withKind > 0) },
      alerts_with_kind: this.withKind,
      other_kinds: Object.fromEntries(this.otherKinds),
      false_positive_list: [...this.falsePositiveList, ...unknown],
      missed: this.missedList,
      listed_limit: this.limit,
    };
  }
}

/**
 * Keeps the `limit` first items by `order` in `list` (sorted): the lists do not depend on the order
 * transactions are settled in (the end of the stream, or a live scorer's deadlines).
 */
function keepFirst<T>(list: T[], item: T, limit: number, order: (a: T, b: T) => number): void {
  if (limit <= 0) return;
  if (list.length >= limit && order(item, list[list.length - 1]!) >= 0) return;
  let at = list.length;
  while (at > 0 && order(item, list[at - 1]!) < 0) at--;
  list.splice(at, 0, item);
  if (list.length > limit) list.pop();
}

const byId = (a: { txn_id: string }, b: { txn_id: string }) => (a.txn_id < b.txn_id ? -1 : a.txn_id > b.txn_id ? 1 : 0);
const timeOrLast = (value: number | null) => value ?? Infinity;
const byAlertTime = (a: AlertFalsePositive, b: AlertFalsePositive) => timeOrLast(a.alert_ts_ms) - timeOrLast(b.alert_ts_ms) || byId(a, b);
const byAnomalyTime = (a: AlertMiss, b: AlertMiss) => timeOrLast(a.anomaly_began_ms) - timeOrLast(b.anomaly_began_ms) || byId(a, b);

function falsePositive(key: string, alerted: Alerted, inStream: boolean): AlertFalsePositive {
  const kind = alerted.outlier !== undefined && alerted.stuck !== undefined ? "outlier+stuck" : alerted.outlier !== undefined ? "outlier" : alerted.stuck !== undefined ? "stuck" : null;
  return { txn_id: idOf(key), alert_kind: kind, alert_ts_ms: Number.isNaN(alerted.any) ? null : alerted.any, in_stream: inStream };
}

/** The earlier of two alert times; NaN (no ts_ms) only when neither has one. */
function earliest(current: number | undefined, time: number): number {
  if (current === undefined || Number.isNaN(current)) return time;
  return time < current ? time : current;
}
