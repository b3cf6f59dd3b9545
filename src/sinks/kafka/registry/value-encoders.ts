/**
 * Record values in the Confluent wire format for wfsim's two topics: each topic's schema is derived
 * from the event definitions (events/wire/), registered under its subject (TopicNameStrategy:
 * `<topic>-value`), and its id written before every value.
 */
import type { KafkaTopics } from "../../../config/kafka-options.ts";
import type { WfEvent } from "../../../events/schema.ts";
import { serializeEvent } from "../../../events/serialize.ts";
import { AvroEventEncoder, avroSchema } from "../../../events/wire/avro.ts";
import { SCHEMA_TYPES, type RegistryFormat } from "../../../events/wire/formats.ts";
import { topicJsonSchema } from "../../../events/wire/json-schema.ts";
import { ProtobufEventEncoder, protoSchema } from "../../../events/wire/protobuf.ts";
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
  const shapes = topicShapes(kind);
  switch (format) {
    case "avro": {
      const avro = new AvroEventEncoder(shapes);
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
    case "json-schema": {
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
  }
}

/**
 * Registers both topics' schemas (or finds them registered) and returns their encoders, transactions
 * topic first. Registry failures are WfsimErrors (REGISTRY_CONNECT, REGISTRY_AUTH, REGISTRY_SCHEMA).
 */
export async function registerEventSchemas(
  format: RegistryFormat,
  client: SchemaRegistryClient,
  topics: KafkaTopics,
): Promise<{ readonly encoders: readonly [ValueEncoder, ValueEncoder]; readonly schemas: readonly TopicSchema[] }> {
  const schemas: TopicSchema[] = [];
  const encoders: ValueEncoder[] = [];
  for (const kind of TOPIC_KINDS) {
    const topic = kind === "transactions" ? topics.transactions : topics.steps;
    const subject = valueSubject(topic);
    const schemaId = await client.register(subject, SCHEMA_TYPES[format], topicSchemaText(format, kind, topic));
    schemas.push({ topic, subject, schemaId });
    encoders.push(valueEncoder(format, kind, schemaId));
  }
  return { encoders: [encoders[0]!, encoders[1]!], schemas };
}
