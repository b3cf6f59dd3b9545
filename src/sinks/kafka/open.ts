import { Admin, Producer } from "@platformatic/kafka";
import type { KafkaOptions } from "../../config/kafka-options.ts";
import { WfsimError } from "../../errors.ts";
import { clientOptions } from "../../kafka/client-options.ts";
import { retrying, setUpWithin, type NameOf } from "../../kafka/connect.ts";
import { describeKafkaFailure, isUnknownTopic, type KafkaFailure } from "../../kafka/errors.ts";
import { KafkaSink, type KafkaSinkSettings } from "./kafka-sink.ts";
import type { KafkaRecordMapper } from "./records.ts";
import { BatchProducer } from "../../kafka/producer.ts";
import { ensureTopics, TopicSetupError } from "../../kafka/topics.ts";
import type { TopicInfo } from "../../kafka/topic-info.ts";
import { readTopicLimits } from "../../kafka/topic-configs.ts";
import type { TopicLimits } from "../../kafka/topic-limits.ts";

export interface OpenKafkaSettings extends Omit<KafkaSinkSettings, "topics" | "partitions" | "deliveryTimeoutMs" | "records"> {
  /** How events become records (a shaped output's, with its own topics); default wfsim's events on options.topics. */
  readonly records?: KafkaRecordMapper;
  /** Gives up connecting when aborted (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** How options are named in messages: a flag on the command line, a key in the library. */
  readonly nameOf?: NameOf;
}

export interface OpenedKafkaSink {
  readonly sink: KafkaSink;
  /** The topics, in order: wfsim's two (transactions, then steps), or the record mapper's. */
  readonly topics: readonly TopicInfo[];
  /** What they keep and accept by time; empty when the broker would not say (no DESCRIBE_CONFIGS right). */
  readonly limits: readonly TopicLimits[];
}

/**
 * Connects to Kafka, creates the topics that are missing, starts the (idempotent) producer and
 * returns a KafkaSink ready for events. Everything is bounded by `options.timeoutMs`: a broker that
 * cannot be reached is retried until then; a refused login, a failed TLS handshake or a refused topic
 * fail at once. Failures are WfsimErrors (KAFKA_CONNECT, KAFKA_AUTH, KAFKA_TLS, KAFKA_TOPIC) whose
 * one-line message names the bootstrap address and what failed, and never the password.
 */
export async function openKafkaSink(options: KafkaOptions, settings: OpenKafkaSettings = {}): Promise<OpenedKafkaSink> {
  const { signal, nameOf = (key) => key, records, ...sinkSettings } = settings;
  signal?.throwIfAborted();
  // Retries are ours (until the deadline here, until the sink's delivery timeout later), so that
  // nothing retries a refused login and every retry keeps its batch's sequence numbers.
  const admin = new Admin({ ...clientOptions(options, "admin"), retries: 0 });
  const client = new Producer<Buffer, Buffer, Buffer, Buffer>({ ...clientOptions(options, "producer"), retries: 0 });
  const sender = new BatchProducer(client, {
    acks: options.acks,
    idempotent: options.idempotent,
    compression: options.compression,
    requestTimeoutMs: options.timeoutMs,
  });
  const names = records?.topics ?? [options.topics.transactions, options.topics.steps];
  try {
    const { found: topics, limits } = await setUpWithin(options, { signal, nameOf, lastResort: () => sender.lastConnectionError }, async (deadline, seen) => {
      try {
        const found = await retrying(deadline, signal, seen, () => ensureTopics(admin, names, options, deadline));
        // Only for warnings: a user allowed to write but not to read configs still gets a run.
        const limits = await retrying(deadline, signal, seen, () => readTopicLimits(admin, names), isUnknownTopic).catch(() => []);
        // Connects the producer and, when idempotent, gets its producer id: a problem with the
        // producer's own connections shows here rather than at the first batch.
        // The topics exist (ensureTopics saw or made them), but a broker may not list a topic just
        // created in its metadata yet: "unknown topic" is then only a matter of moments.
        await retrying(deadline, signal, seen, () => sender.start(names), isUnknownTopic);
        return { found, limits };
      } catch (error) {
        if (error instanceof TopicSetupError) throw topicError(error, options, nameOf);
        throw error;
      }
    });
    const sink = new KafkaSink(sender, {
      ...sinkSettings,
      topics: options.topics,
      partitions: topics.map((topic) => topic.partitions),
      deliveryTimeoutMs: options.timeoutMs,
      ...(records === undefined ? {} : { records }),
    });
    return { sink, topics, limits };
  } catch (error) {
    await sender.close().catch(() => {});
    throw error;
  } finally {
    await admin.close().catch(() => {});
  }
}

function topicError(error: TopicSetupError, options: KafkaOptions, nameOf: NameOf): WfsimError {
  const failure = describeKafkaFailure(error.cause);
  const topics = error.topics.join(" and ");
  return new WfsimError("KAFKA_TOPIC", `Kafka at ${options.bootstrap.join(",")} refused to create topic ${topics}: ${topicHint(failure, nameOf)}`, {
    cause: error,
  });
}

function topicHint(failure: KafkaFailure, nameOf: NameOf): string {
  if (failure.apiIds.includes("INVALID_REPLICATION_FACTOR")) return `${failure.reason} (${nameOf("replicationFactor")})`;
  if (failure.apiIds.includes("INVALID_PARTITIONS")) return `${failure.reason} (${nameOf("partitions")})`;
  if (failure.apiIds.some((id) => id.endsWith("AUTHORIZATION_FAILED"))) return `${failure.reason}; create the topics beforehand or grant CREATE`;
  return failure.reason;
}
