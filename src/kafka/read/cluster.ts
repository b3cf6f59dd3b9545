/**
 * What a reader asks of the cluster before and while it fetches, whichever connections carry it:
 * wfsim's own (direct-cluster.ts, plain TCP and TLS: the client is not even loaded) or, with SASL,
 * @platformatic/kafka's (client-cluster.ts, which logs in). Failures are the connections' errors or
 * the client's ResponseError, for describeKafkaFailure (errors.ts) to read.
 */
import type { ApiRange, BrokerAddress } from "./cluster-requests.ts";
import type { FetchAnswer, FetchSettings, FetchTopic } from "./fetch-request.ts";

export type { ApiRange, BrokerAddress };

/** The topics a reader reads, as the cluster's metadata has them. */
export interface ClusterView {
  readonly brokers: ReadonlyMap<number, BrokerAddress>;
  readonly topics: ReadonlyMap<string, { readonly id: string; readonly partitions: readonly { readonly leader: number }[] }>;
}

/** Which offset ListOffsets is asked for: a partition's first, or its end (read committed). */
export type OffsetSpec = "earliest" | "latest";

export interface Cluster {
  /** The APIs and versions the (bootstrap) broker speaks. */
  apis(): Promise<readonly ApiRange[]>;
  /** The topics of `names` that exist and that this user may see. */
  existingTopics(names: readonly string[]): Promise<ReadonlySet<string>>;
  /** Partitions, leaders and brokers of the topics `names` (all existing); asked again when `refresh`. */
  metadata(names: readonly string[], refresh: boolean): Promise<ClusterView>;
  /** Each partition's first or end offset, by topic, in partition order. */
  offsets(view: ClusterView, names: readonly string[], which: OffsetSpec): Promise<Map<string, number[]>>;
  /** One Fetch to a leader; its answer's errors are the caller's to read. */
  fetch(leader: BrokerAddress, version: number, settings: FetchSettings, topics: readonly FetchTopic[]): Promise<FetchAnswer>;
  /** wfsim's own connections open now (none through the client): to tell which path requests take. */
  readonly ownConnections: number;
  close(): Promise<void>;
}
