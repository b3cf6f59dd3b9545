/**
 * The requests a reader sends before it fetches, over wfsim's own connections (broker-socket.ts):
 * ApiVersions (which Fetch, Metadata and ListOffsets versions the broker speaks), Metadata (the
 * topics' partitions, leaders and ids, and the brokers' addresses) and ListOffsets (where each
 * partition begins and ends). Flexible versions only (Kafka 2.4 and later; the reader needs Fetch
 * v12, Kafka 2.7). Errors in an answer are handed back as Kafka's numeric codes, for the caller to
 * decide (a missing topic is a message of wfsim's, the rest the client's ResponseError).
 */
import type { BrokerRequest } from "./broker-socket.ts";
import { compactString, fixed, int16, int32, int64, skipTaggedFields, unsignedVarInt, uuid, type Parse } from "./fetch-answer.ts";

export const API_VERSIONS_API_KEY = 18;
export const METADATA_API_KEY = 3;
export const LIST_OFFSETS_API_KEY = 2;

/** Versions wfsim writes and reads: the oldest flexible one to the newest of the same layout it knows. */
export const METADATA_VERSIONS = { min: 9, max: 12 } as const;
export const LIST_OFFSETS_VERSIONS = { min: 6, max: 9 } as const;
const API_VERSIONS_VERSION = 3;

export interface ApiRange {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

export interface ApiVersionsAnswer {
  readonly errorCode: number;
  readonly apis: readonly ApiRange[];
}

/** ApiVersions v3 (its answer's header is v0, without tagged fields, whatever the version). */
export function apiVersionsRequest(softwareVersion: string): BrokerRequest<ApiVersionsAnswer> {
  return {
    apiKey: API_VERSIONS_API_KEY,
    version: API_VERSIONS_VERSION,
    write: (writer) => void writer.compactString("wfsim").compactString(softwareVersion).taggedFields(),
    parse: parseApiVersions,
    taggedHeader: false,
  };
}

function* parseApiVersions(): Parse<ApiVersionsAnswer> {
  const errorCode = yield* int16();
  const count = (yield* unsignedVarInt()) - 1;
  const apis: ApiRange[] = [];
  for (let i = 0; i < count; i++) {
    apis.push({ apiKey: yield* int16(), minVersion: yield* int16(), maxVersion: yield* int16() });
    yield* skipTaggedFields();
  }
  yield* int32(); // throttle_time_ms
  yield* skipTaggedFields();
  return { errorCode, apis };
}

/** The newest version of `range` both sides speak, or undefined. */
export function pickVersion(apis: readonly ApiRange[], apiKey: number, ours: { readonly min: number; readonly max: number }): number | undefined {
  const offered = apis.find((api) => api.apiKey === apiKey);
  if (offered === undefined) return undefined;
  const version = Math.min(offered.maxVersion, ours.max);
  return version >= Math.max(offered.minVersion, ours.min) ? version : undefined;
}

export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
}

export interface PartitionMetadata {
  readonly errorCode: number;
  /** The leader's node id, -1 when there is none now. */
  readonly leader: number;
}

export interface TopicMetadata {
  readonly errorCode: number;
  readonly name: string;
  /** The topic id (v10 and later), all zeros before. */
  readonly id: string;
  readonly partitions: readonly PartitionMetadata[];
}

export interface MetadataAnswer {
  readonly brokers: ReadonlyMap<number, BrokerAddress>;
  readonly topics: readonly TopicMetadata[];
}

/** Metadata v9 to v12 of the topics named (never creating one). */
export function metadataRequest(version: number, names: readonly string[]): BrokerRequest<MetadataAnswer> {
  return {
    apiKey: METADATA_API_KEY,
    version,
    write: (writer) => {
      writer.compactArrayLength(names.length);
      for (const name of names) {
        if (version >= 10) writer.uuid("00000000-0000-0000-0000-000000000000");
        writer.compactString(name).taggedFields();
      }
      writer.boolean(false); // allow_auto_topic_creation
      if (version <= 10) writer.boolean(false); // include_cluster_authorized_operations
      writer.boolean(false).taggedFields(); // include_topic_authorized_operations
    },
    parse: () => parseMetadata(version),
    taggedHeader: true,
  };
}

