/**
 * The per-event analysis: it is handed one event at a time (by the line scanner, whatever the bytes
 * came from), follows each open transaction, and counts everything into bounded structures. Memory
 * grows with the transactions open at once (and the distinct values of the distributions), never with
 * the length of the stream.
 */
import type { AlertScorer } from "./score/alerts.ts";
import { ConcurrencyTimeline } from "./measure/concurrency.ts";
import { R, T, X } from "./read/event-fields.ts";
import { FrequencyTable } from "./measure/frequency.ts";
import { LineScanner, type EventHandler } from "./read/line-scanner.ts";
import { OutlierJudge, type Judged, type OutlierOptions } from "./score/outliers.ts";
import { GroupedJudge, type Measured } from "./score/grouped-outliers.ts";
import { StepBaselines } from "./score/step-baselines.ts";
import { histogram, timelineOf } from "./render/chart-data.ts";
import { REPORT_VERSION, type AnalysisReport, type DeliveryFaultsReport, type InvalidLine, type TimelineTransaction } from "./report.ts";
import {
  describePosition,
  END_POSITION,
  MARK_STEP_DONE,
  MARK_STEP_FAILED,
  MARK_STEP_OPEN,
  MARK_WAIT,
  MARK_WAIT_INJECTED,
  positionOfAttemptOpen,
  positionOfStepDone,
  positionOfStepFailed,
  positionOfStepOpen,
  positionOfStepRetry,
  positionOfWait,
  TransactionState,
  type Outcome,
} from "./measure/transaction-state.ts";
import { LabelTally } from "./score/label-tally.ts";
import { WorkflowTally } from "./measure/workflows.ts";
import { IN_STREAM_TRUTH, type GroundTruth, type TransactionLabels } from "./score/truth.ts";
import { TxnTable } from "./measure/txn-table.ts";
import type { LineLocator } from "./read/source.ts";
import { EVENT_TYPES } from "../events/schema.ts";
import { MAX_EXAMPLES, Violations } from "./measure/violations.ts";

export const PERCENTILE_DEFINITION =
  "nearest-rank: the p-th percentile is the smallest observed value v such that at least p% of the values are <= v (rank ceil(p/100 * n))";

/** Transactions kept after they end, to recognise late duplicates and stragglers (a bounded window). */
export const RECENTLY_ENDED = 16_384;
/** Distinct unknown event types counted by name; more are counted under "(other)". */
const MAX_UNKNOWN_TYPES = 100;
/**
 * Transactions drawn on the HTML timeline besides the flagged and missed ones: every `stride`-th to
 * end, the stride doubling (and every other kept one dropped) whenever 2 × TIMELINE_SAMPLE are kept,
 * so the sample spreads evenly over the whole run, however long, in bounded memory.
 */
const TIMELINE_SAMPLE = 40;

/** The event that ends a transaction, by outcome. */
const END_TYPES: Record<Outcome, string> = { completed: "transaction_close", aborted: "transaction_aborted", failed: "transaction_failed" };

export interface StreamAnalysisOptions extends OutlierOptions {
  readonly truth: GroundTruth;
  readonly alerts?: AlertScorer | undefined;
  /** Collect what the HTML page draws (histograms, a timeline of some transactions). */
  readonly charts: boolean;
  /** Told when a transaction starts being followed and when it ends (a live detector, e.g. follow.ts). */
  readonly observer?: TransactionObserver | undefined;
}

export interface TransactionObserver {
  /** A transaction's first event was read (or it was adopted, see `adopt`). */
  opened(txn: TransactionState): void;
  /** It ended (transaction_close, transaction_aborted or transaction_failed); the state is reused later. */
  ended(txn: TransactionState): void;
}

export class StreamAnalysis implements EventHandler {
  private readonly options: StreamAnalysisOptions;
  private readonly scanner: LineScanner;
  private readonly truth: GroundTruth;
  private readonly open = new TxnTable<TransactionState>();
  private readonly ended = new TxnTable<TransactionState>(RECENTLY_ENDED * 2);
  private readonly endedRing: (TransactionState | undefined)[] = new Array(RECENTLY_ENDED).fill(undefined);
  private endedNext = 0;
  /** States that left the window of ended transactions, ready for reuse. */
  private readonly pool: TransactionState[] = [];
  private source = "";
  private locator: LineLocator | undefined = undefined;
  private readonly sources: string[] = [];
  private seq = 0;
  private handedOver = 0;

