/**
 * Reads a list of topics as a plain fetcher (no group: which partitions to read, and from where, is
 * decided by its owner): checks the topics at the start, finds where each partition begins (and,
 * for a bounded read, where it ends now), and fetches the partitions of its slots from each
 * partition's leader, one request per broker at a time. Over wfsim's own connections
 * (direct-cluster.ts), or with SASL through @platformatic/kafka's (client-cluster.ts, loaded then only).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { KafkaConnection } from "../../config/kafka-options.ts";
import { WfsimError } from "../../errors.ts";
import { DeadlineError, kafkaError, retrying, setUpWithin, type NameOf } from "../connect.ts";
import { describeKafkaFailure } from "../errors.ts";
import { kafkaClient } from "../kafka-client.ts";
import type { Cluster } from "./cluster.ts";
import { DirectCluster } from "./direct-cluster.ts";
import { PartitionInput, Slot } from "./record-merge.ts";
import { addAnswer } from "./records.ts";
import { FETCH_API_KEY, FETCH_MAX_VERSION, FETCH_MIN_VERSION, pickFetchVersion, type FetchAnswer, type FetchTopic } from "./fetch-request.ts";

/**
 * One topic to read: what a stream's layout says of it. wfsim's own layout is the list of its two
 * topics (wfsimTopics); a shaped output's is the list of its scenario's topics.
 */
export interface TopicSpec {
  readonly name: string;
  /** How the report names it: "transactions", "steps", or (shaped) the topic's name. */
  readonly role: string;
  /** The option that names the topic, for a missing topic's message (a key given to nameOf). */
  readonly option?: string | undefined;
  /** Where a missing topic's name comes from, when no option names it ("the output section of x.yaml"). */
  readonly from?: string | undefined;
}

/** The topics a stream is laid out on. */
export interface TopicList {
  readonly topics: readonly TopicSpec[];
  /**
   * All records of a transaction carry the same key, so they sit on the same partition number of
   * every topic when the partition counts agree: then each partition number is merged on its own.
   */
  readonly sharedKey: boolean;
}

export interface TopicShape {
  readonly name: string;
  readonly role: string;
  readonly partitions: number;
}

/** The topics as found when reading began, in the list's order. */
export interface TopicLayout {
  readonly topics: readonly TopicShape[];
  /** Same partition count and a shared key: partition p of every topic holds the same transactions. */
  readonly copartitioned: boolean;
  /** The partition count when co-partitioned (else the largest). */
  readonly partitions: number;
}

/**
 * wfsim's own layout: transaction events on one topic, step events on the other, keyed by txn_id.
 * Its order is what the merge's tie ranks (records.ts rankOf) know: topic 0 transactions, 1 steps.
 */
export function wfsimTopics(connection: KafkaConnection): TopicList {
  return {
    topics: [
      { name: connection.topics.transactions, role: "transactions", option: "topicTxn" },
      { name: connection.topics.steps, role: "steps", option: "topicSteps" },
    ],
    sharedKey: true,
  };
}

export interface OpenReaderSettings {
  readonly signal?: AbortSignal | undefined;
  readonly nameOf?: NameOf | undefined;
  /** Capture each partition's end now and stop there (a bounded read); else read on. */
  readonly bounded: boolean;
  /** Client id suffix, so that a broker's logs tell readers apart. */
  readonly role?: string;
}

/**
 * Per fetch, and per partition: large enough that a partition's backlog comes in a few requests.
 * With MAX_PENDING_BYTES they bound memory: an input holds at most MAX_PENDING_BYTES plus one
 * answer (PARTITION_MAX_BYTES, or one batch larger than that, decompressed) of fetched bytes.
 */
const PARTITION_MAX_BYTES = 512 << 10;
const FETCH_MAX_BYTES = 4 << 20;
/** A partition whose records wait in the merge beyond this is not fetched until they go. */
const MAX_PENDING_BYTES = 1 << 20;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1_000;

/** Retention deleted the offset asked for: the answer's log start says where to go on. */
const OFFSET_OUT_OF_RANGE = 1;

