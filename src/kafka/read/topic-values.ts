/**
 * One topic's record values, every partition from its first record to the end it has when reading
 * begins: what `wfsim analyze --alerts kafka:TOPIC` reads a detector's alerts from. Unlike the two
 * event topics (topics-reader.ts), nothing is merged: alerts are scored by transaction, whatever
 * their order, so partitions are read one after the other.
 */
import { Admin, Consumer, FetchIsolationLevels, ListOffsetTimestamps, type fetchV17 } from "@platformatic/kafka";
import type { KafkaConnection } from "../../config/kafka-options.ts";
import { WfsimError } from "../../errors.ts";
import { clientOptions } from "../client-options.ts";
import { DeadlineError, kafkaError, retrying, setUpWithin, type NameOf } from "../connect.ts";
import { GroupOffsets } from "./group-offsets.ts";
import { describeKafkaFailure } from "../errors.ts";

type FetchResponse = fetchV17.FetchResponse;

/** Batch attribute bit of control batches (transaction markers): they carry no records of interest. */
const CONTROL_BATCH = 0x20;
const PARTITION_MAX_BYTES = 1 << 20;
const FETCH_WAIT_MS = 100;

export interface OpenTopicSettings {
  readonly signal?: AbortSignal | undefined;
  readonly nameOf?: NameOf | undefined;
  /** How the topic is named in messages: "--alerts kafka:alerts". */
  readonly what: string;
  readonly role?: string;
  /**
   * A consumer group to keep the read offsets in (follow() commits them, and starts from them): a
   * restart resumes where the last reader left off. Without it nothing is committed.
   */
  readonly group?: string | undefined;
}

/** How often follow() commits its offsets to the group, at most. */
const COMMIT_EVERY_MS = 1_000;

export class TopicValues {
  readonly connection: KafkaConnection;
  readonly topic: string;
  /** Where each partition began and ended when reading began. */
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  /** Records skipped because retention deleted them while they were being read. */
  skippedByRetention = 0;
  /** Where follow() starts: the group's committed offsets, else where each partition ended when reading began. */
  readonly resumeFrom: readonly number[];
  private readonly client: Consumer;
  private readonly nameOf: NameOf;
  private readonly offsets: GroupOffsets | undefined;
  /** The offsets follow() has handed on, to commit (when a group keeps them). */
  private readOffsets: number[] | undefined;

  private constructor(connection: KafkaConnection, topic: string, client: Consumer, starts: number[], ends: number[], nameOf: NameOf, group?: { offsets: GroupOffsets; resume: number[] }) {
    this.connection = connection;
    this.topic = topic;
    this.client = client;
    this.starts = starts;
    this.ends = ends;
    this.nameOf = nameOf;
    this.offsets = group?.offsets;
    this.resumeFrom = group?.resume ?? ends;
  }

  /** The group that keeps the offsets, if any. */
  get group(): string | undefined {
    return this.offsets?.group;
  }

  /**
   * Offsets deleted before reading began (a partition's first offset above 0: retention, or
   * records deleted on purpose). Offsets, not records: a transactional producer's markers count too.
   */
  get deletedBeforeRead(): number {
    return this.starts.reduce((sum, start) => sum + start, 0);
  }

