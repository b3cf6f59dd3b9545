/**
 * `--schema-registry-use-latest` for wfsim's own events: nothing is registered; each subject's latest
 * version (per the subject strategy) is fetched, each event type found in it by name, checked to hold
 * what wfsim writes, and the events written with it and the version's id. Avro is here (the record: a
 * branch of a union, or the schema itself); Protobuf in latest-protobuf.ts, JSON Schema in
 * latest-json-schema.ts. A registered schema may have evolved from
 * wfsim's own (`wfsim schema --format avro`): more fields with defaults, wider types, an optional
 * field made required is not fine. Refusals are one line naming the subject, its version's id and
 * the field, before anything is sent.
 */
import avro from "avsc";
import type { KafkaTopics } from "../../../config/kafka-options.ts";
import { WfsimError } from "../../../errors.ts";
import type { WfEvent } from "../../../events/schema.ts";
import { AVRO_NAMESPACE, avroRecord } from "../../../events/wire/avro.ts";
import type { EventShape } from "../../../events/wire/event-shapes.ts";
import { valueSubjectOf, type RegistryFormat, type SubjectStrategy } from "../../../events/wire/formats.ts";
import { PROTO_PACKAGE } from "../../../events/wire/protobuf.ts";
import { TOPIC_KINDS, topicShapes } from "../../../events/wire/topic-events.ts";
import type { SchemaRegistryClient } from "../../../kafka/registry/client.ts";
import { wireHeader } from "../../../kafka/registry/wire-format.ts";
import { jsonSchemaEncoders } from "./latest-json-schema.ts";
import { protobufEncoders } from "./latest-protobuf.ts";
import { cannotHold, fetchLatest, type LatestVersion } from "./latest-version.ts";
import type { TopicSchema, ValueEncoder } from "./value-encoders.ts";

/** An Avro version parsed: the records it offers (the union's branches, or the schema alone). */
interface AvroVersion extends LatestVersion {
  readonly branches: readonly avro.Type[];
  readonly union: boolean;
}

function avroVersion(version: LatestVersion): AvroVersion {
  let type: avro.Type;
  try {
    // avsc's default: a union of records is wrapped (one branch per record), a union with null is not.
    type = avro.Type.forSchema(JSON.parse(version.schema.schema) as avro.Schema);
  } catch (error) {
    throw new WfsimError("REGISTRY_SCHEMA", `${version.where} is not an Avro schema: ${error instanceof Error ? error.message : String(error)}`);
  }
  const union = avro.Type.isType(type, "union");
  return { ...version, branches: union ? (type as unknown as { types: avro.Type[] }).types : [type], union };
}

/** A type without its null branch (an optional field's); other types as they are. */
function withoutNull(type: avro.Type): avro.Type {
  if (!avro.Type.isType(type, "union")) return type;
  const types = (type as unknown as { types: avro.Type[] }).types.filter((t) => t.typeName !== "null");
  return types.length === 1 ? types[0]! : type;
}

/**
 * Every field wfsim writes has a place in the target, and every field of the target wfsim does not
 * write has a default, down nested records; the types are then checked by Avro's own schema
 * resolution (long into long or double, the `type` symbol into the enum, optional into optional).
 */
function checkFields(ours: avro.types.RecordType, target: avro.types.RecordType, version: AvroVersion, shape: EventShape, path: string): void {
  const theirs = new Map(target.fields.map((field) => [field.name, field]));
  const written = new Set<string>();
  for (const field of ours.fields) {
    const at = path === "" ? field.name : `${path}.${field.name}`;
    const place = theirs.get(field.name);
    if (place === undefined) throw cannotHold(version, shape, `it has no field ${at}, which wfsim writes`);
    written.add(field.name);
    const a = withoutNull(field.type);
    const b = withoutNull(place.type);
    if (avro.Type.isType(a, "record") && avro.Type.isType(b, "record")) checkFields(a as avro.types.RecordType, b as avro.types.RecordType, version, shape, at);
  }
  for (const field of target.fields) {
    if (written.has(field.name) || field.defaultValue() !== undefined) continue;
    throw cannotHold(version, shape, `it requires field ${path === "" ? field.name : `${path}.${field.name}`} (no default), which wfsim does not write`);
  }
}

