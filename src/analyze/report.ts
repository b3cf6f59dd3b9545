/**
 * What `analyze` finds, as data: the renderers (text, JSON, HTML) only present it. The keys are the
 * JSON report's, snake_case and stable: new keys may be added, none renamed or removed.
 */
import type { Summary } from "./measure/frequency.ts";

export const REPORT_VERSION = 1;

/** Where something was found: the source (file path or "stdin") and the 1-based line in it. */
export interface Place {
  readonly source: string;
  readonly line: number;
}

export interface InvalidLine extends Place {
  readonly reason: string;
}

export interface ViolationExample extends Place {
  readonly txn_id: string;
  readonly detail: string;
}

export interface ViolationCount {
  readonly count: number;
  /** The first few, in stream order. */
  readonly examples: readonly ViolationExample[];
}

export const VIOLATION_KINDS = ["out_of_order", "missing_steps", "duplicates", "close_without_open", "never_closed"] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export interface FlaggedTransaction {
  readonly txn_id: string;
  /** The value the rule judged: the largest gap, or the duration (see `outliers.rule.measure`). */
  readonly value_ms: number | null;
  readonly max_gap_ms: number | null;
  /** The gap judged runs from this step's step_done to the next step's step_open. */
  readonly max_gap_after_step: number | null;
  readonly duration_ms: number | null;
  readonly injected: boolean;
  readonly opened_ts_ms: number | null;
  /** The grouped rule: the group whose baseline judged it ("checkout 2 -> 3"), and its threshold. */
  readonly group?: string | null;
  readonly threshold_ms?: number | null;
}

/** A step's work or pre-step wait: nearest-rank figures, and the grouped rule's threshold (null under MIN_GROUP measurements). */
export interface StepFigureReport {
  readonly count: number;
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  readonly threshold_ms: number | null;
  /** Measurements above the threshold: how often the step ran unusually long. */
  readonly above_threshold: number | null;
}

/** One workflow step's baselines (`step_baselines`). */
export interface StepBaselineReport {
  readonly workflow: string | null;
  readonly step: number;
  /** From a step_open to its step_done (the attempt that succeeded); null when never done. */
  readonly work_ms: StepFigureReport | null;
  /** pre_delay_ms of its first attempts; null when the stream has none (a blind stream). */
  readonly pre_wait_ms: StepFigureReport | null;
  /** The gap from this step's step_done to the next step's first step_open; null when none was measured (the last step). */
  readonly gap_ms: StepFigureReport | null;
  /** step_failed events of this step (failed attempts, retried or final). */
  readonly failures: number;
  /** step_retry events of this step. */
  readonly retries: number;
  /** Transactions labelled stuck, silent to the end, that went silent in this step (after its step_open, before the next step's). */
  readonly stuck: number;
}

/** One group's baseline under the grouped rule (a workflow's gap from_step -> to_step, or its durations). */
export interface OutlierGroupReport {
  readonly workflow: string | null;
  readonly from_step: number | null;
  readonly to_step: number | null;
  /** Measurements in the group. */
  readonly count: number;
  /** Whose measurements the baseline was taken from: the group's own, or (fewer than min_group) its workflow's or all. */
  readonly baseline: "group" | "workflow" | "all";
  readonly baseline_count: number;
  readonly median_ms: number;
  /** Nearest-rank percentiles and the largest of the group's own measurements (median_ms is the baseline's). */
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  /** 1.4826 · MAD of ln(1 + ms) (or the scaled mean absolute deviation when the MAD is 0). */
  readonly sigma_log: number;
  readonly threshold_ms: number;
  readonly flagged: number;
  readonly injected: number;
  readonly true_positives: number;
}

export interface OutlierRule {
  /** What is judged per transaction: its largest gap between steps, or its duration. */
  readonly measure: "gap" | "duration";
  /**
   * "grouped" (the default): a baseline per workflow and gap (or per workflow for durations), see
   * `groups`; "mad" (--outlier-rule pooled): median + k·1.4826·MAD of all gaps (or durations) pooled;
   * "fixed": --threshold-ms.
   */
  readonly method: "grouped" | "mad" | "fixed";
  /** A transaction is flagged when its value is greater than this. Null when nothing was measured. */
  readonly threshold_ms: number | null;
  readonly median_ms: number | null;
  readonly mad_ms: number | null;
  readonly k: number | null;
  /**
   * What is counted (flagged, true positives, recall) under the grouped rule: each gap, or each
   * completed transaction's duration. The other rules count transactions. Absent: transactions.
   */
  readonly unit?: "gap" | "duration";
  /** The grouped rule: groups with fewer measurements borrow their workflow's (or the stream's) baseline. */
  readonly min_group?: number;
}