  /**
   * Connects, checks that the topic exists and reads where its partitions begin and end, within
   * --kafka-timeout; a missing topic is a one-line WfsimError naming `settings.what`.
   */
  static async open(connection: KafkaConnection, topic: string, settings: OpenTopicSettings): Promise<TopicValues> {
    const nameOf = settings.nameOf ?? ((key) => key);
    const base = { ...clientOptions(connection, settings.role ?? "topic-reader"), retries: 0 };
    const client = new Consumer({ ...base, groupId: settings.group ?? `${connection.clientId}-topic-reader`, isolationLevel: FetchIsolationLevels.READ_COMMITTED });
    const admin = new Admin(base);
    try {
      const { starts, ends, group } = await setUpWithin(connection, { signal: settings.signal, nameOf }, async (deadline, seen) => {
        const existing = await retrying(deadline, settings.signal, seen, () => admin.listTopics());
        if (!existing.includes(topic)) {
          throw new WfsimError(
            "KAFKA_TOPIC",
            `${settings.what}: no topic ${topic} at Kafka at ${connection.bootstrap.join(",")}, or not visible to this user`,
          );
        }
        const metadata = await retrying(deadline, settings.signal, seen, () => client.metadata({ topics: [topic], forceUpdate: true }));
        const partitions = metadata.topics.get(topic)?.partitionsCount ?? 0;
        const offsets = (timestamp: bigint) =>
          retrying(deadline, settings.signal, seen, () => client.listOffsets({ topics: [topic], timestamp, isolationLevel: FetchIsolationLevels.READ_COMMITTED }));
        const first = await offsets(ListOffsetTimestamps.EARLIEST);
        const last = await offsets(ListOffsetTimestamps.LATEST);
        const at = (found: Map<string, bigint[]>, p: number) => Number(found.get(topic)?.[p] ?? 0n);
        const starts = Array.from({ length: partitions }, (_, p) => at(first, p));
        const ends = Array.from({ length: partitions }, (_, p) => at(last, p));
        if (settings.group === undefined) return { starts, ends, group: undefined };
        const name = settings.group;
        const offsetsOf = await retrying(deadline, settings.signal, seen, () => GroupOffsets.of(client, name, topic));
        const committed = await retrying(deadline, settings.signal, seen, () => offsetsOf.committed(partitions));
        // A committed offset retention has passed, or beyond the end (the topic made anew): the nearest one there is.
        const resume = committed.map((offset, p) => (offset < 0 ? ends[p]! : Math.min(Math.max(offset, starts[p]!), ends[p]!)));
        // Committed at once: the group exists from now on, and a group with members of its own refuses here.
        try {
          await retrying(deadline, settings.signal, seen, () => offsetsOf.commit(resume));
        } catch (error) {
          if (error instanceof DeadlineError) throw error;
          throw new WfsimError(
            "KAFKA_CONNECT",
            `${settings.what}: Kafka at ${connection.bootstrap.join(",")} refused to keep offsets in group ${name}: ${describeKafkaFailure(error).reason}` +
              " (a group with consumers of its own refuses them: give wfsim a group of its own)",
            { cause: error },
          );
        }
        return { starts, ends, group: { offsets: offsetsOf, resume } };
      });
      return new TopicValues(connection, topic, client, starts, ends, nameOf, group);
    } catch (error) {
      await client.close().catch(() => {});
      throw error;
    } finally {
      await admin.close().catch(() => {});
    }
  }

  /**
   * The values of the records, fetch by fetch, partition after partition (records without a value
   * are skipped). A fetch that fails in a way waiting may cure is retried until --kafka-timeout.
   */
  async *values(signal?: AbortSignal): AsyncIterable<Buffer[]> {
    for (let partition = 0; partition < this.starts.length; partition++) {
      let next = this.starts[partition]!;
      const end = this.ends[partition]!;
      while (next < end) {
        if (signal?.aborted) return;
        const answer = await this.fetch(partition, next, signal);
        if (answer === undefined) return;
        if (answer.errorCode !== 0) {
          // Retention deleted records before they were read: go on from the first one left.
          const logStart = Number(answer.logStartOffset);
          if (next >= logStart) throw kafkaError(new Error(`fetch from ${this.topic}-${partition} failed with error code ${answer.errorCode}`), this.connection, this.nameOf);
          this.skippedByRetention += logStart - next;
          next = logStart;
          continue;
        }
        const values: Buffer[] = [];
        for (const batch of answer.records ?? []) {
          const base = Number(batch.firstOffset);
          const last = base + batch.lastOffsetDelta;
          if ((batch.attributes & CONTROL_BATCH) === 0) {
            for (const record of batch.records) {
              const offset = base + record.offsetDelta;
              if (offset < next || offset >= end) continue;
              if (record.value !== null && record.value.length > 0) values.push(record.value);
            }
          }
          if (last + 1 > next) next = last + 1;
        }
        if (values.length > 0) yield values;
      }
    }
  }

