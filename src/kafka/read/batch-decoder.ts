/**
 * Record batches (message format v2) read in place from fetched bytes: each record becomes a few
 * numbers in typed arrays (timestamp, merge rank, offset, where its key and value lie), not an
 * object, a Buffer per field and BigInts, as @platformatic/kafka's reader makes them. Reading Kafka
 * is the analyzer's input; at a million records a second the client's objects and the garbage they
 * leave cost most of a read (see docs/benchmarks.md), so the decoder is written by hand, the mirror
 * of record-batch.ts that writes them.
 *
 * What it checks and skips, as Kafka's own consumer does:
 *  - the CRC-32C of every batch (from its attributes to its end): a mismatch is a corrupt fetch;
 *  - compressed batches (gzip, snappy, lz4, zstd) are decompressed with the client's codecs;
 *  - control batches (a transactional producer's commit and abort markers) carry no records to read;
 *  - batches of transactions the broker lists as aborted (read committed) are skipped;
 *  - a batch cut short at the end of the fetch (partition_max_bytes) is left for the next fetch.
 * Layout: see record-batch.ts.
 */
import { crc32c } from "../crc32c.ts";
import { WfsimError } from "../../errors.ts";
import { kafkaClient } from "../kafka-client.ts";
import { EVENT_TYPE_HEADER } from "../layout.ts";
import type { FetchedBytes } from "./fetched-partition.ts";

/**
 * A transaction the broker lists as aborted in a fetch answer. Defined here, not beside the fetch
 * request, so that the library's declarations reach no type of the Kafka client (a consumer
 * project compiling without skipLibCheck would have to compile the client's too).
 */
export interface AbortedTransaction {
  readonly producerId: bigint;
  readonly firstOffset: number;
}
import { RANK_END, RANK_OPEN, RANK_STEP } from "./record-merge.ts";

const BATCH_HEADER_BYTES = 61;
const LENGTH_AT = 8;
const MAGIC_AT = 16;
const CRC_AT = 17;
const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
const BASE_TIMESTAMP_AT = 27;
const PRODUCER_ID_AT = 43;
const RECORD_COUNT_AT = 57;
/** Offset and length fields: what comes before the bytes a batch's length counts. */
const LOG_OVERHEAD = 12;

const COMPRESSION_MASK = 0x07;
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

const HEADER_NAME = Buffer.from(EVENT_TYPE_HEADER);
const OPEN = Buffer.from("transaction_open");
const TRANSACTION = Buffer.from("transaction_");
/** Where the type's value starts in `{"type":"…` (wfsim) and `{"type": "…` (the reference script's layout). */
const TYPE_AT_COMPACT = 9;
const TYPE_AT_SPACED = 10;

/** A fetched batch does not read as Kafka wrote it (a CRC mismatch, an unknown format). */
export function corruptBatch(where: string, offset: number, what: string): WfsimError {
  return new WfsimError("KAFKA_RECORDS", `${where} offset ${offset}: ${what}`);
}

/** The columns of up to `capacity` records, in one ArrayBuffer. */
class Columns {
  readonly capacity: number;
  readonly ts: Float64Array;
  readonly offset: Float64Array;
  readonly valueStart: Int32Array;
  readonly valueEnd: Int32Array;
  readonly keyStart: Int32Array;
  readonly keyEnd: Int32Array;
  readonly buffer: Uint16Array;
  readonly rank: Uint8Array;
  readonly lineBreaks: Uint8Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    const memory = new ArrayBuffer(capacity * 36);
    let at = 0;
    const next = (bytes: number) => ((at += capacity * bytes), at - capacity * bytes);
    this.ts = new Float64Array(memory, next(8), capacity);
    this.offset = new Float64Array(memory, next(8), capacity);
    this.valueStart = new Int32Array(memory, next(4), capacity);
    this.valueEnd = new Int32Array(memory, next(4), capacity);
    this.keyStart = new Int32Array(memory, next(4), capacity);
    this.keyEnd = new Int32Array(memory, next(4), capacity);
    this.buffer = new Uint16Array(memory, next(2), capacity);
    this.rank = new Uint8Array(memory, next(1), capacity);
    this.lineBreaks = new Uint8Array(memory, next(1), capacity);
  }
}

/**
 * Columns come back once their records are released and are used again, so that a long read does
 * not allocate (and the kernel zero) a few hundred kilobytes per fetch answer. Kept by power-of-two
 * capacity, at most POOLED of them.
 */
const pool: Columns[] = [];
const POOLED = 16;
const MIN_CAPACITY = 1024;

