/**
 * What the analysis remembers about one transaction while it is open: a few numbers, the lifecycle
 * positions it has seen (to tell duplicates and reorderings apart), and, only when an HTML report was
 * asked for, the times of its steps and waits.
 */
import type { Keyed } from "./txn-table.ts";
import type { ObservedTransaction, TxnRepair } from "../score/truth.ts";
import type { WorkflowFigures } from "./workflows.ts";

/**
 * Each event has a place in a transaction's life: transaction_open 0, step_open k at 3k−2,
 * step_done k at 3k−1, inter_step_wait k→k+1 at 3k, and the end after everything.
 *
 * A step that fails and is retried (scenario runs) goes through step_open, step_failed, step_retry,
 * step_open again, ... before its step_done: those events take fractional places between step_open k
 * (its first attempt) and step_done k, in attempt order, so one number still orders a whole life.
 */
const MAX_STEPS_CHECKED = 100_000;

export const END_POSITION = Number.MAX_SAFE_INTEGER;

/** Bits 0..30 but the waits' positions (3, 6, ..., 30). */
const NOT_WAITS = ~Array.from({ length: 10 }, (_, i) => 1 << (3 * (i + 1))).reduce((mask, bit) => mask | bit, 0);

export const positionOfStepOpen = (step: number) => 3 * step - 2;
export const positionOfStepDone = (step: number) => 3 * step - 1;
export const positionOfWait = (fromStep: number) => 3 * fromStep;

/** Places within a step's attempts: 2^24 of them, three per attempt (open, failed, retry). */
const ATTEMPT_SCALE = 2 ** 24;
const MAX_ATTEMPT_ORDERED = Math.floor(ATTEMPT_SCALE / 3) - 1;
const FAILED = 1;
const RETRY = 2;

/** step_open of attempt `attempt` of step `step` (attempt 1 is positionOfStepOpen). */
export function positionOfAttemptOpen(step: number, attempt: number): number {
  return attemptPlace(step, 3 * (Math.min(attempt, MAX_ATTEMPT_ORDERED) - 1));
}
/** step_failed of attempt `attempt`: after its step_open. */
export function positionOfStepFailed(step: number, attempt: number): number {
  return attemptPlace(step, 3 * (Math.min(attempt, MAX_ATTEMPT_ORDERED) - 1) + FAILED);
}
/** step_retry announcing attempt `attempt` (2 or more): after the failure of the attempt before. */
export function positionOfStepRetry(step: number, attempt: number): number {
  return attemptPlace(step, 3 * (Math.min(attempt, MAX_ATTEMPT_ORDERED) - 2) + RETRY);
}
const attemptPlace = (step: number, sub: number) => positionOfStepOpen(step) + Math.max(0, sub) / ATTEMPT_SCALE;

/** Marks recorded for the timeline chart: [kind, step, ts, extra] per event. */
export const MARK_STEP_OPEN = 1;
export const MARK_STEP_DONE = 2;
export const MARK_WAIT = 3;
export const MARK_WAIT_INJECTED = 4;
export const MARK_STEP_FAILED = 5;

/** How a transaction ended in the stream. */
export type Outcome = "completed" | "aborted" | "failed";

export class TransactionState implements Keyed, ObservedTransaction {
  // Every field is set by reset(): states are pooled and reused, so that reading a long stream
  // allocates no per-transaction objects for the garbage collector to chase (see StreamAnalysis).
  key = "";
  hash = 0;
  /** Order of first appearance in the stream. */
  seq = 0;
  firstSource = "";
  firstLine = 0;
  firstTs = 0;
  lastTs = 0;
  openSeen = false;
  /** Its transaction_open was lost on the way (a delivery fault the truth names) and put back. */
  openRestored = false;
  opened = NaN;
  /** What the truth says was done to its records (delivery faults), to undo it. */
  repair: TxnRepair | undefined = undefined;
  /** Furthest lifecycle position seen so far. */
  position = -1;
  /** Integer positions 0..30 seen, as bits; the others in a set (transactions with over 10 steps or retries). */
  private seenLow = 0;
  private seenHigh: Set<number> | undefined = undefined;
  /** Latest step_done: its step and time, where the next gap starts. */
  doneStep = 0;
  doneTs = NaN;
  maxGap = NaN;
  maxGapAfterStep = NaN;
  /** Its transaction_open carried steps_planned: it is from a blind stream, which has no inter_step_wait. */
  blind = false;
  injectedGaps = 0;
  injectedWaitAt = NaN;
  /** from_step of its waits that said outlier_injected: true. */
  readonly injectedFromSteps: number[] = [];
  /**
   * Its gaps, as measured: from_step and ms, side by side, the first `gapCount` (the grouped outlier
   * rule judges each). The arrays keep their room when the state is reused, so nothing is allocated.
   */
  readonly gapFrom: number[] = [];
  readonly gapMs: number[] = [];
  gapCount = 0;
  /** A first attempt's step_open read before the step_done of the step before (same ms, swapped). */
  pendingOpenStep = 0;
  pendingOpenTs = NaN;
  /** The latest step_open: its step and time, where the step's work starts. */
  openStep = 0;
  openTs = NaN;
  /** Golden windows by step: the step open (not yet done) and its first attempt's step_open time. */
  windowStep = 0;
  windowStepTs = NaN;
  /** Events it was reported missing when it ended (a straggler among them is late, not missing). */
  missingReported = 0;
  /** Its transaction_open said `stuck: true` (inline ground truth). */
  stuckLabelled = false;
  /** step_failed events read (inline ground truth: failures are events of their own). */
  failures = 0;
  /** How it ended, once it has. */
  outcome: Outcome | undefined = undefined;
  /** Its workflow's figures, once an event named it. */
  workflow: WorkflowFigures | undefined = undefined;
  endedTs = NaN;
  /** Steps done (completed, aborted) or the failed step, as its end said. */
  endStep = 0;
  marks: number[] | undefined = undefined;

