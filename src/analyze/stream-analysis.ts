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
import type { LineRanges } from "./read/source.ts";
import { OutlierJudge, type Judged } from "./score/outliers.ts";
import type { AnalysisOptions } from "./options.ts";
import { OverTime } from "./measure/over-time.ts";
import { GroupedJudge, type Measured } from "./score/grouped-outliers.ts";
import { StepBaselines } from "./score/step-baselines.ts";
import { evenly, histogram, SpreadSample, timelineOf } from "./render/chart-data.ts";
import { REPORT_VERSION, type AnalysisReport, type DeliveryFaultsReport, type InvalidLine, type TimelineTransaction, type ViolationExample, type ViolationKind } from "./report.ts";
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
import { IN_STREAM_TRUTH, type FaultTruth, type GroundTruth, type LostRecord, type TransactionLabels, type TxnRepair } from "./score/truth.ts";
import { TxnTable } from "./measure/txn-table.ts";
import type { LineLocator } from "./read/source.ts";
import { EVENT_TYPES } from "../events/schema.ts";
import { MAX_EXAMPLES, Violations } from "./measure/violations.ts";
import { GoldenWindows, type WindowOptions, type WindowsResult } from "./score/golden-windows.ts";

export const PERCENTILE_DEFINITION =
  "nearest-rank: the p-th percentile is the smallest observed value v such that at least p% of the values are <= v (rank ceil(p/100 * n))";

/** Transactions kept after they end, to recognise late duplicates and stragglers (a bounded window). */
export const RECENTLY_ENDED = 16_384;
/** Distinct unknown event types counted by name; more are counted under "(other)". */
const MAX_UNKNOWN_TYPES = 100;
/**
 * Transactions drawn on the HTML timeline: samples spread evenly over the whole run, however long, in
 * bounded memory (SpreadSample), of the ordinary ones and of those with an injected outlier or a
 * failure, beside the most extreme flagged, the missed, and some of those still open at the end
 * (stuck ones first), each spread over the run.
 */
const TIMELINE_SAMPLE = { ordinary: 30, injected: 10, failed: 10, flagged: 10, missed: 10, stuck: 10, open: 5 } as const;

/** The event that ends a transaction, by outcome. */
const END_TYPES: Record<Outcome, string> = { completed: "transaction_close", aborted: "transaction_aborted", failed: "transaction_failed" };

export interface StreamAnalysisOptions extends AnalysisOptions {
  readonly truth: GroundTruth;
  readonly alerts?: AlertScorer | undefined;
  /** Collect what the HTML page draws (histograms, a timeline of some transactions). */
  readonly charts: boolean;
  /** Told when a transaction starts being followed and when it ends (a live detector, e.g. follow.ts). */
  readonly observer?: TransactionObserver | undefined;
  /** Also compute golden windowed results (score/golden-windows.ts), read with `windowsResult()`. */
  readonly windows?: WindowOptions | undefined;
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
  private readonly overTime: OverTime;
  /** The pooled rule (or a fixed threshold), or the grouped rule: exactly one of them judges. */
  private readonly judge: OutlierJudge | undefined;
  private readonly grouped: GroupedJudge | undefined;
  private readonly timelineSample = {
    ordinary: new SpreadSample<Judged>(TIMELINE_SAMPLE.ordinary),
    injected: new SpreadSample<Judged>(TIMELINE_SAMPLE.injected),
    failed: new SpreadSample<Judged>(TIMELINE_SAMPLE.failed),
  };
  private readonly windows: GoldenWindows | undefined;
  private readonly windowsByStep: boolean;
  /** Delivery faults the truth names: undone before measuring the lifecycle (see `restore`). */
  private readonly faults: FaultTruth | undefined;
  /** Processing a record the stream lost, put back from the truth: no stream check sees it. */
  private synthetic = false;
  /** The last transaction_open read carried steps_planned: a blind stream, which has no inter_step_wait. */
  private blindStream = false;
  /** Transactions whose lost ending record was put back. */
  private endsRestored = 0;
  /** The next of the truth's lost records (in time order) not yet due. */
  private lostNext = 0;

