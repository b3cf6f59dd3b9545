/**
 * The Fetch answer's parser (v12 to v17, flexible versions), written as a generator that asks for
 * its bytes: a few at a time for the fields, and a partition's record bytes whole, in a buffer of
 * their own. Two drivers feed it: wfsim's own connection reads the socket straight into what it asks
 * for (broker-socket.ts), so each partition's records land in a pooled buffer of their size, given back
 * when those records are read, whatever the other partitions of the answer do; and the client's
 * connection hands it the answer it buffered (readAnswer, below).
 */
import type { Reader } from "@platformatic/kafka";
import type { AbortedTransaction } from "./batch-decoder.ts";
import type { FetchAnswer, FetchedBytes, FetchedPartition } from "./fetched-partition.ts";
import { BufferPool } from "../buffer-pool.ts";

/** What the parser asks for next: `bytes` bytes of fields, or a partition's record bytes. */
export interface Need {
  readonly bytes: number;
  readonly records: boolean;
}

/** A partition's record bytes, and the pooled bytes they are a view of (null when they are not pooled). */
export interface RecordBytes {
  readonly bytes: Buffer;
  readonly backing: FetchedBytes | null;
}

/** Fields are answered with a Buffer of exactly the bytes asked for (valid until the next ask); records with RecordBytes. */
export type Got = Buffer | RecordBytes;
export type Parse<T> = Generator<Need, T, Got>;

/**
 * Buffers the fetched record bytes are read (or copied) into, back in the pool once their records
 * are released (DecodedRecords.recycle): fresh megabytes per answer would cost page faults and
 * garbage collections. Power-of-two sizes; what a few rounds of fetches hold at most is kept (a
 * larger pool measured no lower peak RSS: what waits in the merge is what counts).
 */
export const FETCH_BUFFERS = new BufferPool(8 << 20);

/** A buffer taken from FETCH_BUFFERS, given back when its records are released. */
export class PooledBytes implements FetchedBytes {
  readonly buffer: Buffer;

  constructor(atLeast: number) {
    this.buffer = FETCH_BUFFERS.take(atLeast);
  }

  release(): void {
    FETCH_BUFFERS.give(this.buffer);
  }
}

export function* fixed(bytes: number): Parse<Buffer> {
  const got = yield { bytes, records: false };
  if (!Buffer.isBuffer(got)) throw new TypeError("Fetch answer parser: the driver gave records for a field");
  return got;
}

export function* int16(): Parse<number> {
  return (yield* fixed(2)).readInt16BE(0);
}

export function* int32(): Parse<number> {
  return (yield* fixed(4)).readInt32BE(0);
}

export function* int64(): Parse<bigint> {
  return (yield* fixed(8)).readBigInt64BE(0);
}

export function* unsignedVarInt(): Parse<number> {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    const byte = (yield* fixed(1))[0]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return value;
  }
  throw new RangeError("Fetch answer: a varint longer than 5 bytes");
}

export function* uuid(): Parse<string> {
  const hex = (yield* fixed(16)).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function* compactString(): Parse<string> {
  const length = (yield* unsignedVarInt()) - 1;
  return length <= 0 ? "" : (yield* fixed(length)).toString("utf8");
}

export function* skipTaggedFields(): Parse<void> {
  const count = yield* unsignedVarInt();
  for (let i = 0; i < count; i++) {
    yield* unsignedVarInt(); // tag
    const size = yield* unsignedVarInt();
    if (size > 0) yield* fixed(size);
  }
}

/** The response header (v1: correlation id, tagged fields; v0 without them) then the answer's body. */
export function* parseFrame<T>(expectedCorrelationId: number, taggedHeader: boolean, body: Parse<T>): Parse<T> {
  const correlationId = yield* int32();
  if (correlationId !== expectedCorrelationId) throw new CorrelationMismatch(correlationId, expectedCorrelationId);
  if (taggedHeader) yield* skipTaggedFields();
  return yield* body;
}

/** An answer to another request than the one waiting: the stream is not what was asked for. */
export class CorrelationMismatch extends Error {
  constructor(found: number, expected: number) {
    super(`an answer with correlation id ${found}, expected ${expected}`);
  }
}

/** The Fetch answer's body (after the response header). */
export function* parseBody(version: number): Parse<FetchAnswer> {
  yield* int32(); // throttle_time_ms
  const errorCode = yield* int16();
  yield* int32(); // session_id
  const partitions: FetchedPartition[] = [];
  let complete = false;
  try {
    const topicCount = (yield* unsignedVarInt()) - 1;
    for (let t = 0; t < topicCount; t++) {
      const topic = version >= 13 ? yield* uuid() : yield* compactString();
      const count = (yield* unsignedVarInt()) - 1;
      for (let i = 0; i < count; i++) {
        const partition = yield* int32();
        const partitionError = yield* int16();
        const highWatermark = Number(yield* int64());
        const lastStableOffset = Number(yield* int64());
        const logStartOffset = Number(yield* int64());
        let aborted: AbortedTransaction[] | null = null;
        const abortedCount = (yield* unsignedVarInt()) - 1;
        if (abortedCount >= 0) {
          aborted = [];
          for (let a = 0; a < abortedCount; a++) {
            aborted.push({ producerId: yield* int64(), firstOffset: Number(yield* int64()) });
            yield* skipTaggedFields();
          }
        }
        yield* int32(); // preferred_read_replica
        const size = (yield* unsignedVarInt()) - 1;
        let records: Buffer | null = null;
        let backing: FetchedBytes | null = null;
        if (size > 0) {
          const got = yield { bytes: size, records: true };
          if (Buffer.isBuffer(got)) throw new TypeError("Fetch answer parser: the driver gave a field for records");
          records = got.bytes;
          backing = got.backing;
        }
        partitions.push({ topic, partition, errorCode: partitionError, highWatermark, lastStableOffset, logStartOffset, aborted, records, backing });
        yield* skipTaggedFields();
      }
      yield* skipTaggedFields();
    }
    yield* skipTaggedFields();
    complete = true;
  } finally {
    // A broken answer, or one its connection dropped halfway: what was taken from the pool goes back.
    if (!complete) for (const partition of partitions) partition.backing?.release();
  }
  return { errorCode, partitions };
}

/**
 * Runs the parser over an answer the client's connection buffered: fields from the reader; records
 * as a view when they lie within one of the socket's chunks, else copied into one pooled buffer.
 */
export function readAnswer<T>(parse: Parse<T>, reader: Reader): T {
  let step = parse.next();
  while (step.done !== true) {
    const { bytes, records } = step.value;
    const at = reader.position;
    reader.skip(bytes);
    if (!records) {
      step = parse.next(reader.buffer.slice(at, at + bytes));
      continue;
    }
    const chunks = reader.buffer.subarray(at, at + bytes).buffers;
    if (chunks.length === 1) {
      step = parse.next({ bytes: chunks[0]!, backing: null });
    } else {
      const copy = new PooledBytes(bytes);
      let to = 0;
      for (const chunk of chunks) to += chunk.copy(copy.buffer, to);
      step = parse.next({ bytes: copy.buffer.subarray(0, bytes), backing: copy });
    }
  }
  return step.value;
}
