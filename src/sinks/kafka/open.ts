import { setTimeout as sleep } from "node:timers/promises";
import { Admin, Producer } from "@platformatic/kafka";
import type { KafkaOptions, KafkaOptionsInput } from "../../config/kafka-options.ts";
import { WfsimError } from "../../errors.ts";
import { clientOptions } from "./client-options.ts";
import { describeKafkaFailure, UNTRUSTED_CERTIFICATE_CODES, type KafkaFailure } from "./errors.ts";
import { KafkaSink, type KafkaSinkSettings } from "./kafka-sink.ts";
import { BatchProducer } from "./producer.ts";
import { ensureTopics, TopicSetupError, type TopicInfo } from "./topics.ts";

type NameOf = (key: keyof KafkaOptionsInput) => string;

export interface OpenKafkaSettings extends Omit<KafkaSinkSettings, "topics" | "partitions" | "deliveryTimeoutMs"> {
  /** Gives up connecting when aborted (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** How options are named in messages: a flag on the command line, a key in the library. */
  readonly nameOf?: NameOf;
}

export interface OpenedKafkaSink {
  readonly sink: KafkaSink;
  /** wfsim's two topics: transactions first, then steps. */
  readonly topics: readonly TopicInfo[];
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1_000;

/**
 * Connects to Kafka, creates the topics that are missing, starts the (idempotent) producer and
 * returns a KafkaSink ready for events. Everything is bounded by `options.timeoutMs`: a broker that
 * cannot be reached is retried until then; a refused login, a failed TLS handshake or a refused topic
 * fail at once. Failures are WfsimErrors (KAFKA_CONNECT, KAFKA_AUTH, KAFKA_TLS, KAFKA_TOPIC) whose
 * one-line message names the bootstrap address and what failed, and never the password.
 */
export async function openKafkaSink(options: KafkaOptions, settings: OpenKafkaSettings = {}): Promise<OpenedKafkaSink> {
  const { signal, nameOf = (key) => key, ...sinkSettings } = settings;
  signal?.throwIfAborted();
  const deadline = performance.now() + options.timeoutMs;
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
  const names = [options.topics.transactions, options.topics.steps];
  const seen: LastFailure = { error: undefined };
  try {
    const topics = await bounded(deadline, signal, async () => {
      const found = await retrying(deadline, signal, seen, () => ensureTopics(admin, names, options));
      // Connects the producer and, when idempotent, gets its producer id: a problem with the
      // producer's own connections shows here rather than at the first batch.
      await retrying(deadline, signal, seen, () => sender.start(names));
      return found;
    });
    const sink = new KafkaSink(sender, {
      ...sinkSettings,
      topics: options.topics,
      partitions: { transactions: topics[0]!.partitions, steps: topics[1]!.partitions },
      deliveryTimeoutMs: options.timeoutMs,
    });
    return { sink, topics };
  } catch (error) {
    await sender.close().catch(() => {});
    if (signal?.aborted) throw signal.reason;
    if (error instanceof DeadlineError && error.last === undefined) {
      // The deadline passed during an attempt: say what the attempts before it met.
      throw toWfsimError(new DeadlineError(seen.error ?? sender.lastConnectionError), options, nameOf);
    }
    throw toWfsimError(error, options, nameOf);
  } finally {
    await admin.close().catch(() => {});
  }
}

/** The deadline passed; `last` is the last failure seen before, if any. */
class DeadlineError extends Error {
  readonly last: unknown;
  constructor(last: unknown) {
    super("deadline reached");
    this.last = last;
  }
}

interface LastFailure {
  error: unknown;
}

/** Runs `operation` until it succeeds, fails in a way retrying cannot cure, or the deadline passes. */
async function retrying<T>(deadline: number, signal: AbortSignal | undefined, seen: LastFailure, operation: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      seen.error = error;
      if (!describeKafkaFailure(error).retriable) throw error;
      const wait = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
      if (performance.now() + wait >= deadline) throw new DeadlineError(error);
      await sleep(wait, undefined, signal === undefined ? {} : { signal });
    }
  }
}

