/**
 * Record values in a Schema Registry's wire format back to wfsim's JSON lines, for the analysis: the
 * schema is looked up by the id in each value (once per id, cached by the client) and the value
 * decoded against it, as any consumer would: Avro with avsc, Protobuf with protobufjs, JSON Schema's
 * payload is the JSON itself. The event then goes through serializeEvent, so the analysis reads the
 * very line the JSON output would have had. Avro values of the schemas avro-lines.ts compiles skip the
 * object: their JSON line is written from the Avro bytes straight into the chunk (the same bytes, faster).
 */
import avro from "avsc";
import protobuf from "protobufjs";
import { WfsimError } from "../../errors.ts";
import { EVENT_TYPES, type WfEvent } from "../../events/schema.ts";
import { serializeEvent } from "../../events/serialize.ts";
import type { RegisteredSchema, SchemaRegistryClient } from "../../kafka/registry/client.ts";
import { topLevelMessages } from "../../events/wire/proto-messages.ts";
import { MAGIC_BYTE, readMessageIndexes } from "../../kafka/registry/wire-format.ts";
import { withRoom, type LineChunk } from "../../kafka/read/records.ts";
import type { PartitionInput } from "../../kafka/read/record-merge.ts";
import { compileAvroLines, UnsupportedAvro, type AvroLineReader, type LineRoom } from "./avro-lines.ts";

/** Magic byte and schema id. */
const HEADER_BYTES = 5;

/**
 * A value's JSON line, no newline: its bytes, or (decoded and written again) its text. The value's
 * payload is [offset, end) of `bytes` (a fetched batch, read in place).
 */
type Decode = (bytes: Buffer, offset: number, end: number) => Buffer | string;

/** How a schema's values are read: decoded (and written again), or written straight from Avro (avro-lines.ts). */
type Reader = { readonly decode: Decode; readonly lines?: undefined } | { readonly decode?: undefined; readonly lines: AvroLineReader };

/** A line's room of its own (toLine's), reused. */
class ScratchRoom implements LineRoom {
  buffer = Buffer.allocUnsafe(4096);
  room(at: number, need: number): Buffer {
    return (this.buffer = withRoom(this.buffer, at, need));
  }
}

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

/**
 * What the values hold: wfsim's own events (checked to be one, and written as serializeEvent writes
 * them), or a scenario's shaped records (written as the JSON Lines writer writes them: the schema's
 * field order, an absent optional field left out).
 */
export type DecodedRecords = "events" | "shaped";

export class RegistryValueDecoder {
  private readonly client: SchemaRegistryClient;
  private readonly decoders = new Map<number, Reader>();
  private readonly records: DecodedRecords;
  private readonly scratch = new ScratchRoom();

  constructor(client: SchemaRegistryClient, { records = "events" }: { readonly records?: DecodedRecords } = {}) {
    this.client = client;
    this.records = records;
  }

  /** Fetches the schemas of these values that are not known yet; the values can then be decoded. */
  async prepare(values: readonly Buffer[]): Promise<void> {
    const missing = new Set<number>();
    for (const value of values) {
      const id = this.missingId(value, 0, value.length);
      if (id >= 0) missing.add(id);
    }
    await this.prepareIds(missing);
  }

  /** The schema id of the wire-format value at [start, end) of `bytes` when it is not looked up yet, else -1. */
  missingId(bytes: Buffer, start: number, end: number): number {
    if (end - start < 5 || bytes[start] !== MAGIC_BYTE) return -1;
    const id = bytes.readUInt32BE(start + 1);
    return this.decoders.has(id) ? -1 : id;
  }

  /**
   * Fetches the schemas of the values waiting in these inputs whose ids are new: a merge then
   * releases them synchronously, in its order, each decoded as it comes.
   */
  async prepareWaiting(inputs: Iterable<PartitionInput>): Promise<void> {
    const missing = new Set<number>();
    const visit = (bytes: Buffer, start: number, end: number) => {
      const id = this.missingId(bytes, start, end);
      if (id >= 0) missing.add(id);
    };
    for (const input of inputs) input.forEachWaiting(visit);
    if (missing.size > 0) await this.prepareIds(missing);
  }

