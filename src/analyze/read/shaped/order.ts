/**
 * The order of a shaped stream read from several topics. Kafka keeps the order of each partition;
 * the merge (kafka/read/record-merge.ts) puts the partitions back in record-time order, and at one
 * millisecond it cannot know the order of a transaction's records on different topics (a shaped
 * output puts each record type on its own topic, say). This stage, which reads every record anyway,
 * puts each millisecond's records back in the order wfsim wrote them:
 *  - a transaction's records in its lifecycle's order: open; then per step its open, a failure and
 *    the retry back to the step's open, or its end and the wait to the next step; then its end;
 *  - records of one lane (record types on one topic with one key: a transaction's are on one
 *    partition) keep the order they came in;
 *  - transactions that open at this millisecond after the others (whose steps and ends wfsim writes
 *    before the transactions it opens in their place), so that the number of transactions open at
 *    once is counted as in the JSON Lines.
 * Only records of one millisecond are held: the merge hands them on in time order.
 *
 * With delivery faults (analyze --truth), what a transaction reached is known from its records as
 * they come, less those that do not move it on (a delayed record or a duplicate's copy: older than
 * the last), plus the records the truth says were lost (dropped or corrupted), which never come.
 */
import type { EventType } from "../../../events/schema.ts";
import { isLifecycleRecord, type ParsedRecord } from "./rebuild.ts";

/** A record and where it came from (a source line, a topic-partition's offset). */
export interface PlacedRecord<P> {
  readonly parsed: ParsedRecord;
  readonly place: P;
}

/** A moment of a transaction at a record time (as the stream has it: a skew included). */
export interface TimedMoment {
  readonly event: EventType;
  readonly step: number;
  readonly ts: number;
}

type Last = TimedMoment;

/** What a lane's queue holds: a record read, or a moment lost on the way (from the truth). */
type Queued<P> = PlacedRecord<P> | TimedMoment;

/** What may follow `last` in a transaction's life, most likely first (moments without a record are skipped by the later ones). */
function successors(last: Last | undefined): readonly [EventType, number][] {
  if (last === undefined) return [["transaction_open", -1]];
  const s = last.step;
  switch (last.event) {
    case "transaction_open":
      return [["step_open", 0]];
    case "step_open":
      return [["step_failed", s], ["step_done", s]];
    case "step_failed":
      return [["step_retry", s], ["step_open", s], ["transaction_failed", -1]];
    case "step_retry":
      return [["step_open", s]];
    case "step_done":
      return [["inter_step_wait", s], ["step_open", s + 1], ["transaction_close", -1]];
    case "inter_step_wait":
      return [["step_open", s + 1]];
    default:
      return [];
  }
}

/** A moment's place in a transaction's life when nothing better is known. */
export function ordinal(event: EventType, step: number): number {
  switch (event) {
    case "transaction_open":
      return 0;
    case "step_open":
      return 1 + step * 5;
    case "step_failed":
      return 2 + step * 5;
    case "step_retry":
      return 3 + step * 5;
    case "step_done":
      return 4 + step * 5;
    case "inter_step_wait":
      return 5 + step * 5;
    default:
      return Number.MAX_SAFE_INTEGER;
  }
}

/** Transactions whose last moment is kept (those open at once in any real run are far fewer). */
const MAX_FOLLOWED = 1 << 21;

const ENDS: ReadonlySet<EventType> = new Set(["transaction_close", "transaction_failed", "transaction_aborted"]);

export class SameMillisecondOrder<P> {
  /** Each followed transaction's last moment handed on. */
  private readonly last = new Map<string, Last>();
  /** Per transaction, the moments whose records were lost (truth), in lifecycle order. */
  private readonly lost: ReadonlyMap<string, readonly TimedMoment[]>;
  private group: PlacedRecord<P>[] = [];
  private ts = NaN;

  /** `lost`: per transaction, the moments whose records the truth says were dropped or corrupted, in lifecycle order. */
  constructor(lost: ReadonlyMap<string, readonly TimedMoment[]> = new Map()) {
    this.lost = lost;
  }

  /** Takes a record; hands on (to `emit`) those whose order is settled. */
  push(record: PlacedRecord<P>, emit: (record: PlacedRecord<P>) => void): void {
    const parsed = record.parsed;
    if (!isLifecycleRecord(parsed)) {
      // Not a moment of a transaction: it keeps its place among the millisecond's records.
      if (this.group.length === 0) emit(record);
      else this.group.push(record);
      return;
    }
    if (parsed.ts < this.ts && this.group.length > 0) {
      // Older than the millisecond held (a delayed record, a duplicate's copy, fetched late): it goes
      // before, and the millisecond stays whole (a record of it may still come from another topic).
      this.note(record);
      emit(record);
      return;
    }
    if (parsed.ts !== this.ts) this.flush(emit);
    this.ts = parsed.ts;
    this.group.push(record);
  }