  /**
   * Follows the topic from where each partition ended when reading began (what is written from now
   * on): hands on record values as they come, partition after partition, until `stop.requested` is
   * set and a round has found every partition read to its high watermark, or `signal` aborts.
   */
  async follow(onValues: (values: Buffer[]) => void, stop: { readonly requested: boolean }, signal?: AbortSignal): Promise<void> {
    const next = [...this.resumeFrom];
    this.readOffsets = next;
    let committedAt = performance.now();
    let committed = next.join();
    for (;;) {
      if (this.offsets !== undefined && next.join() !== committed && performance.now() - committedAt >= COMMIT_EVERY_MS) {
        // A commit that fails is tried again at the next one, and at close.
        committedAt = performance.now();
        const offsets = next.join();
        await this.offsets.commit(next).then(() => (committed = offsets), () => {});
      }
      let caughtUp = true;
      for (let partition = 0; partition < next.length; partition++) {
        if (signal?.aborted) return;
        const from = next[partition]!;
        const answer = await this.fetch(partition, from, signal);
        if (answer === undefined) return;
        if (answer.errorCode !== 0) {
          const logStart = Number(answer.logStartOffset);
          if (from >= logStart) throw kafkaError(new Error(`fetch from ${this.topic}-${partition} failed with error code ${answer.errorCode}`), this.connection, this.nameOf);
          this.skippedByRetention += logStart - from;
          next[partition] = logStart;
          caughtUp = false;
          continue;
        }
        const values: Buffer[] = [];
        let at = from;
        for (const batch of answer.records ?? []) {
          const base = Number(batch.firstOffset);
          if ((batch.attributes & CONTROL_BATCH) === 0) {
            for (const record of batch.records) {
              if (base + record.offsetDelta >= at && record.value !== null && record.value.length > 0) values.push(record.value);
            }
          }
          at = Math.max(at, base + batch.lastOffsetDelta + 1);
        }
        next[partition] = at;
        if (values.length > 0) onValues(values);
        if (at < Number(answer.highWatermark)) caughtUp = false;
      }
      if (caughtUp && stop.requested) return;
    }
  }

  private async fetch(partition: number, offset: number, signal: AbortSignal | undefined): Promise<FetchResponse["responses"][number]["partitions"][number] | undefined> {
    const deadline = performance.now() + this.connection.timeoutMs;
    try {
      return await retrying(deadline, signal, { error: undefined }, async () => {
        const metadata = await this.client.metadata({ topics: [this.topic] });
        const topic = metadata.topics.get(this.topic)!;
        const leader = topic.partitions[partition]?.leader ?? -1;
        let response: FetchResponse;
        try {
          response = await this.client.fetch({
            node: leader,
            topics: [{ topicId: topic.id, partitions: [{ partition, fetchOffset: BigInt(offset), partitionMaxBytes: PARTITION_MAX_BYTES, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
            maxWaitTime: FETCH_WAIT_MS,
            minBytes: 1,
            maxBytes: PARTITION_MAX_BYTES,
          });
        } catch (error) {
          const answered = (error as { response?: FetchResponse }).response;
          if (answered === undefined || !describeKafkaFailure(error).apiIds.includes("OFFSET_OUT_OF_RANGE")) throw error;
          response = answered;
        }
        const answer = response.responses[0]?.partitions.find((candidate) => candidate.partitionIndex === partition);
        if (answer === undefined) throw new Error(`no answer for ${this.topic}-${partition}`);
        return answer;
      });
    } catch (error) {
      if (signal?.aborted) return undefined;
      throw kafkaError(error, this.connection, this.nameOf);
    }
  }

  /**
   * Commits what follow() has handed on to the group (when one keeps the offsets), then closes.
   * Resolves to the commit's failure, if it failed, for a warning: the alerts were read all the same.
   */
  async close(): Promise<unknown> {
    let failure: unknown;
    if (this.offsets !== undefined && this.readOffsets !== undefined) {
      const offsets = this.offsets;
      const read = this.readOffsets;
      const deadline = performance.now() + this.connection.timeoutMs;
      await retrying(deadline, undefined, { error: undefined }, () => offsets.commit(read)).catch((error: unknown) => (failure = error instanceof DeadlineError ? (error.last ?? error) : error));
    }
    await this.client.close(true).catch(() => {});
    return failure;
  }
}
