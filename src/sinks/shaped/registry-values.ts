/**
 * A shaped output's record values in a Schema Registry's wire format. The schemas come from the shape
 * (config/shape/wire-schema.ts), from the latest version of each subject (`--schema-registry-use-latest`)
 * or from the user's own file (`--value-schema`); whichever it is, each record type is located in it by
 * name and checked to hold the record before anything is sent: every field the schema requires is one
 * the shape always gives, every field the shape gives has a place of a type that holds its value.
 *
 * A record is written from its JSON text (the same compiled serializer as the JSON Lines), parsed and
 * encoded with the located Avro record or Protobuf message; JSON Schema's payload is the text itself.
 */
import avro from "avsc";
import protobuf from "protobufjs";
import type { RecordType, Shape } from "../../config/shape/model.ts";
import {
  shapedAvroRecord,
  shapedAvroSchema,
  shapedProtoFile,
  shapedProtoMessage,
  shapedTopicJsonSchema,
  SHAPED_AVRO_NAMESPACE,
  SHAPED_PROTO_PACKAGE,
} from "../../config/shape/wire-schema.ts";
import { always } from "../../config/shape/json-schema.ts";
import { WfsimError } from "../../errors.ts";
import { SCHEMA_TYPES, valueSubjectOf, type RegistryFormat, type SchemaType, type SubjectStrategy } from "../../events/wire/formats.ts";
import { topLevelMessages } from "../../events/wire/proto-messages.ts";
import type { SchemaRegistryClient } from "../../kafka/registry/client.ts";
import { messageIndexBytes, wireHeader } from "../../kafka/registry/wire-format.ts";
import type { ShapedPlans } from "./plans.ts";

/** Which schema the values are written with. */
export type SchemaSource =
  | { readonly kind: "derived" }
  | { readonly kind: "latest" }
  | { readonly kind: "file"; readonly path: string; readonly text: string };

/** One schema to register (or look up): a subject and the record types written with it. */
export interface SchemaUnit {
  readonly topic: string;
  readonly subject: string;
  readonly records: readonly RecordType[];
}

export interface RegisteredUnit extends SchemaUnit {
  readonly schemaId: number;
}

/** A record's full name in a format: its subject under RecordNameStrategy. */
export function shapedFullName(format: RegistryFormat, record: RecordType): string {
  return `${format === "protobuf" ? SHAPED_PROTO_PACKAGE : SHAPED_AVRO_NAMESPACE}.${record.name}`;
}

/** The schemas a run registers: per topic, or per (topic,) record type under the record strategies. */
export function shapedSchemaUnits(plans: ShapedPlans, format: RegistryFormat, strategy: SubjectStrategy): SchemaUnit[] {
  const byTopic = new Map<string, RecordType[]>();
  for (const plan of plans.plans) {
    const records = byTopic.get(plan.topic) ?? [];
    if (!records.includes(plan.emission.record)) records.push(plan.emission.record);
    byTopic.set(plan.topic, records);
  }
  const units: SchemaUnit[] = [];
  for (const [topic, records] of byTopic) {
    records.sort((a, b) => a.index - b.index);
    if (strategy === "topic") units.push({ topic, subject: valueSubjectOf("topic", topic, ""), records });
    else for (const record of records) units.push({ topic, subject: valueSubjectOf(strategy, topic, shapedFullName(format, record)), records: [record] });
  }
  return units;
}

/** The schema text wfsim derives for a unit. */
export function derivedSchemaText(format: RegistryFormat, unit: SchemaUnit, shape: Shape): string {
  switch (format) {
    case "avro":
      return JSON.stringify(shapedAvroSchema(unit.records, shape));
    case "protobuf":
      return shapedProtoFile(unit.records, shape);
    case "json-schema":
      return JSON.stringify(shapedTopicJsonSchema(unit.records, shape, unit.records.length === 1 ? shapedFullName(format, unit.records[0]!) : `records on ${unit.topic}`));
  }
}

/** Writes one record type's JSON text as a wire-format value. */
type RecordWriter = (json: string) => Buffer;

function cannotHold(where: string, record: RecordType, why: string): WfsimError {
  return new WfsimError("REGISTRY_SCHEMA", `${where} cannot hold ${record.path}: ${why}`);
}