export class TopicsReader {
  readonly connection: KafkaConnection;
  readonly layout: TopicLayout;
  /** The topics read, as the caller listed them. */
  readonly list: TopicList;
  /** First offset of each partition when reading began: [topic][partition], topics in the list's order. */
  readonly starts: readonly (readonly number[])[];
  /** A bounded read's end offsets, or Infinity. */
  readonly ends: readonly (readonly number[])[];
  /** Records skipped because retention deleted them before they were read. */
  skippedByRetention = 0;
  /** Offsets deleted before reading began (partitions whose first offset is above 0: retention, or deleted on purpose). */
  get deletedBeforeRead(): number {
    return this.starts.flat().reduce((sum, start) => sum + start, 0);
  }
  private readonly cluster: Cluster;
  private readonly nameOf: NameOf;
  private readonly fetchVersion: number;
  private slots: readonly Slot[] = [];
  private failingSince = NaN;
  private lastError: unknown;
  private failures = 0;

  /** Given to every input a slot is made of (see PartitionInput.clockOffsets): set before the first slot. */
  clockOffsets: ReadonlyMap<string, number> | undefined;

  private constructor(connection: KafkaConnection, list: TopicList, cluster: Cluster, layout: TopicLayout, starts: number[][], ends: number[][], nameOf: NameOf, fetchVersion: number) {
    this.connection = connection;
    this.list = list;
    this.fetchVersion = fetchVersion;
    this.cluster = cluster;
    this.layout = layout;
    this.starts = starts;
    this.ends = ends;
    this.nameOf = nameOf;
  }

  /**
   * Connects (within --kafka-timeout), checks that every topic of the list exists, and reads where
   * their partitions begin (and end). Fails with a one-line WfsimError naming the address, the topic
   * and what failed.
   */
  static async open(connection: KafkaConnection, list: TopicList, settings: OpenReaderSettings): Promise<TopicsReader> {
    const nameOf = settings.nameOf ?? ((key) => key);
    const role = settings.role ?? "reader";
    const cluster: Cluster =
      connection.sasl === undefined ? new DirectCluster(connection, role) : new (await import("./client-cluster.ts")).ClientCluster(connection, role);
    const names = list.topics.map((topic) => topic.name);
    try {
      const { layout, starts, ends, fetchVersion } = await setUpWithin(connection, { signal: settings.signal, nameOf }, async (deadline, seen) => {
        const apis = await retrying(deadline, settings.signal, seen, () => cluster.apis());
        const offered = apis.find((api) => api.apiKey === FETCH_API_KEY);
        const fetchVersion = offered === undefined ? undefined : pickFetchVersion(offered.minVersion, offered.maxVersion);
        if (fetchVersion === undefined) {
          throw new WfsimError(
            "KAFKA_CONNECT",
            `Kafka at ${connection.bootstrap.join(",")} does not speak Fetch v${FETCH_MIN_VERSION} to v${FETCH_MAX_VERSION} (Kafka 2.7 and later do)`,
          );
        }
        const existing = await retrying(deadline, settings.signal, seen, () => cluster.existingTopics(names));
        const missing = names.filter((name) => !existing.has(name));
        if (missing.length > 0) throw missingTopics(connection, list, missing, nameOf);
        const view = await retrying(deadline, settings.signal, seen, () => cluster.metadata(names, true));
        const shapes = list.topics.map(({ name, role }) => ({ name, role, partitions: view.topics.get(name)?.partitions.length ?? 0 }));
        // Both asked at once: one round trip to each leader instead of two.
        const [first, last] = await Promise.all([
          retrying(deadline, settings.signal, seen, () => cluster.offsets(view, names, "earliest")),
          settings.bounded ? retrying(deadline, settings.signal, seen, () => cluster.offsets(view, names, "latest")) : undefined,
        ]);
        const counts = shapes.map((shape) => shape.partitions);
        const layout: TopicLayout = {
          topics: shapes,
          copartitioned: list.sharedKey && counts.every((count) => count === counts[0]),
          partitions: Math.max(0, ...counts),
        };
        return {
          layout,
          fetchVersion,
          starts: names.map((name, t) => Array.from({ length: shapes[t]!.partitions }, (_, p) => first.get(name)?.[p] ?? 0)),
          ends: names.map((name, t) => Array.from({ length: shapes[t]!.partitions }, (_, p) => (last === undefined ? Infinity : (last.get(name)?.[p] ?? 0)))),
        };
      });
      return new TopicsReader(connection, list, cluster, layout, starts, ends, nameOf, fetchVersion);
    } catch (error) {
      await cluster.close();
      throw error;
    }
  }

