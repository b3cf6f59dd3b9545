/**
 * `wfsim topics create|describe|delete`: wfsim's two topics, and a pipeline's alerts topic, set up
 * before a run (so that the pipeline can start first), looked at, and removed. The topics as they are
 * go to stdout, one line each; what was done goes to stderr.
 */
import { parseTopic, resolveKafkaOptions, type KafkaOptionsInput } from "../config/kafka-options.ts";
import { invalidOption } from "../config/sim-options.ts";
import { formatMs, parseDuration } from "../config/units.ts";
import { oneOf, type ValueKind } from "../config/values.ts";
import { WfsimError } from "../errors.ts";
import { AFTER_MAX, BEFORE_MAX, RETENTION, UNLIMITED } from "../kafka/topic-limits.ts";
import type { TopicDescription, TopicsOutcome } from "../kafka/topic-admin.ts";
import { flagName, KAFKA_FLAGS, type FlagSpec } from "./run-flags.ts";
import type { CommandContext } from "./run-command.ts";

const ACTIONS = oneOf(["create", "describe", "delete"] as const);

const CONNECTION = "Connection (as wfsim run's):";
/** A flag of `wfsim run`'s Kafka output, listed under this command's connection heading. */
const connection = (spec: FlagSpec, help = spec.help): FlagSpec => ({ ...spec, help, group: CONNECTION });

const TOPIC_FLAGS = {
  kafkaBootstrap: { syntax: "--kafka-bootstrap <host:port,...>", help: "the brokers of the Kafka cluster to set the topics up on" },
  topicTxn: { ...KAFKA_FLAGS.topicTxn, group: undefined },
  topicSteps: { ...KAFKA_FLAGS.topicSteps, group: undefined },
  alertsTopic: {
    syntax: "--alerts-topic <topic>",
    help: "also this topic, for a pipeline's alerts (wfsim analyze --alerts kafka:TOPIC reads it); created as wfsim's own are",
  },
  partitions: { ...KAFKA_FLAGS.partitions, help: "partitions of the topics created", group: undefined },
  replicationFactor: { ...KAFKA_FLAGS.replicationFactor, help: "replication factor of the topics created", group: undefined },
  retention: {
    syntax: "--retention <duration|unlimited>",
    help: "how long the topics keep records (retention.ms): 7d, 12h, ..., or unlimited; set on existing topics too",
    defaultText: "the cluster's log.retention",
  },
  timestampAfterMax: {
    syntax: "--timestamp-after-max <duration|unlimited>",
    help: "how far ahead of the broker's clock a record may be stamped (message.timestamp.after.max.ms); set on existing topics too",
    defaultText: "unlimited for the topics created, as a virtual clock runs ahead",
  },
  timestampBeforeMax: {
    syntax: "--timestamp-before-max <duration|unlimited>",
    help: "how far behind the broker's clock a record may be stamped (message.timestamp.before.max.ms); set on existing topics too",
    defaultText: "the cluster's",
  },
  kafkaTimeout: connection(KAFKA_FLAGS.kafkaTimeout, "how long to wait for Kafka"),
  kafkaSsl: connection(KAFKA_FLAGS.kafkaSsl),
  kafkaCa: connection(KAFKA_FLAGS.kafkaCa),
  kafkaCert: connection(KAFKA_FLAGS.kafkaCert),
  kafkaKey: connection(KAFKA_FLAGS.kafkaKey),
  kafkaSaslMechanism: connection(KAFKA_FLAGS.kafkaSaslMechanism),
  kafkaUser: connection(KAFKA_FLAGS.kafkaUser),
  kafkaPasswordFile: connection(KAFKA_FLAGS.kafkaPasswordFile),
} as const satisfies Record<string, FlagSpec>;

export { TOPIC_FLAGS };

type Flags = { readonly [key: string]: string | boolean | undefined };

const nameOf = (key: string): string => {
  const spec = (TOPIC_FLAGS as Record<string, FlagSpec>)[key];
  return spec?.syntax.split(/[ ,]+/).find((part) => part.startsWith("--")) ?? flagName(key);
};

/** A limit in milliseconds as Kafka takes it: a duration, or unlimited (-1 for retention, Long.MAX_VALUE otherwise). */
function limitKind(unlimited: string): ValueKind<string> {
  return {
    expected: "a duration such as 7d, 12h, 30m, or unlimited",
    parse(raw) {
      if (raw === "unlimited") return unlimited;
      const ms = parseDuration(raw);
      return ms !== undefined && ms > 0 && Number.isSafeInteger(Math.round(ms)) ? String(Math.round(ms)) : undefined;
    },
  };
}