  /** Fetches the schemas with these ids (missingId's), so that toLine decodes their values at once. */
  async prepareIds(ids: Iterable<number>): Promise<void> {
    for (const id of ids) {
      if (this.decoders.has(id)) continue;
      const schema = await this.client.schemaById(id);
      try {
        this.decoders.set(id, readerFor(schema, this.client.url, this.records));
      } catch (error) {
        if (!(error instanceof UnparsableSchema)) throw error;
        // Said with the subject that holds it, when the registry tells: where the user can look.
        const versions = await this.client.versionsOf(id).catch(() => []);
        throw new UnparsableSchema(schema, this.client.url, error.cause, versions.map((v) => `subject ${v.subject} version ${v.version}`).join(", "));
      }
    }
  }

  /** The JSON line (no newline) a value carries; a value not in the wire format is taken as JSON already. */
  toLine(value: Buffer): Buffer {
    const reader = this.readerOf(value, 0, value.length);
    if (reader?.lines !== undefined) {
      // The line's end first: writing it may give the scratch room a new buffer.
      const end = reader.lines(value, HEADER_BYTES, value.length, this.scratch, 0);
      return Buffer.from(this.scratch.buffer.subarray(0, end));
    }
    const line = reader === undefined ? value : reader.decode(value, HEADER_BYTES, value.length);
    return typeof line === "string" ? Buffer.from(line, "utf8") : line;
  }

  /**
   * The JSON line of the value at [start, end) of `bytes` appended to `chunk`: read in place, and
   * decoded text written there once, not through a Buffer of its own.
   */
  appendTo(chunk: LineChunk, bytes: Buffer, start = 0, end = bytes.length): void {
    const reader = this.readerOf(bytes, start, end);
    if (reader === undefined) return chunk.append(bytes.subarray(start, end));
    if (reader.lines !== undefined) return chunk.endLine(reader.lines(bytes, start + HEADER_BYTES, end, chunk, chunk.length));
    const line = reader.decode(bytes, start + HEADER_BYTES, end);
    if (typeof line === "string") chunk.appendText(line);
    else chunk.append(line);
  }

  /** The reader of a wire-format value's schema; undefined for a value not in the wire format. */
  private readerOf(bytes: Buffer, start: number, end: number): Reader | undefined {
    if (end - start < HEADER_BYTES || bytes[start] !== MAGIC_BYTE) return undefined;
    const id = bytes.readUInt32BE(start + 1);
    const reader = this.decoders.get(id);
    if (reader === undefined) throw new Error(`schema id ${id} was not prepared`);
    return reader;
  }
}

/**
 * A schema whose text does not parse as the type the registry reports for it: a schema of one type
 * registered as a version of a subject of another (a registry that lets a subject mix types says the
 * subject's type for every version).
 */
class UnparsableSchema extends WfsimError {
  constructor(schema: RegisteredSchema, url: string, error: unknown, where = "") {
    const why = error instanceof Error ? error.message : String(error);
    super(
      "REGISTRY_SCHEMA",
      `schema id ${schema.id} at ${url}${where === "" ? "" : ` (${where})`} is reported as ${schema.schemaType} but its text does not parse as ${schema.schemaType} (${why}): ` +
        `a schema of another type registered as a version of a subject of type ${schema.schemaType}?`,
      { cause: error },
    );
  }
}

/** Avro compiled to lines where avro-lines.ts can (the same lines), else decoded. */
function readerFor(schema: RegisteredSchema, url: string, records: DecodedRecords): Reader {
  if (schema.schemaType === "AVRO") {
    let type: avro.Type | undefined;
    try {
      type = avro.Type.forSchema(JSON.parse(schema.schema) as avro.Schema);
    } catch {
      // Not an Avro schema: the decoder below says so.
    }
    try {
      if (type !== undefined) return { lines: compileAvroLines(type, records, { id: schema.id, url }) };
    } catch (error) {
      if (!(error instanceof UnsupportedAvro)) throw error;
    }
  }
  return { decode: (records === "events" ? decoderFor : shapedDecoderFor)(schema, url) };
}

/**
 * The line a value's payload decodes to through avsc (and serializeEvent or JSON.stringify), as it is
 * for the schemas avro-lines.ts does not compile: what its lines must equal, for the tests that check it.
 */
export function decodedLineOf(schema: RegisteredSchema, url: string, records: DecodedRecords): (bytes: Buffer, offset: number, end: number) => Buffer {
  const decode = (records === "events" ? decoderFor : shapedDecoderFor)(schema, url);
  return (bytes, offset, end) => {
    const line = decode(bytes, offset, end);
    return typeof line === "string" ? Buffer.from(line, "utf8") : line;
  };
}

