import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import * as zlib from "node:zlib";
import { describeSystemError, WfsimError } from "../errors.ts";
import { invalidOption } from "./sim-options.ts";
import { describeReceived, integer, oneOf, text, type ValueKind } from "./values.ts";

export interface KafkaTopics {
  /** Topic for step_open, step_done and inter_step_wait. */
  readonly steps: string;
  /** Topic for the transaction events: transaction_open, _close, _aborted and _failed. */
  readonly transactions: string;
}

export const COMPRESSIONS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** acks as Kafka's produce requests carry it: -1 (all in-sync replicas), 1 (the leader), 0 (no answer). */
export type Acks = -1 | 0 | 1;

/** Where the SASL password comes from when no file is named (never from the command line itself). */
export const PASSWORD_ENV = "WFSIM_KAFKA_PASSWORD";

export const KAFKA_DEFAULTS = {
  topicSteps: "workflow.steps",
  topicTxn: "workflow.transactions",
  acks: "all",
  compression: "none",
  timeoutMs: 30_000,
} as const;

/**
 * How to reach Kafka and which topics hold wfsim's events: what the Kafka output (`wfsim run`) and
 * the Kafka input (`wfsim analyze`) share, under the same flags.
 */
export interface KafkaConnection {
  /** host:port of the brokers to bootstrap from. */
  readonly bootstrap: readonly string[];
  readonly topics: KafkaTopics;
  readonly tls: KafkaTls | undefined;
  readonly sasl: KafkaSasl | undefined;
  /** Bound on waiting for Kafka: to connect and set up, and for each request. */
  readonly timeoutMs: number;
  readonly clientId: string;
}

/** Everything the Kafka output needs, validated. */
export interface KafkaOptions extends KafkaConnection {
  readonly acks: Acks;
  /** Idempotent producer: on whenever acks is all, as Kafka requires. */
  readonly idempotent: boolean;
  readonly compression: Compression;
  /** Partitions and replication factor of topics wfsim creates; undefined: the cluster's defaults. */
  readonly partitions: number | undefined;
  readonly replicationFactor: number | undefined;
}

export interface KafkaTls {
  /** PEM contents; undefined: the system's trusted CAs. */
  readonly ca: Buffer | undefined;
  readonly caFile: string | undefined;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
}

export interface KafkaSasl {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  /**
   * A function rather than a string, so that logging or inspecting the options never shows the
   * password. It is read once, when the options are resolved.
   */
  readonly password: () => string;
}

/** What a caller may pass: flags' text from the command line, or typed values from the library. */
export interface KafkaOptionsInput {
  readonly kafkaBootstrap?: string | readonly string[];
  readonly topicTxn?: string;
  readonly topicSteps?: string;
  readonly acks?: string | number;
  readonly compression?: string;
  readonly partitions?: string | number;
  readonly replicationFactor?: string | number;
  readonly kafkaSsl?: boolean;
  readonly kafkaCa?: string;
  readonly kafkaCert?: string;
  readonly kafkaKey?: string;
  readonly kafkaSaslMechanism?: string;
  readonly kafkaUser?: string;
  readonly kafkaPasswordFile?: string;
  /** Library only: the password itself. The command line takes it from a file or PASSWORD_ENV. */
  readonly kafkaPassword?: string;
  readonly kafkaTimeout?: string | number;
  readonly clientId?: string;
}

