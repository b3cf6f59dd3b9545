import type { Admin } from "@platformatic/kafka";
import { describeKafkaFailure } from "./errors.ts";
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
 * partitions and replication factor.
 */
export async function ensureTopics(admin: Admin, names: readonly string[], spec: TopicSpec): Promise<TopicInfo[]> {
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((name) => !existing.has(name));
  const created = new Set<string>();
  if (missing.length > 0) {
    const request = {
      topics: missing,
      ...(spec.partitions === undefined ? {} : { partitions: spec.partitions }),
      ...(spec.replicationFactor === undefined ? {} : { replicas: spec.replicationFactor }),
    };
    try {
      if (await createTopics(admin, request)) missing.forEach((name) => created.add(name));
    } catch (error) {
      throw new TopicSetupError(missing, { cause: error });
    }
  }
  const metadata = await admin.metadata({ topics: [...names], forceUpdate: true });
  return names.map((name) => {
    const topic = metadata.topics.get(name);
    return {
      name,
      partitions: topic?.partitionsCount ?? 0,
      replicationFactor: topic?.partitions[0]?.replicas.length ?? 0,
      created: created.has(name),
    };
  });
}

type CreateRequest = { topics: string[]; partitions?: number; replicas?: number };

/**
 * Creates the topics; false when another client (another wfsim instance) created them first, so that
 * wfsim does not claim topics it found.
 */
async function createTopics(admin: Admin, request: CreateRequest): Promise<boolean> {
  const createdElsewhere = (error: unknown) => {
    const { apiIds } = describeKafkaFailure(error);
    return apiIds.length > 0 && apiIds.every((id) => id === "TOPIC_ALREADY_EXISTS");
  };
  try {
    await admin.createTopics({ ...request, configs: TOPIC_CONFIGS });
    return true;
  } catch (error) {
    if (createdElsewhere(error)) return false;
    if (!describeKafkaFailure(error).apiIds.includes("INVALID_CONFIG")) throw error;
    // A broker older than Kafka 3.6: the topics without the timestamp setting.
    try {
      await admin.createTopics(request);
      return true;
    } catch (retryError) {
      if (createdElsewhere(retryError)) return false;
      throw retryError;
    }
  }
}
