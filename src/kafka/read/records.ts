/**
 * From a fetch answer's record batches to what the merge needs (timestamp, rank, offset, value), and
 * from released records back to JSON Lines for the analysis: one record's value, one line.
 */
import type { RecordsBatch } from "@platformatic/kafka";
import { EVENT_TYPE_HEADER } from "../layout.ts";
import { RANK_END, RANK_OPEN, RANK_STEP, type PartitionInput } from "./record-merge.ts";

/** Batch attribute bit of control batches (transaction markers): they carry no events. */
const CONTROL_BATCH = 0x20;

const HEADER_NAME = Buffer.from(EVENT_TYPE_HEADER);
const OPEN = Buffer.from("transaction_open");
const TRANSACTION = Buffer.from("transaction_");
/** Where the type's value starts in `{"type":"…` (wfsim) and `{"type": "…` (the reference script's layout). */
const TYPE_AT_COMPACT = 9;
const TYPE_AT_SPACED = 10;

/**
 * A record's place in a transaction's life, for ties in the merge: from the `event_type` header
 * wfsim sets, else from the start of the value, else by topic (steps in the middle).
 */
export function rankOf(topicIndex: number, value: Buffer, headers: readonly (readonly [Buffer | null, Buffer | null])[]): number {
  for (const [name, type] of headers) {
    if (name !== null && type !== null && name.equals(HEADER_NAME)) return rankOfType(type, 0, type.length);
  }
  if (topicIndex === 1) return RANK_STEP;
  const at = value[TYPE_AT_COMPACT - 1] === 34 ? TYPE_AT_COMPACT : TYPE_AT_SPACED;
  return rankOfType(value, at, value.length);
}

function rankOfType(bytes: Buffer, start: number, end: number): number {
  if (startsWith(bytes, start, end, OPEN)) return RANK_OPEN;
  if (startsWith(bytes, start, end, TRANSACTION)) return RANK_END;
  return RANK_STEP;
}

function startsWith(bytes: Buffer, start: number, end: number, prefix: Buffer): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[start + i] !== prefix[i]) return false;
  return true;
}

export interface PartitionAnswer {
  readonly highWatermark: bigint;
  readonly lastStableOffset: bigint;
  readonly records?: RecordsBatch[] | null;
}

/**
 * Adds a fetch answer's records at or after `input.next` (below `input.end`) to the input, moves
 * `next` past them, and notes whether the input is caught up. Records without a value (tombstones)
 * and control batches only move `next`. Returns how many records were added.
 */
export function addAnswer(input: PartitionInput, answer: PartitionAnswer, arrived: number): number {
  let added = 0;
  for (const batch of answer.records ?? []) {
    const base = Number(batch.firstOffset);
    const last = base + batch.lastOffsetDelta;
    if (last < input.next) continue;
    if ((batch.attributes & CONTROL_BATCH) === 0) {
      const baseTs = Number(batch.firstTimestamp);
      for (const record of batch.records) {
        const offset = base + record.offsetDelta;
        if (offset < input.next || offset >= input.end) continue;
        const value = record.value;
        if (value === null || value.length === 0) continue;
        input.add({ ts: baseTs + Number(record.timestampDelta), rank: rankOf(input.topicIndex, value, record.headers), offset, key: record.key, value, arrived });
        added++;
      }
    }
    input.next = Math.min(Math.max(input.next, last + 1), input.end);
  }
  // Read committed: the end a reader can reach is the last stable offset (equal to the high
  // watermark unless a producer's transaction is open).
  const stable = answer.lastStableOffset >= 0n ? answer.lastStableOffset : answer.highWatermark;
  input.highWatermark = Number(stable);
  input.caughtUp = input.next >= input.highWatermark;
  return added;
}

/**
 * Released records as JSON Lines: each value, then a newline. A value holding a newline (a
 * pretty-printed JSON object, say) has it turned into a space, so that a record stays one line and
 * line numbers map back to records. The buffer is reused: a chunk is valid until the next `reset`.
 */
export class LineChunk {
  private buffer = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  /** Lines in the chunk. */
  lines = 0;

  get length(): number {
    return this.used;
  }

  append(value: Buffer): void {
    const needed = this.used + value.length + 1;
    if (needed > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(bigger, 0, 0, this.used);
      this.buffer = bigger;
    }
    const start = this.used;
    value.copy(this.buffer, start);
    this.used += value.length;
    if (value.indexOf(10) >= 0 || value.indexOf(13) >= 0) {
      for (let i = start; i < this.used; i++) if (this.buffer[i] === 10 || this.buffer[i] === 13) this.buffer[i] = 32;
    }
    this.buffer[this.used++] = 10;
    this.lines++;
  }

  /** The lines so far; valid until the next reset. */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.used);
  }

  reset(): void {
    this.used = 0;
    this.lines = 0;
  }
}