  constructor(key: string, hash: number, seq: number, source: string, line: number, ts: number, withMarks: boolean) {
    this.reset(key, hash, seq, source, line, ts, withMarks);
  }

  /** Makes this state a new transaction's, first seen at `source`:`line` at `ts`. */
  reset(key: string, hash: number, seq: number, source: string, line: number, ts: number, withMarks: boolean): this {
    this.key = key;
    this.hash = hash;
    this.seq = seq;
    this.firstSource = source;
    this.firstLine = line;
    this.firstTs = ts;
    this.lastTs = ts;
    this.openSeen = false;
    this.openRestored = false;
    this.opened = NaN;
    this.repair = undefined;
    this.position = -1;
    this.seenLow = 0;
    this.seenHigh = undefined;
    this.doneStep = 0;
    this.doneTs = NaN;
    this.windowStep = 0;
    this.windowStepTs = NaN;
    this.maxGap = NaN;
    this.maxGapAfterStep = NaN;
    this.blind = false;
    this.injectedGaps = 0;
    this.injectedWaitAt = NaN;
    this.injectedFromSteps.length = 0;
    this.gapCount = 0;
    this.pendingOpenStep = 0;
    this.pendingOpenTs = NaN;
    this.missingReported = 0;
    this.openStep = 0;
    this.openTs = NaN;
    this.stuckLabelled = false;
    this.failures = 0;
    this.outcome = undefined;
    this.workflow = undefined;
    this.endedTs = NaN;
    this.endStep = 0;
    this.marks = withMarks ? [] : undefined;
    return this;
  }

  /** The txn_id as written (keys hold UTF-8 bytes one char per byte). */
  get id(): string {
    return Buffer.from(this.key, "latin1").toString("utf8");
  }

  hasSeen(position: number): boolean {
    if (position < 31 && (position | 0) === position) return ((this.seenLow >>> position) & 1) === 1;
    return this.seenHigh?.has(position) === true;
  }

  markSeen(position: number): void {
    if (position < 31 && (position | 0) === position) this.seenLow |= 1 << position;
    else (this.seenHigh ??= new Set()).add(position);
  }

  /**
   * Whether every position from 1 to `end` − 1 was seen (the quick check; `missing` says what is
   * not). A transaction closed after n steps needs 1 .. 3n − 1: every step_open and step_done, and
   * every wait but one after the last step; one that failed at step f needs 1 .. 3f − 2. Without
   * `withWaits` (a blind stream has no inter_step_wait), the waits' positions are not needed.
   */
  hasAllBefore(end: number, withWaits = true): boolean {
    if (end <= 1) return true;
    if (end <= 31) {
      const wanted = ((1 << end) - 2) & (withWaits ? ~0 : NOT_WAITS);
      return (this.seenLow & wanted) === wanted;
    }
    return this.missing(end, withWaits).count === 0;
  }

  /** The events at positions 1 to `end` − 1 not seen, the first few named. */
  missing(end: number, withWaits = true): { count: number; first: string[] } {
    let count = 0;
    const first: string[] = [];
    // A bad count (a close claiming 10^12 steps) must not stall the analysis: past wfsim's own limit
    // every event counts as missing without being looked at.
    const looked = Math.min(end - 1, 3 * MAX_STEPS_CHECKED);
    for (let position = 1; position <= looked; position++) {
      if (this.hasSeen(position) || (!withWaits && position % 3 === 0)) continue;
      count++;
      if (first.length < 5) first.push(describePosition(position));
    }
    if (end - 1 > looked) {
      count += end - 1 - looked;
      first.push(`steps ${MAX_STEPS_CHECKED + 1} to ${Math.ceil((end - 1) / 3)}`);
    }
    return { count, first };
  }
}

/** Names an event for messages: "step_open 3", "inter_step_wait 2→3", "step_failed 3 (attempt 2)". */
export function describePosition(position: number): string {
  if (position === 0) return "transaction_open";
  if (position === END_POSITION) return "its end";
  const whole = Math.floor(position);
  const step = Math.floor((whole + 2) / 3);
  const sub = Math.round((position - whole) * ATTEMPT_SCALE);
  if (sub > 0) {
    const attempt = Math.floor(sub / 3) + 1;
    switch (sub % 3) {
      case FAILED:
        return `step_failed ${step} (attempt ${attempt})`;
      case RETRY:
        return `step_retry ${step} (attempt ${attempt + 1})`;
      default:
        return `step_open ${step} (attempt ${attempt})`;
    }
  }
  switch (whole - 3 * step) {
    case -2:
      return `step_open ${step}`;
    case -1:
      return `step_done ${step}`;
    default:
      return `inter_step_wait ${step}→${step + 1}`;
  }
}
