/**
 * A transaction's events are split over two topics: transaction_open/close/aborted on one,
 * step_open/step_done/inter_step_wait on the other, both keyed by txn_id, so on the same partition
 * number of each. Kafka orders each partition, not the two together. A slot merges the partitions
 * that hold the same transactions (partition p of both topics) back into one stream in event-time
 * order, so the stream checks see each transaction's events in the order they happened.
 *
 * Order: by record timestamp (wfsim sets it to ts_ms), ties broken by the place in a transaction's
 * life (transaction_open, then steps, then the end), then by input and offset. A record is released
 * only when no input of the slot can still deliver one that goes before it:
 *  - every other input has a record waiting (its head comes after, by the choice of the smallest), or
 *  - has reached its end (bounded read), or
 *  - has already shown a later timestamp (each partition is written in time order), or
 *  - (following) was caught up with its partition's end and the record has waited `mergeWaitMs`:
 *    an idle partition cannot hold the others back for ever.
 * Memory: what waits is bounded by the fetch sizes; the reader stops fetching an input whose records
 * wait (see PartitionInput.pendingBytes).
 */

/**
 * Ranks for records with the same timestamp. Across transactions, wfsim emits the steps and ends of
 * a millisecond before the transactions it opens in their place (a new one opens as soon as one
 * closes), so opens go last: the number of transactions open at once is counted as in the JSON
 * Lines. Within a transaction the order is open, steps, end: steps go before ends anyway, and an
 * open goes before a step of the same transaction at the same millisecond (see Slot.candidate).
 */
export const RANK_STEP = 0;
export const RANK_END = 1;
export const RANK_OPEN = 2;

export interface InputRecord {
  /** Record timestamp, ms. */
  readonly ts: number;
  readonly rank: number;
  readonly offset: number;
  /** The record key: txn_id for wfsim's records. */
  readonly key: Buffer | null;
  readonly value: Buffer;
  /** performance.now() when the fetch that brought it was answered. */
  readonly arrived: number;
}

/** One topic-partition read into a slot. */
export class PartitionInput {
  readonly topic: string;
  readonly partition: number;
  /** Index of the topic in the connection's pair: 0 transactions, 1 steps. */
  readonly topicIndex: number;
  /** Next offset to fetch. */
  next: number;
  /** Offset to stop at (the end captured when a bounded read began); Infinity when following. */
  readonly end: number;
  /** Records below this offset rebuild state another reader already processed (see follow.ts). */
  replayUntil: number;
  /** The partition's high watermark, as the last fetch answered. */
  highWatermark = -1;
  /** Largest timestamp fetched so far. */
  maxTs = -Infinity;
  /** The last fetch found nothing beyond `next`: the input is at its partition's end for now. */
  caughtUp = false;
  /** Records fetched, in total (replayed ones included). */
  fetched = 0;
  /** The slot it belongs to (its index: the partition number, or -1). */
  slot = -1;
  private queue: InputRecord[] = [];
  private head = 0;
  private bytes = 0;

  constructor(topic: string, partition: number, topicIndex: number, start: number, end: number) {
    this.topic = topic;
    this.partition = partition;
    this.topicIndex = topicIndex;
    this.next = start;
    this.end = end;
    this.replayUntil = start;
  }

  get pending(): number {
    return this.queue.length - this.head;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /** The input has nothing more to give: a bounded read reached its end, and nothing waits. */
  get exhausted(): boolean {
    return this.next >= this.end && this.pending === 0;
  }

  /** Where reading would resume to see everything not yet released: the first waiting record, or `next`. */
  get position(): number {
    return this.pending > 0 ? this.queue[this.head]!.offset : this.next;
  }

  peek(): InputRecord | undefined {
    return this.queue[this.head];
  }

  add(record: InputRecord): void {
    this.queue.push(record);
    this.bytes += record.value.length;
    if (record.ts > this.maxTs) this.maxTs = record.ts;
    this.fetched++;
  }

  take(): InputRecord {
    const record = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as InputRecord;
    this.bytes -= record.value.length;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return record;
  }

  /** Opens waiting at timestamp `ts` before the first end at `ts` (Infinity without one). */
  opensBeforeEnd(ts: number): number {
    let opens = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const record = this.queue[i]!;
      if (record.ts !== ts) break;
      if (record.rank === RANK_END) return opens;
      if (record.rank === RANK_OPEN) opens++;
    }
    return Infinity;
  }

  /** Whether an open of the transaction keyed `key` waits at timestamp `ts` (those waiting are in time order). */
  hasOpenAt(ts: number, key: Buffer): boolean {
    for (let i = this.head; i < this.queue.length; i++) {
      const record = this.queue[i]!;
      if (record.ts > ts) return false;
      if (record.ts === ts && record.rank === RANK_OPEN && record.key !== null && record.key.equals(key)) return true;
    }
    return false;
  }

  /** Replay is done when everything below `replayUntil` was fetched and released. */
  get replayDone(): boolean {
    return this.next >= this.replayUntil && (this.pending === 0 || this.queue[this.head]!.offset >= this.replayUntil);
  }
}

/** Where released records go: one call per record, in merged order. */
export type Release = (input: PartitionInput, record: InputRecord) => void;