/**
 * Outliers counted by transaction (one is flagged when any of its measurements is), to compare the
 * grouped rule, which counts gaps, with the pooled rule's transaction figures. Injected: transactions
 * with an injected outlier that ended (`injected`).
 */
export interface TransactionLevelReport {
  readonly flagged: number;
  readonly true_positives: number;
  readonly false_positives: number;
  readonly false_negatives: number;
  readonly precision: number | null;
  readonly recall: number | null;
  /** False when the count could not be made exact in bounded memory (see grouped-outliers.ts): then flagged is a lower bound. */
  readonly exact: boolean;
  readonly flagged_at_most: number;
}

export interface OutlierReport {
  readonly rule: OutlierRule;
  /** The same figures counted by transaction (under the pooled and fixed rules, equal to the ones below). */
  readonly by_transaction: TransactionLevelReport;
  /** Transactions that ended with an injected outlier (see `ground_truth.source`). */
  readonly injected: number;
  /** Their injected outlier waits. */
  readonly injected_gaps: number;
  readonly flagged: number;
  readonly true_positives: number;
  readonly false_positives: number;
  readonly false_negatives: number;
  /** true_positives / flagged; null when nothing was flagged. */
  readonly precision: number | null;
  /** true_positives / injected; null when nothing was injected. */
  readonly recall: number | null;
  /** The most extreme flagged transactions, most extreme first; at most `listed_limit`. */
  readonly transactions: readonly FlaggedTransaction[];
  readonly listed_limit: number;
  /** Whether more transactions were flagged than are listed. */
  readonly truncated: boolean;
  /** Injected transactions the rule did not flag (those closest to being missed first), at most `listed_limit`. */
  readonly missed: readonly FlaggedTransaction[];
  /** The grouped rule's baselines, by workflow then from_step. */
  readonly groups?: readonly OutlierGroupReport[];
}

/** How well alerts found one kind of anomaly. */
export interface AlertKindReport {
  /** Transactions in the stream with this kind of label. */
  readonly labelled: number;
  /** Of those, how many were alerted on. */
  readonly detected: number;
  readonly recall: number | null;
  /** Alert ts_ms minus when the anomaly began (the first outlier wait; going silent), for detections with ts_ms. */
  readonly detection_delay_ms: Summary;
  /** Detections whose alert came before the anomaly began: found, but left out of the delays. */
  readonly early_alerts: number;
  /**
   * When the alerts carry `kind` (null otherwise): transactions alerted on with this kind, those of
   * them with this kind of anomaly and the rest, and the precision. `detected`, `recall` and the
   * delays then count alerts of this kind only; without `kind`, any alert on the transaction.
   */
  readonly alerted: number | null;
  readonly true_positives: number | null;
  readonly false_positives: number | null;
  readonly precision: number | null;
}