  private events = 0;
  private readonly byType = new Float64Array(EVENT_TYPES.length);
  private readonly unknownTypes = new Map<string, number>();
  private unknownTypeEvents = 0;
  private extraFieldEvents = 0;
  private invalidLines = 0;
  private readonly invalidExamples: InvalidLine[] = [];
  private firstTs = Infinity;
  private lastTs = -Infinity;
  private completed = 0;
  private aborted = 0;
  private failed = 0;
  /** inter_step_wait events without outlier_injected (a stream made with --truth, or a pipeline that dropped it). */
  private unlabelledWaits = 0;

  private readonly durations = new FrequencyTable();
  private readonly firstToClose = new FrequencyTable();
  private readonly gaps = new FrequencyTable();
  private readonly preDelays = new FrequencyTable();
  private readonly backoffs = new FrequencyTable();
  private readonly labels = new LabelTally();
  private readonly workflows = new WorkflowTally();
  private readonly stepBaselines = new StepBaselines();
  private readonly concurrency = new ConcurrencyTimeline();
  private readonly violations = new Violations();
  /** The pooled rule (or a fixed threshold), or the grouped rule: exactly one of them judges. */
  private readonly judge: OutlierJudge | undefined;
  private readonly grouped: GroupedJudge | undefined;
  private readonly timelineSample: Judged[] = [];
  private timelineStride = 1;
  /** Transactions ended so far (the timeline sample's clock). */
  private endedCount = 0;

  constructor(options: StreamAnalysisOptions) {
    this.options = options;
    this.truth = options.truth ?? IN_STREAM_TRUTH;
    const pooled = options.rule === "pooled" || options.thresholdMs !== undefined;
    this.judge = pooled ? new OutlierJudge(options) : undefined;
    this.grouped = pooled ? undefined : new GroupedJudge(options);
    this.scanner = new LineScanner(this);
  }

  /**
   * Starts reading a source; its lines are numbered from 1. A locator names the places of its lines
   * otherwise than "source:line" (a Kafka record's topic-partition and offset, a merged file's name
   * and line). `parts`: the sources a merged source reads, as the report lists them.
   */
  beginSource(name: string, locator?: LineLocator, parts?: readonly string[]): void {
    this.scanner.reset();
    this.source = name;
    this.locator = locator;
    // A merged source is listed as the sources it merges.
    this.sources.push(...(parts ?? [name]));
  }

  /** Valid events read so far. */
  get eventsRead(): number {
    return this.events;
  }

  /** The line being read (within the current source): an observer's way to know which record it is. */
  get line(): number {
    return this.scanner.line;
  }

  /** Transactions open right now. */
  get openTransactions(): number {
    return this.open.size;
  }

  /**
   * Stops following the open transactions `leaving` selects (their partition went to another reader)
   * and returns them: they are counted nowhere but in `handedOver`, and their later events are
   * someone else's.
   */
  handOver(leaving: (txn: TransactionState) => boolean): TransactionState[] {
    const gone = [...this.open.values()].filter(leaving);
    for (const txn of gone) {
      if (this.open.findKey(txn.key, txn.hash) !== undefined) this.open.removeFound();
    }
    this.handedOver += gone.length;
    if (gone.length > 0) this.concurrency.record(this.lastTs, this.open.size);
    return gone;
  }

  /** Open transactions given up by `handOver`, so far. */
  get handedOverTransactions(): number {
    return this.handedOver;
  }

  /**
   * Follows transactions whose beginning another analysis read (rebuilt from records another reader
   * had processed): they join the open ones as if their earlier events had been read here.
   */
  adopt(transactions: Iterable<TransactionState>): number {
    let count = 0;
    for (const txn of transactions) {
      if (this.open.findKey(txn.key, txn.hash) !== undefined) continue;
      txn.seq = this.seq++;
      if (this.options.charts) txn.marks ??= [];
      else txn.marks = undefined;
      this.open.insert(txn);
      this.concurrency.record(txn.lastTs, this.open.size);
      this.options.observer?.opened(txn);
      count++;
    }
    return count;
  }

  /** The open transactions, e.g. to hand them to another analysis with `adopt`. */
  openStates(): TransactionState[] {
    return [...this.open.values()];
  }

  push(chunk: Uint8Array): void {
    this.scanner.push(chunk);
  }

  endSource(): void {
    this.scanner.end();
  }

