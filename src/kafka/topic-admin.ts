/**
 * `wfsim topics`: wfsim's topics (and a pipeline's alerts topic) made, looked at and removed ahead of
 * a run, so that a pipeline can start first, with the partitions, replication, retention and
 * timestamp limits it needs. Everything within --kafka-timeout; failures are one-line WfsimErrors.
 */
import { Admin } from "@platformatic/kafka";
import type { KafkaConnection } from "../config/kafka-options.ts";
import { WfsimError } from "../errors.ts";
import { clientOptions } from "./client-options.ts";
import { retrying, setUpWithin, type NameOf } from "./connect.ts";
import { describeKafkaFailure, isUnknownTopic } from "./errors.ts";
import { readTopicLimits, setTopicConfigs } from "./topic-configs.ts";
import type { TopicLimits } from "./topic-limits.ts";

export interface TopicDescription extends TopicLimits {
  readonly partitions: number;
  readonly replicationFactor: number;
}

export interface TopicShape {
  /** undefined: the cluster's num.partitions / default.replication.factor. */
  readonly partitions: number | undefined;
  readonly replicationFactor: number | undefined;
  /** Configs of the topics created (retention.ms, message.timestamp.*.max.ms), as Kafka spells them. */
  readonly configs: Readonly<Record<string, string>>;
  /** Configs set on the topics that exist already (those asked for; none: they are left as they are). */
  readonly update: Readonly<Record<string, string>>;
}

export interface TopicsOutcome {
  /** Created by this call, set anew (existing topics given configs), left as they were, or absent. */
  readonly created: readonly string[];
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
  readonly missing: readonly string[];
  readonly deleted: readonly string[];
  /** The topics as they are now (those that exist). */
  readonly topics: readonly TopicDescription[];
}

interface Settings {
  readonly signal?: AbortSignal | undefined;
  readonly nameOf?: NameOf | undefined;
}

async function withAdmin<T>(connection: KafkaConnection, settings: Settings, work: (admin: Admin, deadline: number, seen: { error: unknown }) => Promise<T>): Promise<T> {
  const admin = new Admin({ ...clientOptions(connection, "topics"), retries: 0 });
  try {
    return await setUpWithin(connection, settings, (deadline, seen) => work(admin, deadline, seen));
  } finally {
    await admin.close().catch(() => {});
  }
}

async function describe(admin: Admin, names: readonly string[]): Promise<TopicDescription[]> {
  if (names.length === 0) return [];
  const metadata = await admin.metadata({ topics: [...names], forceUpdate: true });
  const limits = await readTopicLimits(admin, names);
  return limits.map((limit) => {
    const topic = metadata.topics.get(limit.name);
    return { ...limit, partitions: topic?.partitionsCount ?? 0, replicationFactor: topic?.partitions[0]?.replicas.length ?? 0 };
  });
}

function refused(connection: KafkaConnection, what: string, names: readonly string[], error: unknown): WfsimError {
  const failure = describeKafkaFailure(error);
  return new WfsimError("KAFKA_TOPIC", `Kafka at ${connection.bootstrap.join(",")} refused to ${what} ${names.join(" and ")}: ${failure.reason}`, { cause: error });
}

/**
 * Creates the topics that do not exist, with `shape`; sets `shape.update` on those that do (when
 * there is anything to set). Another client creating one at the same moment is fine.
 */
export async function createTopics(connection: KafkaConnection, names: readonly string[], shape: TopicShape, settings: Settings = {}): Promise<TopicsOutcome> {
  return withAdmin(connection, settings, async (admin, deadline, seen) => {
    const existing = new Set(await retrying(deadline, settings.signal, seen, () => admin.listTopics()));
    const missing = names.filter((name) => !existing.has(name));
    const present = names.filter((name) => existing.has(name));
    const created: string[] = [];
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          topics: missing,
          ...(shape.partitions === undefined ? {} : { partitions: shape.partitions }),
          ...(shape.replicationFactor === undefined ? {} : { replicas: shape.replicationFactor }),
          configs: Object.entries(shape.configs).map(([name, value]) => ({ name, value })),
        });
        created.push(...missing);
      } catch (error) {
        const ids = describeKafkaFailure(error).apiIds;
        if (!(ids.length > 0 && ids.every((id) => id === "TOPIC_ALREADY_EXISTS"))) throw refused(connection, "create", missing, error);
        present.push(...missing);
      }
    }
    const update = Object.keys(shape.update).length > 0 ? present : [];
    try {
      await setTopicConfigs(admin, update, shape.update);
    } catch (error) {
      throw refused(connection, "set the configs of", update, error);
    }
    // A topic just created may not be in the metadata of the broker asked yet.
    const topics = await retrying(deadline, settings.signal, seen, () => describe(admin, names), isUnknownTopic);
    return { created, updated: update, unchanged: present.filter((name) => !update.includes(name)), missing: [], deleted: [], topics };
  });
}

/** The topics that exist, described; those that do not, listed as missing. */
export async function describeTopics(connection: KafkaConnection, names: readonly string[], settings: Settings = {}): Promise<TopicsOutcome> {
  return withAdmin(connection, settings, async (admin, deadline, seen) => {
    const existing = new Set(await retrying(deadline, settings.signal, seen, () => admin.listTopics()));
    const present = names.filter((name) => existing.has(name));
    const topics = await retrying(deadline, settings.signal, seen, () => describe(admin, present));
    return { created: [], updated: [], unchanged: present, missing: names.filter((name) => !existing.has(name)), deleted: [], topics };
  });
}

/** Deletes the topics that exist; those that do not are listed as missing. */
export async function deleteTopics(connection: KafkaConnection, names: readonly string[], settings: Settings = {}): Promise<TopicsOutcome> {
  return withAdmin(connection, settings, async (admin, deadline, seen) => {
    const existing = new Set(await retrying(deadline, settings.signal, seen, () => admin.listTopics()));
    const present = names.filter((name) => existing.has(name));
    if (present.length > 0) {
      try {
        await admin.deleteTopics({ topics: present });
      } catch (error) {
        throw refused(connection, "delete", present, error);
      }
    }
    return { created: [], updated: [], unchanged: [], missing: names.filter((name) => !existing.has(name)), deleted: present, topics: [] };
  });
}