export interface MergeSettings {
  /** Following: how long a record waits for an idle, caught-up input before it is released anyway. */
  readonly mergeWaitMs: number;
  /** Bounded reads never release on a timer: every input has a known end. */
  readonly follow: boolean;
}

/** The partitions that hold the same transactions, merged. */
export class Slot {
  /** The partition number (both topics have it), or -1 for a slot that merges every partition. */
  readonly index: number;
  readonly inputs: readonly PartitionInput[];
  /** Largest timestamp released (live records): the slot's event-time watermark. */
  watermark = -Infinity;
  /** Replaying: only records below each input's replayUntil are released, into a separate state. */
  replaying = false;

  constructor(index: number, inputs: readonly PartitionInput[]) {
    this.index = index;
    this.inputs = inputs;
    for (const input of inputs) input.slot = index;
  }

  /** Where each input stands: the first record not released yet (see PartitionInput.position). */
  positions(): number[] {
    return this.inputs.map((input) => input.position);
  }

  get exhausted(): boolean {
    return this.inputs.every((input) => input.exhausted);
  }

  get replayDone(): boolean {
    return this.inputs.every((input) => input.replayDone);
  }

  /** Releases every record that can go now, in merged order; returns how many. */
  release(settings: MergeSettings, now: number, emit: Release): number {
    let released = 0;
    for (;;) {
      const input = this.candidate(settings, now);
      if (input === undefined) return released;
      emit(input, this.take(input));
      released++;
    }
  }

  /**
   * The input whose head goes next, if it can go now: nothing another input may still deliver goes
   * before it. While replaying, only records below replayUntil count.
   */
  candidate(settings: MergeSettings, now: number): PartitionInput | undefined {
    const inputs = this.inputs;
    let best: PartitionInput | undefined;
    let bestRecord: InputRecord | undefined;
    let bestOpens = 0;
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!;
      const record = input.peek();
      if (record === undefined) continue;
      if (this.replaying && record.offset >= input.replayUntil) continue;
      if (bestRecord === undefined || before(record, bestRecord)) {
        best = input;
        bestRecord = record;
        bestOpens = -1;
      } else if (record.ts === bestRecord.ts && record.rank !== RANK_STEP && bestRecord.rank !== RANK_STEP) {
        // Ends and opens of the same millisecond on several partitions: take first the partition
        // that reaches an end after the fewest opens, so that the number of transactions open at
        // once is not inflated by opens that Kafka's partitions hold ahead of ends.
        if (bestOpens < 0) bestOpens = best!.opensBeforeEnd(bestRecord.ts);
        const opens = input.opensBeforeEnd(record.ts);
        if (opens < bestOpens) {
          best = input;
          bestRecord = record;
          bestOpens = opens;
        }
      }
    }
    if (best === undefined || bestRecord === undefined) return undefined;
    if (bestRecord.rank === RANK_STEP && bestRecord.key !== null) {
      // A step and its transaction's open at the same millisecond: the open goes first. Records
      // ahead of it in its input have the same timestamp, so releasing that input's head now keeps
      // the input's order, and the step comes back as the candidate until the open is out.
      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i]!;
        if (input !== best && input.hasOpenAt(bestRecord.ts, bestRecord.key)) {
          best = input;
          bestRecord = input.peek()!;
          break;
        }
      }
    }
    for (let i = 0; i < inputs.length; i++) {
      const other = inputs[i]!;
      if (other === best || other.pending > 0) continue;
      if (this.replaying) {
        if (other.next >= other.replayUntil) continue;
        return undefined;
      }
      if (other.next >= other.end) continue;
      if (other.maxTs > bestRecord.ts) continue;
      if (settings.follow && other.caughtUp && now - bestRecord.arrived >= settings.mergeWaitMs) continue;
      return undefined;
    }
    return best;
  }

  /** Takes the head of `input` (a candidate) and moves the watermark. */
  take(input: PartitionInput): InputRecord {
    const record = input.take();
    if (!this.replaying && record.ts > this.watermark) this.watermark = record.ts;
    return record;
  }
}

/**
 * Releases the records of several slots in one merged order (each slot's candidates, smallest
 * first), so that a reader of several partitions sees them about as they happened. A slot waiting
 * for data does not hold the others back. Returns how many were released.
 */
export function releaseAcross(slots: readonly Slot[], settings: MergeSettings, now: number, emit: (slot: Slot, input: PartitionInput, record: InputRecord) => void): number {
  if (slots.length === 1) {
    const slot = slots[0]!;
    return slot.release(settings, now, (input, record) => emit(slot, input, record));
  }
  const candidates: (PartitionInput | undefined)[] = slots.map((slot) => slot.candidate(settings, now));
  let released = 0;
  for (;;) {
    let best = -1;
    for (let i = 0; i < slots.length; i++) {
      const record = candidates[i]?.peek();
      if (record !== undefined && (best < 0 || before(record, candidates[best]!.peek()!))) best = i;
    }
    if (best < 0) return released;
    const slot = slots[best]!;
    emit(slot, candidates[best]!, slot.take(candidates[best]!));
    released++;
    candidates[best] = slot.candidate(settings, now);
  }
}

/** Merged order: timestamp, then the tie rank. Equal ones keep input order. */
function before(a: InputRecord, b: InputRecord): boolean {
  return a.ts < b.ts || (a.ts === b.ts && a.rank < b.rank);
}
