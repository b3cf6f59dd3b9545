/**
 * Live scoring: a pipeline's alerts joined with the run's own ground truth while the run goes on.
 * The scoring itself is the analyzer's (AlertScorer): alerts are read into it as they come, and a
 * score is a sealed copy of it settled with every transaction the run has labelled so far, so the
 * final score is, by construction, the one `wfsim analyze --alerts` computes afterwards from the same
 * run and alerts. What live scoring adds is time: anomalies that no alert has found within
 * `deadlineMs` of their start are reported as overdue when that moment passes.
 *
 * Memory grows with the labelled transactions, the alerted ones, and the keys of the transactions
 * the run opened (an alert on a transaction the run never had counts as unknown, as in the analyzer).
 */
import type { AlertFields } from "../analyze/score/alert-fields.ts";
import { AlertScorer } from "../analyze/score/alerts.ts";
import { addTruthRecord, entryLabels, type Entry } from "../analyze/score/truth-file.ts";
import { tableKey } from "../analyze/measure/txn-table.ts";
import type { AlertReport } from "../analyze/report.ts";
import type { TruthRecord } from "../events/truth.ts";

export type ScoredKind = "outlier" | "stuck";

/** An anomaly no alert found within the deadline. */
export interface OverdueAnomaly {
  readonly txn_id: string;
  readonly kind: ScoredKind;
  /** When it began (the first outlier wait, going silent), epoch ms of the run's time line. */
  readonly started_ms: number;
  /** started_ms plus the deadline: no alert by then. */
  readonly due_ms: number;
}

/** Overdue anomalies kept by name in the scores; the rest are counted. */
export const MAX_OVERDUE_LISTED = 1000;

export interface LiveScores {
  /** The analyzer's alert scores of what came so far (at the end: the final ones). */
  readonly alerts: AlertReport;
  readonly deadline_ms: number;
  readonly overdue: { readonly total: number; readonly outlier: number; readonly stuck: number; readonly listed: readonly OverdueAnomaly[] };
}

interface Watched {
  readonly key: string;
  readonly txnId: string;
  readonly kind: ScoredKind;
  readonly startedMs: number;
}

export class LiveScorer {
  readonly deadlineMs: number;
  private readonly alerts: AlertScorer;
  private readonly truth = new Map<string, Entry>();
  private readonly opened = new Set<string>();
  /** Anomalies waiting for their deadline, in the order they began. */
  private readonly watched: Watched[] = [];
  private watchedHead = 0;
  private readonly overdueListed: OverdueAnomaly[] = [];
  private readonly overdueCounts = { outlier: 0, stuck: 0 };
  private readonly onOverdue: (anomaly: OverdueAnomaly) => void;

  constructor(settings: { readonly source: string; readonly deadlineMs: number; readonly onOverdue?: (anomaly: OverdueAnomaly) => void; readonly fields?: AlertFields | undefined }) {
    this.alerts = AlertScorer.reading(settings.source, undefined, settings.fields);
    this.deadlineMs = settings.deadlineMs;
    this.onOverdue = settings.onOverdue ?? (() => {});
  }

  /** One line of the alert source, as it came. */
  alertLine(line: string): void {
    this.alerts.read(line);
  }

  /** A transaction the run opened. */
  transactionOpened(txnId: string): void {
    this.opened.add(tableKey(txnId));
  }

  /** A ground-truth label, as the run makes it. */
  label(record: TruthRecord): void {
    const key = tableKey(record.txn_id);
    const before = this.truth.get(key);
    const hadOutlier = before !== undefined && before.outlierGaps > 0;
    addTruthRecord(this.truth, record);
    if (record.kind === "outlier" && !hadOutlier) this.watched.push({ key, txnId: record.txn_id, kind: "outlier", startedMs: record.ts_ms });
    if (record.kind === "stuck") this.watched.push({ key, txnId: record.txn_id, kind: "stuck", startedMs: record.silent_since_ms });
  }

  /** Alert lines read, and those that could not be read (skipped, counted). */
  get lineCounts(): { readonly lines: number; readonly invalid: number } {
    return this.alerts.lineCounts;
  }

  /**
   * The run's time is now `nowMs`: anomalies whose deadline has passed with no alert on them (of
   * their kind, when alerts carry one) become overdue, each reported once.
   */
  advance(nowMs: number): void {
    const watched = this.watched;
    while (this.watchedHead < watched.length && watched[this.watchedHead]!.startedMs + this.deadlineMs <= nowMs) {
      const anomaly = watched[this.watchedHead++]!;
      const dueMs = anomaly.startedMs + this.deadlineMs;
      if (!this.foundBy(anomaly, dueMs)) {
        const overdue = { txn_id: anomaly.txnId, kind: anomaly.kind, started_ms: anomaly.startedMs, due_ms: dueMs };
        this.overdueCounts[anomaly.kind]++;
        if (this.overdueListed.length < MAX_OVERDUE_LISTED) this.overdueListed.push(overdue);
        this.onOverdue(overdue);
      }
    }
    // Reclaim the part of the queue already judged, now and then.
    if (this.watchedHead > 4096 && this.watchedHead * 2 > watched.length) {
      watched.splice(0, this.watchedHead);
      this.watchedHead = 0;
    }
  }

  /** An alert came on it (of its kind, when alerts carry one), timed by its deadline or untimed. */
  private foundBy(anomaly: Watched, dueMs: number): boolean {
    const alerted = this.alerts.alertOn(anomaly.key);
    if (alerted === undefined) return false;
    const at = this.alerts.byKind ? alerted[anomaly.kind] : alerted.any;
    return at !== undefined && (Number.isNaN(at) || at <= dueMs);
  }

  /** The scores of everything so far, settled as the analyzer settles a stream at its end. */
  scores(): LiveScores {
    const scorer = this.alerts.sealed();
    for (const [key, entry] of this.truth) scorer.settle(key, entryLabels(entry));
    for (const key of [...this.alerts.alertedKeys()]) {
      if (!this.truth.has(key) && this.opened.has(key)) scorer.settle(key, undefined);
    }
    const { outlier, stuck } = this.overdueCounts;
    return {
      alerts: scorer.report(),
      deadline_ms: this.deadlineMs,
      overdue: { total: outlier + stuck, outlier, stuck, listed: [...this.overdueListed] },
    };
  }
}
