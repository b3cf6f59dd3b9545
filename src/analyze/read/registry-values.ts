/**
 * Record values in a Schema Registry's wire format back to wfsim's JSON lines, for the analysis: the
 * schema is looked up by the id in each value (once per id, cached by the client) and the value
 * decoded against it, as any consumer would: Avro with avsc, Protobuf with protobufjs, JSON Schema's
 * payload is the JSON itself. The event then goes through serializeEvent, so the analysis reads the
 * very line the JSON output would have had.
 */
import avro from "avsc";
import protobuf from "protobufjs";
import { WfsimError } from "../../errors.ts";
import { EVENT_TYPES, type WfEvent } from "../../events/schema.ts";
import { serializeEvent } from "../../events/serialize.ts";
import type { RegisteredSchema, SchemaRegistryClient } from "../../kafka/registry/client.ts";
import { MAGIC_BYTE, readMessageIndexes, readWireHeader, WireFormatError } from "../../kafka/registry/wire-format.ts";

type Decode = (value: Buffer, offset: number) => Buffer;

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

/** A value that may be in the wire format: magic byte 0 (a JSON line starts with `{` or a space). */
export function isWireFormat(value: Uint8Array): boolean {
  return value.length >= 5 && value[0] === MAGIC_BYTE;
}

export class RegistryValueDecoder {
  private readonly client: SchemaRegistryClient;
  private readonly decoders = new Map<number, Decode>();

  constructor(client: SchemaRegistryClient) {
    this.client = client;
  }

  /** Fetches the schemas of these values that are not known yet; the values can then be decoded. */
  async prepare(values: readonly Buffer[]): Promise<void> {
    const missing = new Set<number>();
    for (const value of values) {
      if (!isWireFormat(value)) continue;
      const id = value.readUInt32BE(1);
      if (!this.decoders.has(id)) missing.add(id);
    }
    for (const id of missing) this.decoders.set(id, decoderFor(await this.client.schemaById(id), this.client.url));
  }

  /** The JSON line (no newline) a value carries; a value not in the wire format is taken as JSON already. */
  toLine(value: Buffer): Buffer {
    if (!isWireFormat(value)) return value;
    let header;
    try {
      header = readWireHeader(value);
    } catch (error) {
      if (error instanceof WireFormatError) throw new WfsimError("INVALID_OPTION", `a record value is not in the Schema Registry wire format: ${error.message}`);
      throw error;
    }
    const decode = this.decoders.get(header.schemaId);
    if (decode === undefined) throw new Error(`schema id ${header.schemaId} was not prepared`);
    return decode(value, header.offset);
  }
}

function eventLine(event: Record<string, unknown>, schema: RegisteredSchema, url: string): Buffer {
  // serializeEvent leaves out undefined fields; a decoder's absent optional field is null. The
  // decoded object is ours alone: it is changed in place (to undefined, not deleted, which would
  // turn it into a slow dictionary object).
  for (const key in event) if (event[key] === null) event[key] = undefined;
  if (typeof event["type"] !== "string" || !KNOWN_TYPES.has(event["type"])) {
    throw new WfsimError(
      "REGISTRY_SCHEMA",
      `a record with ${schema.schemaType} schema id ${schema.id} at ${url} decodes to ${JSON.stringify(event["type"] === undefined ? "no type field" : event["type"])}, not one of wfsim's events`,
    );
  }
  const line = Buffer.from(serializeEvent(event as unknown as WfEvent), "utf8");
  return line.subarray(0, line.length - 1);
}

function decoderFor(schema: RegisteredSchema, url: string): Decode {
  const bad = (why: string) => new WfsimError("REGISTRY_SCHEMA", `${schema.schemaType} schema id ${schema.id} at ${url} cannot be read: ${why}`);
  switch (schema.schemaType) {
    case "JSON":
      return (value, offset) => value.subarray(offset);
    case "AVRO": {
      let type: avro.Type;
      try {
        type = avro.Type.forSchema(JSON.parse(schema.schema) as avro.Schema);
      } catch (error) {
        throw bad(error instanceof Error ? error.message : String(error));
      }
      // A union of records is wrapped by avsc ({name: record}); a single record is not.
      const wrapped = type.typeName === "union:wrapped";
      return (value, offset) => {
        const decoded = type.fromBuffer(value.subarray(offset)) as Record<string, unknown>;
        return eventLine(wrapped ? unwrap(decoded) : decoded, schema, url);
      };
    }
    case "PROTOBUF": {
      let root: protobuf.Root;
      try {
        root = protobuf.parse(schema.schema, { keepCase: true }).root;
      } catch (error) {
        throw bad(error instanceof Error ? error.message : String(error));
      }
      const top = topLevelMessages(root);
      return (value, offset) => {
        const { path, next } = readMessageIndexes(value, offset);
        let messages = top;
        let message: protobuf.Type | undefined;
        for (const index of path) {
          message = messages[index];
          if (message === undefined) throw bad(`no message at index path [${path.join(", ")}]`);
          messages = message.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
        }
        const decoded = message!.toObject(message!.decode(value.subarray(next)), { longs: Number, enums: String, defaults: true });
        return eventLine(decoded, schema, url);
      };
    }
  }
}

/** The record in avsc's wrapped union value ({ "wfsim.StepOpen": record }), without an array. */
function unwrap(decoded: Record<string, unknown>): Record<string, unknown> {
  for (const key in decoded) return decoded[key] as Record<string, unknown>;
  return decoded;
}

/** The file's top-level messages in order: those of its package, else the root's. */
function topLevelMessages(root: protobuf.Root): protobuf.Type[] {
  let scope: protobuf.NamespaceBase = root;
  // A package a.b.c nests namespaces a, b, c with nothing else beside them.
  for (;;) {
    const nested = scope.nestedArray;
    if (nested.length === 1 && nested[0] instanceof protobuf.Namespace && !(nested[0] instanceof protobuf.Type) && !(nested[0] instanceof protobuf.Enum)) {
      scope = nested[0] as protobuf.Namespace;
      continue;
    }
    return nested.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
  }
}
