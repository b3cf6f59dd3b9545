/**
 * The Schema Registry flags: `wfsim run --format avro|json-schema|protobuf --schema-registry URL` for
 * the Kafka output, and `wfsim analyze --schema-registry URL` to read such topics back.
 */
import { readFileSync } from "node:fs";
import type { KafkaOptions } from "../config/kafka-options.ts";
import { REGISTRY_PASSWORD_ENV, REGISTRY_TOKEN_ENV, resolveRegistryOptions, type RegistryOptionsInput } from "../config/registry-options.ts";
import { describeSystemError, WfsimError } from "../errors.ts";
import { isValueFormat, SUBJECT_STRATEGIES, VALUE_FORMATS, type RegistryFormat, type SubjectStrategy } from "../events/wire/formats.ts";
import type { SchemaSource } from "../sinks/shaped/registry-values.ts";
import type { ShapedPlans } from "../sinks/shaped/plans.ts";
import type { RegistryOptions } from "../kafka/registry/client.ts";
import type { KafkaRecordMapper } from "../sinks/kafka/records.ts";
import type { DecodedRecords, RegistryValueDecoder } from "../analyze/read/registry-values.ts";
import { flagName, type FlagSpec } from "./run-flags.ts";
import { KEY_FORMATS, type KeyFormat } from "../sinks/kafka/registry/avro-keys.ts";

const GROUP = "Schema Registry:";

/** How to reach the registry: for `wfsim run` and `wfsim analyze` alike. */
export const REGISTRY_CONNECTION_FLAGS = {
  schemaRegistry: {
    syntax: "--schema-registry <url>",
    help: "the Schema Registry's Confluent-compatible API (Apicurio: http://HOST:PORT/apis/ccompat/v7)",
    group: GROUP,
  },
  schemaRegistryUser: {
    syntax: "--schema-registry-user <name>",
    help: `basic auth user; the password from --schema-registry-password-file or ${REGISTRY_PASSWORD_ENV}`,
    group: GROUP,
  },
  schemaRegistryPasswordFile: { syntax: "--schema-registry-password-file <file>", help: "file holding the basic auth password", group: GROUP },
  schemaRegistryTokenFile: {
    syntax: "--schema-registry-token-file <file>",
    help: `file holding a bearer token (default: the ${REGISTRY_TOKEN_ENV} environment variable)`,
    group: GROUP,
  },
  schemaRegistryCa: { syntax: "--schema-registry-ca <file>", help: "PEM CA(s) to trust for an https:// registry", group: GROUP },
} as const satisfies Record<string, FlagSpec>;

export const REGISTRY_FLAGS = {
  format: {
    syntax: "--format <format>",
    help: "json; on Kafka, avro, json-schema or protobuf in the Confluent wire format with --schema-registry; to a file, avro (an Avro container file) or protobuf (length-delimited)",
    defaultText: "json",
    group: GROUP,
  },
  subjectStrategy: {
    syntax: "--subject-strategy <strategy>",
    help: "subject of a value's schema: topic (<topic>-value), record (the record's full name), topic-record (<topic>-<full name>)",
    defaultText: "topic",
    group: GROUP,
  },
  schemaRegistryUseLatest: {
    syntax: "--schema-registry-use-latest",
    help: "write with each subject's latest registered schema instead of registering one (any of the three formats, wfsim's own events or a scenario's records), found by record or message name; refused before anything is sent if it cannot hold the records",
    group: GROUP,
  },
  keyFormat: {
    syntax: "--key-format <format>",
    help: "record keys: string (the transaction id's UTF-8 text, or a shaped record's key field), or avro: an Avro \"string\" in the wire format, registered under <topic>-key (partitions unchanged)",
    defaultText: "string",
    group: GROUP,
  },
  valueSchema: {
    syntax: "--value-schema <file>",
    help: "a scenario's records written with this schema (.avsc, .proto, or a JSON Schema .json), fields mapped by name; checked before anything is sent",
    group: GROUP,
  },
  ...REGISTRY_CONNECTION_FLAGS,
} as const satisfies Record<string, FlagSpec>;