function takeColumns(atLeast: number): Columns {
  let capacity = MIN_CAPACITY;
  while (capacity < atLeast) capacity *= 2;
  for (let i = pool.length - 1; i >= 0; i--) {
    if (pool[i]!.capacity === capacity) {
      const found = pool[i]!;
      pool[i] = pool[pool.length - 1]!;
      pool.pop();
      return found;
    }
  }
  return new Columns(capacity);
}

/**
 * The records of one fetch answer for one partition, as columns: record i is `ts[i]`, `rank[i]`,
 * `offset[i]`, its value the bytes [valueStart[i], valueEnd[i]) of `buffers[buffer[i]]`, its key
 * [keyStart[i], keyEnd[i]) of the same buffer (keyStart -1: no key), lineBreaks[i] 1 when the value
 * holds a line feed or carriage return. The byte after each value is a newline (decodeBatches). `buffers[0]` is the fetched
 * bytes; a compressed batch adds its decompressed records. Once `recycle` is called the columns are
 * another answer's; the buffers stay as they are (views of values may be kept).
 */
export class DecodedRecords {
  readonly buffers: Buffer[];
  readonly ts: Float64Array;
  readonly offset: Float64Array;
  readonly rank: Uint8Array;
  readonly buffer: Uint16Array;
  readonly valueStart: Int32Array;
  readonly valueEnd: Int32Array;
  readonly keyStart: Int32Array;
  readonly keyEnd: Int32Array;
  readonly lineBreaks: Uint8Array;
  private readonly columns: Columns;
  /** The pooled bytes `buffers[0]` is a view of (see FETCH_BUFFERS), if any. */
  private readonly backing: FetchedBytes | null;
  count = 0;
  /** Bytes held: the fetched bytes and what was decompressed, for the reader's bound on what waits. */
  heldBytes = 0;
  maxTs = -Infinity;
  /** performance.now() when the fetch that brought them was answered. */
  arrived = 0;

  constructor(fetched: Buffer, capacity: number, backing: FetchedBytes | null = null) {
    this.buffers = [fetched];
    this.backing = backing;
    this.heldBytes = fetched.length;
    const columns = (this.columns = takeColumns(capacity));
    this.ts = columns.ts;
    this.offset = columns.offset;
    this.rank = columns.rank;
    this.buffer = columns.buffer;
    this.valueStart = columns.valueStart;
    this.valueEnd = columns.valueEnd;
    this.keyStart = columns.keyStart;
    this.keyEnd = columns.keyEnd;
    this.lineBreaks = columns.lineBreaks;
  }

  /**
   * Every record was released: the columns and the fetched bytes may serve another answer. Views
   * of values taken before hold until the next fetch.
   */
  recycle(): void {
    if (pool.length < POOLED) pool.push(this.columns);
    this.backing?.release();
  }
}

export interface DecodeSettings {
  /** "topic-partition", for messages. */
  readonly where: string;
  /** Records below this offset were read already; at or beyond `end`, not wanted. */
  readonly from: number;
  readonly end: number;
  /** 0 for the transactions topic: a record's rank then comes from its value when it has no header. */
  readonly topicIndex: number;
  readonly aborted: readonly AbortedTransaction[] | null;
  readonly arrived: number;
  /** The pooled bytes `bytes` is a view of: released with the records, or at once when none is kept. */
  readonly backing?: FetchedBytes | null;
}

export interface Decoded {
  /** The records wanted (with a value), or undefined when there are none. */
  readonly records: DecodedRecords | undefined;
  /** The offset after the last whole batch read, or `from` when none was whole. */
  readonly next: number;
}