  /** Lines the fast path read; the rest went through JSON.parse. */
  get fastLines(): number {
    return this.scanner.fastLines;
  }

  // ---- EventHandler: called by the scanner for every line ----

  invalid(reason: string): void {
    this.invalidLines++;
    if (this.invalidExamples.length < MAX_EXAMPLES) this.invalidExamples.push({ ...this.here(), reason });
  }

  /** Where the line being read is. */
  private here(): { source: string; line: number } {
    const line = this.scanner.line;
    const locator = this.locator;
    return locator === undefined ? { source: this.source, line } : { source: locator.sourceOf(line), line: locator.lineOf(line) };
  }

  unknownType(type: string): void {
    this.unknownTypeEvents++;
    const name = this.unknownTypes.has(type) || this.unknownTypes.size < MAX_UNKNOWN_TYPES ? type : "(other)";
    this.unknownTypes.set(name, (this.unknownTypes.get(name) ?? 0) + 1);
  }

  extraFields(): void {
    this.extraFieldEvents++;
  }

  event(code: number, bytes: Buffer, idStart: number, idEnd: number, hash: number): void {
    const regs = this.scanner.regs;
    const ts = regs[R.ts]!;
    this.events++;
    this.byType[code]!++;
    if (ts < this.firstTs) this.firstTs = ts;
    if (ts > this.lastTs) this.lastTs = ts;

    let txn = this.open.find(bytes, idStart, idEnd, hash);
    if (txn === undefined) {
      const ended = this.ended.find(bytes, idStart, idEnd, hash);
      if (ended !== undefined) {
        this.afterEnd(ended, code);
        return;
      }
      const key = bytes.toString("latin1", idStart, idEnd);
      const seq = this.seq++;
      let source = this.source;
      let line = this.scanner.line;
      if (this.locator !== undefined) {
        source = this.locator.sourceOf(line);
        line = this.locator.lineOf(line);
      }
      const charts = this.options.charts;
      txn = this.pool.pop()?.reset(key, hash, seq, source, line, ts, charts) ?? new TransactionState(key, hash, seq, source, line, ts, charts);
      this.open.insert(txn);
      this.concurrency.record(ts, this.open.size);
      this.options.observer?.opened(txn);
    }

    const position = this.positionOf(code);
    if (position !== END_POSITION) {
      if (txn.hasSeen(position)) {
        this.violations.add("duplicates", () => this.example(txn!, `${describePosition(position)} again`));
        return;
      }
      txn.markSeen(position);
    }
    if (position < txn.position) {
      const after = describePosition(txn.position);
      this.violations.add("out_of_order", () => this.example(txn!, `${describePosition(position)} after ${after}`));
    } else if (ts < txn.lastTs) {
      const last = txn.lastTs;
      this.violations.add("out_of_order", () => this.example(txn!, `${describePosition(position)} at ts_ms ${ts}, before the previous event's ${last}`));
    }
    if (position > txn.position) txn.position = position;
    if (ts > txn.lastTs) txn.lastTs = ts;
    if (txn.workflow === undefined) {
      const workflow = this.scanner.text(X.workflow);
      if (workflow !== undefined) txn.workflow = this.workflows.of(workflow);
    }

    switch (code) {
      case T.open:
        txn.openSeen = true;
        txn.opened = ts;
        txn.stuckLabelled = regs[R.stuck] === 1;
        txn.blind = !Number.isNaN(regs[R.stepsPlanned]!);
        break;
      case T.stepOpen: {
        const step = regs[R.step]!;
        if (!(regs[R.attempt]! > 1)) {
          // A retry's pre_delay_ms is its backoff, and the gap before a step is before its first attempt.
          // A blind stream has none.
          const preDelay = regs[R.preDelay]!;
          if (!Number.isNaN(preDelay)) {
            this.preDelays.add(preDelay);
            this.stepBaselines.preWait(txn.workflow?.name ?? "", step, preDelay);
          }
          if (step >= 2 && txn.doneStep === step - 1) this.gap(txn, step - 1, ts - txn.doneTs);
          else if (step >= 2 && txn.doneStep < step - 1) {
            // Its step_done may still come (the same millisecond, written in the other order).
            txn.pendingOpenStep = step;
            txn.pendingOpenTs = ts;
          }
        }
        txn.openStep = step;
        txn.openTs = ts;
        txn.marks?.push(MARK_STEP_OPEN, step, ts, regs[R.attempt]! > 1 ? regs[R.attempt]! : 1);
        break;
      }
      case T.stepDone: {
        const step = regs[R.step]!;
        if (txn.openStep === step) {
          this.stepBaselines.work(txn.workflow?.name ?? "", step, ts - txn.openTs);
          txn.openStep = 0;
        }
        if (step > txn.doneStep) {
          txn.doneStep = step;
          txn.doneTs = ts;
          if (txn.pendingOpenStep === step + 1) {
            this.gap(txn, step, txn.pendingOpenTs - ts);
            txn.pendingOpenStep = 0;
          }
        }
        txn.marks?.push(MARK_STEP_DONE, step, ts, 0);
        break;
      }
      case T.wait: {
        const injected = regs[R.outlier] === 1;
        if (Number.isNaN(regs[R.outlier]!)) this.unlabelledWaits++;
        if (injected) {
          txn.injectedGaps++;
          txn.injectedFromSteps.push(regs[R.fromStep]!);
          if (Number.isNaN(txn.injectedWaitAt)) txn.injectedWaitAt = ts;
        }
        txn.marks?.push(injected ? MARK_WAIT_INJECTED : MARK_WAIT, regs[R.fromStep]!, ts, regs[R.plannedWait]!);
        break;
      }
      case T.stepFailed:
        txn.failures++;
        txn.marks?.push(MARK_STEP_FAILED, regs[R.step]!, ts, regs[R.attempt]!);
        break;
      case T.stepRetry: {
        const backoff = regs[R.backoff]!;
        if (!Number.isNaN(backoff)) this.backoffs.add(backoff);
        break;
      }
      case T.close:
        this.end(txn, "completed", ts, regs[R.steps]!, regs[R.duration]!);
        break;
      case T.aborted:
        this.end(txn, "aborted", ts, regs[R.stepsCompleted]!, regs[R.duration]!);
        break;
      case T.failed:
        this.end(txn, "failed", ts, regs[R.failedStep]!, regs[R.duration]!);
        break;
    }
  }

