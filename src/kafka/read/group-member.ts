/**
 * A follower's membership in a Kafka consumer group (`analyze --follow --group NAME`):
 * @platformatic/kafka's Consumer joins, heartbeats and rejoins on rebalances, with the co-partitioned
 * assignor; assignments arrive as they are made.
 *
 * Offsets are committed and read here with the plain OffsetCommit and OffsetFetch requests, not the
 * Consumer's commit(): a commit must carry the generation whose assignment the follower acted on,
 * and must fail (not rejoin and retry under a newer generation, as commit() does) once the group has
 * moved on, so that a follower that lost a partition cannot overwrite what its new owner reads. It
 * also carries metadata (see follow.ts), which listCommittedOffsets does not return.
 */
import {
  Consumer,
  offsetCommitV2,
  offsetCommitV3,
  offsetCommitV4,
  offsetCommitV5,
  offsetCommitV6,
  offsetCommitV7,
  offsetCommitV8,
  offsetCommitV9,
  offsetFetchV2,
  offsetFetchV3,
  offsetFetchV4,
  offsetFetchV5,
  offsetFetchV6,
  offsetFetchV7,
  offsetFetchV8,
  offsetFetchV9,
  type Connection,
  type ConsumerGroupJoinPayload,
} from "@platformatic/kafka";
import type { KafkaConnection } from "../../config/kafka-options.ts";
import { WfsimError } from "../../errors.ts";
import { clientOptions } from "../client-options.ts";
import { retrying, setUpWithin, type NameOf } from "../connect.ts";
import { describeKafkaFailure } from "../errors.ts";
import { copartitionedAssigner, COPARTITIONED_PROTOCOL } from "./copartitioned-assigner.ts";

/** A dead follower's partitions go to the others after this long without a heartbeat. */
const SESSION_TIMEOUT_MS = 10_000;
const HEARTBEAT_INTERVAL_MS = 1_000;
/** How long the group waits for its members to rejoin in a rebalance (they do at their next heartbeat). */
const REBALANCE_TIMEOUT_MS = 20_000;

export type CommitApi = typeof offsetCommitV9.api;
export type FetchApi = typeof offsetFetchV9.api;

/** The versions @platformatic/kafka can build and parse, newest first. Their arguments are the same. */
export const COMMIT_APIS = new Map<number, CommitApi>(
  [offsetCommitV9, offsetCommitV8, offsetCommitV7, offsetCommitV6, offsetCommitV5, offsetCommitV4, offsetCommitV3, offsetCommitV2].map((m) => [
    m.api.version,
    m.api as CommitApi,
  ]),
);
export const FETCH_APIS = new Map<number, FetchApi>(
  [offsetFetchV9, offsetFetchV8, offsetFetchV7, offsetFetchV6, offsetFetchV5, offsetFetchV4, offsetFetchV3, offsetFetchV2].map((m) => [
    m.api.version,
    m.api as unknown as FetchApi,
  ]),
);

/** Answers that mean: this member's generation is over (a rebalance happened or is happening). */
const FENCED = new Set(["ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID", "REBALANCE_IN_PROGRESS", "FENCED_INSTANCE_ID", "STALE_MEMBER_EPOCH"]);

export interface Assignment {
  readonly generation: number;
  readonly memberId: string;
  /** Partition numbers assigned on every topic. */
  readonly partitions: readonly number[];
}

export interface Committed {
  /** -1 when nothing was committed. */
  readonly offset: number;
  readonly metadata: string | null;
}

export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string;
}

export type CommitOutcome = { readonly ok: true } | { readonly ok: false; readonly fenced: boolean; readonly error: unknown };

