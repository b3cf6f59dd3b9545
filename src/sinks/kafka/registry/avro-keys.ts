/**
 * `--key-format avro`: record keys (the txn_id, or a shaped record's key field) in the Confluent wire
 * format as an Avro "string": magic byte, the key schema's id, then the string (its length as a
 * zigzag varint, then its UTF-8 bytes). The schema is registered under TopicNameStrategy's
 * `<topic>-key` whatever --subject-strategy says: Confluent's RecordNameStrategy and
 * TopicRecordNameStrategy take only a record schema for a key (its serializer refuses a primitive
 * one), and `<topic>-key` is the subject a consumer with the default key strategy looks up.
 * Partitions stay those of the string key (murmur2 of the UTF-8 text): the key's bytes change, not
 * which transactions share a partition.
 */
import type { SchemaRegistryClient } from "../../../kafka/registry/client.ts";
import { wireHeader } from "../../../kafka/registry/wire-format.ts";

export const KEY_FORMATS = ["string", "avro"] as const;
export type KeyFormat = (typeof KEY_FORMATS)[number];

/** The Avro schema of a string key, as registered. */
export const AVRO_STRING_KEY_SCHEMA = JSON.stringify("string");

/** TopicNameStrategy's subject for a topic's keys. */
export function keySubject(topic: string): string {
  return `${topic}-key`;
}

/** Turns a key's UTF-8 text into the bytes a record carries for the topic with this index. */
export interface KeyEncoder {
  encode(topicIndex: number, text: Buffer): Buffer;
}

export interface KeySchema {
  readonly topic: string;
  readonly subject: string;
  readonly schemaId: number;
}

/** Avro's encoding of a string, after `header`: its byte length as a zigzag varint, then the bytes. */
export function avroStringKey(header: Buffer, text: Buffer): Buffer {
  let n = text.length * 2;
  let lengthBytes = 1;
  for (let m = n; m >= 0x80; m = Math.floor(m / 128)) lengthBytes++;
  const out = Buffer.allocUnsafe(header.length + lengthBytes + text.length);
  header.copy(out, 0);
  let at = header.length;
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  text.copy(out, at);
  return out;
}

/** Registers the string key schema under each topic's `<topic>-key` and returns the encoder of the topics' keys (by index). */
export async function registerAvroKeys(client: SchemaRegistryClient, topics: readonly string[]): Promise<{ readonly encoder: KeyEncoder; readonly schemas: readonly KeySchema[] }> {
  const schemas: KeySchema[] = [];
  for (const topic of topics) {
    const subject = keySubject(topic);
    schemas.push({ topic, subject, schemaId: await client.register(subject, "AVRO", AVRO_STRING_KEY_SCHEMA) });
  }
  const headers = schemas.map((schema) => wireHeader(schema.schemaId));
  return { encoder: { encode: (topicIndex, text) => avroStringKey(headers[topicIndex]!, text) }, schemas };
}
