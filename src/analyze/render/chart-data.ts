/**
 * What the HTML page draws, made from the analysis's bounded state: histograms from frequency
 * tables, and the steps and waits of a few transactions from the marks they recorded.
 */
import type { SortedCounts } from "../measure/frequency.ts";
import type { Histogram, TimelineTransaction } from "../report.ts";
import { MARK_STEP_DONE, MARK_STEP_FAILED, MARK_STEP_OPEN, MARK_WAIT_INJECTED, type TransactionState } from "../measure/transaction-state.ts";
import type { TransactionLabels } from "../score/truth.ts";

const HISTOGRAM_BINS = 60;

type Attempt = { step: number; attempt: number; open: number; done: number | null; failed: boolean };

export function timelineOf(txn: TransactionState, labels: TransactionLabels | undefined): TimelineTransaction {
  const steps: Attempt[] = [];
  const waits: { from_step: number; start: number; planned_ms: number; injected: boolean }[] = [];
  // A truth file names the waits that carry an outlier; inline, the waits say so themselves.
  const injectedSteps = labels?.outlier?.fromSteps;
  const marks = txn.marks ?? [];
  for (let i = 0; i < marks.length; i += 4) {
    const [kind, step, ts, extra] = [marks[i]!, marks[i + 1]!, marks[i + 2]!, marks[i + 3]!];
    if (kind === MARK_STEP_OPEN) steps.push({ step, attempt: extra, open: ts, done: null, failed: false });
    else if (kind === MARK_STEP_DONE || kind === MARK_STEP_FAILED) {
      const open = steps.findLast((s) => s.step === step && s.done === null);
      if (open !== undefined) {
        open.done = ts;
        open.failed = kind === MARK_STEP_FAILED;
      }
    } else {
      const injected = kind === MARK_WAIT_INJECTED || injectedSteps?.includes(step) === true;
      waits.push({ from_step: step, start: ts, planned_ms: extra, injected });
    }
  }
  return {
    txn_id: txn.id,
    opened: Number.isNaN(txn.opened) ? null : txn.opened,
    ended: Number.isNaN(txn.endedTs) ? null : txn.endedTs,
    outcome: txn.outcome ?? "open",
    flagged: false,
    injected: labels?.outlier !== undefined,
    stuck: labels?.stuck !== undefined,
    steps,
    waits,
  };
}

/** Equal-width bins over [min, max], a round width, at most HISTOGRAM_BINS of them. */
export function histogram(sorted: SortedCounts): Histogram {
  const { values, counts } = sorted;
  if (values.length === 0) return { start_ms: 0, bin_ms: 1, counts: [] };
  const min = values[0]!;
  const max = values[values.length - 1]!;
  const raw = (max - min + 1) / HISTOGRAM_BINS;
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(1, raw)));
  const width = [1, 2, 5, 10].map((m) => m * magnitude).find((w) => w >= raw) ?? 10 * magnitude;
  const start = Math.floor(min / width) * width;
  const bins = new Array<number>(Math.floor((max - start) / width) + 1).fill(0);
  for (let i = 0; i < values.length; i++) bins[Math.floor((values[i]! - start) / width)]! += counts[i]!;
  return { start_ms: start, bin_ms: width, counts: bins };
}

/**
 * A sample spread evenly over a stream of unknown length in bounded memory: every `stride`-th item
 * offered is kept; when 2 × `size` are kept, every other one is dropped and the stride doubles.
 */
export class SpreadSample<T> {
  private readonly size: number;
  private readonly kept: T[] = [];
  private stride = 1;
  private offered = 0;

  constructor(size: number) {
    this.size = size;
  }

  /** Offers the next item: `make` is called only when it is kept. */
  offer(make: () => T): void {
    if (this.offered++ % this.stride !== 0) return;
    this.kept.push(make());
    if (this.kept.length >= 2 * this.size) {
      let at = 0;
      for (let i = 0; i < this.kept.length; i += 2) this.kept[at++] = this.kept[i]!;
      this.kept.length = at;
      this.stride *= 2;
    }
  }

  get items(): readonly T[] {
    return this.kept;
  }
}

/** At most `size` of `items`, evenly spaced (the first and the last among them). */
export function evenly<T>(items: readonly T[], size: number): T[] {
  if (items.length <= size) return [...items];
  if (size <= 1) return items.slice(0, size);
  return Array.from({ length: size }, (_, i) => items[Math.round((i * (items.length - 1)) / (size - 1))]!);
}