  /** A gap measured: from step_done `fromStep` to the next step's first step_open. */
  private gap(txn: TransactionState, fromStep: number, gap: number): void {
    this.gaps.add(gap);
    txn.gapFrom[txn.gapCount] = fromStep;
    txn.gapMs[txn.gapCount] = gap;
    txn.gapCount++;
    if (!(gap <= txn.maxGap)) {
      txn.maxGap = gap;
      txn.maxGapAfterStep = fromStep;
    }
  }

  /** The place in a transaction's life of the event the scanner holds (see transaction-state.ts). */
  private positionOf(code: number): number {
    const regs = this.scanner.regs;
    switch (code) {
      case T.open:
        return 0;
      case T.stepOpen: {
        const attempt = regs[R.attempt]!;
        return attempt > 1 ? positionOfAttemptOpen(regs[R.step]!, attempt) : positionOfStepOpen(regs[R.step]!);
      }
      case T.stepDone:
        return positionOfStepDone(regs[R.step]!);
      case T.wait:
        return positionOfWait(regs[R.fromStep]!);
      case T.stepFailed:
        return positionOfStepFailed(regs[R.step]!, regs[R.attempt]!);
      case T.stepRetry:
        return positionOfStepRetry(regs[R.step]!, regs[R.attempt]!);
      default:
        return END_POSITION;
    }
  }

  private example(txn: TransactionState, detail: string) {
    return { txn_id: txn.id, ...this.here(), detail };
  }

  /** An event for a transaction that has already ended: a duplicate, or a straggler. */
  private afterEnd(txn: TransactionState, code: number): void {
    const position = this.positionOf(code);
    if (position === END_POSITION || txn.hasSeen(position)) {
      this.violations.add("duplicates", () => this.example(txn, `${EVENT_TYPES[code]} again, after the transaction ended`));
    } else {
      txn.markSeen(position);
      this.violations.add("out_of_order", () => this.example(txn, `${describePosition(position)} after the transaction ended`));
      // It was counted missing when the transaction ended: once all that was missing has come, the
      // events were late, not lost, and the transaction is one finding per late event, not two.
      const complete = txn.outcome === "failed" ? positionOfStepOpen(txn.endStep) + 1 : positionOfStepDone(txn.endStep) + 1;
      if (txn.missingReported > 0 && position < complete) {
        txn.missingReported--;
        if (txn.missingReported === 0) this.violations.retract("missing_steps", txn.id);
      }
    }
  }