export interface AlertReport {
  readonly source: string;
  readonly lines: number;
  readonly invalid_lines: number;
  readonly invalid_examples: readonly InvalidLine[];
  /** Distinct transactions alerted on. */
  readonly alerted: number;
  /** Transactions in the stream with an injected outlier or made to go silent (stuck): what a detector should find. */
  readonly labelled: number;
  readonly true_positives: number;
  readonly false_positives: number;
  readonly false_negatives: number;
  /** Alerted transactions that never showed up in the stream (counted as false positives). */
  readonly unknown_transactions: number;
  readonly precision: number | null;
  readonly recall: number | null;
  /**
   * First alert's ts_ms minus when the anomaly began (the first injected outlier wait, or going
   * silent), for true positives with ts_ms at or after that moment.
   */
  readonly detection_delay_ms: Summary;
  /** True positives alerted before their anomaly began (a lucky or unrelated alert): left out of the delays. */
  readonly early_alerts: number;
  readonly by_kind: { readonly outlier: AlertKindReport; readonly stuck: AlertKindReport };
  /** Alert lines that carry `kind`: when there are any, `by_kind` matches alerts to anomalies by kind. */
  readonly alerts_with_kind: number;
  /** Alert lines of kinds other than outlier and stuck, by kind (counted in the pooled figures only). */
  readonly other_kinds: Readonly<Record<string, number>>;
  /**
   * The false positives by name: alerted transactions with no injected outlier or stuck, earliest alert
   * first (then by txn_id), then those never in the stream; at most `listed_limit` (`--list`).
   */
  readonly false_positive_list: readonly AlertFalsePositive[];
  /** Transactions with an injected outlier or stuck that no alert named, earliest anomaly first (then by txn_id); at most `listed_limit`. */
  readonly missed: readonly AlertMiss[];
  readonly listed_limit: number;
}

export interface AlertFalsePositive {
  readonly txn_id: string;
  /** The kinds the alerts on it said (null: no kind). */
  readonly alert_kind: "outlier" | "stuck" | "outlier+stuck" | null;
  /** Its earliest alert's ts_ms, when the alerts carry one. */
  readonly alert_ts_ms: number | null;
  /** false: the transaction never showed up in the stream. */
  readonly in_stream: boolean;
}

export interface AlertMiss {
  readonly txn_id: string;
  readonly kind: "outlier" | "stuck" | "outlier+stuck";
  /** When the anomaly began: the first injected outlier wait, or going silent. */
  readonly anomaly_began_ms: number | null;
}

/**
 * The labels of what was injected, counted by kind (in the stream inline, or from a truth file), as
 * found on the transactions of the stream.
 */
export interface GroundTruthReport {
  /** "labels in the stream", or "truth file PATH". */
  readonly source: string;
  /** Transactions with an injected outlier, and their outlier waits. */
  readonly outlier: { readonly transactions: number; readonly gaps: number };
  /** Transactions made to go silent: still open at the end as labelled (silent), or ended all the same (a stop signal before they went silent). */
  readonly stuck: { readonly transactions: number; readonly silent: number; readonly ended: number };
  /** Transactions with injected step failures, the failures, and the transactions a failure ended. */
  readonly step_failure: { readonly transactions: number; readonly failures: number; readonly final: number };
  /** Truth file only: labelled transactions of which the stream has no event, by kind. */
  readonly not_in_stream: { readonly outlier: number; readonly stuck: number; readonly step_failure: number } | null;
  /** Truth file only: how it was read. */
  readonly file: {
    readonly lines: number;
    readonly records: number;
    readonly invalid_lines: number;
    readonly invalid_examples: readonly InvalidLine[];
  } | null;
  /** inter_step_wait events without outlier_injected: a stream made with --truth carries none (read its truth file with --truth). */
  readonly unlabelled_waits: number;
}

export interface ConcurrencyReport {
  /** Most transactions open at once, and when (ts_ms of the event that reached it). */
  readonly peak: number;
  readonly peak_ts_ms: number | null;
  /** Open transactions over time: bucket i covers [start_ts_ms + i·bucket_ms, … + bucket_ms). */
  readonly timeline: {
    readonly start_ts_ms: number | null;
    readonly bucket_ms: number;
    /** Most transactions open at once within each bucket. */
    readonly max: readonly number[];
  };
}

export interface KafkaTopicReport {
  readonly name: string;
  readonly partitions: number;
  /** Records read (a follower counts those it re-read to rebuild state, see follow.rebuilt_records). */
  readonly records: number;
}

/**
 * Reading from Kafka. Places in examples name a record as source "topic-partition", line = offset.
 * `merge`: "per-partition" when every topic has the same partition count (partition p of each holds
 * the same transactions and is merged on its own), else "all-partitions".
 */
