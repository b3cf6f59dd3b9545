/**
 * Fetch requests sent through @platformatic/kafka's connections, with wfsim's own answer parser: the
 * client's parser decodes every record into objects (a Buffer per key, value and header, BigInt
 * offsets), which costs most of a read's time and memory; this one hands each partition's record
 * bytes on as they came (fetch-answer.ts), for batch-decoder.ts to read in place. Fetch v12 to v17 (Kafka 2.7 and later;
 * v13 names topics by id).
 */
import type { FetchAnswer, FetchedPartition } from "./fetched-partition.ts";
import { Writer, type Connection, type Reader } from "@platformatic/kafka";
import { parseBody, readAnswer } from "./fetch-answer.ts";

export type { FetchAnswer, FetchedPartition };

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
      (_correlationId: number, _apiKey: number, apiVersion: number, reader: Reader) => readAnswer(parseBody(apiVersion), reader),
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