  /**
   * A transaction ended, after `step` steps done (completed, aborted) or failing at step `step`. It
   * must have had every step_open and step_done of the steps done and the waits between them, and,
   * when it failed, the wait before the failed step and its step_open.
   */
  private end(txn: TransactionState, outcome: Outcome, ts: number, step: number, duration: number): void {
    // Looked up again: the txn may have been inserted by this very event, which moves slots around.
    if (this.open.findKey(txn.key, txn.hash) !== undefined) this.open.removeFound();
    this.concurrency.record(ts, this.open.size);
    txn.outcome = outcome;
    txn.endedTs = ts;
    txn.endStep = step;
    if (outcome === "completed") this.completed++;
    else if (outcome === "aborted") this.aborted++;
    else this.failed++;
    if (!txn.openSeen) {
      this.violations.add("close_without_open", () => this.example(txn, `${END_TYPES[outcome]} without transaction_open`));
    }
    const complete = outcome === "failed" ? positionOfStepOpen(step) + 1 : positionOfStepDone(step) + 1;
    // A blind stream (its opens carry steps_planned) has no inter_step_wait to miss.
    const withWaits = !txn.blind;
    if (!txn.hasAllBefore(complete, withWaits)) {
      const missing = txn.missing(complete, withWaits);
      txn.missingReported = missing.count;
      const more = missing.count > missing.first.length ? `, … (${missing.count} in all)` : "";
      const how = outcome === "failed" ? `failed at step ${step}` : `ended after ${step} steps`;
      this.violations.add("missing_steps", () => this.example(txn, `${how} without ${missing.first.join(", ")}${more}`));
    }
    if (outcome === "completed") {
      this.durations.add(duration);
      this.firstToClose.add(ts - txn.firstTs);
    }
    txn.workflow?.ended(outcome, duration);

    const labels = this.truth.labelsOf(txn);
    this.labels.count(labels, false);
    const outlier = labels?.outlier;
    const injected = outlier !== undefined;
    const value = this.options.measure === "gap" ? txn.maxGap : outcome === "completed" ? duration : NaN;
    let judged: Judged | undefined;
    if (this.judge?.count(value, outlier?.gaps ?? 0, txn.seq) === true) {
      judged = this.judged(txn, value, labels, duration, outcome);
      this.judge.keep(judged);
    }
    if (this.grouped !== undefined) judged = this.judgeGrouped(txn, labels, duration, outcome);
    if (this.options.charts && this.endedCount++ % this.timelineStride === 0) {
      this.timelineSample.push(judged ?? this.judged(txn, value, labels, duration, outcome));
      if (this.timelineSample.length >= 2 * TIMELINE_SAMPLE) {
        let kept = 0;
        for (let i = 0; i < this.timelineSample.length; i += 2) this.timelineSample[kept++] = this.timelineSample[i]!;
        this.timelineSample.length = kept;
        this.timelineStride *= 2;
      }
    }
    this.options.alerts?.settle(txn.key, labels);
    this.options.observer?.ended(txn);
    this.remember(txn);
  }

