/**
 * Fetch requests, written by wfsim and answered to wfsim's own parser: the client's parser decodes
 * every record into objects (a Buffer per key, value and header, BigInt offsets), which costs most
 * of a read's time and memory; this one hands each partition's record bytes on as they came
 * (fetch-answer.ts), for batch-decoder.ts to read in place. Sent over wfsim's own connection
 * (broker-socket.ts), or with SASL through @platformatic/kafka's (sendFetch). Fetch v12 to v17
 * (Kafka 2.7 and later; v13 names topics by id).
 */
import type { FetchAnswer, FetchedPartition } from "./fetched-partition.ts";
import type { Connection, Reader } from "@platformatic/kafka";
import { kafkaClient } from "../kafka-client.ts";
import { RequestWriter } from "../request-writer.ts";
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
      () => kafkaClient().Writer.create().append(writeFetchRequest(new RequestWriter(), version, settings, topics).contents()),
      (_correlationId: number, _apiKey: number, apiVersion: number, reader: Reader) => readAnswer(parseBody(apiVersion), reader),
      true,
      true,
      (error: unknown, answer: unknown) => (error == null ? resolve(answer as FetchAnswer) : reject(error)),
    );
  });
}

/** The body of a Fetch request (what follows the request header), written into `writer`. */
export function writeFetchRequest(writer: RequestWriter, version: number, settings: FetchSettings, topics: readonly FetchTopic[]): RequestWriter {
  if (version < 15) writer.int32(-1); // replica_id: a consumer
  writer
    .int32(settings.maxWaitMs)
    .int32(settings.minBytes)
    .int32(settings.maxBytes)
    .int8(READ_COMMITTED)
    .int32(0) // session_id: none
    .int32(-1); // session_epoch: a full fetch, no session
  writer.compactArrayLength(topics.length);
  for (const topic of topics) {
    if (version >= 13) writer.uuid(topic.id);
    else writer.compactString(topic.name);
    writer.compactArrayLength(topic.partitions.length);
    for (const p of topic.partitions) {
      writer
        .int32(p.partition)
        .int32(-1) // current_leader_epoch: unknown
        .int64(p.fetchOffset)
        .int32(-1) // last_fetched_epoch
        .int64(-1) // log_start_offset (followers only)
        .int32(p.maxBytes)
        .taggedFields();
    }
    writer.taggedFields();
  }
  writer.compactArrayLength(0); // forgotten_topics_data: none
  writer.compactString(""); // rack_id
  return writer.taggedFields();
}