  constructor(options: StreamAnalysisOptions) {
    this.options = options;
    this.faults = options.truth?.faults;
    this.windows = options.windows === undefined ? undefined : new GoldenWindows(options.windows, this.faults?.maxDelayMs ?? 0);
    this.windowsByStep = options.windows?.by === "step";
    this.truth = options.truth ?? IN_STREAM_TRUTH;
    const pooled = options.rule === "pooled" || options.thresholdMs !== undefined;
    this.judge = pooled ? new OutlierJudge(options) : undefined;
    this.grouped = pooled ? undefined : new GroupedJudge(options);
    this.scanner = new LineScanner(this);
    this.overTime = new OverTime({ intervalMs: options.intervalMs });
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

  /** One line in place: bytes [start, end), and bytes[end] is a newline (see LineRanges). */
  pushLine(bytes: Buffer, start: number, end: number): void {
    this.scanner.pushLine(bytes, start, end);
  }

  /** Lines in place, in order. */
  pushLines(lines: LineRanges): void {
    const { bytes, start, end } = lines;
    for (let i = 0; i < lines.count; i++) this.scanner.pushLine(bytes[i]!, start[i]!, end[i]!);
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
    let txn = this.open.find(bytes, idStart, idEnd, hash);
    let ended: TransactionState | undefined;
    let key: string | undefined;
    let repair: TxnRepair | undefined;
    if (txn !== undefined) repair = txn.repair;
    else {
      ended = this.ended.find(bytes, idStart, idEnd, hash);
      if (ended !== undefined) repair = ended.repair;
      else {
        key = bytes.toString("latin1", idStart, idEnd);
        repair = this.faults?.repairOf(key);
      }
    }
    // A skewed producer's clock, put right: the lifecycle in event time.
    if (repair !== undefined && repair.skewMs !== 0) regs[R.ts] = regs[R.ts]! - repair.skewMs;
    const ts = regs[R.ts]!;
    this.events++;
    this.byType[code]!++;
    if (ts < this.firstTs) this.firstTs = ts;
    if (ts > this.lastTs) this.lastTs = ts;
    this.windows?.advance(ts);
    this.overTime.event(ts);
    if (this.faults !== undefined) this.restoreDue(ts);

    if (ended !== undefined) {
      this.afterEnd(ended, code, ts);
      return;
    }
    if (txn === undefined) {
      const seq = this.seq++;
      let source = this.source;
      let line = this.scanner.line;
      if (this.locator !== undefined) {
        source = this.locator.sourceOf(line);
        line = this.locator.lineOf(line);
      }
      const charts = this.options.charts;
      txn = this.pool.pop()?.reset(key!, hash, seq, source, line, ts, charts) ?? new TransactionState(key!, hash, seq, source, line, ts, charts);
      txn.repair = repair;
      // Until its own open says (a lost open never does), a transaction is as blind as the stream's last open.
      txn.blind = this.blindStream;
      this.open.insert(txn);
      this.concurrency.record(ts, this.open.size);
      this.options.observer?.opened(txn);
    }

    const position = this.positionOf(code);
    // Records it lost before this one: put back first, in their order.
    if (txn.outcome !== undefined) {
      // Its lost ending, put back, came before this record (a straggler now).
      this.afterEnd(txn, code, ts);
      return;
    }
    if (position !== END_POSITION) {
      if (txn.hasSeen(position)) {
        this.finding("duplicates", ts, () => this.example(txn!, `${describePosition(position)} again`));
        return;
      }
      txn.markSeen(position);
    }
    if (position < txn.position) {
      const after = describePosition(txn.position);
      this.finding("out_of_order", ts, () => this.example(txn!, `${describePosition(position)} after ${after}`));
    } else if (ts < txn.lastTs) {
      const last = txn.lastTs;
      this.finding("out_of_order", ts, () => this.example(txn!, `${describePosition(position)} at ts_ms ${ts}, before the previous event's ${last}`));
    }
    if (position > txn.position) txn.position = position;
    if (ts > txn.lastTs) txn.lastTs = ts;
    if (txn.workflow === undefined) {
      const workflow = this.scanner.text(X.workflow);
      if (workflow !== undefined) txn.workflow = this.workflows.of(workflow);
    }
    if (repair === undefined) return this.apply(txn, code, ts);
    if (position === END_POSITION) {
      // Checked as read, though measured once the records delayed before it have come.
      if (repair.endRead) {
        this.finding("duplicates", ts, () => this.example(txn!, `${EVENT_TYPES[code]} again`));
        return;
      }
      repair.endRead = true;
      const outcome: Outcome = code === T.close ? "completed" : code === T.aborted ? "aborted" : "failed";
      const endStep = code === T.close ? regs[R.steps]! : code === T.aborted ? regs[R.stepsCompleted]! : regs[R.failedStep]!;
      repair.endTs = ts;
      repair.endComplete = outcome === "failed" ? positionOfStepOpen(endStep) + 1 : positionOfStepDone(endStep) + 1;
      this.endChecks(txn, outcome, ts, endStep);
    } else if (repair.endRead && txn.missingReported > 0 && position < repair.endComplete) {
      // As afterEnd: what was counted missing at the ending has all come, late.
      txn.missingReported--;
      if (txn.missingReported === 0) {
        this.violations.retract("missing_steps", txn.id);
        this.overTime.finding("missing_steps", repair.endTs, -1);
      }
    }
    // A transaction the faults touched: measured in event-time order, lost records put back.
    const delayed = repair.delayed;
    const step = code === T.wait ? regs[R.fromStep]! : position === 0 || position === END_POSITION ? NaN : regs[R.step]!;
    for (let i = 0; i < delayed.length; i++) {
      const d = delayed[i]!;
      if (d.ts === ts && d.type === EVENT_TYPES[code] && (d.step === step || (Number.isNaN(d.step) && Number.isNaN(step)))) {
        delayed.splice(i, 1);
        break;
      }
    }
    this.restore(txn, repair, ts, position);
    insertPending(repair, { code, ts, position, regs: regs.slice(), lost: undefined });
    this.drain(txn, repair, false);
  }

  /**
   * Puts back the records `txn` lost on the way (dropped or corrupted, as the truth says) that came
   * before a record at `ts` in `position` (all of them: `ts` Infinity): queued with the records read,
   * measured in order by `drain`.
   */
  private restore(txn: TransactionState, repair: TxnRepair, ts: number, position: number): void {
    while (repair.next < repair.lost.length) {
      const lost = repair.lost[repair.next]!;
      const code = (EVENT_TYPES as readonly string[]).indexOf(lost.type);
      const at = lostPosition(code, lost);
      if (!(lost.ts < ts || (lost.ts === ts && at < position))) break;
      repair.next++;
      if (code >= 0) insertPending(repair, { code, ts: lost.ts, position: at, regs: undefined, lost });
    }
  }

  /**
   * Measures the queued records of `txn` in event-time order, up to the first that a delayed record
   * not yet arrived comes before (`all`: every one; the stream has ended). A record put back from the
   * truth counts for the lifecycle's figures only: no stream check sees it, so those still describe
   * the stream as read; its other fields are what the lifecycle implies (a close's duration_ms: from
   * the open).
   */
  private drain(txn: TransactionState, repair: TxnRepair, all: boolean): void {
    const queue = repair.queue as Pending[];
    const regs = this.scanner.regs;
    let saved: Float64Array | undefined;
    let taken = 0;
    while (taken < queue.length && txn.outcome === undefined) {
      const item = queue[taken]!;
      if (!all && repair.delayed.some((d) => d.ts < item.ts || (d.ts === item.ts && lostPosition((EVENT_TYPES as readonly string[]).indexOf(d.type), d) < item.position))) break;
      taken++;
      saved ??= regs.slice();
      const lost = item.lost;
      if (lost === undefined) regs.set(item.regs!);
      else {
        regs.fill(NaN);
        regs[R.ts] = lost.ts;
        regs[R.step] = lost.step;
        regs[R.fromStep] = lost.step;
        regs[R.toStep] = lost.step + 1;
        regs[R.attempt] = 1;
        regs[R.duration] = lost.ts - txn.opened;
        regs[R.steps] = txn.doneStep;
        regs[R.stepsCompleted] = txn.doneStep;
        regs[R.failedStep] = txn.openStep > 0 ? txn.openStep : txn.doneStep + 1;
        this.windows?.advance(lost.ts);
        if (lost.ts > txn.lastTs) txn.lastTs = lost.ts;
      }
      this.synthetic = lost !== undefined;
      try {
        this.apply(txn, item.code, item.ts);
      } finally {
        this.synthetic = false;
      }
    }
    if (taken > 0) queue.splice(0, taken);
    if (saved !== undefined) regs.set(saved);
  }

  /**
   * Puts back the lost records of open transactions whose time has passed (the stream has reached a
   * later ts_ms): a transaction whose last records were lost sends nothing that would bring them back.
   */
  private restoreDue(ts: number): void {
    const lost = this.faults!.lostInOrder;
    while (this.lostNext < lost.length && lost[this.lostNext]!.ts < ts) {
      const { key, hash, ts: due } = lost[this.lostNext++]!;
      const txn = this.open.findKey(key, hash);
      if (txn?.repair === undefined) continue;
      this.restore(txn, txn.repair, due, Infinity);
      this.drain(txn, txn.repair, false);
    }
  }

  /** The lifecycle's part of one event of `txn` (the scanner's registers hold its fields). */
  private apply(txn: TransactionState, code: number, ts: number): void {
    const regs = this.scanner.regs;
    switch (code) {
      case T.open:
        if (this.synthetic) txn.openRestored = true;
        else {
          txn.openSeen = true;
          txn.stuckLabelled = regs[R.stuck] === 1;
          txn.blind = this.blindStream = !Number.isNaN(regs[R.stepsPlanned]!);
        }
        txn.opened = ts;
        this.overTime.opened(ts);
        if (this.windows !== undefined && !this.windowsByStep) this.windows.opened(ts, this.windowGroup(txn, 0));
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
        if (this.windowsByStep && txn.windowStep !== step) {
          txn.windowStep = step;
          txn.windowStepTs = ts;
          this.windows!.opened(ts, this.windowGroup(txn, step));
        }
        txn.marks?.push(MARK_STEP_OPEN, step, ts, regs[R.attempt]! > 1 ? regs[R.attempt]! : 1);
        break;
      }
      case T.stepDone: {
        const step = regs[R.step]!;
        if (this.windowsByStep && txn.windowStep === step) {
          this.windows!.ended(ts, this.windowGroup(txn, step), "completed", ts - txn.windowStepTs, true);
          txn.windowStep = 0;
        }
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
        this.stepBaselines.failure(txn.workflow?.name ?? "", regs[R.step]!);
        if (txn.workflow !== undefined) txn.workflow.stepFailures++;
        txn.marks?.push(MARK_STEP_FAILED, regs[R.step]!, ts, regs[R.attempt]!);
        break;
      case T.stepRetry: {
        const backoff = regs[R.backoff]!;
        if (!Number.isNaN(backoff)) this.backoffs.add(backoff);
        this.stepBaselines.retry(txn.workflow?.name ?? "", regs[R.step]!);
        if (txn.workflow !== undefined) txn.workflow.retries++;
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

  /** The golden windows' group of a transaction (or of its step `step`). */
  private windowGroup(txn: TransactionState, step: number): number {
    const windows = this.windows!;
    if (windows.by === undefined) return 0;
    return windows.group(txn.workflow?.name ?? "", step);
  }

  /** The golden windows, once `finish()` has run (undefined without the `windows` option). */
  windowsResult(): WindowsResult | undefined {
    return this.windows?.result();
  }

  /** A gap measured: from step_done `fromStep` to the next step's first step_open. */
  private gap(txn: TransactionState, fromStep: number, gap: number): void {
    this.gaps.add(gap);
    this.stepBaselines.gap(txn.workflow?.name ?? "", fromStep, gap);
    txn.gapFrom[txn.gapCount] = fromStep;
    txn.gapMs[txn.gapCount] = gap;
    txn.gapCount++;
    if (!(gap <= txn.maxGap)) {
      txn.maxGap = gap;
      txn.maxGapAfterStep = fromStep;
    }
  }

  /** A stream-check finding, counted at `ts` in the breakdown over time too. */
  private finding(kind: ViolationKind, ts: number, example: () => ViolationExample): void {
    if (this.synthetic) return;
    this.violations.add(kind, example);
    this.overTime.finding(kind, ts);
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
  private afterEnd(txn: TransactionState, code: number, ts: number): void {
    const position = this.positionOf(code);
    if (position === END_POSITION || txn.hasSeen(position)) {
      this.finding("duplicates", ts, () => this.example(txn, `${EVENT_TYPES[code]} again, after the transaction ended`));
    } else {
      txn.markSeen(position);
      this.finding("out_of_order", ts, () => this.example(txn, `${describePosition(position)} after the transaction ended`));
      // It was counted missing when the transaction ended: once all that was missing has come, the
      // events were late, not lost, and the transaction is one finding per late event, not two.
      const complete = txn.outcome === "failed" ? positionOfStepOpen(txn.endStep) + 1 : positionOfStepDone(txn.endStep) + 1;
      if (txn.missingReported > 0 && position < complete) {
        txn.missingReported--;
        if (txn.missingReported === 0) {
          this.violations.retract("missing_steps", txn.id);
          this.overTime.finding("missing_steps", txn.endedTs, -1);
        }
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
    if (this.windows !== undefined) {
      if (!this.windowsByStep) this.windows.ended(ts, this.windowGroup(txn, 0), outcome, duration, txn.openSeen || txn.openRestored);
      else if (txn.windowStep !== 0) {
        // The step open when its transaction ended ends with it (no duration: it was not done).
        this.windows.ended(ts, this.windowGroup(txn, txn.windowStep), outcome, NaN, true);
        txn.windowStep = 0;
      }
    }
    this.overTime.ended(ts, outcome, duration);
    // An ending put back from the truth: the stream never ended it, so its checks see nothing; a
    // transaction the faults touched had its ending checked when it was read.
    if (this.synthetic) this.endsRestored++;
    else if (txn.repair === undefined) this.endChecks(txn, outcome, ts, step);
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
    if (this.options.charts) {
      const sample = injected ? this.timelineSample.injected : outcome !== "completed" || txn.failures > 0 ? this.timelineSample.failed : this.timelineSample.ordinary;
      sample.offer(() => judged ?? this.judged(txn, value, labels, duration, outcome));
    }
    this.options.alerts?.settle(txn.key, labels);
    this.options.observer?.ended(txn);
    this.remember(txn);
  }

  /** The stream checks of a transaction's ending, as read: its opening and every step before it seen. */
  private endChecks(txn: TransactionState, outcome: Outcome, ts: number, step: number): void {
    if (!txn.openSeen) {
      this.finding("close_without_open", ts, () => this.example(txn, `${END_TYPES[outcome]} without transaction_open`));
    }
    const complete = outcome === "failed" ? positionOfStepOpen(step) + 1 : positionOfStepDone(step) + 1;
    // A blind stream (its opens carry steps_planned) has no inter_step_wait to miss.
    const withWaits = !txn.blind;
    if (!txn.hasAllBefore(complete, withWaits)) {
      const missing = txn.missing(complete, withWaits);
      txn.missingReported = missing.count;
      const more = missing.count > missing.first.length ? `, … (${missing.count} in all)` : "";
      const how = outcome === "failed" ? `failed at step ${step}` : `ended after ${step} steps`;
      this.finding("missing_steps", ts, () => this.example(txn, `${how} without ${missing.first.join(", ")}${more}`));
    }
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
      if (!grouped.count(workflow, fromStep, value, injected, txn.seq, true)) continue;
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
    if (faults !== undefined) {
      // What the open transactions lost after their last record in the stream: put back now.
      for (const txn of [...this.open.values()].sort((a, b) => a.seq - b.seq)) {
        if (txn.repair === undefined) continue;
        this.restore(txn, txn.repair, Infinity, END_POSITION);
        this.drain(txn, txn.repair, true);
      }
    }
    let endsLost = this.endsRestored;
    let stillOpen = [...this.open.values()].sort((a, b) => a.seq - b.seq);
    if (faults !== undefined) {
      // Ended, the truth says, though its ending record never reached the stream intact: the
      // lifecycle as it happened, not as delivered.
      const open = stillOpen.length;
      stillOpen = stillOpen.filter((txn) => !faults.endLost(txn.key));
      endsLost += open - stillOpen.length;
    }
    const stillOpenLabels = stillOpen.map((txn) => this.truth.labelsOf(txn));
    stillOpen.forEach((txn, index) => {
      const labels = stillOpenLabels[index];
      this.labels.count(labels, true);
      txn.workflow?.stillOpen(labels?.stuck !== undefined);
      // Where it went silent: the step of its furthest event (step_open k to the wait after step k).
      if (labels?.stuck !== undefined) this.stepBaselines.stuck(txn.workflow?.name ?? "", Math.max(1, Math.floor((txn.position + 2) / 3)));
      this.options.alerts?.settle(txn.key, labels);
      if (labels?.stuck !== undefined && this.windows !== undefined) {
        if (!this.windowsByStep) {
          if (txn.openSeen || txn.openRestored) this.windows.stuck(txn.opened, this.windowGroup(txn, 0));
        } else if (txn.windowStep !== 0) this.windows.stuck(txn.windowStepTs, this.windowGroup(txn, txn.windowStep));
      }
      // Silent as its label says: what was injected, not something the stream lost.
      if (labels?.stuck !== undefined) return;
      this.finding("never_closed", txn.lastTs, () => ({
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
        total: this.completed + this.aborted + this.failed + stillOpen.length + endsLost - this.endsRestored,
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
      over_time: this.overTime.report(),
      outliers: outliers.report,
      ground_truth: groundTruth,
      ...(this.options.alerts !== undefined ? { alerts: this.options.alerts.report() } : {}),
      violations: this.violations.report(),
      warnings,
    };
    if (faults !== undefined) {
      const v = report.violations;
      const finding = (kind: keyof typeof faults.injected, checks: readonly string[], found: number | null) => ({ injected: faults.injected[kind], found, checks });
      const shaped = faults.shapedFound?.();
      (report as { delivery_faults?: DeliveryFaultsReport }).delivery_faults = shaped !== undefined ? {
        // A shaped stream: repaired record by record before the rebuild, counted as its records came.
        drop: finding("drop", [], null),
        duplicate: finding("duplicate", ["records_again"], shaped.duplicate),
        delay: finding("delay", ["records_out_of_order"], shaped.delay),
        skew: finding("skew", [], null),
        corrupt: finding("corrupt", ["invalid_lines"], this.invalidLines),
        ends_lost: endsLost,
        records_lost: faults.injected.drop + faults.injected.corrupt,
      } : {
        drop: finding("drop", ["missing_steps", "close_without_open", "ends_lost"], v.missing_steps.count + v.close_without_open.count + endsLost),
        duplicate: finding("duplicate", ["duplicates"], v.duplicates.count),
        delay: finding("delay", ["out_of_order"], v.out_of_order.count),
        skew: finding("skew", [], null),
        corrupt: finding("corrupt", ["invalid_lines"], this.invalidLines),
        ends_lost: endsLost,
        records_lost: faults.injected.drop + faults.injected.corrupt,
      };
    }
    if (!this.options.charts) return report;

    const flaggedIds = new Set(outliers.flagged.map((judged) => judged.txnId));
    const drawn = new Map<string, TimelineTransaction>();
    const sampled = [
      ...outliers.flagged.slice(0, TIMELINE_SAMPLE.flagged),
      ...outliers.missed.slice(0, TIMELINE_SAMPLE.missed),
      ...this.timelineSample.injected.items,
      ...this.timelineSample.failed.items,
      ...this.timelineSample.ordinary.items,
    ];
    for (const judged of sampled) {
      if (judged.timeline !== undefined && !drawn.has(judged.txnId)) {
        drawn.set(judged.txnId, { ...judged.timeline, flagged: flaggedIds.has(judged.txnId) });
      }
    }
    // Still open at the end: stuck ones (labelled to go silent) and others (never closed), spread over the run.
    const open = stillOpen.map((txn, index) => ({ txn, labels: stillOpenLabels[index] }));
    const stuck = evenly(open.filter((o) => o.labels?.stuck !== undefined), TIMELINE_SAMPLE.stuck);
    const unclosed = evenly(open.filter((o) => o.labels?.stuck === undefined), TIMELINE_SAMPLE.open);
    for (const { txn, labels } of [...stuck, ...unclosed]) drawn.set(txn.id, timelineOf(txn, labels));
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

/** Where a lost record sits in its transaction's life (a first attempt: the truth does not say which). */
function lostPosition(code: number, lost: LostRecord): number {
  switch (code) {
    case T.open:
      return 0;
    case T.stepOpen:
      return positionOfStepOpen(lost.step);
    case T.stepDone:
      return positionOfStepDone(lost.step);
    case T.wait:
      return positionOfWait(lost.step);
    case T.stepFailed:
      return positionOfStepFailed(lost.step, 1);
    case T.stepRetry:
      return positionOfStepRetry(lost.step, 1);
    default:
      return END_POSITION;
  }
}

/** A record waiting to be measured: read (its registers), or lost and put back from the truth. */
interface Pending {
  readonly code: number;
  readonly ts: number;
  readonly position: number;
  readonly regs: Float64Array | undefined;
  readonly lost: LostRecord | undefined;
}

/** Queues a record in event-time order (a lifecycle position breaks ties). */
function insertPending(repair: TxnRepair, item: Pending): void {
  const queue = repair.queue as Pending[];
  let i = queue.length;
  while (i > 0 && (queue[i - 1]!.ts > item.ts || (queue[i - 1]!.ts === item.ts && queue[i - 1]!.position > item.position))) i--;
  queue.splice(i, 0, item);
}
