/**
 * Kafka record batches (message format v2, KIP-98) written straight into one growing buffer per
 * partition: each event's JSON line is encoded into its record as it is emitted, without a Buffer or
 * an object per record. This is the producer's hot path; @platformatic/kafka's own encoder (a
 * Writer and a chain of small buffers per record, BigInt timestamps, two concatenations) tops out at
 * about a third of what Kafka's Java producer sends, so wfsim encodes batches itself and hands the
 * client whole produce requests (see produce-request.ts).
 *
 * Batch layout (big-endian):
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 = 2 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records
 * crc is CRC-32C of everything from attributes to the end. Record:
 *   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 *   keyLength varint | key | valueLength varint | value | headerCount varint | headers
 * (varints zigzag-encoded, as in protobuf).
 */
import { compressionsAlgorithms } from "@platformatic/kafka";
import { crc32c } from "./crc32c.ts";
import type { Compression } from "../config/kafka-options.ts";
import { BufferPool } from "./buffer-pool.ts";

export const BATCH_HEADER_BYTES = 61;
const ATTRIBUTES_OFFSET = 21;
const CRC_OFFSET = 17;

const INITIAL_CAPACITY = 16 * 1024;

const NO_POOL = new BufferPool(0);

/** Batch fields decided when the batch is sent, not when its records are written. */
export interface BatchIdentity {
  /** -1 without idempotence. */
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /** Sequence number of the first record; -1 without idempotence. */
  readonly baseSequence: number;
}

export const NO_PRODUCER: BatchIdentity = { producerId: -1n, producerEpoch: -1, baseSequence: -1 };

/** Bytes a zigzag varint takes for `value` (a safe integer). */
function varintSize(value: number): number {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  let size = 1;
  while (zigzag >= 128) {
    zigzag = Math.floor(zigzag / 128);
    size++;
  }
  return size;
}

/** Writes `value` (a safe integer) zigzag-encoded at `offset`; returns the offset after it. */
function writeVarint(buffer: Buffer, offset: number, value: number): number {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  if (zigzag < 0x80000000) {
    while (zigzag >= 128) {
      buffer[offset++] = (zigzag & 127) | 128;
      zigzag >>>= 7;
    }
    buffer[offset++] = zigzag;
    return offset;
  }
  while (zigzag >= 128) {
    buffer[offset++] = (zigzag % 128) | 128;
    zigzag = Math.floor(zigzag / 128);
  }
  buffer[offset++] = zigzag;
  return offset;
}

/**
 * A record's fixed part besides its key and value: the encoded header list, ready to copy. wfsim
 * gives every record the same header names, so these are built once per distinct header set.
 */
export function encodeHeaders(headers: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(varintSize(headers.length));
  writeVarint(count, 0, headers.length);
  parts.push(count);
  for (const [key, value] of headers) {
    for (const text of [key, value]) {
      const bytes = Buffer.from(text, "utf8");
      const length = Buffer.alloc(varintSize(bytes.length));
      writeVarint(length, 0, bytes.length);
      parts.push(length, bytes);
    }
  }
  return Buffer.concat(parts);
}

/** One partition's records on their way into a batch. */
export class RecordBatchBuilder {
  private readonly pool: BufferPool;
  private buffer: Buffer;
  private end = BATCH_HEADER_BYTES;
  private count = 0;
  private baseTimestamp = 0;
  private maxTimestamp = 0;

  constructor(pool: BufferPool = NO_POOL, capacity = INITIAL_CAPACITY) {
    this.pool = pool;
    this.buffer = pool.take(Math.max(capacity, BATCH_HEADER_BYTES + 64));
  }

  /** Gives the buffer back to the pool: the builder, and batches it finished, must not be used after. */
  release(): void {
    this.pool.give(this.buffer);
    this.buffer = Buffer.alloc(0);
  }

  get records(): number {
    return this.count;
  }

  /** Bytes of the batch so far, header included (before compression). */
  get bytes(): number {
    return this.end;
  }

  /**
   * Appends a record whose value is `line` without its final newline: `valueBytes` is the UTF-8 length
   * of that value. `headers` comes from encodeHeaders().
   */
  append(key: Buffer, line: string, valueBytes: number, headers: Buffer, timestamp: number): void {
    // + 1: the newline is written too, then overwritten by the headers.
    let at = this.startRecord(key, valueBytes, headers.length, timestamp, 1);
    const buffer = this.buffer;
    buffer.write(line, at, "utf8");
    at += valueBytes;
    this.end = copySmall(headers, buffer, at);
    this.count++;
  }

  /**
   * Appends a record whose value is bytes: a Schema Registry's wire format, or a line the WebAssembly
   * line writer formatted (one copy, no string). The same layout as append().
   */
  appendBytes(key: Buffer, value: Uint8Array, headers: Buffer, timestamp: number): void {
    let at = this.startRecord(key, value.length, headers.length, timestamp, 0);
    const buffer = this.buffer;
    buffer.set(value, at);
    at += value.length;
    this.end = copySmall(headers, buffer, at);
    this.count++;
  }

