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
 * wait (see PartitionInput.pendingBytes). Records wait as columns of numbers over the fetched bytes
 * (batch-decoder.ts), not as an object each.
 */
import type { DecodedRecords } from "./batch-decoder.ts";

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

/**
 * A released record, as the merge hands it on. The object is the input's own and is reused: its
 * fields hold until the next record is taken from the same input; `value` (a view of the fetched
 * bytes, made on each call) holds as long as it is kept.
 */
export interface InputRecord {
  /** Record timestamp, ms. */
  readonly ts: number;
  readonly rank: number;
  readonly offset: number;
  /** performance.now() when the fetch that brought it was answered. */
  readonly arrived: number;
  /** The value is the bytes [valueStart, valueEnd) of `bytes`: copied from there without a Buffer per record. */
  readonly bytes: Buffer;
  readonly valueStart: number;
  readonly valueEnd: number;
  /** The value holds a line feed or a carriage return. */
  readonly lineBreaks: boolean;
  readonly value: Buffer;
}

class RecordView implements InputRecord {
  ts = 0;
  rank = 0;
  offset = 0;
  arrived = 0;
  bytes: Buffer = EMPTY;
  valueStart = 0;
  valueEnd = 0;
  lineBreaks = false;

  get value(): Buffer {
    return this.bytes.subarray(this.valueStart, this.valueEnd);
  }
}