type Flags = { readonly [key: string]: string | boolean | undefined };

export interface RegistryOutput {
  readonly format: RegistryFormat;
  readonly registry: RegistryOptions;
  readonly strategy: SubjectStrategy;
  /** Which schema values are written with: derived from the events or shape, each subject's latest, or the user's file. */
  readonly source: SchemaSource;
  /** --key-format: keys as their text, or as an Avro string in the wire format. */
  readonly keyFormat: KeyFormat;
}

const VALUE_SCHEMA_EXTENSIONS = { avro: [".avsc", ".json"], protobuf: [".proto"], "json-schema": [".json"] } as const satisfies Record<RegistryFormat, readonly string[]>;

/** --value-schema FILE: read and matched to --format by its extension (the content is checked against the records later). */
function valueSchemaSource(path: string, format: RegistryFormat): SchemaSource {
  const name = flagName("valueSchema");
  if (path.trim() === "") throw new WfsimError("INVALID_OPTION", `${name} must be a schema file, got an empty value`);
  const extensions: readonly string[] = VALUE_SCHEMA_EXTENSIONS[format];
  if (!extensions.some((ext) => path.toLowerCase().endsWith(ext))) {
    throw new WfsimError("INVALID_OPTION", `${name} ${path}: ${flagName("format")} ${format} takes a ${extensions.join(" or ")} file`);
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new WfsimError("FILE", `${name} ${path}: cannot read (${describeSystemError(error)})`, { cause: error });
  }
  return { kind: "file", path, text };
}

function connectionInput(flags: Flags): RegistryOptionsInput {
  const input: Record<string, string> = {};
  for (const key of Object.keys(REGISTRY_CONNECTION_FLAGS)) {
    const value = flags[key];
    if (typeof value === "string") input[key] = value;
  }
  return input;
}

function givenConnectionFlag(flags: Flags): string | undefined {
  return Object.keys(REGISTRY_CONNECTION_FLAGS).find((key) => flags[key] !== undefined);
}

/**
 * The registry output `wfsim run`'s flags ask for, or undefined for plain JSON. Checked before
 * anything is opened: --format other than json needs the Kafka output and --schema-registry.
 */