  /**
   * Writes a record's length, attributes, timestamp and offset deltas, key and value length, with room
   * for `spare` bytes more, and returns where its value goes (append() and appendBytes() write it).
   */
  private startRecord(key: Buffer, valueBytes: number, headersBytes: number, timestamp: number, spare: number): number {
    if (this.count === 0) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    } else if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
    }
    const timestampDelta = timestamp - this.baseTimestamp;
    const offsetDelta = this.count;
    const bodyBytes =
      1 +
      varintSize(timestampDelta) +
      varintSize(offsetDelta) +
      varintSize(key.length) +
      key.length +
      varintSize(valueBytes) +
      valueBytes +
      headersBytes;
    const needed = this.end + varintSize(bodyBytes) + bodyBytes + spare;
    if (needed > this.buffer.length) this.grow(needed);

    const buffer = this.buffer;
    let at = writeVarint(buffer, this.end, bodyBytes);
    buffer[at++] = 0; // attributes: unused for records
    at = writeVarint(buffer, at, timestampDelta);
    at = writeVarint(buffer, at, offsetDelta);
    at = writeVarint(buffer, at, key.length);
    at = copySmall(key, buffer, at);
    return writeVarint(buffer, at, valueBytes);
  }

  /**
   * Calls `onKey` with the key of each record written so far (a view into the batch's buffer, valid
   * until the next append or release; null keys are skipped). Walks the records as written, before
   * compression: for the rare moments that need to know what a batch holds (a failed delivery), so
   * that the hot path keeps no list of its own.
   */
  forEachKey(onKey: (key: Buffer) => void): void {
    const buffer = this.buffer;
    let at = BATCH_HEADER_BYTES;
    while (at < this.end) {
      const length = readVarint(buffer, at);
      const recordEnd = length.next + length.value;
      let cursor = length.next + 1; // attributes
      cursor = readVarint(buffer, cursor).next; // timestampDelta
      cursor = readVarint(buffer, cursor).next; // offsetDelta
      const keyLength = readVarint(buffer, cursor);
      if (keyLength.value >= 0) onKey(buffer.subarray(keyLength.next, keyLength.next + keyLength.value));
      at = recordEnd;
    }
  }

  /**
   * The finished batch: the header filled in for `identity`, the records compressed as asked, the
   * CRC computed. The builder keeps its records, so that a batch can be finished again (a new
   * producer id after the broker forgot the old one).
   */
  finish(identity: BatchIdentity, compression: Compression): Buffer {
    let batch: Buffer;
    let attributes = 0;
    if (compression === "none") {
      batch = this.buffer.subarray(0, this.end);
    } else {
      const algorithm = compressionsAlgorithms[compression];
      const compressed = algorithm.compressSync(this.buffer.subarray(BATCH_HEADER_BYTES, this.end)) as Buffer;
      batch = Buffer.allocUnsafe(BATCH_HEADER_BYTES + compressed.length);
      compressed.copy(batch, BATCH_HEADER_BYTES);
      attributes = algorithm.bitmask;
    }
    batch.writeBigInt64BE(0n, 0); // baseOffset: the broker assigns offsets
    batch.writeInt32BE(batch.length - 12, 8); // batchLength: from partitionLeaderEpoch on
    batch.writeInt32BE(-1, 12); // partitionLeaderEpoch: set by the broker
    batch.writeInt8(2, 16); // magic
    batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET); // compression codec; CreateTime; not transactional
    batch.writeInt32BE(this.count - 1, 23); // lastOffsetDelta
    writeInt64(batch, 27, this.baseTimestamp);
    writeInt64(batch, 35, this.maxTimestamp);
    batch.writeBigInt64BE(identity.producerId, 43);
    batch.writeInt16BE(identity.producerEpoch, 51);
    batch.writeInt32BE(identity.baseSequence, 53);
    batch.writeInt32BE(this.count, 57);
    batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)) >>> 0, CRC_OFFSET);
    return batch;
  }

  private grow(needed: number): void {
    const bigger = this.pool.take(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(bigger, 0, 0, this.end);
    this.pool.give(this.buffer);
    this.buffer = bigger;
  }
}

/**
 * Copies `source` (a key, a header list: a few dozen bytes) to `target` at `at`; returns the offset
 * after it. A loop, because Buffer.copy's call costs more than the copy at these sizes (two per
 * record, a sixth of the producer's time before).
 */
function copySmall(source: Buffer, target: Buffer, at: number): number {
  const length = source.length;
  if (length > 64) return at + source.copy(target, at);
  for (let i = 0; i < length; i++) target[at + i] = source[i]!;
  return at + length;
}

/** The zigzag varint at `offset` and the offset after it. */
function readVarint(buffer: Buffer, offset: number): { value: number; next: number } {
  let zigzag = 0;
  let scale = 1;
  let at = offset;
  for (;;) {
    const byte = buffer[at++]!;
    zigzag += (byte & 127) * scale;
    if (byte < 128) break;
    scale *= 128;
  }
  return { value: zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2, next: at };
}

/** A non-negative safe integer (epoch ms) as int64. */
function writeInt64(buffer: Buffer, offset: number, value: number): void {
  buffer.writeUInt32BE(Math.floor(value / 0x1_0000_0000), offset);
  buffer.writeUInt32BE(value >>> 0, offset + 4);
}
