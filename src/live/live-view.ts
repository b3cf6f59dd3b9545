/**
 * What the live page shows, as one JSON snapshot: the run's tallies (the same the metrics endpoint
 * reads, so the two agree) and live scoring's latest scores. Events per second are measured between
 * two snapshots on the real clock.
 */
import type { LiveScores, OverdueAnomaly } from "./live-scorer.ts";
import type { RunProbe } from "./run-metrics.ts";
import type { FollowSummary } from "../follow/follow.ts";

/** Overdue anomalies the page lists (the newest); the count covers all of them. */
const OVERDUE_SHOWN = 50;

export interface LiveSnapshot {
  /** Real time of the snapshot, epoch ms. */
  readonly at: number;
  readonly run: {
    readonly events: number;
    readonly eventsPerSecond: number;
    readonly inFlight: number;
    readonly opened: number;
    readonly closed: number;
    readonly failed: number;
    readonly stuck: number;
    readonly wakes: number;
    /** Wake lateness p99, real ms (real clock only; 0 otherwise). */
    readonly latenessP99Ms: number;
    readonly anomalies: Readonly<Record<string, number>>;
  } | null;
  /** `analyze --follow`: the follower's figures (null in `run`). */
  readonly follow?: {
    readonly events: number;
    readonly eventsPerSecond: number;
    readonly open: number;
    readonly alerts: number;
    readonly lag: number | null;
    readonly eventTime: number | null;
    readonly partitions: number;
  } | null;
  readonly scores: {
    readonly source: string;
    readonly lines: number;
    readonly skipped: number;
    readonly alerted: number;
    readonly labelled: number;
    readonly truePositives: number;
    readonly falsePositives: number;
    readonly precision: number | null;
    readonly recall: number | null;
    readonly delayP50Ms: number | null;
    readonly delayP99Ms: number | null;
    readonly byKind: Readonly<Record<"outlier" | "stuck", { readonly recall: number | null; readonly precision: number | null; readonly detected: number; readonly labelled: number }>>;
    readonly deadlineMs: number;
    readonly overdue: number;
    readonly overdueShown: readonly OverdueAnomaly[];
  } | null;
}

export class LiveView {
  private readonly run: () => RunProbe | undefined;
  private readonly scores: () => LiveScores | undefined;
  private readonly now: () => number;
  private last: { at: number; events: number } | undefined;
  private rate = 0;

  constructor(sources: { run: () => RunProbe | undefined; scores: () => LiveScores | undefined; now?: () => number }) {
    this.run = sources.run;
    this.scores = sources.scores;
    this.now = sources.now ?? Date.now;
  }

  /** The run begins, with no events yet: the first snapshot's rate is measured from here, not shown as 0. */
  runStarted(): void {
    this.last = { at: this.now(), events: 0 };
  }

  snapshot(): LiveSnapshot {
    const at = this.now();
    const run = this.run();
    let runView: LiveSnapshot["run"] = null;
    if (run !== undefined) {
      const progress = run.progress();
      const tallies = run.tallies();
      if (this.last !== undefined && at > this.last.at) this.rate = ((progress.events - this.last.events) * 1000) / (at - this.last.at);
      this.last = { at, events: progress.events };
      runView = {
        events: progress.events,
        eventsPerSecond: Math.round(this.rate),
        inFlight: progress.inFlight,
        opened: progress.opened,
        closed: progress.closed,
        failed: progress.failed,
        stuck: progress.stuck,
        wakes: tallies.lateness.total.count,
        latenessP99Ms: tallies.lateness.stats().p99Ms,
        anomalies: { ...tallies.labels },
      };
    }
    const scores = this.scores();
    let scoreView: LiveSnapshot["scores"] = null;
    if (scores !== undefined) {
      const a = scores.alerts;
      const kind = (k: "outlier" | "stuck") => ({ recall: a.by_kind[k].recall, precision: a.by_kind[k].precision, detected: a.by_kind[k].detected, labelled: a.by_kind[k].labelled });
      scoreView = {
        source: a.source,
        lines: a.lines,
        skipped: a.invalid_lines,
        alerted: a.alerted,
        labelled: a.labelled,
        truePositives: a.true_positives,
        falsePositives: a.false_positives,
        precision: a.precision,
        recall: a.recall,
        delayP50Ms: a.detection_delay_ms.p50,
        delayP99Ms: a.detection_delay_ms.p99,
        byKind: { outlier: kind("outlier"), stuck: kind("stuck") },
        deadlineMs: scores.deadline_ms,
        overdue: scores.overdue.total,
        overdueShown: scores.overdue.listed.slice(-OVERDUE_SHOWN).reverse(),
      };
    }
    return { at, run: runView, scores: scoreView };
  }
}

/** The live page of `analyze --follow`: the follower's figures, read when a snapshot is taken. */
export class FollowView {
  private read: (() => FollowSummary) | undefined;
  private readonly now: () => number;
  private last: { at: number; events: number } | undefined;
  private rate = 0;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** The follower begins: the first snapshot's rate is measured from here, not shown as 0. */
  attach(read: () => FollowSummary): void {
    this.read = read;
    this.last = { at: this.now(), events: read().events };
  }

  snapshot(): LiveSnapshot {
    const at = this.now();
    const summary = this.read?.();
    if (summary === undefined) return { at, run: null, follow: null, scores: null };
    if (this.last !== undefined && at > this.last.at) this.rate = ((summary.events - this.last.events) * 1000) / (at - this.last.at);
    this.last = { at, events: summary.events };
    return {
      at,
      run: null,
      scores: null,
      follow: {
        events: summary.events,
        eventsPerSecond: Math.round(this.rate),
        open: summary.open,
        alerts: summary.alerts,
        lag: summary.lag,
        eventTime: summary.eventTime,
        partitions: summary.partitions.length,
      },
    };
  }
}
