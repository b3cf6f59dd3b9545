/**
 * From a fetch answer's record batches to what the merge needs (batch-decoder.ts), and from released
 * records back to JSON Lines for the analysis: one record's value, one line.
 */
import { decodeBatches, type DecodedRecords } from "./batch-decoder.ts";
import { HEADER_BYTES, MAGIC_BYTE } from "../registry/wire-format.ts";
import type { FetchedPartition } from "./fetched-partition.ts";
import type { InputRecord, PartitionInput } from "./record-merge.ts";
import type { LineRanges } from "../../analyze/read/source.ts";

/**
 * Adds a fetch answer's records at or after `input.next` (below `input.end`) to the input, moves
 * `next` past the whole batches read, and notes whether the input is caught up. Records without a
 * value (tombstones), control batches and aborted transactions only move `next`. Returns how many
 * records were added; throws a WfsimError (KAFKA_RECORDS) on a corrupt batch.
 */
export function addAnswer(input: PartitionInput, answer: FetchedPartition, arrived: number): number {
  let added = 0;
  if (answer.records !== null) {
    const decoded = decodeBatches(answer.records, {
      where: `${input.topic}-${input.partition}`,
      from: input.next,
      end: input.end,
      topicIndex: input.topicIndex,
      aborted: answer.aborted,
      arrived,
      backing: answer.backing,
    });
    if (decoded.records !== undefined) {
      if (input.clockOffsets !== undefined) undoClockOffsets(decoded.records, input.clockOffsets);
      added = decoded.records.count;
      input.add(decoded.records);
    }
    input.next = decoded.next;
  }
  // Read committed: the end a reader can reach is the last stable offset (equal to the high
  // watermark unless a producer's transaction is open).
  input.highWatermark = answer.lastStableOffset >= 0 ? answer.lastStableOffset : answer.highWatermark;
  input.caughtUp = input.next >= input.highWatermark;
  return added;
}

/**
 * Takes each skewed transaction's clock offset off its records' times (the merge's order; values
 * are left as they are). A key is the transaction id's UTF-8 text, or the same as an Avro string in
 * a Schema Registry's wire format (--key-format avro): magic byte, schema id, length, text.
 */
function undoClockOffsets(records: DecodedRecords, offsets: ReadonlyMap<string, number>): void {
  let maxTs = -Infinity;
  for (let i = 0; i < records.count; i++) {
    let start = records.keyStart[i]!;
    const end = records.keyEnd[i]!;
    if (start >= 0) {
      const bytes = records.buffers[records.buffer[i]!]!;
      if (bytes[start] === MAGIC_BYTE && end - start > HEADER_BYTES) start = avroStringStart(bytes, start + HEADER_BYTES, end);
      const offset = offsets.get(bytes.toString("utf8", start, end));
      if (offset !== undefined) records.ts[i] = records.ts[i]! - offset;
    }
    if (records.ts[i]! > maxTs) maxTs = records.ts[i]!;
  }
  records.maxTs = maxTs;
}

/** Where an Avro string's text starts, past its zig-zag varint length. */
function avroStringStart(bytes: Buffer, at: number, end: number): number {
  while (at < end && bytes[at]! >= 0x80) at++;
  return at + 1;
}

/**
 * Released records as JSON Lines: each value, then a newline. A value holding a newline (a
 * pretty-printed JSON object, say) has it turned into a space, so that a record stays one line and
 * line numbers map back to records. The buffer is reused: a chunk is valid until the next `reset`.
 */
export class LineChunk {
  private buffer: Buffer = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  /** Lines in the chunk. */
  lines = 0;

  get length(): number {
    return this.used;
  }

  append(value: Buffer): void {
    this.appendRange(value, 0, value.length, value.indexOf(10) >= 0 || value.indexOf(13) >= 0);
  }