function avroWriters(text: string, id: number, records: readonly RecordType[], shape: Shape, where: string): RecordWriter[] {
  let type: avro.Type;
  try {
    // avsc's default: a union of records is wrapped (one branch per record type), a union with null is not.
    type = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
  } catch (error) {
    throw new WfsimError("REGISTRY_SCHEMA", `${where} is not an Avro schema: ${error instanceof Error ? error.message : String(error)}`);
  }
  const branches = type.typeName === "union:wrapped" ? (type as unknown as { types: avro.Type[] }).types : [type];
  const header = wireHeader(id);
  return records.map((record) => {
    let index = branches.findIndex((branch) => branch.name === `${SHAPED_AVRO_NAMESPACE}.${record.name}`);
    if (index < 0) index = branches.findIndex((branch) => branch.name?.split(".").at(-1) === record.name);
    if (index < 0 && branches.length === 1 && records.length === 1) index = 0;
    if (index < 0) throw cannotHold(where, record, `it has no record named ${record.name}`);
    const target = branches[index]!;
    if (!avro.Type.isType(target, "record")) throw cannotHold(where, record, `its ${target.name ?? target.typeName} is not a record`);
    const ours = avro.Type.forSchema(shapedAvroRecord(record, shape) as avro.Schema);
    checkAvroFits(ours, target, record, where, "");
    try {
      target.createResolver(ours);
    } catch (error) {
      throw cannotHold(where, record, error instanceof Error ? error.message.split("\n")[0]! : String(error));
    }
    const prefix = branches.length > 1 ? Buffer.from([index * 2]) : Buffer.alloc(0);
    const start = header.length + prefix.length;
    let scratch = Buffer.allocUnsafe(4096);
    return (json) => {
      const value = JSON.parse(json) as unknown;
      let end = target.encode(value, scratch, start);
      while (end < 0) {
        scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, start - end + 64));
        end = target.encode(value, scratch, start);
      }
      header.copy(scratch, 0);
      prefix.copy(scratch, header.length);
      return Buffer.from(scratch.subarray(0, end));
    };
  });
}

/** Every field of ours has a place in the target (the resolver checks the rest: types, required fields). */
function checkAvroFits(ours: avro.Type, target: avro.Type, record: RecordType, where: string, path: string): void {
  const unwrapNull = (type: avro.Type): avro.Type => {
    if (!avro.Type.isType(type, "union")) return type;
    const types = (type as unknown as { types: avro.Type[] }).types.filter((t) => t.typeName !== "null");
    return types.length === 1 ? types[0]! : type;
  };
  const a = unwrapNull(ours);
  const b = unwrapNull(target);
  if (avro.Type.isType(a, "record") && avro.Type.isType(b, "record")) {
    const theirs = new Map((b as avro.types.RecordType).fields.map((field) => [field.name, field]));
    for (const field of (a as avro.types.RecordType).fields) {
      const place = theirs.get(field.name);
      const at = path === "" ? field.name : `${path}.${field.name}`;
      if (place === undefined) throw cannotHold(where, record, `it has no field ${at}`);
      if (avro.Type.isType(unwrapNull(field.type), "record") && avro.Type.isType(unwrapNull(place.type), "record")) {
        checkAvroFits(field.type, place.type, record, where, at);
        continue;
      }
      // Resolved field by field, so that the line names the field (the record's resolver does not).
      try {
        place.type.createResolver(field.type);
      } catch (error) {
        const why = error instanceof Error ? error.message.split("\n")[0]! : String(error);
        throw cannotHold(where, record, `its field ${at} is ${JSON.stringify(place.type.schema())}, which cannot hold the shape's ${JSON.stringify(field.type.schema())} (${why})`);
      }
    }
  }
}

function protobufWriters(text: string, id: number, records: readonly RecordType[], shape: Shape, where: string): RecordWriter[] {
  let root: protobuf.Root;
  try {
    root = protobuf.parse(text, { keepCase: true }).root;
  } catch (error) {
    throw new WfsimError("REGISTRY_SCHEMA", `${where} is not a .proto file: ${error instanceof Error ? error.message : String(error)}`);
  }
  const messages = topLevelMessages(root);
  return records.map((record) => {
    let index = messages.findIndex((message) => message.name === record.name);
    if (index < 0 && messages.length === 1 && records.length === 1) index = 0;
    if (index < 0) throw cannotHold(where, record, `it has no message named ${record.name}`);
    const target = messages[index]!;
    const ours = protobuf.parse(`syntax = "proto3";\n${shapedProtoMessage(record, shape)}`, { keepCase: true }).root.lookupType(record.name);
    checkProtoFits(ours, target, (why) => cannotHold(where, record, why));
    const header = wireHeader(id, messageIndexBytes([index]));
    return (json) => {
      const message = target.encode(JSON.parse(json) as Record<string, unknown>).finish();
      const out = Buffer.allocUnsafe(header.length + message.length);
      header.copy(out, 0);
      out.set(message, header.length);
      return out;
    };
  });
}