function* parseMetadata(version: number): Parse<MetadataAnswer> {
  yield* int32(); // throttle_time_ms
  const brokers = new Map<number, BrokerAddress>();
  const brokerCount = (yield* unsignedVarInt()) - 1;
  for (let i = 0; i < brokerCount; i++) {
    const node = yield* int32();
    const host = yield* compactString();
    const port = yield* int32();
    yield* compactString(); // rack
    yield* skipTaggedFields();
    brokers.set(node, { host, port });
  }
  yield* compactString(); // cluster_id
  yield* int32(); // controller_id
  const topics: TopicMetadata[] = [];
  const topicCount = (yield* unsignedVarInt()) - 1;
  for (let t = 0; t < topicCount; t++) {
    const errorCode = yield* int16();
    const name = yield* compactString();
    const id = version >= 10 ? yield* uuid() : "00000000-0000-0000-0000-000000000000";
    yield* fixed(1); // is_internal
    const partitions: PartitionMetadata[] = [];
    const partitionCount = (yield* unsignedVarInt()) - 1;
    for (let p = 0; p < partitionCount; p++) {
      const partitionError = yield* int16();
      const index = yield* int32();
      const leader = yield* int32();
      yield* int32(); // leader_epoch
      for (let list = 0; list < 3; list++) {
        // replica_nodes, isr_nodes, offline_replicas
        const nodes = (yield* unsignedVarInt()) - 1;
        if (nodes > 0) yield* fixed(4 * nodes);
      }
      yield* skipTaggedFields();
      partitions[index] = { errorCode: partitionError, leader };
    }
    yield* int32(); // topic_authorized_operations
    yield* skipTaggedFields();
    topics.push({ errorCode, name, id, partitions: Array.from(partitions, (partition) => partition ?? { errorCode: 0, leader: -1 }) });
  }
  if (version <= 10) yield* int32(); // cluster_authorized_operations
  yield* skipTaggedFields();
  return { brokers, topics };
}

/** ListOffsets' special timestamps: a partition's first offset, and its end. */
export const EARLIEST = -2;
export const LATEST = -1;

export interface OffsetAnswer {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly offset: number;
}

/** ListOffsets v6 to v9 (read committed: the end is the last stable offset) of the partitions named. */
export function listOffsetsRequest(version: number, timestamp: number, partitions: ReadonlyMap<string, readonly number[]>): BrokerRequest<OffsetAnswer[]> {
  return {
    apiKey: LIST_OFFSETS_API_KEY,
    version,
    write: (writer) => {
      writer.int32(-1).int8(1); // replica_id: a consumer; isolation_level: read committed
      writer.compactArrayLength(partitions.size);
      for (const [name, indexes] of partitions) {
        writer.compactString(name).compactArrayLength(indexes.length);
        for (const index of indexes) writer.int32(index).int32(-1).int64(timestamp).taggedFields();
        writer.taggedFields();
      }
      writer.taggedFields();
    },
    parse: parseListOffsets,
    taggedHeader: true,
  };
}

function* parseListOffsets(): Parse<OffsetAnswer[]> {
  yield* int32(); // throttle_time_ms
  const answers: OffsetAnswer[] = [];
  const topicCount = (yield* unsignedVarInt()) - 1;
  for (let t = 0; t < topicCount; t++) {
    const topic = yield* compactString();
    const count = (yield* unsignedVarInt()) - 1;
    for (let i = 0; i < count; i++) {
      const partition = yield* int32();
      const errorCode = yield* int16();
      yield* int64(); // timestamp
      const offset = Number(yield* int64());
      yield* int32(); // leader_epoch
      yield* skipTaggedFields();
      answers.push({ topic, partition, errorCode, offset });
    }
    yield* skipTaggedFields();
  }
  yield* skipTaggedFields();
  return answers;
}