export function registryOutputFromFlags(flags: Flags, kafka: KafkaOptions | undefined, shaped: boolean, env: NodeJS.ProcessEnv = process.env): RegistryOutput | undefined {
  const raw = flags.format;
  if (raw !== undefined && (typeof raw !== "string" || !isValueFormat(raw))) {
    throw new WfsimError("INVALID_OPTION", `${flagName("format")} must be one of ${VALUE_FORMATS.join(", ")}, got ${JSON.stringify(raw)}`);
  }
  const format = raw ?? "json";
  if (format === "json") {
    const stray = givenConnectionFlag(flags) ?? ["subjectStrategy", "schemaRegistryUseLatest", "valueSchema", "keyFormat"].find((key) => flags[key] !== undefined);
    if (stray !== undefined) {
      throw new WfsimError("INVALID_OPTION", `${flagName(stray)} applies to ${flagName("format")} avro, json-schema or protobuf; the records are plain JSON without it`);
    }
    return undefined;
  }
  if (kafka === undefined && (format === "avro" || format === "protobuf")) {
    // An Avro container file carries its schema in its header; a Protobuf file's is wfsim schema --format protobuf.
    const stray = givenConnectionFlag(flags) ?? ["subjectStrategy", "schemaRegistryUseLatest", "valueSchema", "keyFormat"].find((key) => flags[key] !== undefined);
    if (stray !== undefined) {
      throw new WfsimError("INVALID_OPTION", `${flagName(stray)} applies to the Kafka output, not to ${flagName("format")} ${format} in a file (${format === "avro" ? "an Avro file carries its schema in its header" : "its .proto is wfsim schema --format protobuf"})`);
    }
    if (flags.routing === true) throw new WfsimError("INVALID_OPTION", `${flagName("routing")} writes JSON Lines with each record's topic, key and headers: it does not take ${flagName("format")} ${format}`);
    return undefined;
  }
  if (kafka === undefined) {
    throw new WfsimError("INVALID_OPTION", `${flagName("format")} ${format} applies to the Kafka output: add ${flagName("kafkaBootstrap")} HOST:PORT (files and stdout take json, avro or protobuf)`);
  }
  if (flags.schemaRegistry === undefined) {
    throw new WfsimError("INVALID_OPTION", `${flagName("format")} ${format} needs a Schema Registry: add ${flagName("schemaRegistry")} URL`);
  }
  const rawStrategy = flags.subjectStrategy ?? "topic";
  if (typeof rawStrategy !== "string" || !(SUBJECT_STRATEGIES as readonly string[]).includes(rawStrategy)) {
    throw new WfsimError("INVALID_OPTION", `${flagName("subjectStrategy")} must be one of ${SUBJECT_STRATEGIES.join(", ")}, got ${JSON.stringify(rawStrategy)}`);
  }
  const useLatest = flags.schemaRegistryUseLatest === true;
  const keyFormat = flags.keyFormat ?? "string";
  if (typeof keyFormat !== "string" || !(KEY_FORMATS as readonly string[]).includes(keyFormat)) {
    throw new WfsimError("INVALID_OPTION", `${flagName("keyFormat")} must be one of ${KEY_FORMATS.join(", ")}, got ${JSON.stringify(keyFormat)}`);
  }
  let source: SchemaSource = useLatest ? { kind: "latest" } : { kind: "derived" };
  if (flags.valueSchema !== undefined) {
    if (useLatest) throw new WfsimError("INVALID_OPTION", `${flagName("valueSchema")} and ${flagName("schemaRegistryUseLatest")} exclude each other: register your schema, or use the registered one`);
    if (!shaped) throw new WfsimError("INVALID_OPTION", `${flagName("valueSchema")} maps a scenario's output section onto your schema: add ${flagName("scenario")} FILE with an output section`);
    source = valueSchemaSource(String(flags.valueSchema), format);
  }
  return {
    format,
    strategy: rawStrategy as SubjectStrategy,
    source,
    keyFormat: keyFormat as KeyFormat,
    registry: resolveRegistryOptions(connectionInput(flags), { nameOf: flagName, env, timeoutMs: kafka.timeoutMs }),
  };
}

/** `wfsim analyze --schema-registry`: the registry to look schemas up in, or undefined. */
export function registryFromFlags(flags: Flags, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): RegistryOptions | undefined {
  if (flags.schemaRegistry === undefined) {
    const stray = givenConnectionFlag(flags);
    if (stray !== undefined) throw new WfsimError("INVALID_OPTION", `${flagName(stray)} applies to a Schema Registry: add ${flagName("schemaRegistry")} URL`);
    return undefined;
  }
  return resolveRegistryOptions(connectionInput(flags), { nameOf: flagName, env, timeoutMs });
}

/**
 * Registers the topics' schemas and returns the record mapper that writes in the wire format. Says
 * on stderr which subject got which schema id (unless quiet).
 */
export async function openRegistryRecords(
  output: RegistryOutput,
  kafka: KafkaOptions,
  io: { readonly stderr: NodeJS.WritableStream; readonly quiet: boolean },
): Promise<KafkaRecordMapper> {
  // Loaded here: avsc and protobufjs are only worth their load time when asked for.
  const { SchemaRegistryClient } = await import("../kafka/registry/client.ts");
  const { registerEventSchemas } = await import("../sinks/kafka/registry/value-encoders.ts");
  const { RegistryEventRecords } = await import("../sinks/kafka/registry/registry-records.ts");
  const client = new SchemaRegistryClient(output.registry);
  const latest = output.source.kind === "latest";
  const { encoders, schemas } = latest
    ? await (await import("../sinks/kafka/registry/latest-schemas.ts")).latestEventSchemas(output.format, client, kafka.topics, output.strategy)
    : await registerEventSchemas(output.format, client, kafka.topics, output.strategy);
  if (!io.quiet) {
    for (const schema of schemas) {
      io.stderr.write(`wfsim: ${output.format} schema id ${schema.schemaId}${latest ? " (the latest version)" : ""} for subject ${schema.subject} at ${client.url}\n`);
    }
  }
  const keys = await registerKeys(output, client, [kafka.topics.transactions, kafka.topics.steps], io);
  return new RegistryEventRecords(kafka.topics, encoders, keys);
}