export interface KafkaResolveContext {
  /** How an option is named in messages: a flag on the command line, a key in the library. */
  readonly nameOf?: (key: keyof KafkaOptionsInput) => string;
  /** Where PASSWORD_ENV is looked up; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/** Parses "host:port[,host:port...]" into its brokers; throws naming the flag when it is malformed. */
export function parseBootstrap(raw: unknown, name: string): string[] {
  const expected = "a comma-separated list of host:port (for example localhost:9092)";
  const joined = Array.isArray(raw) ? raw.join(",") : raw;
  if (typeof joined !== "string" || joined.trim() === "") throw invalidOption(name, expected, raw);
  const brokers = joined.split(",").map((entry) => entry.trim());
  for (const broker of brokers) {
    const match = HOST_PORT.exec(broker);
    const port = Number(match?.[2]);
    if (match === null || port < 1 || port > 65535) {
      throw new WfsimError(
        "INVALID_OPTION",
        `${name} must be ${expected}, got ${joined} (${broker === "" ? "an empty entry" : `"${broker}" is not host:port`})`,
      );
    }
  }
  return brokers;
}

/** Kafka's own rule for topic names: 1 to 249 of [a-zA-Z0-9._-], and not "." or "..". */
const topicName = text(/^(?!\.{1,2}$)[a-zA-Z0-9._-]{1,249}$/, "a Kafka topic name: 1 to 249 characters from a-z A-Z 0-9 . _ -");

export function parseTopic(raw: unknown, name: string): string {
  const value = topicName.parse(raw);
  if (value === undefined) throw invalidOption(name, topicName.expected, raw);
  const internal = internalTopicProblem(value);
  if (internal !== undefined) throw new WfsimError("INVALID_OPTION", `${name}: ${internal}`);
  return value;
}

/**
 * Why `topic` is not for wfsim: names that start with "__" are Kafka's own (__consumer_offsets,
 * __transaction_state, ...). Creating one with wfsim's layout breaks the cluster's groups or
 * transactions; writing events to one is never what was meant.
 */
export function internalTopicProblem(topic: string): string | undefined {
  return topic.startsWith("__") ? `${topic} is a name Kafka keeps for its internal topics (names starting with __); choose another` : undefined;
}

const ACKS_KIND: ValueKind<Acks> = {
  expected: "one of all, 1, 0 (all waits for every in-sync replica and allows the idempotent producer)",
  parse(raw) {
    const value = typeof raw === "string" ? raw.trim().toLowerCase() : raw;
    if (value === "all" || value === "-1" || value === -1) return -1;
    if (value === "1" || value === 1) return 1;
    if (value === "0" || value === 0) return 0;
    return undefined;
  },
};

const SASL_KIND: ValueKind<SaslMechanism> = {
  expected: `one of ${SASL_MECHANISMS.map((m) => m.toLowerCase()).join(", ")}`,
  parse(raw) {
    return typeof raw === "string" ? SASL_MECHANISMS.find((m) => m === raw.trim().toUpperCase()) : undefined;
  },
};

const KINDS = {
  acks: ACKS_KIND,
  compression: oneOf(COMPRESSIONS),
  partitions: integer(1, 1_000_000),
  replicationFactor: integer(1, 32_767),
  kafkaSaslMechanism: SASL_KIND,
  kafkaTimeout: integer(1, 86_400_000),
} as const;

/** Whether this Node.js can compress with zstd (node:zlib has it from 22.15 and 23.8). */
export function zstdAvailable(): boolean {
  return typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === "function";
}

type Read = <K extends keyof typeof KINDS>(key: K) => NonNullable<ReturnType<(typeof KINDS)[K]["parse"]>> | undefined;

function reader(input: KafkaOptionsInput, nameOf: NameOf): Read {
  return (key) => {
    const raw = input[key];
    if (raw === undefined) return undefined;
    const value = KINDS[key].parse(raw);
    if (value === undefined) throw invalidOption(nameOf(key), KINDS[key].expected, raw);
    return value as never;
  };
}

/**
 * Validates how to reach Kafka (brokers, topics, TLS, SASL, timeout), reads the TLS files and the
 * password. Throws a WfsimError naming the first bad option (INVALID_OPTION) or unreadable file
 * (FILE). Never puts the password in a message. `purpose` ends the message of a missing bootstrap:
 * "--kafka-bootstrap is needed for the Kafka output".
 */
export function resolveKafkaConnection(
  input: KafkaOptionsInput,
  context: KafkaResolveContext = {},
  purpose = "the Kafka output",
): KafkaConnection {
  const nameOf = context.nameOf ?? ((key) => key);
  if (input.kafkaBootstrap === undefined) {
    throw new WfsimError("INVALID_OPTION", `${nameOf("kafkaBootstrap")} is needed for ${purpose}`);
  }
  const bootstrap = parseBootstrap(input.kafkaBootstrap, nameOf("kafkaBootstrap"));
  const topics = {
    transactions: parseTopic(input.topicTxn ?? KAFKA_DEFAULTS.topicTxn, nameOf("topicTxn")),
    steps: parseTopic(input.topicSteps ?? KAFKA_DEFAULTS.topicSteps, nameOf("topicSteps")),
  };
  if (topics.transactions === topics.steps) {
    throw new WfsimError(
      "INVALID_OPTION",
      `${nameOf("topicTxn")} and ${nameOf("topicSteps")} must differ, got ${topics.steps} for both`,
    );
  }
  return {
    bootstrap,
    topics,
    tls: resolveTls(input, nameOf),
    sasl: resolveSasl(input, nameOf, context.env ?? process.env),
    timeoutMs: reader(input, nameOf)("kafkaTimeout") ?? KAFKA_DEFAULTS.timeoutMs,
    clientId: input.clientId ?? "wfsim",
  };
}

/**
 * Validates the Kafka output's options: the connection (resolveKafkaConnection) plus acks,
 * compression and the shape of topics wfsim creates. Throws like resolveKafkaConnection.
 */
export function resolveKafkaOptions(input: KafkaOptionsInput, context: KafkaResolveContext = {}): KafkaOptions {
  const nameOf = context.nameOf ?? ((key) => key);
  const read = reader(input, nameOf);
  const connection = resolveKafkaConnection(input, context);
  const acks = read("acks") ?? -1;
  const compression = read("compression") ?? KAFKA_DEFAULTS.compression;
  if (compression === "zstd" && !zstdAvailable()) {
    throw new WfsimError(
      "INVALID_OPTION",
      `${nameOf("compression")} zstd needs Node.js 22.15 or later (this is ${process.version}); use lz4, snappy or gzip`,
    );
  }
  return {
    ...connection,
    acks,
    idempotent: acks === -1,
    compression,
    partitions: read("partitions"),
    replicationFactor: read("replicationFactor"),
  };
}

type NameOf = (key: keyof KafkaOptionsInput) => string;

function resolveTls(input: KafkaOptionsInput, nameOf: NameOf): KafkaTls | undefined {
  const files = (["kafkaCa", "kafkaCert", "kafkaKey"] as const).filter((key) => input[key] !== undefined);
  if (input.kafkaSsl !== true) {
    const first = files[0];
    if (first !== undefined) {
      throw new WfsimError("INVALID_OPTION", `${nameOf(first)} applies to TLS connections: add ${nameOf("kafkaSsl")}`);
    }
    return undefined;
  }
  if ((input.kafkaCert === undefined) !== (input.kafkaKey === undefined)) {
    const [given, missing] = input.kafkaCert === undefined ? (["kafkaKey", "kafkaCert"] as const) : (["kafkaCert", "kafkaKey"] as const);
    throw new WfsimError("INVALID_OPTION", `${nameOf(given)} needs ${nameOf(missing)}: a client certificate goes with its key`);
  }
  const ca = input.kafkaCa === undefined ? undefined : readCertificate(input.kafkaCa, nameOf("kafkaCa"));
  const cert = input.kafkaCert === undefined ? undefined : readCertificate(input.kafkaCert, nameOf("kafkaCert"));
  const key = input.kafkaKey === undefined ? undefined : readPrivateKey(input.kafkaKey, nameOf("kafkaKey"));
  // A key that is not the certificate's fails the handshake later with an OpenSSL code and no file name.
  if (cert !== undefined && key !== undefined && !cert.x509.checkPrivateKey(key.key)) {
    throw new WfsimError(
      "FILE",
      `${nameOf("kafkaKey")} ${input.kafkaKey}: not the private key of ${nameOf("kafkaCert")} ${input.kafkaCert} (their public keys differ)`,
    );
  }
  return { ca: ca?.pem, caFile: input.kafkaCa, cert: cert?.pem, key: key?.pem };
}

function resolveSasl(input: KafkaOptionsInput, nameOf: NameOf, env: Readonly<Record<string, string | undefined>>): KafkaSasl | undefined {
  const mechanismRaw = input.kafkaSaslMechanism;
  if (mechanismRaw === undefined) {
    for (const key of ["kafkaUser", "kafkaPasswordFile"] as const) {
      if (input[key] !== undefined) {
        throw new WfsimError("INVALID_OPTION", `${nameOf(key)} applies to SASL logins: add ${nameOf("kafkaSaslMechanism")}`);
      }
    }
    return undefined;
  }
  const mechanism = SASL_KIND.parse(mechanismRaw);
  if (mechanism === undefined) throw invalidOption(nameOf("kafkaSaslMechanism"), SASL_KIND.expected, mechanismRaw);
  const username = input.kafkaUser;
  if (username === undefined || username.trim() === "") {
    throw new WfsimError(
      "INVALID_OPTION",
      `${nameOf("kafkaSaslMechanism")} ${mechanism.toLowerCase()} needs a user name: add ${nameOf("kafkaUser")}` +
        (username === undefined ? "" : `, got ${describeReceived(username)}`),
    );
  }
  let password: string;
  if (input.kafkaPasswordFile !== undefined) {
    password = readPassword(input.kafkaPasswordFile, nameOf("kafkaPasswordFile"));
  } else if (input.kafkaPassword !== undefined) {
    password = input.kafkaPassword;
  } else {
    const fromEnv = env[PASSWORD_ENV];
    if (fromEnv === undefined || fromEnv === "") {
      throw new WfsimError(
        "INVALID_OPTION",
        `${nameOf("kafkaSaslMechanism")} ${mechanism.toLowerCase()} needs a password: set ${PASSWORD_ENV} or add ${nameOf("kafkaPasswordFile")} FILE`,
      );
    }
    password = fromEnv;
  }
  return { mechanism, username, password: () => password };
}

function readFile(path: string, name: string): Buffer {
  if (path.trim() === "") throw new WfsimError("INVALID_OPTION", `${name} must be a file path, got an empty value`);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new WfsimError("FILE", `${name} ${path}: cannot read (${describeSystemError(error)})`, { cause: error });
  }
}

