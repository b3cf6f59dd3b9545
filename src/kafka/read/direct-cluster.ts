/**
 * The cluster over wfsim's own connections (broker-socket.ts), plain TCP or TLS: ApiVersions and
 * Metadata to a bootstrap broker, ListOffsets and Fetch to each partition's leader, one connection
 * per broker. @platformatic/kafka is not loaded (kafka-client.ts) unless an answer carries an error,
 * which is then raised as the client's ResponseError, so that its message and whether it is
 * retried stay as they were when the client sent these requests.
 */
import type { KafkaConnection } from "../../config/kafka-options.ts";
import { WfsimError } from "../../errors.ts";
import { VERSION } from "../../version.ts";
import { tlsOptions } from "../client-options.ts";
import { kafkaClient } from "../kafka-client.ts";
import { BrokerSocket, type BrokerRequest } from "./broker-socket.ts";
import type { Cluster, ClusterView, OffsetSpec } from "./cluster.ts";
import {
  API_VERSIONS_API_KEY,
  EARLIEST,
  LATEST,
  LIST_OFFSETS_API_KEY,
  LIST_OFFSETS_VERSIONS,
  METADATA_API_KEY,
  METADATA_VERSIONS,
  apiVersionsRequest,
  listOffsetsRequest,
  metadataRequest,
  pickVersion,
  type ApiRange,
  type BrokerAddress,
  type MetadataAnswer,
} from "./cluster-requests.ts";
import type { FetchAnswer, FetchSettings, FetchTopic } from "./fetch-request.ts";

/** Longest a connect may take (as the client's, client-options.ts). */
const CONNECT_TIMEOUT_MS = 5_000;
/** Kafka's codes for a topic that is not there, or not visible to this user. */
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const TOPIC_AUTHORIZATION_FAILED = 29;

export class DirectCluster implements Cluster {
  private readonly connection: KafkaConnection;
  private readonly clientId: string;
  private readonly bootstrap: readonly BrokerAddress[];
  /** The bootstrap address asked now; the next one after a failure. */
  private bootstrapAt = 0;
  private readonly sockets = new Map<string, BrokerSocket>();
  private versions: { readonly metadata: number; readonly listOffsets: number } | undefined;
  private view: ClusterView | undefined;
  private justAsked: MetadataAnswer | undefined;
  private closed = false;

  constructor(connection: KafkaConnection, role: string) {
    this.connection = connection;
    this.clientId = `${connection.clientId}-${role}`;
    this.bootstrap = connection.bootstrap.map(parseAddress);
  }

  get ownConnections(): number {
    return [...this.sockets.values()].filter((socket) => !socket.closed).length;
  }

  async apis(): Promise<readonly ApiRange[]> {
    const answer = await this.askBootstrap(apiVersionsRequest(VERSION));
    if (answer.errorCode !== 0) throw responseError(API_VERSIONS_API_KEY, 3, { "": answer.errorCode }, answer);
    const metadata = pickVersion(answer.apis, METADATA_API_KEY, METADATA_VERSIONS);
    const listOffsets = pickVersion(answer.apis, LIST_OFFSETS_API_KEY, LIST_OFFSETS_VERSIONS);
    if (metadata === undefined || listOffsets === undefined) {
      throw new WfsimError(
        "KAFKA_CONNECT",
        `Kafka at ${this.connection.bootstrap.join(",")} does not speak Metadata v${METADATA_VERSIONS.min} and ListOffsets v${LIST_OFFSETS_VERSIONS.min} (Kafka 2.7 and later do)`,
      );
    }
    this.versions = { metadata, listOffsets };
    return answer.apis;
  }

  async existingTopics(names: readonly string[]): Promise<ReadonlySet<string>> {
    const answer = await this.askMetadata(names);
    this.justAsked = answer;
    const missing = new Set(answer.topics.filter((topic) => topic.errorCode === UNKNOWN_TOPIC_OR_PARTITION || topic.errorCode === TOPIC_AUTHORIZATION_FAILED).map((topic) => topic.name));
    return new Set(names.filter((name) => !missing.has(name)));
  }

