import { setTimeout as sleep } from "node:timers/promises";
import type { Admin, CreatedTopic } from "@platformatic/kafka";
import { describeKafkaFailure, isUnknownTopic } from "./errors.ts";
import type { TopicInfo } from "./topic-info.ts";

export type { TopicInfo } from "./topic-info.ts";

export interface TopicSpec {
  /** undefined: the cluster's num.partitions / default.replication.factor. */
  readonly partitions: number | undefined;
  readonly replicationFactor: number | undefined;
}

/**
 * A virtual clock runs ahead of the wall clock, and Kafka 4 refuses record timestamps more than an
 * hour ahead of the broker's clock by default (message.timestamp.after.max.ms). Topics wfsim creates
 * accept any future timestamp, so a simulated day published in a minute keeps its simulated times.
 * Brokers older than 3.6 do not know the setting; they get the topic without it.
 */
const TOPIC_CONFIGS = [{ name: "message.timestamp.after.max.ms", value: "9223372036854775807" }];

export class TopicSetupError extends Error {
  readonly topics: readonly string[];
  constructor(topics: readonly string[], options: { cause: unknown }) {
    super(`cannot create ${topics.join(", ")}`, options);
    this.name = "TopicSetupError";
    this.topics = topics;
  }
}

/**
 * Creates the topics that do not exist yet (as `spec` says) and leaves existing ones as they are.
 * Another wfsim instance creating the same topic at the same moment is fine. Returns each topic's
 * partitions and replication factor. A topic the metadata does not hold yet (just created, here or
 * by another client) is asked for again until `deadline` (performance.now()'s clock).
 */
export async function ensureTopics(admin: Admin, names: readonly string[], spec: TopicSpec, deadline: number): Promise<TopicInfo[]> {
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((name) => !existing.has(name));
  /** The partitions and replicas Kafka said it created, by topic (CreateTopics v5+ answers them). */
  const created = new Map<string, { partitions: number; replicas: number }>();
  if (missing.length > 0) {
    const request = {
      topics: missing,
      ...(spec.partitions === undefined ? {} : { partitions: spec.partitions }),
      ...(spec.replicationFactor === undefined ? {} : { replicas: spec.replicationFactor }),
    };
    try {
      const answer = await createTopics(admin, request);
      if (answer !== false) {
        for (const name of missing) {
          const topic = answer.find((t) => t.name === name);
          created.set(name, { partitions: topic?.partitions ?? -1, replicas: topic?.replicas ?? -1 });
        }
      }
    } catch (error) {
      throw new TopicSetupError(missing, { cause: error });
    }
  }
  const shapes = await readShapes(admin, names, deadline);
  return names.map((name) => {
    const answered = created.get(name);
    const shape = shapes.get(name)!;
    // The metadata of a topic just made may lag behind the controller: Kafka's own answer wins when it has one.
    return {
      name,
      partitions: answered !== undefined && answered.partitions > 0 ? answered.partitions : shape.partitions,
      replicationFactor: answered !== undefined && answered.replicas > 0 ? answered.replicas : shape.replicationFactor,
      created: answered !== undefined,
    };
  });
}

const METADATA_TRIES = 20;
const METADATA_WAIT_MS = 100;

/**
 * Each topic's partition count and replication factor as the cluster's metadata has them. A topic
 * created a moment ago (by wfsim or another client) may be listed before its partitions are: asked
 * again, briefly, rather than reported as "0 partitions, replication factor 0"; one the broker does
 * not know yet (UNKNOWN_TOPIC_OR_PARTITION: its metadata lags behind the controller's) until the deadline.
 */
async function readShapes(admin: Admin, names: readonly string[], deadline: number): Promise<Map<string, { partitions: number; replicationFactor: number }>> {
  const shapes = new Map<string, { partitions: number; replicationFactor: number }>();
  for (let attempt = 0; ; attempt++) {
    const metadata = await knownMetadata(admin, names, deadline);
    let complete = true;
    for (const name of names) {
      const topic = metadata.topics.get(name);
      const partitions = topic?.partitionsCount ?? 0;
      const replicationFactor = topic?.partitions[0]?.replicas.length ?? 0;
      shapes.set(name, { partitions, replicationFactor });
      if (partitions === 0 || replicationFactor === 0) complete = false;
    }
    if (complete || attempt + 1 >= METADATA_TRIES) return shapes;
    await sleep(METADATA_WAIT_MS);
  }
}

/** The topics' metadata, asked again while the broker says it does not know one of them, until the deadline. */
async function knownMetadata(admin: Admin, names: readonly string[], deadline: number): Promise<Awaited<ReturnType<Admin["metadata"]>>> {
  for (;;) {
    try {
      return await admin.metadata({ topics: [...names], forceUpdate: true });
    } catch (error) {
      if (!isUnknownTopic(error) || performance.now() + METADATA_WAIT_MS >= deadline) throw error;
      await sleep(METADATA_WAIT_MS);
    }
  }
}

type CreateRequest = { topics: string[]; partitions?: number; replicas?: number };

/**
 * Creates the topics and returns Kafka's answer (their partitions and replicas as created); false
 * when another client (another wfsim instance) created them first, so that wfsim does not claim
 * topics it found.
 */
async function createTopics(admin: Admin, request: CreateRequest): Promise<CreatedTopic[] | false> {
  const createdElsewhere = (error: unknown) => {
    const { apiIds } = describeKafkaFailure(error);
    return apiIds.length > 0 && apiIds.every((id) => id === "TOPIC_ALREADY_EXISTS");
  };
  try {
    return await admin.createTopics({ ...request, configs: TOPIC_CONFIGS });
  } catch (error) {
    if (createdElsewhere(error)) return false;
    if (!describeKafkaFailure(error).apiIds.includes("INVALID_CONFIG")) throw error;
    // A broker older than Kafka 3.6: the topics without the timestamp setting.
    try {
      return await admin.createTopics(request);
    } catch (retryError) {
      if (createdElsewhere(retryError)) return false;
      throw retryError;
    }
  }
}