export interface KafkaInputReport {
  readonly bootstrap: string;
  /**
   * The topics read, by role: wfsim's own layout has `transactions` and `steps`; a shaped output
   * (analyze --scenario) has one entry per topic of its scenario, under the topic's name.
   */
  readonly topics: { readonly [role: string]: KafkaTopicReport };
  readonly merge: "per-partition" | "all-partitions";
  /** Records deleted by retention before they could be read. */
  readonly skipped_by_retention: number;
  /**
   * Offsets deleted before reading began: the partitions' first offsets, when above 0 (retention.ms
   * passed over them, or they were deleted on purpose). The stream read is what was left.
   */
  readonly deleted_before_read: number;
  readonly follow?: FollowReport;
}

/** `analyze --follow`: the live part. */
export interface FollowReport {
  readonly group: string | null;
  readonly stuck_ms: number;
  /** What "open for longer than stuck_ms" is measured against: "event" (record time) or "wall". */
  readonly stuck_clock: "event" | "wall";
  readonly alerts: number;
  /** Partitions (of both topics) this follower read at the end. */
  readonly partitions: readonly number[];
  /** Assignments received from the group (the first one included). */
  readonly assignments: number;
  /** Open transactions given up when their partition went to another follower. */
  readonly handed_over: number;
  /** Open transactions rebuilt when a partition came from another follower, and the records re-read for that. */
  readonly adopted: number;
  readonly rebuilt_records: number;
}

/** Steps and waits of one transaction, for the HTML timeline; times are ts_ms. */
export interface TimelineTransaction {
  readonly txn_id: string;
  readonly opened: number | null;
  readonly ended: number | null;
  readonly outcome: "completed" | "aborted" | "failed" | "open";
  readonly flagged: boolean;
  readonly injected: boolean;
  /** Labelled stuck: made to go silent. */
  readonly stuck: boolean;
  /** Each attempt of each step: a failed attempt ends at its step_failed. */
  readonly steps: readonly { readonly step: number; readonly attempt: number; readonly open: number; readonly done: number | null; readonly failed: boolean }[];
  readonly waits: readonly { readonly from_step: number; readonly start: number; readonly planned_ms: number; readonly injected: boolean }[];
}

export interface Histogram {
  /** Lower edge of each bin (inclusive); a bin spans `bin_ms`. */
  readonly start_ms: number;
  readonly bin_ms: number;
  readonly counts: readonly number[];
}

/**
 * Transactions by how they ended. completed: transaction_close; aborted: transaction_aborted; failed:
 * transaction_failed; open: still open at the end, of which `stuck` were labelled stuck (silent as
 * intended, not a stream fault).
 */
export interface TransactionCounts {
  readonly total: number;
  readonly completed: number;
  readonly aborted: number;
  readonly failed: number;
  readonly open: number;
  readonly stuck: number;
}

/** One workflow's transactions (scenario streams) and its durations. */
export interface WorkflowReport {
  readonly name: string;
  readonly transactions: TransactionCounts;
  /** duration_ms of its transaction_close events. */
  readonly duration_ms: Summary;
  /** step_failed and step_retry events of its transactions. */
  readonly step_failures: number;
  readonly retries: number;
}

/** One interval of the stream (`over_time.rows`): what happened in [start_ts_ms, start_ts_ms + interval_ms). */
export interface OverTimeRow {
  readonly start_ts_ms: number;
  /** transaction_open events. */
  readonly opened: number;
  /** Transactions that ended in it, by how. */
  readonly completed: number;
  readonly failed: number;
  readonly aborted: number;
  /** Valid events, and per second of the interval (the first and last intervals are cut by the stream's ends, so theirs read low). */
  readonly events: number;
  readonly events_per_s: number;
  /**
   * duration_ms of the transactions completed in it: p50 and p99 from a log-linear histogram (never
   * below the exact nearest-rank value, less than 0.8% above it), and the largest (exact).
   */
  readonly duration_p50_ms: number | null;
  readonly duration_p99_ms: number | null;
  readonly duration_max_ms: number | null;
  /** Stream-check findings, by kind, at the time of the event that showed them (never_closed: the transaction's last event). */
  readonly findings: Readonly<Record<ViolationKind, number>>;
}