/** A PEM file whose first block is an X.509 certificate (a CA file may hold more). */
function readCertificate(path: string, name: string): { pem: Buffer; x509: X509Certificate } {
  const pem = readFile(path, name);
  try {
    return { pem, x509: new X509Certificate(pem) };
  } catch {
    throw new WfsimError("FILE", `${name} ${path}: not a PEM certificate (expected a -----BEGIN CERTIFICATE----- block)`);
  }
}

function readPrivateKey(path: string, name: string): { pem: Buffer; key: KeyObject } {
  const pem = readFile(path, name);
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch (error) {
    const encrypted = (error as { code?: string }).code === "ERR_MISSING_PASSPHRASE";
    throw new WfsimError(
      "FILE",
      encrypted
        ? `${name} ${path}: the private key is encrypted; give it unencrypted (openssl pkey -in ${path} -out key.pem)`
        : `${name} ${path}: not a PEM private key (expected a -----BEGIN PRIVATE KEY----- block)`,
    );
  }
}

/** The file's content without the final line break an editor or `echo` adds. Never echoed. */
function readPassword(path: string, name: string): string {
  const password = readFile(path, name).toString("utf8").replace(/\r?\n$/, "");
  if (password === "") throw new WfsimError("FILE", `${name} ${path}: the file is empty`);
  return password;
}