const EMPTY = Buffer.alloc(0);

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
  /**
   * Per record key (a transaction id), ms its producer's clock was off (a skew from --truth): taken
   * off the record's time before the merge, so that the partition is in time order again.
   */
  clockOffsets: ReadonlyMap<string, number> | undefined;
  /** Fetch answers waiting, oldest first; the head record is `at` of `current` (queue[0]). */
  private queue: DecodedRecords[] = [];
  private current: DecodedRecords | undefined;
  private at = 0;
  private waiting = 0;
  private bytes = 0;
  private readonly view = new RecordView();

  constructor(topic: string, partition: number, topicIndex: number, start: number, end: number) {
    this.topic = topic;
    this.partition = partition;
    this.topicIndex = topicIndex;
    this.next = start;
    this.end = end;
    this.replayUntil = start;
  }

  get pending(): number {
    return this.waiting;
  }

  /** Bytes of fetched (and decompressed) batches whose records wait: what the reader bounds. */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** The input has nothing more to give: a bounded read reached its end, and nothing waits. */
  get exhausted(): boolean {
    return this.next >= this.end && this.waiting === 0;
  }

  /** Where reading would resume to see everything not yet released: the first waiting record, or `next`. */
  get position(): number {
    return this.waiting > 0 ? this.current!.offset[this.at]! : this.next;
  }

  /**
   * The head record's timestamp and rank (only while records wait): kept in fields, set when the
   * head moves, since the merge reads them several times per record and each read through the
   * columns (current, its typed array, at) cost more than the rest of a choice.
   */
  headTs = 0;
  headRank = 0;

  get headOffset(): number {
    return this.current!.offset[this.at]!;
  }

  get headArrived(): number {
    return this.current!.arrived;
  }

  /** Adds a fetch answer's records (in offset order, after those waiting). */
  add(records: DecodedRecords): void {
    if (records.count === 0) return;
    this.queue.push(records);
    if (this.current === undefined) {
      this.current = records;
      this.at = 0;
      this.headTs = records.ts[0]!;
      this.headRank = records.rank[0]!;
    }
    this.waiting += records.count;
    this.bytes += records.heldBytes;
    if (records.maxTs > this.maxTs) this.maxTs = records.maxTs;
    this.fetched += records.count;
  }

  /** Takes the head record: the returned view holds until the next take. */
  take(): InputRecord {
    const records = this.current!;
    const i = this.at;
    const view = this.view;
    view.ts = records.ts[i]!;
    view.rank = records.rank[i]!;
    view.offset = records.offset[i]!;
    view.arrived = records.arrived;
    view.bytes = records.buffers[records.buffer[i]!]!;
    view.valueStart = records.valueStart[i]!;
    view.valueEnd = records.valueEnd[i]!;
    view.lineBreaks = records.lineBreaks[i] === 1;
    this.waiting--;
    if (++this.at === records.count) {
      this.bytes -= records.heldBytes;
      records.recycle();
      this.queue.shift();
      const next = (this.current = this.queue[0]);
      this.at = 0;
      if (next !== undefined) {
        this.headTs = next.ts[0]!;
        this.headRank = next.rank[0]!;
      }
    } else {
      this.headTs = records.ts[this.at]!;
      this.headRank = records.rank[this.at]!;
    }
    return view;
  }

  /**
   * Each waiting record's value, oldest first, as [start, end) of `bytes`: a look before the merge
   * releases them (a follower looks up new Schema Registry ids, which is asynchronous, first).
   */
  forEachWaiting(visit: (bytes: Buffer, start: number, end: number) => void): void {
    for (let q = 0; q < this.queue.length; q++) {
      const records = this.queue[q]!;
      for (let i = q === 0 ? this.at : 0; i < records.count; i++) visit(records.buffers[records.buffer[i]!]!, records.valueStart[i]!, records.valueEnd[i]!);
    }
  }

  /** Opens waiting at timestamp `ts` before the first end at `ts` (Infinity without one). */
  opensBeforeEnd(ts: number): number {
    let opens = 0;
    for (let q = 0; q < this.queue.length; q++) {
      const records = this.queue[q]!;
      for (let i = q === 0 ? this.at : 0; i < records.count; i++) {
        if (records.ts[i] !== ts) return Infinity;
        const rank = records.rank[i];
        if (rank === RANK_END) return opens;
        if (rank === RANK_OPEN) opens++;
      }
    }
    return Infinity;
  }

  /** Whether an open of the transaction keyed as `other`'s head record waits at timestamp `ts` (those waiting are in time order). */
  hasOpenOf(ts: number, other: PartitionInput): boolean {
    // Most often nothing here is as early: no need to read the other's key.
    if (this.waiting === 0 || this.headTs > ts) return false;
    const keyed = other.current!;
    const k = other.at;
    const keyStart = keyed.keyStart[k]!;
    if (keyStart < 0) return false;
    const keyBytes = keyed.buffers[keyed.buffer[k]!]!;
    const keyLength = keyed.keyEnd[k]! - keyStart;
    for (let q = 0; q < this.queue.length; q++) {
      const records = this.queue[q]!;
      for (let i = q === 0 ? this.at : 0; i < records.count; i++) {
        const recordTs = records.ts[i]!;
        if (recordTs > ts) return false;
        if (recordTs !== ts || records.rank[i] !== RANK_OPEN) continue;
        const start = records.keyStart[i]!;
        if (start < 0 || records.keyEnd[i]! - start !== keyLength) continue;
        const bytes = records.buffers[records.buffer[i]!]!;
        let same = true;
        for (let j = 0; j < keyLength; j++) {
          if (bytes[start + j] !== keyBytes[keyStart + j]) {
            same = false;
            break;
          }
        }
        if (same) return true;
      }
    }
    return false;
  }

  /** The head record has a key (a step without one cannot be matched to its open). */
  get headHasKey(): boolean {
    return this.current!.keyStart[this.at]! >= 0;
  }

  /** Replay is done when everything below `replayUntil` was fetched and released. */
  get replayDone(): boolean {
    return this.next >= this.replayUntil && (this.waiting === 0 || this.headOffset >= this.replayUntil);
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
      if (this.replaying) continue;
      // A run: the input's next records go at once, without choosing again, while they come
      // strictly before every other input's head and before what every input without records
      // waiting has shown (candidate's rules, whose ties need a full choice, never apply there).
      const bound = this.runBound(input);
      while (input.pending > 0 && input.headTs < bound) {
        emit(input, this.take(input));
        released++;
      }
    }
  }

  /** The timestamp before which `input`'s records may go without asking candidate(). */
  private runBound(input: PartitionInput): number {
    let bound = Infinity;
    const inputs = this.inputs;
    for (let i = 0; i < inputs.length; i++) {
      const other = inputs[i]!;
      if (other === input) continue;
      if (other.pending > 0) {
        const ts = other.headTs;
        if (ts < bound) bound = ts;
      } else if (other.next < other.end && other.maxTs < bound) {
        // It may still deliver a record as late as the largest it has shown.
        bound = other.maxTs;
      }
    }
    return bound;
  }

  /**
   * The input whose head goes next, if it can go now: nothing another input may still deliver goes
   * before it. While replaying, only records below replayUntil count.
   */
  candidate(settings: MergeSettings, now: number): PartitionInput | undefined {
    const inputs = this.inputs;
    let best: PartitionInput | undefined;
    let bestTs = 0;
    let bestRank = 0;
    let bestOpens = 0;
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!;
      if (input.pending === 0) continue;
      if (this.replaying && input.headOffset >= input.replayUntil) continue;
      const ts = input.headTs;
      const rank = input.headRank;
      if (best === undefined || ts < bestTs || (ts === bestTs && rank < bestRank)) {
        best = input;
        bestTs = ts;
        bestRank = rank;
        bestOpens = -1;
      } else if (ts === bestTs && rank !== RANK_STEP && bestRank !== RANK_STEP) {
        // Ends and opens of the same millisecond on several partitions: take first the partition
        // that reaches an end after the fewest opens, so that the number of transactions open at
        // once is not inflated by opens that Kafka's partitions hold ahead of ends.
        if (bestOpens < 0) bestOpens = best.opensBeforeEnd(bestTs);
        const opens = input.opensBeforeEnd(ts);
        if (opens < bestOpens) {
          best = input;
          bestRank = rank;
          bestOpens = opens;
        }
      }
    }
    if (best === undefined) return undefined;
    if (bestRank === RANK_STEP && best.headHasKey) {
      // A step and its transaction's open at the same millisecond: the open goes first. Records
      // ahead of it in its input have the same timestamp, so releasing that input's head now keeps
      // the input's order, and the step comes back as the candidate until the open is out.
      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i]!;
        if (input !== best && input.hasOpenOf(bestTs, best)) {
          best = input;
          break;
        }
      }
    }
    const arrived = best.headArrived;
    for (let i = 0; i < inputs.length; i++) {
      const other = inputs[i]!;
      if (other === best || other.pending > 0) continue;
      if (this.replaying) {
        if (other.next >= other.replayUntil) continue;
        return undefined;
      }
      if (other.next >= other.end) continue;
      if (other.maxTs > bestTs) continue;
      if (settings.follow && other.caughtUp && now - arrived >= settings.mergeWaitMs) continue;
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
      const input = candidates[i];
      if (input !== undefined && (best < 0 || before(input, candidates[best]!))) best = i;
    }
    if (best < 0) return released;
    const slot = slots[best]!;
    emit(slot, candidates[best]!, slot.take(candidates[best]!));
    released++;
    candidates[best] = slot.candidate(settings, now);
  }
}

/** Merged order of two inputs' heads: timestamp, then the tie rank. Equal ones keep input order. */
function before(a: PartitionInput, b: PartitionInput): boolean {
  const ts = a.headTs;
  const other = b.headTs;
  return ts < other || (ts === other && a.headRank < b.headRank);
}