/** Protobuf scalar types that hold a value of ours, by our type. */
const PROTO_HOLDS: Record<string, readonly string[]> = {
  int64: ["int64", "sint64", "sfixed64", "double"],
  double: ["double"],
  string: ["string"],
  bool: ["bool"],
};

/**
 * Every field of `ours` has a place in `target`, by name (field numbers may differ: values are encoded
 * with the target's), of a type that holds it, down nested messages; an enum of ours needs an enum with
 * all its value names. Shared with wfsim's own events under --schema-registry-use-latest.
 */
export function checkProtoFits(ours: protobuf.Type, target: protobuf.Type, refuse: (why: string) => Error, path = ""): void {
  ours.resolveAll();
  target.resolveAll();
  for (const field of ours.fieldsArray) {
    const at = path === "" ? field.name : `${path}.${field.name}`;
    const place = target.fields[field.name];
    if (place === undefined) throw refuse(`it has no field ${at}`);
    if (field.repeated !== place.repeated) throw refuse(`its field ${at} is ${place.repeated ? "" : "not "}repeated`);
    if (field.resolvedType instanceof protobuf.Type) {
      if (!(place.resolvedType instanceof protobuf.Type)) throw refuse(`its field ${at} is ${place.type}, not a message`);
      checkProtoFits(field.resolvedType, place.resolvedType, refuse, at);
    } else if (field.resolvedType instanceof protobuf.Enum) {
      if (!(place.resolvedType instanceof protobuf.Enum)) throw refuse(`its field ${at} is ${place.type}, not an enum`);
      const theirs = place.resolvedType.values;
      const missing = Object.keys(field.resolvedType.values).find((name) => theirs[name] === undefined);
      if (missing !== undefined) throw refuse(`its field ${at}'s enum ${place.type} has no value ${missing}`);
    } else if (!(PROTO_HOLDS[field.type] ?? [field.type]).includes(place.type)) {
      throw refuse(`its field ${at} is ${place.type}, which does not hold ${field.type}`);
    }
  }
}

interface JsonNode {
  readonly type?: string | readonly string[];
  readonly properties?: Record<string, JsonNode>;
  readonly required?: readonly string[];
  readonly additionalProperties?: unknown;
  readonly $ref?: string;
  readonly anyOf?: readonly JsonNode[];
  readonly oneOf?: readonly JsonNode[];
  readonly title?: string;
}

/** JSON Schema: the record's schema (by $defs name, or the whole when alone) requires only what the shape always gives, and has room for what it gives. */
function jsonWriters(text: string, id: number, records: readonly RecordType[], shape: Shape, where: string): RecordWriter[] {
  let schema: JsonNode & { readonly $defs?: Record<string, JsonNode>; readonly definitions?: Record<string, JsonNode> };
  try {
    schema = JSON.parse(text) as typeof schema;
  } catch (error) {
    throw new WfsimError("REGISTRY_SCHEMA", `${where} is not a JSON Schema: ${error instanceof Error ? error.message : String(error)}`);
  }
  const defs = schema.$defs ?? schema.definitions ?? {};
  const header = wireHeader(id);
  return records.map((record) => {
    const target = defs[record.name] ?? (records.length === 1 && schema.properties !== undefined ? schema : undefined);
    if (target !== undefined) checkJsonFits(record, target, shape, where);
    return (json) => {
      const bytes = Buffer.byteLength(json, "utf8");
      const out = Buffer.allocUnsafe(header.length + bytes);
      header.copy(out, 0);
      out.write(json, header.length, bytes, "utf8");
      return out;
    };
  });
}

/** JSON Schema types that hold a value of ours, by our type. */
export const JSON_HOLDS: Record<string, readonly string[]> = { integer: ["integer", "number"], number: ["number"], string: ["string"], boolean: ["boolean"], object: ["object"], array: ["array"] };