/** `operation`'s result, or a DeadlineError once the deadline passes, or the signal's abort. */
async function bounded<T>(deadline: number, signal: AbortSignal | undefined, operation: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      operation(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineError(undefined)), Math.max(0, deadline - performance.now()));
      }),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(signal?.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
  }
}

function toWfsimError(error: unknown, options: KafkaOptions, nameOf: NameOf): WfsimError {
  const at = `Kafka at ${options.bootstrap.join(",")}`;
  if (error instanceof DeadlineError) {
    const failure = error.last === undefined ? undefined : describeKafkaFailure(error.last);
    const seconds = options.timeoutMs / 1000;
    return new WfsimError(
      "KAFKA_CONNECT",
      `cannot connect to ${at}: ${failure?.reason ?? "no answer"} (gave up after ${seconds} s, see ${nameOf("kafkaTimeout")})` +
        (failure !== undefined && droppedByBroker(failure) ? securityHint(options, nameOf) : ""),
      { cause: error.last },
    );
  }
  if (error instanceof TopicSetupError) {
    const failure = describeKafkaFailure(error.cause);
    const topics = error.topics.join(" and ");
    return new WfsimError("KAFKA_TOPIC", `${at} refused to create topic ${topics}: ${topicHint(failure, nameOf)}`, { cause: error });
  }
  const failure = describeKafkaFailure(error);
  switch (failure.kind) {
    case "auth": {
      const sasl = options.sasl;
      const what = sasl === undefined ? "the connection" : `the SASL ${sasl.mechanism} login of user ${sasl.username}`;
      const hint = sasl === undefined ? ` (does this listener need ${nameOf("kafkaSaslMechanism")}?)` : "";
      return new WfsimError("KAFKA_AUTH", `${at} refused ${what}: ${failure.reason}${hint}`, { cause: error });
    }
    case "tls":
      return new WfsimError("KAFKA_TLS", `TLS handshake with ${at} failed: ${failure.reason}${tlsHint(failure, options, nameOf)}`, {
        cause: error,
      });
    case "connect":
      return new WfsimError("KAFKA_CONNECT", `cannot connect to ${at}: ${failure.reason}`, { cause: error });
    default:
      return new WfsimError("KAFKA_CONNECT", `cannot use ${at}: ${failure.reason}`, { cause: error });
  }
}

/** The TCP connection was made, then the broker dropped it: typically a listener of another security protocol. */
function droppedByBroker(failure: KafkaFailure): boolean {
  return failure.kind === "connect" && (failure.code === undefined || failure.code === "ECONNRESET" || failure.code === "EPIPE");
}

function securityHint(options: KafkaOptions, nameOf: NameOf): string {
  const protocol = `${options.sasl === undefined ? "" : "SASL_"}${options.tls === undefined ? "PLAINTEXT" : "SSL"}`;
  return `; the broker dropped the connection: is its listener ${protocol} as wfsim assumed (${nameOf("kafkaSsl")}, ${nameOf("kafkaSaslMechanism")})?`;
}

function topicHint(failure: KafkaFailure, nameOf: NameOf): string {
  if (failure.apiIds.includes("INVALID_REPLICATION_FACTOR")) return `${failure.reason} (${nameOf("replicationFactor")})`;
  if (failure.apiIds.includes("INVALID_PARTITIONS")) return `${failure.reason} (${nameOf("partitions")})`;
  if (failure.apiIds.some((id) => id.endsWith("AUTHORIZATION_FAILED"))) return `${failure.reason}; create the topics beforehand or grant CREATE`;
  return failure.reason;
}

function tlsHint(failure: KafkaFailure, options: KafkaOptions, nameOf: NameOf): string {
  if (failure.code === undefined || !UNTRUSTED_CERTIFICATE_CODES.has(failure.code)) return "";
  const caFile = options.tls?.caFile;
  return caFile === undefined ? `; give the CA that signed it with ${nameOf("kafkaCa")}` : ` (trusted: ${nameOf("kafkaCa")} ${caFile})`;
}