  /** A line's text, without line breaks (a decoded value written again as JSON): encoded straight into the chunk. */
  appendText(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const needed = this.used + text.length * 3 + 1;
    if (needed > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(bigger, 0, 0, this.used);
      this.buffer = bigger;
    }
    const end = this.used + this.buffer.write(text, this.used, "utf8");
    this.buffer[end] = 10;
    this.used = end + 1;
    this.lines++;
  }

  /**
   * The buffer to write a line in place (a decoder writing its JSON straight into the chunk), with at
   * least `need` bytes free after `at`; the bytes before `at` (the lines so far and the line begun) are kept.
   */
  room(at: number, need: number): Buffer {
    return (this.buffer = withRoom(this.buffer, at, need));
  }

  /** Ends the line written in place from `length` to `end` (in room's buffer; without line breaks). */
  endLine(end: number): void {
    this.room(end, 1)[end] = 10;
    this.used = end + 1;
    this.lines++;
  }

  /** A released record's value, copied from the fetched bytes. */
  appendRecord(record: InputRecord): void {
    this.appendRange(record.bytes, record.valueStart, record.valueEnd, record.lineBreaks);
  }

  /** `breaks`: the value holds a line feed or carriage return (turned into spaces). */
  private appendRange(bytes: Buffer, from: number, to: number, breaks: boolean): void {
    const needed = this.used + (to - from) + 1;
    if (needed > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(bigger, 0, 0, this.used);
      this.buffer = bigger;
    }
    const start = this.used;
    const end = start + bytes.copy(this.buffer, start, from, to);
    if (breaks) {
      for (let i = start; i < end; i++) if (this.buffer[i] === 10 || this.buffer[i] === 13) this.buffer[i] = 32;
    }
    this.buffer[end] = 10;
    this.used = end + 1;
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

  /** Goes on in `buffer`, emptied: a worker's chunks fill buffers that come back from the thread they were handed to. */
  use(buffer: Buffer): void {
    this.buffer = buffer;
    this.reset();
  }

  /** The buffer the lines are in (their `length` bytes; it may have grown past the one given to `use`), to hand over. */
  take(): Buffer {
    const buffer = this.buffer;
    this.buffer = EMPTY;
    return buffer;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Released records as lines in place (see LineRanges): the decoder left a newline after each value.
 * A value holding a line break is copied, with spaces for its breaks, as LineChunk does. Valid until
 * the next `reset` (and the next fetch, which may reuse the fetched bytes).
 */
export class RecordLines implements LineRanges {
  count = 0;
  byteLength = 0;
  readonly bytes: Buffer[] = [];
  start = new Int32Array(1 << 14);
  end = new Int32Array(1 << 14);
  private readonly copies = new LineChunk();

  add(record: InputRecord): void {
    if (record.lineBreaks) {
      const at = this.copies.length;
      this.copies.appendRecord(record);
      this.push(this.copies.bytes(), at, this.copies.length - 1);
    } else {
      this.push(record.bytes, record.valueStart, record.valueEnd);
    }
  }

  private push(bytes: Buffer, start: number, end: number): void {
    const i = this.count++;
    if (i === this.start.length) {
      const start = new Int32Array(i * 2);
      start.set(this.start);
      this.start = start;
      const end = new Int32Array(i * 2);
      end.set(this.end);
      this.end = end;
    }
    this.bytes[i] = bytes;
    this.start[i] = start;
    this.end[i] = end;
    this.byteLength += end - start + 1;
  }

  reset(): void {
    this.count = 0;
    this.byteLength = 0;
    this.copies.reset();
  }
}

/**
 * `buffer` when it has `need` bytes free after `at`, or a bigger one (twice as big at least) holding
 * its first `at` bytes: the room of a line written in place.
 */
export function withRoom<B extends Buffer>(buffer: B, at: number, need: number): B | Buffer<ArrayBuffer> {
  if (at + need <= buffer.length) return buffer;
  const bigger = Buffer.allocUnsafe(Math.max(at + need, buffer.length * 2));
  buffer.copy(bigger, 0, 0, at);
  return bigger;
}
