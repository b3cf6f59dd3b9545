/**
 * Fetch requests sent through @platformatic/kafka's connections, with wfsim's own answer parser: the
 * client's parser decodes every record into objects (a Buffer per key, value and header, BigInt
 * offsets), which costs most of a read's time and memory; this one hands each partition's record
 * bytes on as they came, for batch-decoder.ts to read in place. Fetch v12 to v17 (Kafka 2.7 and later;
 * v13 names topics by id).
 */
import type { AbortedTransaction } from "./batch-decoder.ts";
import type { FetchAnswer, FetchedBytes, FetchedPartition } from "./fetched-partition.ts";
import { Writer, type Connection, type Reader } from "@platformatic/kafka";
import { BufferPool } from "../record-batch.ts";

export type { FetchAnswer, FetchedPartition };

/**
 * Buffers the fetched record bytes are copied into, back in the pool once their records are
 * released (DecodedRecords.recycle): fresh megabytes per answer would cost page faults and garbage
 * collections. Power-of-two sizes; what a few rounds of fetches hold at most is kept.
 */
export const FETCH_BUFFERS = new BufferPool(8 << 20);

/**
 * A buffer taken from FETCH_BUFFERS, given back when every hold on it is released: one per
 * partition whose records are a view of it, and the parser's own while it reads.
 */
export class PooledBytes implements FetchedBytes {
  readonly buffer: Buffer;
  private holds = 1;

  constructor(atLeast: number) {
    this.buffer = FETCH_BUFFERS.take(atLeast);
  }

  hold(): this {
    this.holds++;
    return this;
  }

  release(): void {
    if (--this.holds === 0) FETCH_BUFFERS.give(this.buffer);
  }
}

export const FETCH_API_KEY = 1;
export const FETCH_MIN_VERSION = 12;
export const FETCH_MAX_VERSION = 17;
const READ_COMMITTED = 1;

/** The newest Fetch version both the broker and wfsim speak, or undefined. */
export function pickFetchVersion(minVersion: number, maxVersion: number): number | undefined {
  const version = Math.min(maxVersion, FETCH_MAX_VERSION);
  return version >= Math.max(minVersion, FETCH_MIN_VERSION) ? version : undefined;
}

export interface FetchPartition {
  readonly partition: number;
  readonly fetchOffset: number;
  readonly maxBytes: number;
}

export interface FetchTopic {
  /** The topic's name (v12) and id (v13 and later). */
  readonly name: string;
  readonly id: string;
  readonly partitions: readonly FetchPartition[];
}

export interface FetchSettings {
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
}

/** Sends one Fetch request (read committed, no fetch session) and resolves with its answer; rejects when unanswered. */
export function sendFetch(connection: Connection, version: number, settings: FetchSettings, topics: readonly FetchTopic[]): Promise<FetchAnswer> {
  if (version < FETCH_MIN_VERSION || version > FETCH_MAX_VERSION) throw new RangeError(`Fetch v${version} is not supported`);
  return new Promise((resolve, reject) => {
    connection.send(
      FETCH_API_KEY,
      version,
      () => encodeRequest(version, settings, topics),
      (_correlationId: number, _apiKey: number, apiVersion: number, reader: Reader) => parseResponse(apiVersion, reader),
      true,
      true,
      (error: unknown, answer: unknown) => (error == null ? resolve(answer as FetchAnswer) : reject(error)),
    );
  });
}

/** The body of a Fetch request (what follows the request header). */
export function encodeRequest(version: number, settings: FetchSettings, topics: readonly FetchTopic[]): Writer {
  const writer = Writer.create();
  if (version < 15) writer.appendInt32(-1); // replica_id: a consumer
  writer
    .appendInt32(settings.maxWaitMs)
    .appendInt32(settings.minBytes)
    .appendInt32(settings.maxBytes)
    .appendInt8(READ_COMMITTED)
    .appendInt32(0) // session_id: none
    .appendInt32(-1); // session_epoch: a full fetch, no session
  writer.appendUnsignedVarInt(topics.length + 1);
  for (const topic of topics) {
    if (version >= 13) writer.appendUUID(topic.id);
    else writer.appendString(topic.name, true);
    writer.appendUnsignedVarInt(topic.partitions.length + 1);
    for (const p of topic.partitions) {
      writer
        .appendInt32(p.partition)
        .appendInt32(-1) // current_leader_epoch: unknown
        .appendInt64(BigInt(p.fetchOffset))
        .appendInt32(-1) // last_fetched_epoch
        .appendInt64(-1n) // log_start_offset (followers only)
        .appendInt32(p.maxBytes)
        .appendUnsignedVarInt(0);
    }
    writer.appendUnsignedVarInt(0);
  }
  writer.appendUnsignedVarInt(1); // forgotten_topics_data: none
  writer.appendString("", true); // rack_id
  writer.appendUnsignedVarInt(0);
  return writer;
}

/**
 * Reads a Fetch answer's body. `whole`: the pooled buffer the reader reads, when the whole answer
 * is in one (wfsim's own connection): records are then views of it, each partition holding it.
 */
export function parseResponse(version: number, reader: Reader, whole?: PooledBytes): FetchAnswer {
  reader.readInt32(); // throttle_time_ms
  const errorCode = reader.readInt16();
  reader.readInt32(); // session_id
  const partitions: FetchedPartition[] = [];
  const topicCount = reader.readUnsignedVarInt() - 1;
  for (let t = 0; t < topicCount; t++) {
    const topic = version >= 13 ? reader.readUUID() : reader.readString(true);
    const count = reader.readUnsignedVarInt() - 1;
    for (let i = 0; i < count; i++) {
      const partition = reader.readInt32();
      const partitionError = reader.readInt16();
      const highWatermark = Number(reader.readInt64());
      const lastStableOffset = Number(reader.readInt64());
      const logStartOffset = Number(reader.readInt64());
      let aborted: AbortedTransaction[] | null = null;
      const abortedCount = reader.readUnsignedVarInt() - 1;
      if (abortedCount >= 0) {
        aborted = [];
        for (let a = 0; a < abortedCount; a++) {
          aborted.push({ producerId: reader.readInt64(), firstOffset: Number(reader.readInt64()) });
          skipTaggedFields(reader);
        }
      }
      reader.readInt32(); // preferred_read_replica
      const size = reader.readUnsignedVarInt() - 1;
      let records: Buffer | null = null;
      let backing: FetchedBytes | null = null;
      if (size > 0) {
        const chunks = reader.buffer.subarray(reader.position, reader.position + size).buffers;
        if (chunks.length === 1) {
          // Within one chunk the socket read (or the one buffer of the answer): a view of it.
          records = chunks[0]!;
          backing = whole?.hold() ?? null;
        } else {
          // One contiguous copy of the socket's chunks, in a pooled buffer.
          const copy = new PooledBytes(size);
          let at = 0;
          for (const chunk of chunks) at += chunk.copy(copy.buffer, at);
          records = copy.buffer.subarray(0, size);
          backing = copy;
        }
        reader.skip(size);
      }
      skipTaggedFields(reader);
      partitions.push({ topic, partition, errorCode: partitionError, highWatermark, lastStableOffset, logStartOffset, aborted, records, backing });
    }
    skipTaggedFields(reader);
  }
  skipTaggedFields(reader);
  return { errorCode, partitions };
}

export function skipTaggedFields(reader: Reader): void {
  const count = reader.readUnsignedVarInt();
  for (let i = 0; i < count; i++) {
    reader.readUnsignedVarInt(); // tag
    reader.skip(reader.readUnsignedVarInt());
  }
}