/** The decoded event's JSON line, without its newline: serializeEvent leaves out a decoder's absent (null) optional field. */
function eventLine(event: Record<string, unknown> | null, schema: RegisteredSchema, url: string): string {
  const type = event?.["type"];
  if (typeof type !== "string" || !KNOWN_TYPES.has(type)) {
    throw new WfsimError(
      "REGISTRY_SCHEMA",
      `a record with ${schema.schemaType} schema id ${schema.id} at ${url} decodes to ${JSON.stringify(type === undefined ? "no type field" : type)}, not one of wfsim's events`,
    );
  }
  let line: string;
  try {
    line = serializeEvent(event as unknown as WfEvent);
  } catch (error) {
    // A registered schema that lets a field wfsim requires be absent (null).
    if (error instanceof TypeError) throw new WfsimError("REGISTRY_SCHEMA", `a record with ${schema.schemaType} schema id ${schema.id} at ${url}: ${error.message}`);
    throw error;
  }
  return line.slice(0, -1);
}

function decoderFor(schema: RegisteredSchema, url: string): Decode {
  const bad = (why: string) => new WfsimError("REGISTRY_SCHEMA", `${schema.schemaType} schema id ${schema.id} at ${url} cannot be read: ${why}`);
  switch (schema.schemaType) {
    case "JSON":
      return (bytes, offset, end) => bytes.subarray(offset, end);
    case "AVRO": {
      let type: avro.Type;
      try {
        type = avro.Type.forSchema(JSON.parse(schema.schema) as avro.Schema);
      } catch (error) {
        throw new UnparsableSchema(schema, url, error);
      }
      const read = (record: avro.Type, bytes: Buffer, offset: number, end: number) => {
        const decoded = record.decode(bytes, offset);
        // avsc's offset is -1 past the buffer's end; past the value's end is a value cut short too.
        if (decoded.offset < 0 || decoded.offset > end) throw bad("a value is shorter than its schema says");
        return eventLine(decoded.value as Record<string, unknown> | null, schema, url);
      };
      if (type.typeName !== "union:wrapped") return (bytes, offset, end) => read(type, bytes, offset, end);
      // A union of records: the branch index, then the record, read with the branch's own type
      // (no wrapper object per value, as avsc's union type would make).
      const branches = (type as unknown as { types: avro.Type[] }).types;
      return (bytes, offset, end) => {
        const { index, next } = readUnionIndex(bytes, offset, end);
        const branch = branches[index];
        if (branch === undefined) throw bad(`a value names union branch ${index} of ${branches.length}`);
        return read(branch, bytes, next, end);
      };
    }
    case "PROTOBUF": {
      let root: protobuf.Root;
      try {
        root = protobuf.parse(schema.schema, { keepCase: true }).root;
      } catch (error) {
        throw new UnparsableSchema(schema, url, error);
      }
      const top = topLevelMessages(root);
      return (bytes, offset, end) => {
        const value = bytes.subarray(offset, end);
        const { path, next } = readMessageIndexes(value, 0);
        let messages = top;
        let message: protobuf.Type | undefined;
        for (const index of path) {
          message = messages[index];
          if (message === undefined) throw bad(`no message at index path [${path.join(", ")}]`);
          messages = message.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
        }
        // An absent proto3 optional field comes back as null (left out by serializeEvent).
        const decoded = message!.toObject(message!.decode(value.subarray(next)), { longs: Number, enums: String, defaults: true });
        return eventLine(decoded, schema, url);
      };
    }
  }
}

/** An Avro union's branch index: a zigzag varint (one byte below 64 branches). */
function readUnionIndex(value: Buffer, offset: number, end: number): { readonly index: number; readonly next: number } {
  let n = 0;
  let shift = 0;
  let at = offset;
  for (;;) {
    const byte = at < end ? value[at++] : undefined;
    if (byte === undefined || shift > 28) throw new WfsimError("INVALID_OPTION", "a record value is not in the Schema Registry wire format: its Avro union index is cut short");
    n |= (byte & 0x7f) << shift;
    if (byte < 0x80) break;
    shift += 7;
  }
  return { index: (n >>> 1) ^ -(n & 1), next: at };
}

/** A shaped record's JSON text from an object: no newline. */
function recordLine(record: unknown): Buffer {
  return Buffer.from(JSON.stringify(record), "utf8");
}

/**
 * Shaped records: any schema, the decoded value printed as the JSON Lines writer prints it. A field
 * whose Avro type is a union with null is absent when null (the writer leaves an unknown field out);
 * a null list item or a field of type null stays null. Protobuf fields come in field-number order.
 */