/** Reads the whole batches of `bytes`; throws a WfsimError (KAFKA_RECORDS) on a CRC mismatch or an unknown format. */
export function decodeBatches(bytes: Buffer, settings: DecodeSettings): Decoded {
  // First pass: whole batches, their CRCs, and how many records they hold at most.
  let wholeEnd = 0;
  let capacity = 0;
  for (let at = 0; at + BATCH_HEADER_BYTES <= bytes.length; ) {
    const length = bytes.readInt32BE(at + LENGTH_AT);
    const batchEnd = at + LOG_OVERHEAD + length;
    if (batchEnd > bytes.length) break;
    const offset = readInt64(bytes, at);
    const magic = bytes[at + MAGIC_AT]!;
    if (magic !== 2) throw corruptBatch(settings.where, offset, `record batch in message format v${magic}; wfsim reads v2 (Kafka 0.11 and later)`);
    const stored = bytes.readUInt32BE(at + CRC_AT);
    const computed = crc32c(bytes.subarray(at + ATTRIBUTES_AT, batchEnd)) >>> 0;
    if (stored !== computed) {
      throw corruptBatch(settings.where, offset, `record batch fails its CRC-32C check (stored ${hex(stored)}, computed ${hex(computed)}): the fetched bytes are corrupt`);
    }
    capacity += Math.max(0, bytes.readInt32BE(at + RECORD_COUNT_AT));
    at = wholeEnd = batchEnd;
  }
  const backing = settings.backing ?? null;
  if (wholeEnd === 0) {
    backing?.release();
    return { records: undefined, next: settings.from };
  }
  const records = new DecodedRecords(bytes, capacity, backing);
  records.arrived = settings.arrived;
  let next = settings.from;
  // Producers whose transaction in the fetched range was aborted, from its first offset to its marker.
  const aborted = settings.aborted === null || settings.aborted.length === 0 ? undefined : [...settings.aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  let abortedAt = 0;
  const abortedNow = new Set<bigint>();
  for (let at = 0; at < wholeEnd; ) {
    const batchEnd = at + LOG_OVERHEAD + bytes.readInt32BE(at + LENGTH_AT);
    const base = readInt64(bytes, at);
    const last = base + bytes.readInt32BE(at + LAST_OFFSET_DELTA_AT);
    const attributes = bytes.readInt16BE(at + ATTRIBUTES_AT);
    const batchAt = at;
    at = batchEnd;
    if (last < next) continue;
    if (last + 1 > next) next = Math.min(last + 1, settings.end);
    if (aborted !== undefined) {
      while (abortedAt < aborted.length && aborted[abortedAt]!.firstOffset <= last) abortedNow.add(aborted[abortedAt++]!.producerId);
    }
    if ((attributes & CONTROL) !== 0) {
      // A marker ends its producer's transaction: later batches of that producer are a new one.
      if (abortedNow.size > 0) abortedNow.delete(bytes.readBigInt64BE(batchAt + PRODUCER_ID_AT));
      continue;
    }
    if ((attributes & TRANSACTIONAL) !== 0 && abortedNow.size > 0 && abortedNow.has(bytes.readBigInt64BE(batchAt + PRODUCER_ID_AT))) continue;
    const count = bytes.readInt32BE(batchAt + RECORD_COUNT_AT);
    const baseTs = readInt64(bytes, batchAt + BASE_TIMESTAMP_AT);
    const codec = attributes & COMPRESSION_MASK;
    let data = bytes;
    let position = batchAt + BATCH_HEADER_BYTES;
    let dataEnd = batchEnd;
    let bufferIndex = 0;
    if (codec !== 0) {
      // The client's codecs: loaded with the client at the first compressed batch (kafka-client.ts).
      const algorithm = kafkaClient().compressionsAlgorithmsByBitmask[codec];
      if (algorithm === undefined) throw corruptBatch(settings.where, base, `record batch compressed with an unknown codec (${codec})`);
      data = algorithm.decompressSync(bytes.subarray(position, batchEnd)) as Buffer;
      position = 0;
      dataEnd = data.length;
      bufferIndex = records.buffers.length;
      records.buffers.push(data);
      records.heldBytes += data.length;
    }
    readRecords(data, position, dataEnd, count, base, baseTs, bufferIndex, records, settings);
  }
  if (records.count === 0) {
    records.recycle();
    return { records: undefined, next };
  }
  markLineBreaks(records);
  // Each value becomes a line where it lies: the byte after it (its record's header count, read
  // already) is made a newline, so the analysis reads it in place (LineRanges).
  for (let i = 0; i < records.count; i++) records.buffers[records.buffer[i]!]![records.valueEnd[i]!] = 10;
  return { records, next };
}

/**
 * Notes the values holding a line feed or a carriage return (LineChunk turns them into spaces), by
 * searching the buffers for those bytes (memchr: they are rare) rather than reading every value.
 */
function markLineBreaks(records: DecodedRecords): void {
  records.lineBreaks.fill(0, 0, records.count);
  let first = 0;
  while (first < records.count) {
    const b = records.buffer[first]!;
    let last = first;
    while (last + 1 < records.count && records.buffer[last + 1] === b) last++;
    const bytes = records.buffers[b]!;
    for (const byte of [10, 13]) {
      let i = first;
      let limit = records.valueEnd[last]!;
      for (let at = bytes.indexOf(byte, records.valueStart[first]!); at >= 0 && at < limit; at = bytes.indexOf(byte, at + 1)) {
        while (i <= last && records.valueEnd[i]! <= at) i++;
        if (i > last) break;
        if (records.valueStart[i]! <= at) records.lineBreaks[i] = 1;
      }
    }
    first = last + 1;
  }
}

/** Reads `count` records from data[position, end) into `into`, keeping those in [from, end) with a value. */
function readRecords(data: Buffer, position: number, end: number, count: number, base: number, baseTs: number, bufferIndex: number, into: DecodedRecords, settings: DecodeSettings): void {
  const { from, topicIndex } = settings;
  const wantedEnd = settings.end;
  let p = position;
  for (let r = 0; r < count; r++) {
    // length, attributes
    let v = 0;
    let shift = 0;
    let b: number;
    do {
      b = data[p++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80 && shift < 35);
    const length = (v >>> 1) ^ -(v & 1);
    const recordEnd = p + length;
    if (length < 0 || recordEnd > end) throw corruptBatch(settings.where, base, "record runs past the end of its batch");
    p++; // attributes
    // timestampDelta: a varlong
    let tsDelta = 0;
    let scale = 1;
    do {
      b = data[p++]!;
      tsDelta += (b & 0x7f) * scale;
      scale *= 128;
    } while (b >= 0x80);
    tsDelta = tsDelta % 2 === 0 ? tsDelta / 2 : -(tsDelta + 1) / 2;
    // offsetDelta
    v = 0;
    shift = 0;
    do {
      b = data[p++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80 && shift < 35);
    const offset = base + ((v >>> 1) ^ -(v & 1));
    if (offset < from || offset >= wantedEnd) {
      p = recordEnd;
      continue;
    }
    // key
    v = 0;
    shift = 0;
    do {
      b = data[p++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80 && shift < 35);
    const keyLength = (v >>> 1) ^ -(v & 1);
    const keyStart = keyLength < 0 ? -1 : p;
    if (keyLength > 0) p += keyLength;
    const keyEnd = keyLength < 0 ? -1 : p;
    // value
    v = 0;
    shift = 0;
    do {
      b = data[p++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80 && shift < 35);
    const valueLength = (v >>> 1) ^ -(v & 1);
    if (valueLength <= 0) {
      // A tombstone or an empty value: no event.
      p = recordEnd;
      continue;
    }
    const valueStart = p;
    p += valueLength;
    const valueEnd = p;
    if (valueEnd > recordEnd) throw corruptBatch(settings.where, offset, "record value runs past the end of its record");
    // headers: the event_type one gives the rank
    v = 0;
    shift = 0;
    do {
      b = data[p++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80 && shift < 35);
    const headers = (v >>> 1) ^ -(v & 1);
    let rank = -1;
    for (let h = 0; h < headers && p < recordEnd; h++) {
      v = 0;
      shift = 0;
      do {
        b = data[p++]!;
        v |= (b & 0x7f) << shift;
        shift += 7;
      } while (b >= 0x80 && shift < 35);
      const nameLength = (v >>> 1) ^ -(v & 1);
      const nameStart = p;
      if (nameLength > 0) p += nameLength;
      v = 0;
      shift = 0;
      do {
        b = data[p++]!;
        v |= (b & 0x7f) << shift;
        shift += 7;
      } while (b >= 0x80 && shift < 35);
      const typeLength = (v >>> 1) ^ -(v & 1);
      const typeStart = p;
      if (typeLength > 0) p += typeLength;
      if (rank < 0 && typeLength >= 0 && nameLength === HEADER_NAME.length && startsWith(data, nameStart, nameStart + nameLength, HEADER_NAME)) {
        rank = rankOfType(data, typeStart, typeStart + typeLength);
      }
    }
    if (rank < 0) {
      if (topicIndex === 1) rank = RANK_STEP;
      else rank = rankOfType(data, data[valueStart + TYPE_AT_COMPACT - 1] === 34 ? valueStart + TYPE_AT_COMPACT : valueStart + TYPE_AT_SPACED, valueEnd);
    }
    p = recordEnd;
    const i = into.count++;
    const ts = baseTs + tsDelta;
    into.ts[i] = ts;
    if (ts > into.maxTs) into.maxTs = ts;
    into.offset[i] = offset;
    into.rank[i] = rank;
    into.buffer[i] = bufferIndex;
    into.valueStart[i] = valueStart;
    into.valueEnd[i] = valueEnd;
    into.keyStart[i] = keyStart;
    into.keyEnd[i] = keyEnd;
  }
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

/** A signed 64-bit big-endian integer as a number (offsets and timestamps stay far below 2^53). */
function readInt64(bytes: Buffer, at: number): number {
  return bytes.readInt32BE(at) * 4294967296 + bytes.readUInt32BE(at + 4);
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}