/**
 * A shaped output's records in the wire format: the schemas registered (or looked up) per the
 * strategy, checked to hold the records, and the record mapper that writes them.
 */
export async function openShapedRegistryRecords(
  output: RegistryOutput,
  plans: ShapedPlans,
  io: { readonly stderr: NodeJS.WritableStream; readonly quiet: boolean },
): Promise<KafkaRecordMapper> {
  const { SchemaRegistryClient } = await import("../kafka/registry/client.ts");
  const { registerShapedSchemas, checkValueSchema } = await import("../sinks/shaped/registry-values.ts");
  const { ShapedKafkaRecords } = await import("../sinks/shaped/kafka-records.ts");
  // The user's schema is checked against the records before the registry is asked anything.
  if (output.source.kind === "file") checkValueSchema(output.format, output.source, plans, output.strategy);
  const client = new SchemaRegistryClient(output.registry);
  const { encoder, units } = await registerShapedSchemas(output.format, output.strategy, output.source, client, plans);
  if (!io.quiet) {
    for (const unit of units) io.stderr.write(`wfsim: ${output.format} schema id ${unit.schemaId} for subject ${unit.subject} at ${client.url}\n`);
  }
  return new ShapedKafkaRecords(plans, encoder, await registerKeys(output, client, plans.shaper.shape.topics, io));
}

/** --key-format avro: the key schema registered under each topic's `<topic>-key`, said on stderr; undefined for string keys. */
async function registerKeys(
  output: RegistryOutput,
  client: import("../kafka/registry/client.ts").SchemaRegistryClient,
  topics: readonly string[],
  io: { readonly stderr: NodeJS.WritableStream; readonly quiet: boolean },
): Promise<import("../sinks/kafka/registry/avro-keys.ts").KeyEncoder | undefined> {
  if (output.keyFormat === "string") return undefined;
  const { registerAvroKeys } = await import("../sinks/kafka/registry/avro-keys.ts");
  const { encoder, schemas } = await registerAvroKeys(client, topics);
  if (!io.quiet) for (const schema of schemas) io.stderr.write(`wfsim: avro key schema id ${schema.schemaId} for subject ${schema.subject} at ${client.url}\n`);
  return encoder;
}

/** `wfsim analyze --kafka-bootstrap ... --schema-registry URL`: the decoder of wire-format values, or undefined. */
export async function registryDecoderFromFlags(
  flags: Flags,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
  /** "shaped" for a scenario's records (analyze --scenario): each value back as its JSON Lines line. */
  records: DecodedRecords = "events",
): Promise<RegistryValueDecoder | undefined> {
  const registry = registryFromFlags(flags, timeoutMs, env);
  if (registry === undefined) return undefined;
  const { SchemaRegistryClient } = await import("../kafka/registry/client.ts");
  const { RegistryValueDecoder } = await import("../analyze/read/registry-values.ts");
  return new RegistryValueDecoder(new SchemaRegistryClient(registry), { records });
}

/** `wfsim analyze`: --schema-registry decodes what is read from Kafka, bounded or --follow; files do not take it. */
export function checkRegistryInput(flags: Flags, kafka: boolean): void {
  const given = givenConnectionFlag(flags);
  if (given === undefined) return;
  if (!kafka) throw new WfsimError("INVALID_OPTION", `${flagName(given)} applies to reading Kafka: add ${flagName("kafkaBootstrap")} HOST:PORT`);
}