function shapedDecoderFor(schema: RegisteredSchema, url: string): Decode {
  const bad = (why: string) => new WfsimError("REGISTRY_SCHEMA", `${schema.schemaType} schema id ${schema.id} at ${url} cannot be read: ${why}`);
  switch (schema.schemaType) {
    case "JSON":
      return (bytes, offset, end) => bytes.subarray(offset, end);
    case "AVRO": {
      let type: avro.Type;
      try {
        type = avro.Type.forSchema(JSON.parse(schema.schema) as avro.Schema);
      } catch (error) {
        throw new UnparsableSchema(schema, url, error);
      }
      const wrapped = type.typeName === "union:wrapped";
      const branches = wrapped ? (type as unknown as { types: avro.Type[] }).types : [type];
      const cleaners = new Map(branches.map((branch) => [branch.branchName ?? branch.name ?? "", avroCleaner(branch)]));
      const only = avroCleaner(type);
      return (bytes, offset, end) => {
        const decoded = type.fromBuffer(bytes.subarray(offset, end)) as Record<string, unknown>;
        if (!wrapped) return recordLine(only(decoded));
        for (const key in decoded) return recordLine((cleaners.get(key) ?? ((v: unknown) => v))(decoded[key]));
        return recordLine(decoded);
      };
    }
    case "PROTOBUF": {
      let root: protobuf.Root;
      try {
        root = protobuf.parse(schema.schema, { keepCase: true }).root;
        root.resolveAll();
      } catch (error) {
        throw new UnparsableSchema(schema, url, error);
      }
      const top = topLevelMessages(root);
      return (bytes, offset, end) => {
        const value = bytes.subarray(offset, end);
        const { path, next } = readMessageIndexes(value, 0);
        let messages = top;
        let message: protobuf.Type | undefined;
        for (const index of path) {
          message = messages[index];
          if (message === undefined) throw bad(`no message at index path [${path.join(", ")}]`);
          messages = message.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
        }
        const decoded = message!.toObject(message!.decode(value.subarray(next)), { longs: Number, enums: String, defaults: true, arrays: true });
        return recordLine(inFieldOrder(message!, decoded));
      };
    }
  }
}

/** protobufjs lists proto3 optional fields last, and absent ones as null: the schema's order, absent left out. */
function inFieldOrder(type: protobuf.Type, object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const inner = object[field.name];
    if (inner === undefined || inner === null) continue;
    const nested = field.resolvedType;
    if (nested instanceof protobuf.Type) {
      out[field.name] = Array.isArray(inner) ? inner.map((item) => inFieldOrder(nested, item as Record<string, unknown>)) : inFieldOrder(nested, inner as Record<string, unknown>);
    } else out[field.name] = inner;
  }
  return out;
}

type Clean = (value: unknown) => unknown;

/** Turns an avsc value into the writer's JSON, in place: a null in a field whose type is a union with null is an absent field. */
function avroCleaner(type: avro.Type): Clean {
  if (avro.Type.isType(type, "record")) {
    const fields = (type as avro.types.RecordType).fields.map((field) => {
      const union = avro.Type.isType(field.type, "union:unwrapped") ? (field.type as unknown as { types: avro.Type[] }).types : undefined;
      const nullable = union?.some((t) => t.typeName === "null") ?? false;
      const inner = union?.find((t) => t.typeName !== "null");
      return { name: field.name, nullable, clean: avroCleaner(nullable && union!.length === 2 && inner !== undefined ? inner : field.type) };
    });
    return (value) => {
      const record = value as Record<string, unknown>;
      for (const field of fields) {
        const inner = record[field.name];
        if (inner === null && field.nullable) record[field.name] = undefined;
        else if (inner !== null) record[field.name] = field.clean(inner);
      }
      return record;
    };
  }
  if (avro.Type.isType(type, "array")) {
    const items = avroCleaner((type as avro.types.ArrayType).itemsType);
    return (value) => (value as unknown[]).map((item) => (item === null ? null : items(item)));
  }
  if (avro.Type.isType(type, "union:unwrapped")) {
    const inner = (type as unknown as { types: avro.Type[] }).types.filter((t) => t.typeName !== "null");
    if (inner.length === 1) {
      const clean = avroCleaner(inner[0]!);
      return (value) => (value === null ? null : clean(value));
    }
  }
  return (value) => value;
}
