/**
 * Ground truth: what was injected into each transaction. By default it is read from the stream itself
 * (`outlier_injected` on inter_step_wait, `stuck` on transaction_open, and failures, which are events
 * of their own); `--truth FILE` supplies the same answers from a wfsim truth file (truth-file.ts),
 * behind the same interface, for streams that carry no hints.
 */
import type { InvalidLine } from "../report.ts";
import type { FaultRecord } from "../../events/truth.ts";

/** What the analysis learnt about a transaction that ground truth may need. */
export interface ObservedTransaction {
  /** The txn_id as the txn table keys it: its UTF-8 bytes, one char per byte. */
  readonly key: string;
  /** The txn_id as written in the stream. */
  readonly id: string;
  /** ts_ms of the first inter_step_wait that said outlier_injected: true, or NaN. */
  readonly injectedWaitAt: number;
  /** How many of its inter_step_wait events said outlier_injected: true. */
  readonly injectedGaps: number;
  /** from_step of those waits. */
  readonly injectedFromSteps?: readonly number[];
  /** Its transaction_open said stuck: true. */
  readonly stuckLabelled: boolean;
  /** step_failed events read. */
  readonly failures: number;
  /** ts_ms of the last event read. */
  readonly lastTs: number;
  /** How it ended: "failed" after transaction_failed; undefined while open. */
  readonly outcome: string | undefined;
}

export interface InjectedOutlier {
  /** When the (first) outlier wait began, ts_ms. */
  readonly waitStartedMs: number;
  /** How many of the transaction's gaps carry an injected outlier. */
  readonly gaps: number;
  /** from_step of the waits that carry one, when known (the HTML timeline paints them). */
  readonly fromSteps?: readonly number[];
}

/** Everything injected into one transaction. */
export interface TransactionLabels {
  readonly outlier?: InjectedOutlier | undefined;
  /** It was made to go silent: after the step_open at `silentSinceMs` nothing more comes. */
  readonly stuck?: { readonly silentSinceMs: number } | undefined;
  /** Injected step failures, and whether one of them ended the transaction (no retry left). */
  readonly failures?: { readonly count: number; readonly final: boolean } | undefined;
}

/** Labels counted by kind, in transactions (and outlier gaps, and failures). */
export interface LabelTotals {
  readonly outlier: { readonly transactions: number; readonly gaps: number };
  readonly stuck: { readonly transactions: number };
  readonly step_failure: { readonly transactions: number; readonly failures: number; readonly final: number };
}

export interface GroundTruth {
  /** For the report: where the truth came from. */
  readonly description: string;
  /** The labels of a transaction (once it has ended, or when the stream ends), undefined if it has none. */
  labelsOf(txn: ObservedTransaction): TransactionLabels | undefined;
  /**
   * A truth source apart from the stream (a file) knows every label it holds, also those of
   * transactions the stream never shows: the report counts those as missing from the stream.
   */
  readonly recorded?: LabelTotals;
  /** A truth file's account of its lines, for the report. */
  readonly file?: TruthFileReading;
  /** Delivery faults the truth file records (wfsim run --delivery); absent: none. */
  readonly faults?: FaultTruth;
  /** The fault records themselves, as read (a shaped stream's faults are undone from them). */
  readonly faultRecords?: readonly FaultRecord[];
  /** step_failure reasons by `txn_id/step/attempt`. */
  readonly failureReasons?: ReadonlyMap<string, string>;
}

/**
 * Transaction id to the ms its records' times were off (the skew faults among `records`): a merge of
 * Kafka partitions puts those records back at their true time. Undefined when there are none.
 */
export function clockOffsetsOf(records: readonly FaultRecord[] | undefined): ReadonlyMap<string, number> | undefined {
  let offsets: Map<string, number> | undefined;
  for (const record of records ?? []) {
    if (record.kind === "skew" && record.offset_ms !== undefined) (offsets ??= new Map()).set(record.txn_id, record.offset_ms);
  }
  return offsets;
}

/** What a truth file says was done to the stream on its way out. */
export interface FaultTruth {
  /** Records per fault kind (skew: transactions stamped off, one truth record each). */
  readonly injected: Readonly<Record<"drop" | "duplicate" | "delay" | "skew" | "corrupt", number>>;
  /**
   * Whether the transaction's ending record (transaction_close, _failed or _aborted) was dropped or
   * corrupted on its way out: it ended, though the stream cannot show it.
   */
  endLost(key: string): boolean;
  /**
   * What was done to one transaction's records (table key), to undo it, as a fresh state of undoing
   * it (an analysis asks once per transaction); undefined: nothing to undo.
   */
  repairOf(key: string): TxnRepair | undefined;
  /** The longest delay of a delayed or duplicated record, ms (golden windows hold their durations this much longer). */
  readonly maxDelayMs: number;
  /** Every lost record's transaction (table key and its hash) and event time, in time order. */
  readonly lostInOrder: readonly { readonly key: string; readonly hash: number; readonly ts: number }[];
  /**
   * A shaped stream's faults are undone before its records are rebuilt (read/shaped/fault-repair.ts):
   * what was found there as the records came (the stream checks see the repaired stream).
   */
  readonly shapedFound?: () => { readonly duplicate: number; readonly delay: number };
}

/** A record the stream lost (dropped or corrupted), as its fault record tells it. */
export interface LostRecord {
  readonly type: string;
  /** step (from_step for a wait); NaN for transaction events. */
  readonly step: number;
  /** Its event time. */
  readonly ts: number;
  /** Its place among its transaction's records. */
  readonly seq: number;
}

/** One transaction's faults, as analyze undoes them (and the analysis's state of undoing them). */
export interface TxnRepair {
  /** ms its records' ts_ms are off (a skew); 0: none. */
  readonly skewMs: number;
  /** Records it lost, in their order; `next` is the first not yet put back. */
  readonly lost: readonly LostRecord[];
  next: number;
  /** Its delayed records that have not arrived yet: the records after them wait for them. */
  readonly delayed: LostRecord[];
  /** Records (read, or lost and put back) waiting to be measured in event-time order. */
  readonly queue: unknown[];
  /** Its ending record has been read (its stream checks made when it was). */
  endRead: boolean;
  /** Then: its ts_ms, and the lifecycle position all before which it needed (see TransactionState.missing). */
  endTs: number;
  endComplete: number;
}

export interface TruthFileReading {
  readonly lines: number;
  readonly records: number;
  readonly invalid_lines: number;
  readonly invalid_examples: readonly InvalidLine[];
}

/** The truth wfsim (and the reference script) write into the stream. */
export const IN_STREAM_TRUTH: GroundTruth = {
  description: "labels in the stream",
  labelsOf(txn) {
    const outlier = txn.injectedGaps > 0 ? { waitStartedMs: txn.injectedWaitAt, gaps: txn.injectedGaps, fromSteps: txn.injectedFromSteps === undefined ? undefined : [...txn.injectedFromSteps] } : undefined;
    const stuck = txn.stuckLabelled ? { silentSinceMs: txn.lastTs } : undefined;
    const failures = txn.failures > 0 ? { count: txn.failures, final: txn.outcome === "failed" } : undefined;
    if (outlier === undefined && stuck === undefined && failures === undefined) return undefined;
    return { outlier, stuck, failures };
  },
};
