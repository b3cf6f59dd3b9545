/**
 * Ground truth: which transactions carry an injected outlier, and when its wait began. Today it is
 * read from the stream itself (`outlier_injected` on inter_step_wait); a later `--truth FILE` supplies
 * the same answers from a file, behind the same interface.
 */

/** What the analysis learnt about a finished transaction that ground truth may need. */
export interface FinishedTransaction {
  /** The txn_id as written in the stream. */
  readonly id: string;
  /** ts_ms of the first inter_step_wait that said outlier_injected: true, or NaN. */
  readonly injectedWaitAt: number;
  /** How many of its inter_step_wait events said outlier_injected: true. */
  readonly injectedGaps: number;
}

export interface InjectedOutlier {
  /** When the (first) outlier wait began, ts_ms. */
  readonly waitStartedMs: number;
  /** How many of the transaction's gaps carry an injected outlier. */
  readonly gaps: number;
}

export interface GroundTruth {
  /** For the report: where the truth came from. */
  readonly description: string;
  /** The injected outlier of a transaction that has ended, or undefined if it had none. */
  outlierOf(txn: FinishedTransaction): InjectedOutlier | undefined;
}

/** The truth wfsim (and the reference script) write into the stream: `outlier_injected` on each wait. */
export const IN_STREAM_TRUTH: GroundTruth = {
  description: "outlier_injected in the stream",
  outlierOf(txn) {
    return txn.injectedGaps > 0 ? { waitStartedMs: txn.injectedWaitAt, gaps: txn.injectedGaps } : undefined;
  },
};