  /** The grouped rule: each gap (or the duration) counted in its group; kept by name when it may be listed. */
  private judgeGrouped(txn: TransactionState, labels: TransactionLabels | undefined, duration: number, outcome: Outcome): Judged | undefined {
    const grouped = this.grouped!;
    const workflow = txn.workflow?.name ?? "";
    const outlier = labels?.outlier;
    let judged: Judged | undefined;
    if (this.options.measure === "duration") {
      if (outlier !== undefined) grouped.countInjected(1, outcome === "completed" ? 1 : 0, () => this.measured(txn, labels, duration, outcome, workflow));
      if (outcome !== "completed") return undefined;
      const injected = outlier !== undefined;
      if (grouped.count(workflow, NaN, duration, injected, txn.seq)) {
        judged = this.judged(txn, duration, labels, duration, outcome);
        grouped.keep({ ...judged, injected, workflow, fromStep: NaN });
      }
      return judged;
    }
    const gapFrom = txn.gapFrom;
    const gapMs = txn.gapMs;
    const gaps = txn.gapCount;
    // The common case, nothing injected: no allocation per transaction.
    if (outlier === undefined) {
      for (let i = 0; i < gaps; i++) {
        if (!grouped.count(workflow, gapFrom[i]!, gapMs[i]!, false, txn.seq)) continue;
        judged ??= this.judged(txn, gapMs[i]!, labels, duration, outcome);
        grouped.keep({ ...judged, value: gapMs[i]!, injected: false, workflow, fromStep: gapFrom[i]! });
      }
      return judged;
    }
    // Which gaps were injected: the labels name them (from_step); a truth that does not says how many,
    // and the largest gaps are taken for them.
    const fromSteps = outlier.fromSteps ?? [];
    let unnamed = Math.max(0, outlier.gaps - fromSteps.length);
    const injectedAt = new Set<number>();
    if (unnamed > 0) {
      const byLargest = Array.from({ length: gaps }, (_, i) => i).sort((a, b) => gapMs[b]! - gapMs[a]!);
      for (const index of byLargest) if (unnamed-- > 0 && !fromSteps.includes(gapFrom[index]!)) injectedAt.add(index);
    }
    let measuredInjected = 0;
    for (let i = 0; i < gaps; i++) {
      const fromStep = gapFrom[i]!;
      const value = gapMs[i]!;
      const injected = injectedAt.has(i) || fromSteps.includes(fromStep);
      if (injected) measuredInjected++;
      if (!grouped.count(workflow, fromStep, value, injected, txn.seq)) continue;
      judged ??= this.judged(txn, value, labels, duration, outcome);
      grouped.keep({ ...judged, value, injected, workflow, fromStep });
    }
    grouped.countInjected(outlier.gaps, Math.min(outlier.gaps, measuredInjected), () => this.measured(txn, labels, duration, outcome, workflow));
    return judged;
  }

  /** An injected transaction none of whose measurements may carry its outlier, for the missed list. */
  private measured(txn: TransactionState, labels: TransactionLabels | undefined, duration: number, outcome: Outcome, workflow: string): Measured {
    return { ...this.judged(txn, NaN, labels, duration, outcome), workflow, fromStep: NaN };
  }

  private judged(txn: TransactionState, value: number, labels: TransactionLabels | undefined, duration: number, outcome: Outcome): Judged {
    const judged: Judged = {
      seq: txn.seq,
      txnId: txn.id,
      value,
      maxGap: txn.maxGap,
      maxGapAfterStep: txn.maxGapAfterStep,
      duration: outcome === "completed" ? duration : NaN,
      injected: labels?.outlier !== undefined,
      opened: txn.opened,
    };
    if (txn.marks !== undefined) judged.timeline = timelineOf(txn, labels);
    return judged;
  }

  /** Keeps an ended transaction in a bounded window, so late duplicates are recognised as such. */
  private remember(txn: TransactionState): void {
    txn.marks = undefined;
    const evicted = this.endedRing[this.endedNext];
    if (evicted !== undefined) {
      if (this.ended.findKey(evicted.key, evicted.hash) === evicted) this.ended.removeFound();
      this.pool.push(evicted);
    }
    if (this.ended.findKey(txn.key, txn.hash) !== undefined) this.ended.removeFound();
    this.ended.insert(txn);
    this.endedRing[this.endedNext] = txn;
    this.endedNext = (this.endedNext + 1) % RECENTLY_ENDED;
  }