  /** Records held, waiting for their millisecond to end. */
  get held(): number {
    return this.group.length;
  }

  /**
   * Hands on everything held: at the end of the stream, or when a follower has read all there is
   * (a record of the same millisecond that comes later is then put after these).
   */
  flush(emit: (record: PlacedRecord<P>) => void): void {
    const group = this.group;
    if (group.length === 0) return;
    this.group = [];
    if (group.length === 1) {
      this.note(group[0]!);
      emit(group[0]!);
      return;
    }
    // Per transaction, per lane: the records in the order they came.
    const byTxn = new Map<string, Map<number, Queued<P>[]>>();
    const others: PlacedRecord<P>[] = [];
    for (const record of group) {
      const parsed = record.parsed;
      if (!isLifecycleRecord(parsed)) {
        others.push(record);
        continue;
      }
      let queues = byTxn.get(parsed.txnId);
      if (queues === undefined) byTxn.set(parsed.txnId, (queues = new Map()));
      const lane = parsed.candidate.lane;
      const queue = queues.get(lane);
      if (queue === undefined) queues.set(lane, [record]);
      else queue.push(record);
    }
    const opening: string[] = [];
    for (const [txnId, queues] of byTxn) {
      if ([...queues.values()].some((queue) => queue.some((r) => momentOf(r).event === "transaction_open"))) opening.push(txnId);
      else this.drain(txnId, queues, emit);
    }
    for (const txnId of opening) this.drain(txnId, byTxn.get(txnId)!, emit);
    for (const record of others) emit(record);
  }

  /** Hands on one transaction's records of the millisecond in its lifecycle's order. */
  private drain(txnId: string, queues: Map<number, Queued<P>[]>, emit: (record: PlacedRecord<P>) => void): void {
    const heads: Queued<P>[][] = [...queues.values()];
    const lost = this.lost.get(txnId);
    if (lost !== undefined) {
      // Moments lost before this millisecond moved the transaction on; those at it take their turn (a lane of their own).
      const ts = momentOf(heads[0]![0]!).ts;
      const here: TimedMoment[] = [];
      for (const moment of lost) {
        if (moment.ts < ts) this.noteMoment(txnId, moment);
        else if (moment.ts === ts) here.push(moment);
      }
      if (here.length > 0) heads.push(here);
    }
    for (;;) {
      const live = heads.filter((queue) => queue.length > 0);
      if (live.length === 0) return;
      let pick: Queued<P>[] | undefined;
      if (live.length > 1) {
        // A transaction's end is its last moment: never before another of its moments.
        const ending = live.every((queue) => ENDS.has(momentOf(queue[0]!).event));
        for (const [event, step] of successors(this.last.get(txnId))) {
          if (!ending && ENDS.has(event)) continue;
          pick = live.find((queue) => {
            const moment = momentOf(queue[0]!);
            return moment.event === event && (step < 0 || moment.step === step);
          });
          if (pick !== undefined) break;
        }
        if (pick === undefined) {
          // Nothing expected is here (a moment without a record between): the earliest in a life.
          const place = (queue: Queued<P>[]) => {
            const moment = momentOf(queue[0]!);
            return ordinal(moment.event, moment.step);
          };
          pick = live.reduce((best, queue) => (place(queue) < place(best) ? queue : best));
        }
      } else {
        pick = live[0]!;
      }
      const item = pick.shift()!;
      if (!isPlaced(item)) {
        this.noteMoment(txnId, item);
        continue;
      }
      this.note(item);
      emit(item);
    }
  }

  private note(record: PlacedRecord<P>): void {
    const parsed = record.parsed;
    if (!isLifecycleRecord(parsed)) return;
    const { event, step } = parsed.candidate.moment;
    this.noteMoment(parsed.txnId, { event, step, ts: parsed.ts });
  }

  private noteMoment(txnId: string, moment: TimedMoment): void {
    const last = this.last.get(txnId);
    // Older than the last (a delayed record, a duplicate's copy): the transaction is not moved back.
    // (At one millisecond the order is this stage's own: a retry's open comes after its failure.)
    if (last !== undefined && moment.ts < last.ts) return;
    if (ENDS.has(moment.event)) {
      this.last.delete(txnId);
      return;
    }
    this.last.set(txnId, moment);
    // A transaction whose end has no record is never deleted above: forget the oldest beyond a bound.
    if (this.last.size > MAX_FOLLOWED) this.last.delete(this.last.keys().next().value!);
  }
}

function isPlaced<P>(item: Queued<P>): item is PlacedRecord<P> {
  return "parsed" in item;
}

function momentOf<P>(item: Queued<P>): TimedMoment {
  if (!isPlaced(item)) return item;
  const parsed = item.parsed as ParsedRecord & { readonly candidate: NonNullable<ParsedRecord["candidate"]> };
  return { event: parsed.candidate.moment.event, step: parsed.candidate.moment.step, ts: parsed.ts };
}
