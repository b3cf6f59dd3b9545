/**
 * Record values in the Confluent wire format for wfsim's two topics: each topic's schema is derived
 * from the event definitions (events/wire/), registered under its subject (TopicNameStrategy:
 * `<topic>-value`, one schema per topic; RecordNameStrategy and TopicRecordNameStrategy: one schema
 * per event type, a single record or message), and its id written before every value.
 */
import type { KafkaTopics } from "../../../config/kafka-options.ts";
import type { WfEvent } from "../../../events/schema.ts";
import { serializeEvent } from "../../../events/serialize.ts";
import { AVRO_NAMESPACE, AvroEventEncoder, avroRecord, avroSchema } from "../../../events/wire/avro.ts";
import type { EventShape } from "../../../events/wire/event-shapes.ts";
import { SCHEMA_TYPES, valueSubjectOf, type RegistryFormat, type SubjectStrategy } from "../../../events/wire/formats.ts";
import { topicJsonSchema } from "../../../events/wire/json-schema.ts";
import { PROTO_PACKAGE, ProtobufEventEncoder, protoSchema } from "../../../events/wire/protobuf.ts";
import { TOPIC_KINDS, topicShapes, type TopicKind } from "../../../events/wire/topic-events.ts";
import type { SchemaRegistryClient } from "../../../kafka/registry/client.ts";
import { messageIndexBytes, wireHeader } from "../../../kafka/registry/wire-format.ts";

export interface ValueEncoder {
  /** The event's record value: header, then payload. */
  encode(event: WfEvent): Buffer;
}

export interface TopicSchema {
  readonly topic: string;
  readonly subject: string;
  readonly schemaId: number;
}

/** TopicNameStrategy: the subject of a topic's values. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/** The schema text a topic of this kind has in this format, as registered. */
export function topicSchemaText(format: RegistryFormat, kind: TopicKind, topic: string): string {
  const shapes = topicShapes(kind);
  switch (format) {
    case "avro":
      return JSON.stringify(avroSchema(shapes));
    case "protobuf":
      return protoSchema(shapes);
    case "json-schema":
      return JSON.stringify(topicJsonSchema(shapes, `wfsim ${kind} events (${topic})`));
  }
}

/** The encoder of one topic's values, once its schema has this id. */
export function valueEncoder(format: RegistryFormat, kind: TopicKind, schemaId: number): ValueEncoder {
  return shapesEncoder(format, topicShapes(kind), schemaId);
}

/** The encoder of values of these event types, written with a schema (of exactly these shapes) that has this id. */
function shapesEncoder(format: RegistryFormat, shapes: readonly EventShape[], schemaId: number, single = false): ValueEncoder {
  switch (format) {
    case "avro": {
      const avro = new AvroEventEncoder(shapes, { union: !single });
      const header = wireHeader(schemaId);
      return { encode: (event) => avro.encode(event, header) };
    }
    case "protobuf": {
      const protobuf = new ProtobufEventEncoder(shapes);
      const headers = shapes.map((_, index) => wireHeader(schemaId, messageIndexBytes([index])));
      return {
        encode(event) {
          const header = headers[protobuf.indexOf(event)]!;
          const message = protobuf.encode(event);
          const out = Buffer.allocUnsafe(header.length + message.length);
          header.copy(out, 0);
          out.set(message, header.length);
          return out;
        },
      };
    }
    case "json-schema":
      return jsonValueEncoder(schemaId);
  }
}

/** JSON Schema values: the event's JSON line (without its newline) after the header of this schema id. */
export function jsonValueEncoder(schemaId: number): ValueEncoder {
  const header = wireHeader(schemaId);
  return {
    encode(event) {
      const line = serializeEvent(event);
      const bytes = Buffer.byteLength(line, "utf8") - 1;
      const out = Buffer.allocUnsafe(header.length + bytes);
      header.copy(out, 0);
      out.write(line, header.length, bytes, "utf8");
      return out;
    },
  };
}

/**
 * Registers both topics' schemas (or finds them registered) and returns their encoders, transactions
 * topic first. Registry failures are WfsimErrors (REGISTRY_CONNECT, REGISTRY_AUTH, REGISTRY_SCHEMA).
 */
export async function registerEventSchemas(
  format: RegistryFormat,
  client: SchemaRegistryClient,
  topics: KafkaTopics,
  strategy: SubjectStrategy = "topic",
): Promise<{ readonly encoders: readonly [ValueEncoder, ValueEncoder]; readonly schemas: readonly TopicSchema[] }> {
  const schemas: TopicSchema[] = [];
  const encoders: ValueEncoder[] = [];
  for (const kind of TOPIC_KINDS) {
    const topic = kind === "transactions" ? topics.transactions : topics.steps;
    if (strategy !== "topic") {
      // One schema per event type: a single record or message, under the record's (topic and) full name.
      const byType = new Map<string, ValueEncoder>();
      for (const shape of topicShapes(kind)) {
        const fullName = `${format === "protobuf" ? PROTO_PACKAGE : AVRO_NAMESPACE}.${shape.name}`;
        const subject = valueSubjectOf(strategy, topic, fullName);
        const text =
          format === "avro"
            ? JSON.stringify(avroRecord(shape))
            : format === "protobuf"
              ? protoSchema([shape])
              : JSON.stringify(topicJsonSchema([shape], fullName));
        const schemaId = await client.register(subject, SCHEMA_TYPES[format], text);
        schemas.push({ topic, subject, schemaId });
        byType.set(shape.type, shapesEncoder(format, [shape], schemaId, true));
      }
      encoders.push({ encode: (event) => byType.get(event.type)!.encode(event) });
      continue;
    }
    const subject = valueSubject(topic);
    const schemaId = await client.register(subject, SCHEMA_TYPES[format], topicSchemaText(format, kind, topic));
    schemas.push({ topic, subject, schemaId });
    encoders.push(valueEncoder(format, kind, schemaId));
  }
  return { encoders: [encoders[0]!, encoders[1]!], schemas };
}