const LIMITS = [
  ["retention", RETENTION, limitKind("-1")],
  ["timestampAfterMax", AFTER_MAX, limitKind(UNLIMITED)],
  ["timestampBeforeMax", BEFORE_MAX, limitKind(UNLIMITED)],
] as const;

const show = (ms: number) => (ms === Infinity ? "unlimited" : formatMs(ms));

/** One line per topic, on stdout. */
export function describeTopicLine(topic: TopicDescription): string {
  return (
    `${topic.name}: ${topic.partitions} partition${topic.partitions === 1 ? "" : "s"}, replication factor ${topic.replicationFactor}, ` +
    `${RETENTION} ${show(topic.retentionMs)}, ${BEFORE_MAX} ${show(topic.beforeMaxMs)}, ${AFTER_MAX} ${show(topic.afterMaxMs)}\n`
  );
}

export async function topicsCommand(action: string, flags: Flags, context: CommandContext & { readonly stdout: NodeJS.WritableStream }): Promise<number> {
  const what = ACTIONS.parse(action);
  if (what === undefined) throw new WfsimError("USAGE", `topics: the action must be one of create, describe, delete, got ${action}`);
  const input: Record<string, unknown> = {};
  for (const key of ["kafkaBootstrap", "topicTxn", "topicSteps", "partitions", "replicationFactor", "kafkaTimeout", "kafkaSsl", "kafkaCa", "kafkaCert", "kafkaKey", "kafkaSaslMechanism", "kafkaUser", "kafkaPasswordFile"]) {
    if (flags[key] !== undefined) input[key] = flags[key];
  }
  if (input.kafkaBootstrap === undefined) throw new WfsimError("INVALID_OPTION", `${nameOf("kafkaBootstrap")} is needed: the cluster whose topics to ${what}`);
  const options = resolveKafkaOptions(input as KafkaOptionsInput, { nameOf: nameOf as (key: keyof KafkaOptionsInput) => string });
  const names = [options.topics.transactions, options.topics.steps];
  if (flags.alertsTopic !== undefined) {
    const alerts = parseTopic(flags.alertsTopic, nameOf("alertsTopic"));
    if (names.includes(alerts)) throw new WfsimError("INVALID_OPTION", `${nameOf("alertsTopic")} must differ from wfsim's own topics, got ${alerts}`);
    names.push(alerts);
  }
  const update: Record<string, string> = {};
  for (const [key, config, kind] of LIMITS) {
    if (flags[key] === undefined) continue;
    if (what !== "create") throw new WfsimError("INVALID_OPTION", `${nameOf(key)} applies to topics create`);
    const value = kind.parse(flags[key]);
    if (value === undefined) throw invalidOption(nameOf(key), kind.expected, flags[key]);
    update[config] = value;
  }
  for (const key of ["partitions", "replicationFactor"] as const) {
    if (flags[key] !== undefined && what !== "create") throw new WfsimError("INVALID_OPTION", `${nameOf(key)} applies to topics create`);
  }

  // The Kafka client is loaded only when it is used.
  const admin = await import("../kafka/topic-admin.ts");
  const settings = { signal: context.signal, nameOf: nameOf as (key: keyof KafkaOptionsInput) => string };
  let outcome: TopicsOutcome;
  if (what === "create") {
    const shape = { partitions: options.partitions, replicationFactor: options.replicationFactor, configs: { [AFTER_MAX]: UNLIMITED, ...update }, update };
    outcome = await admin.createTopics(options, names, shape, settings);
  } else if (what === "describe") {
    outcome = await admin.describeTopics(options, names, settings);
  } else {
    outcome = await admin.deleteTopics(options, names, settings);
  }
  const at = `Kafka at ${options.bootstrap.join(",")}`;
  for (const name of outcome.created) context.stderr.write(`wfsim: created topic ${name} on ${at}\n`);
  for (const name of outcome.updated) context.stderr.write(`wfsim: topic ${name} exists; set ${Object.keys(update).join(", ")}\n`);
  if (what === "create") for (const name of outcome.unchanged) context.stderr.write(`wfsim: topic ${name} exists; left as it is\n`);
  for (const name of outcome.deleted) context.stderr.write(`wfsim: deleted topic ${name} on ${at}\n`);
  for (const name of outcome.missing) context.stderr.write(`wfsim: no topic ${name} on ${at}\n`);
  for (const topic of outcome.topics) context.stdout.write(describeTopicLine(topic));
  return 0;
}
