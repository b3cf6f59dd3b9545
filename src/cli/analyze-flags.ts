import { KAFKA_DEFAULTS, PASSWORD_ENV } from "../config/kafka-options.ts";
import { FOLLOW_DEFAULTS } from "../follow/follow-options.ts";
import type { FlagSpec } from "./run-flags.ts";

const KAFKA = "Kafka input (instead of files):";
const FOLLOW = "Following Kafka (--follow):";

/**
 * The flags with which `wfsim analyze` reads Kafka: the names and meanings of `wfsim run`'s Kafka
 * flags (the same topics, TLS, SASL and timeout), minus what only a producer has.
 */
export const ANALYZE_KAFKA_FLAGS = {
  kafkaBootstrap: {
    syntax: "--kafka-bootstrap <host:port,...>",
    help: "read wfsim's topics from Kafka at these brokers: every partition from its beginning to its end when the analysis starts",
    group: KAFKA,
  },
  topicTxn: {
    syntax: "--topic-txn <topic>",
    help: "topic of the transaction events (open, close, aborted, failed)",
    defaultText: KAFKA_DEFAULTS.topicTxn,
    group: KAFKA,
  },
  topicSteps: {
    syntax: "--topic-steps <topic>",
    help: "topic of the step events (step_open, step_done, inter_step_wait, step_failed, step_retry)",
    defaultText: KAFKA_DEFAULTS.topicSteps,
    group: KAFKA,
  },
  kafkaTimeout: {
    syntax: "--kafka-timeout <ms>",
    help: "how long to wait for Kafka: to connect and look at the topics at the start, and for a fetch to succeed",
    defaultText: `${KAFKA_DEFAULTS.timeoutMs}`,
    group: KAFKA,
  },
  kafkaSsl: { syntax: "--kafka-ssl", help: "connect with TLS (trusting the system's CAs unless --kafka-ca)", group: KAFKA },
  kafkaCa: { syntax: "--kafka-ca <file>", help: "PEM file of the CA(s) to trust for the brokers' certificates", group: KAFKA },
  kafkaCert: { syntax: "--kafka-cert <file>", help: "PEM client certificate, for brokers that check clients (with --kafka-key)", group: KAFKA },
  kafkaKey: { syntax: "--kafka-key <file>", help: "PEM private key of --kafka-cert", group: KAFKA },
  kafkaSaslMechanism: { syntax: "--kafka-sasl-mechanism <name>", help: "log in with SASL: plain, scram-sha-256 or scram-sha-512", group: KAFKA },
  kafkaUser: { syntax: "--kafka-user <name>", help: "SASL user name", group: KAFKA },
  kafkaPasswordFile: {
    syntax: "--kafka-password-file <file>",
    help: `file holding the SASL password (default: the ${PASSWORD_ENV} environment variable); never given on the command line`,
    group: KAFKA,
  },
} as const satisfies Record<string, FlagSpec>;

/** The Kafka connection flags of `wfsim analyze`, without its event topics: --actual kafka:TOPIC names the topic. */
export const COMPARE_KAFKA_FLAGS: Record<string, FlagSpec> = Object.fromEntries(
  Object.entries(ANALYZE_KAFKA_FLAGS)
    .filter(([key]) => key !== "topicTxn" && key !== "topicSteps")
    .map(([key, spec]) => [key, { ...spec, group: "Kafka input (--actual kafka:TOPIC):", help: key === "kafkaBootstrap" ? "read --actual kafka:TOPIC from Kafka at these brokers: every partition from its beginning to its end when reading starts" : spec.help }]),
);

/** The flags of a live follower; they need --follow (which needs --kafka-bootstrap). */
export const FOLLOW_FLAGS = {
  follow: {
    syntax: "--follow",
    help: "keep reading as events arrive (Kafka topics, or one FILE that grows, like tail -f; with --scenario, shaped records too): alert (JSON lines on stdout) on transactions open too long, a rolling summary on stderr; the report when stopped (SIGINT/SIGTERM)",
    group: FOLLOW,
  },
  stuckMs: {
    syntax: "--stuck-ms <ms>",
    help: "alert once on each transaction open for longer than this",
    defaultText: `${FOLLOW_DEFAULTS.stuckMs}`,
    group: FOLLOW,
  },
  stuckClock: {
    syntax: "--stuck-clock <event|wall>",
    help: "what --stuck-ms is measured against: event time (the newest record time read on the transaction's partition) or the wall clock",
    defaultText: FOLLOW_DEFAULTS.stuckClock,
    group: FOLLOW,
  },
  group: {
    syntax: "--group <name>",
    help: "share the partitions with the other followers of this Kafka consumer group (partition p of both topics together); offsets are committed to it",
    group: FOLLOW,
  },
  summaryMs: {
    syntax: "--summary-ms <ms>",
    help: "how often the rolling summary is written to stderr",
    defaultText: `${FOLLOW_DEFAULTS.summaryMs}`,
    group: FOLLOW,
  },
  report: {
    syntax: "--report <file>",
    help: "write the final report to this file (default: stderr, as stdout carries the alerts)",
    group: FOLLOW,
  },
  metrics: {
    syntax: "--metrics <host:port>",
    help: "serve Prometheus metrics of the follower at http://HOST:PORT/metrics: events read, alerts, open transactions, lag, event time (HOST defaults to 127.0.0.1)",
    group: FOLLOW,
  },
  ui: {
    syntax: "--ui <host:port>",
    help: "serve a live page of the follower at http://HOST:PORT/: events/s, open transactions, alerts, lag, event time, updated every second (HOST defaults to 127.0.0.1)",
    group: FOLLOW,
  },
  quiet: { syntax: "-q, --quiet", help: "no rolling summary", group: FOLLOW },
} as const satisfies Record<string, FlagSpec>;

/** "--stuck-ms" for "stuckMs". */
export function analyzeFlagName(key: string): string {
  const spec = (ANALYZE_KAFKA_FLAGS as Record<string, FlagSpec>)[key] ?? (FOLLOW_FLAGS as Record<string, FlagSpec>)[key];
  const long = spec?.syntax.split(/[ ,]+/).find((part) => part.startsWith("--"));
  return long ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
