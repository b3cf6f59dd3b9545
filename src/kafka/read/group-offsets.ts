/**
 * A topic's offsets kept in a consumer group that wfsim does not join (`--score-alerts-group`), as
 * Kafka's Java consumer keeps them after assign(): OffsetCommit with generation -1 and no member id,
 * which the coordinator accepts for a group without members, and OffsetFetch to resume from them. A
 * reader that takes every partition (alerts are scored whole) needs no assignment, no heartbeat and
 * no rebalance; a group whose members are consumers of their own refuses the commit, and says so.
 */
import type { Connection, Consumer } from "@platformatic/kafka";
import { COMMIT_APIS, FETCH_APIS, newest, type CommitApi, type FetchApi } from "./group-member.ts";

export class GroupOffsets {
  readonly group: string;
  private readonly client: Consumer;
  private readonly topic: string;
  private readonly commitApi: CommitApi;
  private readonly fetchApi: FetchApi;

  private constructor(client: Consumer, group: string, topic: string, commitApi: CommitApi, fetchApi: FetchApi) {
    this.client = client;
    this.group = group;
    this.topic = topic;
    this.commitApi = commitApi;
    this.fetchApi = fetchApi;
  }

  /** With `client`, whose groupId is `group` (its coordinator is found by it). */
  static async of(client: Consumer, group: string, topic: string): Promise<GroupOffsets> {
    const apis = await client.listApis();
    const commitApi = newest(apis, 8, COMMIT_APIS);
    const fetchApi = newest(apis, 9, FETCH_APIS);
    if (commitApi === undefined || fetchApi === undefined) {
      throw new Error("the broker does not speak OffsetCommit v2+ and OffsetFetch v2+ (Kafka 0.10.1 and later do)");
    }
    return new GroupOffsets(client, group, topic, commitApi, fetchApi);
  }

  /** The offset committed for each of `partitions` partitions; -1 where none was. */
  async committed(partitions: number): Promise<number[]> {
    const connection = await this.coordinator();
    const indexes = Array.from({ length: partitions }, (_, p) => p);
    const answer = (await this.fetchApi.async(connection, [{ groupId: this.group, memberId: null, memberEpoch: -1, topics: [{ name: this.topic, partitionIndexes: indexes }] }], false)) as {
      groups?: { topics: OffsetFetchTopic[] }[];
      topics?: OffsetFetchTopic[];
    };
    const offsets = indexes.map(() => -1);
    for (const topic of answer.groups?.[0]?.topics ?? answer.topics ?? []) {
      if (topic.name !== this.topic) continue;
      for (const partition of topic.partitions) offsets[partition.partitionIndex] = Number(partition.committedOffset);
    }
    return offsets;
  }

  /** Commits the next offset to read of every partition (rejects with Kafka's error when refused). */
  async commit(offsets: readonly number[]): Promise<void> {
    const connection = await this.coordinator();
    const partitions = offsets.map((offset, partitionIndex) => ({ partitionIndex, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: "" }));
    await new Promise<void>((resolve, reject) =>
      this.commitApi(connection, this.group, -1, "", null, [{ name: this.topic, partitions }], (error) => (error ? reject(error) : resolve())),
    );
  }

  private async coordinator(): Promise<Connection> {
    const id = await this.client.findGroupCoordinator();
    const metadata = await this.client.metadata({ topics: [this.topic] });
    const broker = metadata.brokers.get(id);
    if (broker === undefined) throw new Error(`the group coordinator (node ${id}) is not in the cluster metadata`);
    return this.client.connections.get(broker);
  }
}

interface OffsetFetchTopic {
  readonly name: string;
  readonly partitions: readonly { partitionIndex: number; committedOffset: bigint }[];
}