  /** The stream has ended: what is still open stays open; the report. */
  finish(): AnalysisReport {
    this.scanner.end();
    const faults = this.truth.faults;
    let endsLost = 0;
    let stillOpen = [...this.open.values()].sort((a, b) => a.seq - b.seq);
    if (faults !== undefined) {
      // Ended, the truth says, though its ending record never reached the stream intact: the
      // lifecycle as it happened, not as delivered.
      const open = stillOpen.length;
      stillOpen = stillOpen.filter((txn) => !faults.endLost(txn.key));
      endsLost = open - stillOpen.length;
    }
    const stillOpenLabels = stillOpen.map((txn) => this.truth.labelsOf(txn));
    stillOpen.forEach((txn, index) => {
      const labels = stillOpenLabels[index];
      this.labels.count(labels, true);
      txn.workflow?.stillOpen(labels?.stuck !== undefined);
      this.options.alerts?.settle(txn.key, labels);
      // Silent as its label says: what was injected, not something the stream lost.
      if (labels?.stuck !== undefined) return;
      this.violations.add("never_closed", () => ({
        txn_id: txn.id,
        source: txn.firstSource,
        line: txn.firstLine,
        detail: `first seen here at ts_ms ${txn.firstTs}; furthest event ${describePosition(txn.position)}, last at ts_ms ${txn.lastTs}`,
      }));
    });
    const population = this.options.measure === "gap" ? this.gaps : this.durations;
    const outliers = this.judge?.report(population) ?? this.grouped!.report();
    const eventsByType: Record<string, number> = {};
    EVENT_TYPES.forEach((type, code) => (eventsByType[type] = this.byType[code]!));
    for (const [type, count] of this.unknownTypes) eventsByType[type] = count;
    const hasEvents = this.events > 0;

    const groundTruth = this.labels.report(this.truth, this.unlabelledWaits);
    const warnings = this.options.alerts?.warnings(this.firstTs, this.lastTs) ?? [];
    const recorded = this.truth.recorded;
    if (recorded !== undefined) {
      const inFile = recorded.outlier.transactions + recorded.stuck.transactions + recorded.step_failure.transactions;
      const found = groundTruth.outlier.transactions + groundTruth.stuck.transactions + groundTruth.step_failure.transactions;
      if (inFile > 0 && found === 0 && this.events > 0) {
        warnings.push(`${this.truth.description}: none of its ${inFile} labelled transactions is in the stream: the truth of another run?`);
      }
    }
    const report: AnalysisReport = {
      report_version: REPORT_VERSION,
      sources: this.sources,
      percentile_definition: PERCENTILE_DEFINITION,
      events: this.events,
      events_by_type: eventsByType,
      invalid_lines: this.invalidLines,
      invalid_examples: this.invalidExamples,
      unknown_type_events: this.unknownTypeEvents,
      events_with_extra_fields: this.extraFieldEvents,
      time_span: {
        first_ts_ms: hasEvents ? this.firstTs : null,
        last_ts_ms: hasEvents ? this.lastTs : null,
        span_ms: hasEvents ? this.lastTs - this.firstTs : null,
      },
      transactions: {
        total: this.completed + this.aborted + this.failed + stillOpen.length + endsLost,
        completed: this.completed,
        aborted: this.aborted,
        failed: this.failed,
        open: stillOpen.length,
        stuck: this.labels.silent,
      },
      duration_ms: this.durations.summary(),
      first_event_to_close_ms: this.firstToClose.summary(),
      gap_ms: this.gaps.summary(),
      pre_delay_ms: this.preDelays.summary(),
      retry_backoff_ms: this.backoffs.summary(),
      concurrency: this.concurrency.report(),
      workflows: this.workflows.report(),
      step_baselines: this.stepBaselines.report(this.options.madK),
      outliers: outliers.report,
      ground_truth: groundTruth,
      ...(this.options.alerts !== undefined ? { alerts: this.options.alerts.report() } : {}),
      violations: this.violations.report(),
      warnings,
    };
    if (faults !== undefined) {
      const v = report.violations;
      const finding = (kind: keyof typeof faults.injected, checks: readonly string[], found: number | null) => ({ injected: faults.injected[kind], found, checks });
      (report as { delivery_faults?: DeliveryFaultsReport }).delivery_faults = {
        drop: finding("drop", ["missing_steps", "close_without_open", "ends_lost"], v.missing_steps.count + v.close_without_open.count + endsLost),
        duplicate: finding("duplicate", ["duplicates"], v.duplicates.count),
        delay: finding("delay", ["out_of_order"], v.out_of_order.count),
        skew: finding("skew", [], null),
        corrupt: finding("corrupt", ["invalid_lines"], this.invalidLines),
        ends_lost: endsLost,
      };
    }
    if (!this.options.charts) return report;

    const flaggedIds = new Set(outliers.flagged.map((judged) => judged.txnId));
    const drawn = new Map<string, TimelineTransaction>();
    for (const judged of [...outliers.flagged, ...outliers.missed, ...this.timelineSample]) {
      if (judged.timeline !== undefined && !drawn.has(judged.txnId)) {
        drawn.set(judged.txnId, { ...judged.timeline, flagged: flaggedIds.has(judged.txnId) });
      }
    }
    stillOpen.slice(0, 10).forEach((txn, index) => drawn.set(txn.id, timelineOf(txn, stillOpenLabels[index])));
    return {
      ...report,
      charts: {
        duration_histogram: histogram(this.durations.sorted()),
        gap_histogram: histogram(this.gaps.sorted()),
        timeline: [...drawn.values()].sort((a, b) => (a.opened ?? a.steps[0]?.open ?? 0) - (b.opened ?? b.steps[0]?.open ?? 0)),
      },
    };
  }
}