/** The stream broken down by time (measure/over-time.ts). */
export interface OverTimeReport {
  readonly interval_ms: number;
  /** "auto": the smallest of 1 s, 10 s, 1 min, 5 min, 15 min, 1 h, 6 h, 1 d, 7 d (then doubling) giving at most max_rows; "asked": --interval. */
  readonly chosen_by: "auto" | "asked";
  readonly asked_ms: number | null;
  readonly max_rows: number;
  /** The interval asked for would have made more than max_rows: it was doubled until it did not. */
  readonly coarsened: boolean;
  /** From the stream's first interval to its last, empty ones included. */
  readonly rows: readonly OverTimeRow[];
}

/** One fault kind: records injected (the truth file) and what the stream checks that see it found. */
export interface FaultFinding {
  readonly injected: number;
  /** The sum of `checks`' counts; null when no check can see this kind (skew keeps a transaction's order). */
  readonly found: number | null;
  /**
   * The stream checks (violation kinds, invalid_lines) whose findings this kind causes; on a shaped
   * stream, whose faults are undone record by record before the rebuild: records_again (a record
   * read a second time), records_out_of_order (read after a later record of its transaction).
   */
  readonly checks: readonly string[];
}

export interface DeliveryFaultsReport {
  readonly drop: FaultFinding;
  readonly duplicate: FaultFinding;
  readonly delay: FaultFinding;
  readonly skew: FaultFinding;
  readonly corrupt: FaultFinding;
  /**
   * Transactions whose ending record was dropped or corrupted: they ended, the truth says, so they
   * are not counted as never_closed (nor as open in `transactions`).
   */
  readonly ends_lost: number;
  /** Records dropped or corrupted (drop's and corrupt's injected): lost as events either way, what drop's checks see. */
  readonly records_lost: number;
}

export interface AnalysisReport {
  readonly report_version: number;
  readonly sources: readonly string[];
  readonly percentile_definition: string;
  /** Valid events of known types. */
  readonly events: number;
  readonly events_by_type: Readonly<Record<string, number>>;
  /** Lines that were not valid events; examples are the first few. */
  readonly invalid_lines: number;
  readonly invalid_examples: readonly InvalidLine[];
  /** Well-formed events of types this wfsim does not know (counted in events_by_type, not analysed). */
  readonly unknown_type_events: number;
  /** Events with fields beyond their definition (tolerated). */
  readonly events_with_extra_fields: number;
  readonly time_span: { readonly first_ts_ms: number | null; readonly last_ts_ms: number | null; readonly span_ms: number | null };
  readonly transactions: TransactionCounts;
  /** duration_ms of transaction_close events. */
  readonly duration_ms: Summary;
  /** From a transaction's first event in the stream to its transaction_close. */
  readonly first_event_to_close_ms: Summary;
  /** From step_done of one step to step_open of the next, within a transaction. */
  readonly gap_ms: Summary;
  /** pre_delay_ms of step_open events (first attempts: a retry's is its backoff). */
  readonly pre_delay_ms: Summary;
  /** backoff_ms of step_retry events. */
  readonly retry_backoff_ms: Summary;
  readonly concurrency: ConcurrencyReport;
  /** Per workflow, for streams whose events carry `workflow` (scenario runs); empty otherwise. Most transactions first. */
  readonly workflows: readonly WorkflowReport[];
  /** Per workflow and step: work and pre-step wait, with baselines (score/step-baselines.ts). */
  readonly step_baselines: readonly StepBaselineReport[];
  /** The stream per interval of time. */
  readonly over_time: OverTimeReport;
  readonly outliers: OutlierReport;
  readonly ground_truth: GroundTruthReport;
  readonly alerts?: AlertReport;
  readonly violations: Readonly<Record<ViolationKind, ViolationCount>>;
  /**
   * With a truth file that records delivery faults (wfsim run --delivery): per fault kind, the records
   * injected against what the stream checks found. Absent otherwise.
   */
  readonly delivery_faults?: DeliveryFaultsReport;
  /** Things that make figures suspect (alert times in seconds, a truth file of another run), also on stderr. */
  readonly warnings: readonly string[];
  /** When the events came from Kafka: what was read, and how. */
  readonly kafka?: KafkaInputReport;
  /** For the HTML page; left out of the JSON report. */
  readonly charts?: {
    readonly duration_histogram: Histogram;
    readonly gap_histogram: Histogram;
    readonly timeline: readonly TimelineTransaction[];
  };
}
