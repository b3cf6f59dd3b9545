import { writeFileSync } from "node:fs";
import { resolveKafkaOptions, type KafkaOptions, type KafkaOptionsInput } from "../config/kafka-options.ts";
import { WfsimError } from "../errors.ts";
import type { DeliveryReport } from "../sinks/kafka/delivery.ts";
import type { KafkaSink } from "../sinks/kafka/kafka-sink.ts";
import type { KafkaRecordMapper } from "../sinks/kafka/records.ts";
import type { TopicInfo } from "../kafka/topics.ts";
import { timestampWarnings, type TimestampPlan } from "../kafka/topic-limits.ts";
import { flagName, KAFKA_FLAGS } from "./run-flags.ts";

const numberFormat = new Intl.NumberFormat("en-US");
const fmt = (value: number) => numberFormat.format(value);

type Flags = { readonly [key: string]: string | boolean | undefined };

/**
 * The Kafka options the command line asks for, or undefined without --kafka-bootstrap (then no other
 * Kafka flag may be given). The password comes from a file or the environment, never from a flag.
 */
export function kafkaOptionsFromFlags(flags: Flags, env: NodeJS.ProcessEnv = process.env): KafkaOptions | undefined {
  const given = Object.keys(KAFKA_FLAGS).filter((key) => flags[key] !== undefined);
  if (flags.kafkaBootstrap === undefined) {
    const first = given[0];
    if (first !== undefined) {
      throw new WfsimError("INVALID_OPTION", `${flagName(first)} applies to the Kafka output: add ${flagName("kafkaBootstrap")} HOST:PORT`);
    }
    return undefined;
  }
  if (flags.output !== undefined) {
    throw new WfsimError(
      "INVALID_OPTION",
      `${flagName("output")} and ${flagName("kafkaBootstrap")} exclude each other: events go to a file or stdout, or to Kafka`,
    );
  }
  const input: Record<string, unknown> = {};
  // --undelivered is where the CLI writes a list, not a connection option.
  for (const key of given) if (key !== "undelivered") input[key] = flags[key];
  return resolveKafkaOptions(input as KafkaOptionsInput, { nameOf: flagName, env });
}

export interface KafkaDestination {
  readonly sink: KafkaSink;
  /** For the summary: "Kafka at host:port". */
  readonly description: string;
}

/**
 * Connects (bounded by --kafka-timeout) and reports the topics it created on stderr. Resolves to
 * undefined if a signal stopped the connecting.
 */
export async function openKafkaDestination(
  options: KafkaOptions,
  io: { readonly signal: AbortSignal; readonly stderr: NodeJS.WritableStream; readonly quiet: boolean },
  onFailure: () => void,
  records?: KafkaRecordMapper,
  plan?: TimestampPlan,
): Promise<KafkaDestination | undefined> {
  let opened;
  try {
    // Loaded here: the Kafka client is only worth its load time when events go to Kafka.
    const { openKafkaSink } = await import("../sinks/kafka/open.ts");
    opened = await openKafkaSink(options, { signal: io.signal, nameOf: flagName, onFailure, ...(records === undefined ? {} : { records }) });
  } catch (error) {
    if (io.signal.aborted) return undefined;
    throw error;
  }
  if (!io.quiet) {
    for (const topic of opened.topics) io.stderr.write(describeTopic(topic, options));
  }
  // Even with --quiet: events the broker will delete or refuse are worth a line before the run.
  if (plan !== undefined) {
    for (const warning of timestampWarnings(opened.limits, plan, Date.now())) io.stderr.write(`wfsim: warning: ${warning}\n`);
  }
  return { sink: opened.sink, description: `Kafka at ${options.bootstrap.join(",")}` };
}

function describeTopic(topic: TopicInfo, options: KafkaOptions): string {
  const shape = `${fmt(topic.partitions)} partition${topic.partitions === 1 ? "" : "s"}, replication factor ${topic.replicationFactor}`;
  if (topic.created) return `wfsim: created topic ${topic.name} (${shape})\n`;
  const asked = options.partitions;
  if (asked !== undefined && asked !== topic.partitions) {
    return `wfsim: topic ${topic.name} exists with ${shape}; used as it is (${flagName("partitions")} applies to topics wfsim creates)\n`;
  }
  return "";
}

/** The delivery line of the end-of-run summary. */
export function formatDelivery(report: DeliveryReport, options: KafkaOptions, what = "events"): string {
  const guarantee = options.idempotent ? "acks=all, idempotent" : `acks=${options.acks}`;
  const perTopic = Object.entries(report.delivered)
    .map(([topic, count]) => `${fmt(count)} to ${topic}`)
    .join(", ");
  return `wfsim: ${fmt(report.deliveredTotal)} ${what} delivered to Kafka at ${options.bootstrap.join(",")} (${guarantee}): ${perTopic}.\n`;
}

/**
 * The transactions (record keys) whose records were not all acknowledged: `keys`, sorted, one per line
 * in `path` (written empty when there are none); and, when some were, a line that counts them.
 * Synchronous: a forced exit writes it on its way out.
 */
export function writeUndelivered(keys: ReadonlySet<string>, path: string | undefined, shaped: boolean): string | undefined {
  if (path !== undefined) writeFileSync(path, [...keys].sort().map((key) => `${key}\n`).join(""));
  if (keys.size === 0) return undefined;
  const what = shaped ? `records of ${fmt(keys.size)} record key${keys.size === 1 ? "" : "s"}` : `records of ${fmt(keys.size)} transaction${keys.size === 1 ? "" : "s"}`;
  const where = path === undefined ? `${flagName("undelivered")} FILE lists them` : `listed in ${path}`;
  return `wfsim: ${what} were not all delivered (the topics hold them cut short): ${where}`;
}

/** Throws the KAFKA_DELIVERY error (exit code 3) when events were not delivered. */
export function checkDelivery(report: DeliveryReport, options: KafkaOptions, what = "events"): void {
  if (report.undelivered === 0) return;
  const total = report.undelivered + report.deliveredTotal;
  const reason = report.failure?.reason ?? "the run ended before Kafka acknowledged them";
  throw new WfsimError(
    "KAFKA_DELIVERY",
    `${fmt(report.undelivered)} of ${fmt(total)} ${what} were not delivered to Kafka at ${options.bootstrap.join(",")}: ${reason}`,
  );
}