export class GroupMember {
  readonly group: string;
  private readonly client: Consumer;
  private readonly topics: readonly string[];
  private readonly assignments: Assignment[] = [];
  private commitApi: CommitApi | undefined;
  /** The coordinator's connection, kept so that a commit can be sent without waiting (see commit). */
  private coordinatorConnection: Connection | undefined;
  private fetchApi: FetchApi | undefined;
  /** A failure the Consumer reported on its own (a rejoin that failed for good). */
  failure: unknown;

  private constructor(group: string, client: Consumer, topics: readonly string[]) {
    this.group = group;
    this.client = client;
    this.topics = topics;
  }

  /**
   * Joins the group (within --kafka-timeout) to read `topics` (co-partitioned: the same partition
   * number of each goes to one member); the first assignment is waiting when this resolves.
   */
  static async join(connection: KafkaConnection, topics: readonly string[], group: string, settings: { signal?: AbortSignal | undefined; nameOf?: NameOf | undefined }): Promise<GroupMember> {
    const client = new Consumer({
      ...clientOptions(connection, "follower"),
      // Rejoining after a rebalance must outlast a broker that restarts within --kafka-timeout.
      retries: Math.ceil(connection.timeoutMs / 1_000) + 3,
      groupId: group,
      autocommit: false,
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      protocols: [{ ...COPARTITIONED_PROTOCOL }],
      partitionAssigner: copartitionedAssigner,
    });
    const member = new GroupMember(group, client, topics);
    client.on("consumer:group:join", (payload: ConsumerGroupJoinPayload) => member.joined(payload));
    client.on("error", (error: unknown) => (member.failure ??= error));
    client.topics.trackAll(...topics);
    try {
      await setUpWithin(connection, settings, async (deadline, seen) => {
        const apis = await retrying(deadline, settings.signal, seen, () => client.listApis());
        member.commitApi = newest(apis, 8, COMMIT_APIS);
        member.fetchApi = newest(apis, 9, FETCH_APIS);
        if (member.commitApi === undefined || member.fetchApi === undefined) {
          throw new WfsimError("KAFKA_CONNECT", `Kafka at ${connection.bootstrap.join(",")} does not speak OffsetCommit v2+ and OffsetFetch v2+ (Kafka 0.10.1 and later do)`);
        }
        await retrying(deadline, settings.signal, seen, () =>
          client.joinGroup({
            sessionTimeout: SESSION_TIMEOUT_MS,
            heartbeatInterval: HEARTBEAT_INTERVAL_MS,
            rebalanceTimeout: REBALANCE_TIMEOUT_MS,
            protocols: [{ ...COPARTITIONED_PROTOCOL }],
            partitionAssigner: copartitionedAssigner,
          }),
        );
      });
    } catch (error) {
      await client.close(true).catch(() => {});
      const protocol = describeKafkaFailure(error).apiIds.includes("INCONSISTENT_GROUP_PROTOCOL");
      if (protocol) {
        throw new WfsimError(
          "KAFKA_CONNECT",
          `cannot join group ${group} at Kafka at ${connection.bootstrap.join(",")}: its members use another partition assignment than wfsim's co-partitioned one (INCONSISTENT_GROUP_PROTOCOL); use a group of wfsim followers only`,
          { cause: error },
        );
      }
      throw error;
    }
    return member;
  }

  /**
   * Called when the Consumer learns that a rebalance began, just before it rejoins: the last moment
   * at which a commit under the current generation is still accepted.
   */
  onRebalance(listener: () => void): void {
    this.client.on("consumer:group:rebalance", listener);
  }

  /** Assignments received since the last call, oldest first (each generation's, so none is skipped). */
  takeAssignments(): Assignment[] {
    return this.assignments.splice(0);
  }

  private joined(payload: ConsumerGroupJoinPayload): void {
    const of = (topic: string) => new Set(payload.assignments?.find((a) => a.topic === topic)?.partitions ?? []);
    const [first, ...others] = this.topics.map(of);
    this.assignments.push({
      generation: payload.generationId ?? -1,
      memberId: payload.memberId,
      partitions: [...(first ?? [])].filter((p) => others.every((other) => other.has(p))).sort((a, b) => a - b),
    });
  }

