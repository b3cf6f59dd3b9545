/**
 * The order of a shaped stream read from several topics. Kafka keeps the order of each partition;
 * the merge (kafka/read/record-merge.ts) puts the partitions back in record-time order, and at one
 * millisecond it cannot know the order of a transaction's records on different topics (a shaped
 * output puts each record type on its own topic, say). This stage, which reads every record anyway,
 * puts each millisecond's records back in the order wfsim wrote them:
 *  - a transaction's records in its lifecycle's order: open; then per step its open, a failure and
 *    the retry back to the step's open, or its end and the wait to the next step; then its end;
 *  - records of one record type keep the order they came in (they come from one partition);
 *  - transactions that open at this millisecond after the others (whose steps and ends wfsim writes
 *    before the transactions it opens in their place), so that the number of transactions open at
 *    once is counted as in the JSON Lines.
 * Only records of one millisecond are held: the merge hands them on in time order.
 */
import type { EventType } from "../../../events/schema.ts";
import { isLifecycleRecord, type ParsedRecord } from "./rebuild.ts";

/** A record and where it came from (a source line, a topic-partition's offset). */
export interface PlacedRecord<P> {
  readonly parsed: ParsedRecord;
  readonly place: P;
}

interface Last {
  readonly event: EventType;
  readonly step: number;
}

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
  private group: PlacedRecord<P>[] = [];
  private ts = NaN;

  /** Takes a record; hands on (to `emit`) those whose order is settled. */
  push(record: PlacedRecord<P>, emit: (record: PlacedRecord<P>) => void): void {
    const parsed = record.parsed;
    if (!isLifecycleRecord(parsed)) {
      // Not a moment of a transaction: it keeps its place among the millisecond's records.
      if (this.group.length === 0) emit(record);
      else this.group.push(record);
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
    // Per transaction, per record type: the records in the order they came.
    const byTxn = new Map<string, Map<number, PlacedRecord<P>[]>>();
    const others: PlacedRecord<P>[] = [];
    for (const record of group) {
      const parsed = record.parsed;
      if (!isLifecycleRecord(parsed)) {
        others.push(record);
        continue;
      }
      let queues = byTxn.get(parsed.txnId);
      if (queues === undefined) byTxn.set(parsed.txnId, (queues = new Map()));
      const type = parsed.candidate.record.index;
      const queue = queues.get(type);
      if (queue === undefined) queues.set(type, [record]);
      else queue.push(record);
    }
    const opening: string[] = [];
    for (const [txnId, queues] of byTxn) {
      if ([...queues.values()].some((queue) => queue.some((r) => r.parsed.candidate?.moment.event === "transaction_open"))) opening.push(txnId);
      else this.drain(txnId, queues, emit);
    }
    for (const txnId of opening) this.drain(txnId, byTxn.get(txnId)!, emit);
    for (const record of others) emit(record);
  }

  /** Hands on one transaction's records of the millisecond in its lifecycle's order. */
  private drain(txnId: string, queues: Map<number, PlacedRecord<P>[]>, emit: (record: PlacedRecord<P>) => void): void {
    const heads = [...queues.values()];
    for (;;) {
      const live = heads.filter((queue) => queue.length > 0);
      if (live.length === 0) return;
      let pick: PlacedRecord<P>[] | undefined;
      if (live.length > 1) {
        for (const [event, step] of successors(this.last.get(txnId))) {
          pick = live.find((queue) => {
            const moment = queue[0]!.parsed.candidate!.moment;
            return moment.event === event && (step < 0 || moment.step === step);
          });
          if (pick !== undefined) break;
        }
        if (pick === undefined) {
          // Nothing expected is here (a moment without a record between): the earliest in a life.
          const place = (queue: PlacedRecord<P>[]) => {
            const moment = queue[0]!.parsed.candidate!.moment;
            return ordinal(moment.event, moment.step);
          };
          pick = live.reduce((best, queue) => (place(queue) < place(best) ? queue : best));
        }
      } else {
        pick = live[0]!;
      }
      const record = pick.shift()!;
      this.note(record);
      emit(record);
    }
  }

  private note(record: PlacedRecord<P>): void {
    const parsed = record.parsed;
    if (!isLifecycleRecord(parsed)) return;
    const { event, step } = parsed.candidate.moment;
    if (ENDS.has(event)) {
      this.last.delete(parsed.txnId);
      return;
    }
    this.last.set(parsed.txnId, { event, step });
    // A transaction whose end has no record is never deleted above: forget the oldest beyond a bound.
    if (this.last.size > MAX_FOLLOWED) this.last.delete(this.last.keys().next().value!);
  }
}
