/**
 * The cluster through @platformatic/kafka's connections: what a reader uses with SASL, where logging
 * in (handshakes, SCRAM, re-authentication) is the client's. Loaded only then (topics-reader.ts), so
 * a read without SASL does not pay for the client's module (kafka-client.ts). Fetches still use
 * wfsim's answer parser (fetch-request.ts sendFetch).
 */
import { Admin, Consumer, FetchIsolationLevels, ListOffsetTimestamps } from "@platformatic/kafka";
import type { KafkaConnection } from "../../config/kafka-options.ts";
import { clientOptions } from "../client-options.ts";
import type { Cluster, ClusterView, OffsetSpec } from "./cluster.ts";
import type { ApiRange, BrokerAddress } from "./cluster-requests.ts";
import { sendFetch, type FetchAnswer, type FetchSettings, type FetchTopic } from "./fetch-request.ts";

export class ClientCluster implements Cluster {
  readonly ownConnections = 0;
  private readonly connection: KafkaConnection;
  private readonly role: string;
  private readonly client: Consumer;
  private tracked = false;

  constructor(connection: KafkaConnection, role: string) {
    this.connection = connection;
    this.role = role;
    this.client = new Consumer({ ...clientOptions(connection, role), retries: 0, groupId: `${connection.clientId}-reader`, isolationLevel: FetchIsolationLevels.READ_COMMITTED });
  }

  apis(): Promise<readonly ApiRange[]> {
    return this.client.listApis();
  }

  async existingTopics(names: readonly string[]): Promise<ReadonlySet<string>> {
    const admin = new Admin({ ...clientOptions(this.connection, this.role), retries: 0 });
    try {
      const listed = new Set(await admin.listTopics());
      return new Set(names.filter((name) => listed.has(name)));
    } finally {
      await admin.close().catch(() => {});
    }
  }

  async metadata(names: readonly string[], refresh: boolean): Promise<ClusterView> {
    // Once: the client counts each track (a reader asks for the metadata every fetch round).
    if (!this.tracked) this.client.topics.trackAll(...names);
    this.tracked = true;
    const metadata = await this.client.metadata({ topics: [...names], forceUpdate: refresh });
    return { brokers: metadata.brokers, topics: metadata.topics };
  }

  async offsets(_view: ClusterView, names: readonly string[], which: OffsetSpec): Promise<Map<string, number[]>> {
    const offsets = await this.client.listOffsets(
      which === "earliest"
        ? { topics: [...names], timestamp: ListOffsetTimestamps.EARLIEST }
        : { topics: [...names], timestamp: ListOffsetTimestamps.LATEST, isolationLevel: FetchIsolationLevels.READ_COMMITTED },
    );
    return new Map([...offsets].map(([name, partitions]) => [name, partitions.map(Number)]));
  }

  async fetch(leader: BrokerAddress, version: number, settings: FetchSettings, topics: readonly FetchTopic[]): Promise<FetchAnswer> {
    return sendFetch(await this.client.connections.get(leader), version, settings, topics);
  }

  async close(): Promise<void> {
    await this.client.close(true).catch(() => {});
  }
}