/** Zigzag varint of a union branch index: what precedes the record in the union's encoding. */
function branchPrefix(index: number): Buffer {
  const bytes: number[] = [];
  let n = index * 2;
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

/** The encoder of one event type's values with the record it has in `version`. */
function avroEncoder(version: AvroVersion, shape: EventShape): ValueEncoder {
  const fullName = `${AVRO_NAMESPACE}.${shape.name}`;
  let index = version.branches.findIndex((branch) => branch.name === fullName);
  if (index < 0) index = version.branches.findIndex((branch) => branch.name?.split(".").at(-1) === shape.name);
  if (index < 0) throw cannotHold(version, shape, `it has no record named ${fullName}`);
  const target = version.branches[index]!;
  if (!avro.Type.isType(target, "record")) throw cannotHold(version, shape, `its ${target.name ?? target.typeName} is not a record`);
  const ours = avro.Type.forSchema(avroRecord(shape) as avro.Schema, { wrapUnions: false }) as avro.types.RecordType;
  checkFields(ours, target as avro.types.RecordType, version, shape, "");
  try {
    target.createResolver(ours);
  } catch (error) {
    throw cannotHold(version, shape, error instanceof Error ? error.message.split("\n")[0]! : String(error));
  }
  const header = Buffer.concat([wireHeader(version.schema.id), version.union ? branchPrefix(index) : Buffer.alloc(0)]);
  let scratch = Buffer.allocUnsafe(4096);
  return {
    encode(event: WfEvent): Buffer {
      let end = target.encode(event, scratch, header.length);
      // avsc returns a negative number when the buffer is too small (minus the size it needs).
      while (end < 0) {
        scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, header.length - end + 64));
        end = target.encode(event, scratch, header.length);
      }
      header.copy(scratch, 0);
      return Buffer.from(scratch.subarray(0, end));
    },
  };
}

/** Per format: a subject's latest version made into the encoder of each event type it holds (refusing those it cannot). */
const ENCODERS: Record<RegistryFormat, (version: LatestVersion) => (shape: EventShape) => ValueEncoder> = {
  avro(version) {
    const parsed = avroVersion(version);
    return (shape) => avroEncoder(parsed, shape);
  },
  protobuf: protobufEncoders,
  "json-schema": jsonSchemaEncoders,
};

/**
 * Looks up both topics' subjects' latest versions (TopicNameStrategy: one per topic; the record
 * strategies: one per event type) and returns the encoders, transactions topic first. An unknown
 * subject, a version of another schema type or one that cannot hold an event type's fields: one-line
 * WfsimErrors, before anything is sent.
 */
export async function latestEventSchemas(
  format: RegistryFormat,
  client: SchemaRegistryClient,
  topics: KafkaTopics,
  strategy: SubjectStrategy,
): Promise<{ readonly encoders: readonly [ValueEncoder, ValueEncoder]; readonly schemas: readonly TopicSchema[] }> {
  const versions = new Map<string, (shape: EventShape) => ValueEncoder>();
  const schemas: TopicSchema[] = [];
  const encoders: ValueEncoder[] = [];
  const namespace = format === "protobuf" ? PROTO_PACKAGE : AVRO_NAMESPACE;
  for (const kind of TOPIC_KINDS) {
    const topic = kind === "transactions" ? topics.transactions : topics.steps;
    const byType = new Map<string, ValueEncoder>();
    for (const shape of topicShapes(kind)) {
      const subject = valueSubjectOf(strategy, topic, `${namespace}.${shape.name}`);
      let encoderOf = versions.get(subject);
      if (encoderOf === undefined) {
        const version = await fetchLatest(client, subject, format);
        encoderOf = ENCODERS[format](version);
        versions.set(subject, encoderOf);
        schemas.push({ topic, subject, schemaId: version.schema.id });
      }
      byType.set(shape.type, encoderOf(shape));
    }
    encoders.push({ encode: (event) => byType.get(event.type)!.encode(event) });
  }
  return { encoders: [encoders[0]!, encoders[1]!], schemas };
}