  /** The inputs of partition p of every topic (or, with index -1, of every partition) from `from` on. */
  slot(index: number, from?: readonly (readonly number[])[]): Slot {
    const start = from ?? this.starts;
    const inputs: PartitionInput[] = [];
    this.layout.topics.forEach((topic, t) => {
      for (let p = 0; p < topic.partitions; p++) {
        if (index >= 0 && p !== index) continue;
        const input = new PartitionInput(topic.name, p, t, start[t]![p]!, this.ends[t]![p]!);
        input.clockOffsets = this.clockOffsets;
        inputs.push(input);
      }
    });
    return new Slot(index, inputs);
  }

  /** Every partition: one slot per partition number when co-partitioned, else one slot for all. */
  allSlots(): Slot[] {
    if (!this.layout.copartitioned) return [this.slot(-1)];
    return Array.from({ length: this.layout.partitions }, (_, p) => this.slot(p));
  }

  /** The slots fetched from now on (a fetch in flight for a slot no longer listed is ignored). */
  setSlots(slots: readonly Slot[]): void {
    this.slots = slots;
  }

  /**
   * One fetch per broker leading a partition that needs records, in parallel, waiting at most
   * `maxWaitMs` for data. Returns the number of records added. A failure that waiting may cure is
   * retried on the next call (after a pause) until --kafka-timeout passes without a successful
   * fetch; then, or at once for a refused login and the like, it throws a one-line WfsimError.
   */
  async fetchRound(maxWaitMs: number, signal?: AbortSignal): Promise<number> {
    const wanted: PartitionInput[] = [];
    for (const slot of this.slots) {
      for (const input of slot.inputs) {
        if (input.next < input.end && input.pendingBytes < MAX_PENDING_BYTES && !(slot.replaying && input.next >= input.replayUntil)) {
          wanted.push(input);
        }
      }
    }
    if (wanted.length === 0) {
      // Nothing to fetch (no partitions, or records wait in the merge): wait as a fetch would.
      await sleep(maxWaitMs, undefined, signal === undefined ? {} : { signal }).catch(() => {});
      return 0;
    }
    let added = 0;
    let failed: unknown;
    try {
      const metadata = await this.cluster.metadata(
        this.layout.topics.map((topic) => topic.name),
        this.failures > 0,
      );
      const byLeader = new Map<number, PartitionInput[]>();
      for (const input of wanted) {
        const leader = metadata.topics.get(input.topic)?.partitions[input.partition]?.leader ?? -1;
        const list = byLeader.get(leader);
        if (list === undefined) byLeader.set(leader, [input]);
        else list.push(input);
      }
      const requests = [...byLeader].map(async ([leader, inputs]) => {
        const topics = new Map<string, { name: string; id: string; partitions: { partition: number; fetchOffset: number; maxBytes: number }[] }>();
        for (const input of inputs) {
          let entry = topics.get(input.topic);
          if (entry === undefined) topics.set(input.topic, (entry = { name: input.topic, id: metadata.topics.get(input.topic)!.id, partitions: [] }));
          entry.partitions.push({ partition: input.partition, fetchOffset: input.next, maxBytes: PARTITION_MAX_BYTES });
        }
        const broker = metadata.brokers.get(leader);
        if (broker === undefined) throw new Error(`the leader of ${inputs[0]!.topic}-${inputs[0]!.partition} (node ${leader}) is not in the cluster metadata`);
        const asked: FetchTopic[] = [...topics.values()];
        const answer = await this.cluster.fetch(broker, this.fetchVersion, { maxWaitMs, minBytes: 1, maxBytes: FETCH_MAX_BYTES }, asked);
        const arrived = performance.now();
        throwErrors(answer, this.fetchVersion);
        const byTopic = new Map(asked.map((topic) => [this.fetchVersion >= 13 ? topic.id : topic.name, topic.name]));
        for (const partition of answer.partitions) {
          const name = byTopic.get(partition.topic) ?? partition.topic;
          const input = inputs.find((candidate) => candidate.topic === name && candidate.partition === partition.partition);
          if (input === undefined) continue;
          if (partition.errorCode !== 0) {
            // Retention deleted records before we read them: go on from the first one left.
            if (input.next < partition.logStartOffset) {
              this.skippedByRetention += partition.logStartOffset - input.next;
              input.next = partition.logStartOffset;
            }
            continue;
          }
          added += addAnswer(input, partition, arrived);
        }
      });
      for (const settled of await Promise.allSettled(requests)) {
        if (settled.status === "rejected") failed ??= settled.reason;
      }
    } catch (error) {
      failed = error;
    }
    if (failed === undefined) {
      this.failures = 0;
      this.failingSince = NaN;
      return added;
    }
    if (signal?.aborted) return added;
    if (failed instanceof WfsimError) throw failed;
    const failure = describeKafkaFailure(failed);
    // Connected once (open() checked the topics): a broker lost now is said as lost, not as unreachable.
    let fetched = 0;
    for (const slot of this.slots) for (const input of slot.inputs) fetched += input.fetched;
    const during = `the read, ${fetched.toLocaleString("en-US")} records in`;
    if (!failure.retriable) throw kafkaError(failed, this.connection, this.nameOf, during);
    this.lastError = failed;
    if (Number.isNaN(this.failingSince)) this.failingSince = performance.now();
    if (performance.now() - this.failingSince > this.connection.timeoutMs) throw kafkaError(new DeadlineError(this.lastError), this.connection, this.nameOf, during);
    await sleep(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.failures++), undefined, signal === undefined ? {} : { signal }).catch(() => {});
    return added;
  }

  /** wfsim's own connections open now (none with SASL): to tell which path requests take. */
  get ownConnections(): number {
    return this.cluster.ownConnections;
  }

  async close(): Promise<void> {
    await this.cluster.close();
  }
}

