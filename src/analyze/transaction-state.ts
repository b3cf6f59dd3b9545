/**
 * What the analysis remembers about one transaction while it is open: a few numbers, the lifecycle
 * positions it has seen (to tell duplicates and reorderings apart), and, only when an HTML report was
 * asked for, the times of its steps and waits.
 */
import type { Keyed } from "./txn-table.ts";
import type { FinishedTransaction } from "./truth.ts";

/**
 * Each event has a place in a transaction's life: transaction_open 0, step_open k at 3k−2,
 * step_done k at 3k−1, inter_step_wait k→k+1 at 3k, and the end after everything.
 */
const MAX_STEPS_CHECKED = 100_000;

export const END_POSITION = Number.MAX_SAFE_INTEGER;

export const positionOfStepOpen = (step: number) => 3 * step - 2;
export const positionOfStepDone = (step: number) => 3 * step - 1;
export const positionOfWait = (fromStep: number) => 3 * fromStep;

/** Marks recorded for the timeline chart: [kind, step, ts, extra] per event. */
export const MARK_STEP_OPEN = 1;
export const MARK_STEP_DONE = 2;
export const MARK_WAIT = 3;
export const MARK_WAIT_INJECTED = 4;

export class TransactionState implements Keyed, FinishedTransaction {
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
  opened = NaN;
  /** Furthest lifecycle position seen so far. */
  position = -1;
  /** Positions 0..30 seen, as bits; further ones in a set (only transactions with over 10 steps need it). */
  private seenLow = 0;
  private seenHigh: Set<number> | undefined = undefined;
  /** Latest step_done: its step and time, where the next gap starts. */
  doneStep = 0;
  doneTs = NaN;
  maxGap = NaN;
  maxGapAfterStep = NaN;
  injectedGaps = 0;
  injectedWaitAt = NaN;
  /** How it ended, once it has: "completed" or "aborted". */
  outcome: "completed" | "aborted" | undefined = undefined;
  endedTs = NaN;
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
    this.opened = NaN;
    this.position = -1;
    this.seenLow = 0;
    this.seenHigh = undefined;
    this.doneStep = 0;
    this.doneTs = NaN;
    this.maxGap = NaN;
    this.maxGapAfterStep = NaN;
    this.injectedGaps = 0;
    this.injectedWaitAt = NaN;
    this.outcome = undefined;
    this.endedTs = NaN;
    this.marks = withMarks ? [] : undefined;
    return this;
  }

  /** The txn_id as written (keys hold UTF-8 bytes one char per byte). */
  get id(): string {
    return Buffer.from(this.key, "latin1").toString("utf8");
  }

  hasSeen(position: number): boolean {
    if (position < 31) return ((this.seenLow >>> position) & 1) === 1;
    return this.seenHigh?.has(position) === true;
  }

  markSeen(position: number): void {
    if (position < 31) this.seenLow |= 1 << position;
    else (this.seenHigh ??= new Set()).add(position);
  }

  /** Whether every event of `steps` steps was seen (the quick check; `missing` says what is not). */
  hasAllUpTo(steps: number): boolean {
    // Positions 1 .. 3·steps − 1 (all but the wait after the last step) must be seen.
    if (steps <= 0) return true;
    if (steps <= 10) {
      const wanted = ((1 << (3 * steps)) - 2) >>> 0;
      return (this.seenLow & wanted) === wanted;
    }
    return this.missing(steps).count === 0;
  }

  /**
   * The events a transaction that ended after `steps` steps must have had, missing ones listed:
   * step_open and step_done of each step, and the wait between two steps.
   */
  missing(steps: number): { count: number; first: string[] } {
    let count = 0;
    const first: string[] = [];
    const miss = (what: string) => {
      count++;
      if (first.length < 5) first.push(what);
    };
    // A bad count (a close claiming 10^12 steps) must not stall the analysis: past wfsim's own limit
    // every step counts as missing without being looked at.
    const looked = Math.min(steps, MAX_STEPS_CHECKED);
    if (steps > looked) {
      count += 3 * (steps - looked);
      first.push(`steps ${looked + 1} to ${steps}`);
    }
    for (let k = 1; k <= looked; k++) {
      if (!this.hasSeen(positionOfStepOpen(k))) miss(`step_open ${k}`);
      if (!this.hasSeen(positionOfStepDone(k))) miss(`step_done ${k}`);
      if (k < steps && !this.hasSeen(positionOfWait(k))) miss(`inter_step_wait ${k}→${k + 1}`);
    }
    return { count, first };
  }
}

/** Names an event for messages: "step_open 3", "inter_step_wait 2→3", "transaction_close". */
export function describePosition(position: number): string {
  if (position === 0) return "transaction_open";
  if (position === END_POSITION) return "its end";
  const step = Math.floor((position + 2) / 3);
  switch (position - 3 * step) {
    case -2:
      return `step_open ${step}`;
    case -1:
      return `step_done ${step}`;
    default:
      return `inter_step_wait ${step}→${step + 1}`;
  }
}
