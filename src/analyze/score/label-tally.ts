/**
 * The ground-truth labels of the stream's transactions, counted by kind as each transaction ends (or
 * is still open when the stream ends), whichever source the labels come from.
 */
import type { GroundTruthReport } from "../report.ts";
import type { GroundTruth, TransactionLabels } from "./truth.ts";

export class LabelTally {
  private outlierTransactions = 0;
  private outlierGaps = 0;
  private stuck = 0;
  /** Labelled stuck and still open at the end: silent, as injected. */
  silent = 0;
  private failing = 0;
  private failures = 0;
  private final = 0;

  /** A transaction's labels; `open`: it was still open when the stream ended. */
  count(labels: TransactionLabels | undefined, open: boolean): void {
    if (labels === undefined) return;
    if (labels.outlier !== undefined) {
      this.outlierTransactions++;
      this.outlierGaps += labels.outlier.gaps;
    }
    if (labels.stuck !== undefined) {
      this.stuck++;
      if (open) this.silent++;
    }
    if (labels.failures !== undefined) {
      this.failing++;
      this.failures += labels.failures.count;
      if (labels.failures.final) this.final++;
    }
  }

  report(truth: GroundTruth, unlabelledWaits: number): GroundTruthReport {
    const recorded = truth.recorded;
    const missing = (labelled: number, found: number) => Math.max(0, labelled - found);
    return {
      source: truth.description,
      outlier: { transactions: this.outlierTransactions, gaps: this.outlierGaps },
      stuck: { transactions: this.stuck, silent: this.silent, ended: this.stuck - this.silent },
      step_failure: { transactions: this.failing, failures: this.failures, final: this.final },
      not_in_stream:
        recorded === undefined
          ? null
          : {
              outlier: missing(recorded.outlier.transactions, this.outlierTransactions),
              stuck: missing(recorded.stuck.transactions, this.stuck),
              step_failure: missing(recorded.step_failure.transactions, this.failing),
            },
      file: truth.file ?? null,
      unlabelled_waits: unlabelledWaits,
    };
  }
}