function checkJsonFits(record: RecordType, target: JsonNode, shape: Shape, where: string): void {
  const events = [...new Set(record.moments.map((m) => m.event))];
  const visit = (fields: RecordType["value"]["fields"], node: JsonNode, path: string) => {
    const given = new Map(fields.map((field) => [field.name, field.value]));
    for (const name of node.required ?? []) {
      const value = given.get(name);
      const at = path === "" ? name : `${path}.${name}`;
      if (value === undefined) throw cannotHold(where, record, `it requires field ${at}, which the shape does not give`);
      if ((value.kind === "value" || value.kind === "text") && !always(value, events, shape)) {
        throw cannotHold(where, record, `it requires field ${at}, which the shape leaves out at some of its moments`);
      }
    }
    for (const [name, value] of given) {
      const at = path === "" ? name : `${path}.${name}`;
      const place = node.properties?.[name];
      if (place === undefined) {
        if (node.additionalProperties === false) throw cannotHold(where, record, `it has no field ${at} and allows no other`);
        continue;
      }
      const ourType =
        value.kind === "object" ? "object" : value.kind === "list" ? "array" : value.kind === "text" ? "string" : value.kind === "value" ? value.type : value.value === null ? "null" : typeof value.value === "number" ? (Number.isInteger(value.value) ? "integer" : "number") : typeof value.value;
      const theirs = place.type === undefined ? undefined : Array.isArray(place.type) ? (place.type as string[]) : [place.type as string];
      if (theirs !== undefined && !theirs.some((t) => (JSON_HOLDS[ourType] ?? [ourType]).includes(t))) {
        throw cannotHold(where, record, `its field ${at} is ${theirs.join(" or ")}, which does not hold the shape's ${ourType}`);
      }
      if (value.kind === "object") visit(value.fields, place, at);
    }
  };
  visit(record.value.fields, target, "");
}

function writersOf(format: RegistryFormat, text: string, id: number, records: readonly RecordType[], shape: Shape, where: string): RecordWriter[] {
  switch (format) {
    case "avro":
      return avroWriters(text, id, records, shape, where);
    case "protobuf":
      return protobufWriters(text, id, records, shape, where);
    case "json-schema":
      return jsonWriters(text, id, records, shape, where);
  }
}

/** The wire-format value of each emission's records, by the emission's index in the plans. */
export class ShapedValueEncoder {
  private readonly writers: readonly RecordWriter[];

  constructor(writers: readonly RecordWriter[]) {
    this.writers = writers;
  }

  encode(emissionIndex: number, json: string): Buffer {
    return this.writers[emissionIndex]!(json);
  }
}

/**
 * Checks a user's schema file against the records before anything is registered (`--value-schema`):
 * every unit's records must fit it. Throws the one-line refusal.
 */
export function checkValueSchema(format: RegistryFormat, source: SchemaSource & { kind: "file" }, plans: ShapedPlans, strategy: SubjectStrategy): void {
  for (const unit of shapedSchemaUnits(plans, format, strategy)) writersOf(format, source.text, 0, unit.records, plans.shaper.shape, `--value-schema ${source.path}`);
}

/**
 * Registers (or looks up) the schema of every unit and returns the encoder of the records' values.
 * Registry failures are WfsimErrors (REGISTRY_CONNECT, REGISTRY_AUTH, REGISTRY_SCHEMA).
 */
export async function registerShapedSchemas(
  format: RegistryFormat,
  strategy: SubjectStrategy,
  source: SchemaSource,
  client: SchemaRegistryClient,
  plans: ShapedPlans,
): Promise<{ readonly encoder: ShapedValueEncoder; readonly units: readonly RegisteredUnit[] }> {
  const shape = plans.shaper.shape;
  const schemaType: SchemaType = SCHEMA_TYPES[format];
  const units: RegisteredUnit[] = [];
  const byUnit = new Map<string, RecordWriter>();
  for (const unit of shapedSchemaUnits(plans, format, strategy)) {
    let id: number;
    let text: string;
    let where: string;
    if (source.kind === "latest") {
      const latest = await client.latest(unit.subject);
      if (latest.schemaType !== schemaType) {
        throw new WfsimError("REGISTRY_SCHEMA", `subject ${unit.subject}'s latest version (id ${latest.id}) at ${client.url} is ${latest.schemaType}, not ${schemaType} (--format ${format})`);
      }
      ({ id, schema: text } = latest);
      where = `subject ${unit.subject}'s latest version (id ${id}) at ${client.url}`;
    } else {
      text = source.kind === "file" ? source.text : derivedSchemaText(format, unit, shape);
      where = source.kind === "file" ? `--value-schema ${source.path}` : `the schema derived for subject ${unit.subject}`;
      id = await client.register(unit.subject, schemaType, text);
    }
    const writers = writersOf(format, text, id, unit.records, shape, where);
    unit.records.forEach((record, i) => byUnit.set(`${unit.topic}\u0000${record.index}`, writers[i]!));
    units.push({ ...unit, schemaId: id });
  }
  const writers = plans.plans.map((plan) => byUnit.get(`${plan.topic}\u0000${plan.emission.record.index}`)!);
  return { encoder: new ShapedValueEncoder(writers), units };
}