  /** What the group committed for partition p of each topic, by `topic:p`. */
  async committed(partitions: readonly number[]): Promise<Map<string, Committed>> {
    const api = this.fetchApi!;
    const connection = await this.coordinator();
    const topics = this.topics.map((name) => ({ name, partitionIndexes: [...partitions] }));
    const answer = (await api.async(connection, [{ groupId: this.group, memberId: null, memberEpoch: -1, topics }], false)) as {
      groups?: { topics: OffsetFetchTopic[] }[];
      topics?: OffsetFetchTopic[];
    };
    const result = new Map<string, Committed>();
    for (const topic of answer.groups?.[0]?.topics ?? answer.topics ?? []) {
      for (const partition of topic.partitions) {
        result.set(`${topic.name}:${partition.partitionIndex}`, { offset: Number(partition.committedOffset), metadata: partition.metadata });
      }
    }
    return result;
  }

  /**
   * Commits under `assignment`'s generation; refused (fenced) once the group has a newer one. With
   * the coordinator's connection known, the request is queued on it before this returns, so that a
   * commit made when a rebalance begins goes out ahead of the Consumer's JoinGroup.
   */
  async commit(assignment: Assignment, offsets: readonly OffsetToCommit[]): Promise<CommitOutcome> {
    if (offsets.length === 0) return { ok: true };
    try {
      const known = this.coordinatorConnection;
      const connection = known !== undefined && known.isConnected() ? known : await this.coordinator();
      const topics = new Map<string, { name: string; partitions: { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string }[] }>();
      for (const entry of offsets) {
        let topic = topics.get(entry.topic);
        if (topic === undefined) topics.set(entry.topic, (topic = { name: entry.topic, partitions: [] }));
        topic.partitions.push({ partitionIndex: entry.partition, committedOffset: BigInt(entry.offset), committedLeaderEpoch: -1, committedMetadata: entry.metadata });
      }
      const api = this.commitApi!;
      await new Promise<void>((resolve, reject) =>
        api(connection, this.group, assignment.generation, assignment.memberId, null, [...topics.values()], (error) => (error ? reject(error) : resolve())),
      );
      return { ok: true };
    } catch (error) {
      const ids = describeKafkaFailure(error).apiIds;
      return { ok: false, fenced: ids.some((id) => FENCED.has(id)), error };
    }
  }

  /** Leaves the group (its partitions go to the others at once) and closes the connections. */
  async close(): Promise<void> {
    // leaveGroup() first: it ends the membership, so that a rejoin still in flight (a rebalance
    // begun just before) does not restart the heartbeat timer after close(), which leaves the group
    // without doing so and would keep the process alive.
    await new Promise<void>((resolve) => this.client.leaveGroup(true, () => resolve()));
    await this.client.close(true).catch(() => {});
  }

  private async coordinator(): Promise<Connection> {
    const id = await this.client.findGroupCoordinator();
    const metadata = await this.client.metadata({ topics: [...this.topics] });
    const broker = metadata.brokers.get(id);
    if (broker === undefined) throw new Error(`the group coordinator (node ${id}) is not in the cluster metadata`);
    const connection = await this.client.connections.get(broker);
    this.coordinatorConnection = connection;
    return connection;
  }
}

interface OffsetFetchTopic {
  readonly name: string;
  readonly partitions: readonly { partitionIndex: number; committedOffset: bigint; metadata: string | null }[];
}

export function newest<T>(apis: readonly { apiKey: number; minVersion: number; maxVersion: number }[], key: number, known: Map<number, T>): T | undefined {
  const offered = apis.find((api) => api.apiKey === key);
  if (offered === undefined) return undefined;
  for (const [version, api] of known) if (version >= offered.minVersion && version <= offered.maxVersion) return api;
  return undefined;
}