/** Errors in an answer, as the client reports them, but for a partition whose offset retention deleted (handled by the caller). */
function throwErrors(answer: FetchAnswer, version: number): void {
  const errors: Record<string, [number, null]> = {};
  let any = false;
  if (answer.errorCode !== 0) {
    errors[""] = [answer.errorCode, null];
    any = true;
  }
  answer.partitions.forEach((partition, i) => {
    if (partition.errorCode === 0 || partition.errorCode === OFFSET_OUT_OF_RANGE) return;
    errors[`/partitions/${i}`] = [partition.errorCode, null];
    any = true;
  });
  // The client's error (loaded now: errors are rare), so that messages and retries stay its own.
  if (any) throw new (kafkaClient().ResponseError)(FETCH_API_KEY, version, errors, answer);
}

function missingTopics(connection: KafkaConnection, list: TopicList, missing: readonly string[], nameOf: NameOf): WfsimError {
  const specs = missing.map((name) => list.topics.find((topic) => topic.name === name)!);
  const where = [...new Set(specs.map((spec) => (spec.option !== undefined ? nameOf(spec.option as Parameters<NameOf>[0]) : (spec.from ?? spec.name))))];
  const what = missing.length === 1 ? `topic ${missing[0]}` : `topics ${missing.slice(0, -1).join(", ")} and ${missing.at(-1)}`;
  return new WfsimError(
    "KAFKA_TOPIC",
    `cannot read ${what} from Kafka at ${connection.bootstrap.join(",")}: no such topic, or not visible to this user (see ${where.join(", ")})`,
  );
}