  async metadata(names: readonly string[], refresh: boolean): Promise<ClusterView> {
    if (this.view !== undefined && !refresh) return this.view;
    // The answer existingTopics just had serves once: a reader asks for the metadata right after (one round trip less).
    const answer = this.justAsked ?? (await this.askMetadata(names));
    this.justAsked = undefined;
    const errors: Record<string, number> = {};
    answer.topics.forEach((topic, i) => {
      if (topic.errorCode !== 0) errors[`/topics/${i}`] = topic.errorCode;
    });
    if (Object.keys(errors).length > 0) throw responseError(METADATA_API_KEY, this.versions!.metadata, errors, answer);
    const view: ClusterView = { brokers: answer.brokers, topics: new Map(answer.topics.map((topic) => [topic.name, topic])) };
    this.view = view;
    return view;
  }

  async offsets(view: ClusterView, names: readonly string[], which: OffsetSpec): Promise<Map<string, number[]>> {
    const version = this.versions!.listOffsets;
    // Each partition's offsets come from its leader.
    const byLeader = new Map<number, Map<string, number[]>>();
    for (const name of names) {
      view.topics.get(name)?.partitions.forEach((partition, index) => {
        let topics = byLeader.get(partition.leader);
        if (topics === undefined) byLeader.set(partition.leader, (topics = new Map()));
        let indexes = topics.get(name);
        if (indexes === undefined) topics.set(name, (indexes = []));
        indexes.push(index);
      });
    }
    const offsets = new Map<string, number[]>(names.map((name) => [name, []]));
    await Promise.all(
      [...byLeader].map(async ([leader, partitions]) => {
        const answers = await this.socketTo(brokerOf(view, leader, partitions)).request(listOffsetsRequest(version, which === "earliest" ? EARLIEST : LATEST, partitions));
        const errors: Record<string, number> = {};
        answers.forEach((answer, i) => {
          if (answer.errorCode !== 0) errors[`/topics/${answer.topic}/partitions/${i}`] = answer.errorCode;
          else offsets.get(answer.topic)![answer.partition] = answer.offset;
        });
        if (Object.keys(errors).length > 0) throw responseError(LIST_OFFSETS_API_KEY, version, errors, answers);
      }),
    );
    return offsets;
  }

  fetch(leader: BrokerAddress, version: number, settings: FetchSettings, topics: readonly FetchTopic[]): Promise<FetchAnswer> {
    return this.socketTo(leader).fetch(version, settings, topics);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
  }

  private askMetadata(names: readonly string[]): Promise<MetadataAnswer> {
    return this.askBootstrap(metadataRequest(this.versions!.metadata, names));
  }

  /** A request to the bootstrap address in use; after a failure the next one is tried (by the caller's retry). */
  private async askBootstrap<T>(request: BrokerRequest<T>): Promise<T> {
    const address = this.bootstrap[this.bootstrapAt % this.bootstrap.length]!;
    try {
      return await this.socketTo(address).request(request);
    } catch (error) {
      this.bootstrapAt++;
      throw error;
    }
  }

  /** The open connection to a broker, or a new one. */
  private socketTo(address: BrokerAddress): BrokerSocket {
    if (this.closed) throw new Error("the reader is closed");
    const key = `${address.host}:${address.port}`;
    let socket = this.sockets.get(key);
    if (socket === undefined || socket.closed) {
      socket = new BrokerSocket({
        host: address.host,
        port: address.port,
        tls: tlsOptions(this.connection),
        clientId: this.clientId,
        connectTimeoutMs: Math.min(CONNECT_TIMEOUT_MS, this.connection.timeoutMs),
        requestTimeoutMs: this.connection.timeoutMs,
      });
      this.sockets.set(key, socket);
    }
    return socket;
  }
}

/** "host:port" or "[v6 address]:port". */
function parseAddress(address: string): BrokerAddress {
  const colon = address.lastIndexOf(":");
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ""), port: Number(address.slice(colon + 1)) };
}

function brokerOf(view: ClusterView, leader: number, partitions: ReadonlyMap<string, readonly number[]>): BrokerAddress {
  const broker = view.brokers.get(leader);
  if (broker !== undefined) return broker;
  const [name, indexes] = [...partitions][0]!;
  throw new Error(`the leader of ${name}-${indexes[0]} (node ${leader}) is not in the cluster metadata`);
}

/** The client's ResponseError for the error codes of an answer, by path (loads the client: errors are rare). */
function responseError(apiKey: number, version: number, codes: Record<string, number>, answer: unknown): Error {
  const errors = Object.fromEntries(Object.entries(codes).map(([path, code]): [string, [number, null]] => [path, [code, null]]));
  return new (kafkaClient().ResponseError)(apiKey, version, errors, answer);
}
