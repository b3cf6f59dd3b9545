/**
 * The Avro, Protobuf and JSON Schema of a shaped output's records, for `--format avro|protobuf|
 * json-schema` with a Schema Registry: derived from the compiled shape, the same place as `wfsim
 * schema --scenario`'s JSON Schema (json-schema.ts), so the three formats and the JSON Lines agree on
 * every field, its type and whether it may be absent.
 *
 * A record type is an Avro record (named after it, in namespace dev.wfsim.records) or a Protobuf
 * message (package wfsim.records); a topic carrying several record types has a union of the records
 * (Avro), a file with one message per record type (Protobuf), an anyOf of their schemas (JSON
 * Schema). A field unknown at some moment of its record is optional: a union with null whose default
 * is null (Avro), proto3 `optional` (Protobuf), absent from `required` (JSON Schema). A list item
 * unknown at a moment is null in the JSON, so a nullable item in Avro; Protobuf's repeated fields hold
 * no null, and hold one type only: such lists, and a constant null, are refused in Protobuf with the
 * place they come from. Values: string, integer (Avro long, Protobuf int64), number (double),
 * boolean.
 */
import { WfsimError } from "../../errors.ts";
import type { EventType } from "../../events/schema.ts";
import { always, recordSchema } from "./json-schema.ts";
import type { RecordType, Shape, ValueNode, ValueType } from "./model.ts";

export const SHAPED_AVRO_NAMESPACE = "dev.wfsim.records";
export const SHAPED_PROTO_PACKAGE = "wfsim.records";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Avro = string | readonly Avro[] | { readonly [key: string]: unknown };

function pascal(name: string): string {
  return name.replace(/(^|[_\W])([A-Za-z0-9])/g, (_, __, c: string) => c.toUpperCase()).replace(/\W/g, "");
}

function unmappable(where: string, format: string, why: string): WfsimError {
  return new WfsimError("INVALID_OPTION", `${where}: ${why}, which ${format} cannot hold (--format json-schema can)`);
}

function eventsOf(record: RecordType): EventType[] {
  return [...new Set(record.moments.map((m) => m.event))];
}

function checkName(name: string, where: string, format: string): void {
  if (!NAME.test(name)) throw unmappable(`${where}`, format, `the name ${JSON.stringify(name)} is not a letter or _ followed by letters, digits and _`);
}

const AVRO_SCALARS: Record<ValueType, string> = { string: "string", integer: "long", number: "double", boolean: "boolean" };
const PROTO_SCALARS: Record<ValueType, string> = { string: "string", integer: "int64", number: "double", boolean: "bool" };

function constantType(value: string | number | boolean | null): ValueType | "null" {
  if (value === null) return "null";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value as "string" | "boolean";
}

class AvroDeriver {
  private readonly shape: Shape;
  private readonly events: readonly EventType[];

  constructor(shape: Shape, events: readonly EventType[]) {
    this.shape = shape;
    this.events = events;
  }

  node(node: ValueNode, name: string, where: string): Avro {
    switch (node.kind) {
      case "constant": {
        const type = constantType(node.value);
        return type === "null" ? "null" : AVRO_SCALARS[type];
      }
      case "value":
        return AVRO_SCALARS[node.type];
      case "text":
        return "string";
      case "object":
        return {
          type: "record",
          name,
          fields: node.fields.map((field) => {
            checkName(field.name, `${where}.${field.name}`, "Avro");
            const type = this.node(field.value, `${name}${pascal(field.name)}`, `${where}.${field.name}`);
            return this.optional(field.value) ? { name: field.name, type: ["null", type], default: null } : { name: field.name, type };
          }),
        };
      case "list": {
        const items = node.items.map((item, i) => {
          const type = this.node(item, `${name}Item`, `${where}[${i}]`);
          return this.optional(item) ? ["null", type] : type;
        });
        const texts = new Set(items.map((item) => JSON.stringify(item)));
        if (texts.size > 1) throw unmappable(where, "Avro", "a list whose items differ in type");
        return { type: "array", items: items[0] ?? "null" };
      }
    }
  }

  optional(node: ValueNode): boolean {
    return (node.kind === "value" || node.kind === "text") && !always(node, this.events, this.shape);
  }
}

/** The Avro record of one record type. */
export function shapedAvroRecord(record: RecordType, shape: Shape): { readonly [key: string]: unknown } {
  checkName(record.name, record.path, "Avro");
  const schema = new AvroDeriver(shape, eventsOf(record)).node(record.value, record.name, record.path) as Record<string, unknown>;
  return { ...schema, namespace: SHAPED_AVRO_NAMESPACE };
}

class ProtoDeriver {
  private readonly shape: Shape;
  private readonly events: readonly EventType[];

  constructor(shape: Shape, events: readonly EventType[]) {
    this.shape = shape;
    this.events = events;
  }

  /** The message's text, its nested messages first. */
  message(node: ValueNode & { kind: "object" }, name: string, where: string, indent: string): string {
    const nested: string[] = [];
    const fields: string[] = [];
    node.fields.forEach((field, index) => {
      const at = `${where}.${field.name}`;
      checkName(field.name, at, "Protobuf");
      let value = field.value;
      let repeated = false;
      if (value.kind === "list") {
        const items = value.items;
        if (items.some((item) => this.optional(item))) throw unmappable(at, "Protobuf", "a list with an item unknown at some moment (null in the JSON)");
        if (items.some((item) => item.kind === "list")) throw unmappable(at, "Protobuf", "a list of lists");
        const types = new Set(items.map((item) => this.scalar(item, "Item", at)));
        if (types.size > 1) throw unmappable(at, "Protobuf", "a list whose items differ in type");
        if (items.length === 0) throw unmappable(at, "Protobuf", "an empty list, whose item type is not known");
        if (items.some((item) => item.kind === "object")) {
          const texts = new Set(items.map((item) => this.message(item as ValueNode & { kind: "object" }, `${pascal(field.name)}Item`, at, `${indent}  `)));
          if (texts.size > 1) throw unmappable(at, "Protobuf", "a list whose items differ in type");
          nested.push(...texts);
        }
        value = items[0]!;
        repeated = true;
      }
      const type = this.scalar(value, repeated ? `${pascal(field.name)}Item` : pascal(field.name), at);
      if (value.kind === "object" && !repeated) nested.push(this.message(value, pascal(field.name), at, `${indent}  `));
      const label = repeated ? "repeated " : this.optional(value) ? "optional " : "";
      fields.push(`${indent}  ${label}${type} ${field.name} = ${index + 1};`);
    });
    return [`${indent}message ${name} {`, ...nested, ...fields, `${indent}}`].join("\n");
  }

  private scalar(node: ValueNode, messageName: string, where: string): string {
    switch (node.kind) {
      case "constant": {
        const type = constantType(node.value);
        if (type === "null") throw unmappable(where, "Protobuf", "a constant null");
        return PROTO_SCALARS[type];
      }
      case "value":
        return PROTO_SCALARS[node.type];
      case "text":
        return "string";
      case "object":
        return messageName;
      case "list":
        throw unmappable(where, "Protobuf", "a list of lists");
    }
  }

  optional(node: ValueNode): boolean {
    return (node.kind === "value" || node.kind === "text") && !always(node, this.events, this.shape);
  }
}

/** The Protobuf message of one record type (top level, in package wfsim.records). */
export function shapedProtoMessage(record: RecordType, shape: Shape): string {
  checkName(record.name, record.path, "Protobuf");
  return new ProtoDeriver(shape, eventsOf(record)).message(record.value, record.name, record.path, "");
}

/** A .proto file with these record types' messages, in this order (the wire format's message indexes). */
export function shapedProtoFile(records: readonly RecordType[], shape: Shape): string {
  return `syntax = "proto3";\npackage ${SHAPED_PROTO_PACKAGE};\n\n${records.map((record) => shapedProtoMessage(record, shape)).join("\n\n")}\n`;
}

/** The Avro schema of a topic carrying these record types: the record itself, or a union of them. */
export function shapedAvroSchema(records: readonly RecordType[], shape: Shape): Avro {
  if (records.length > 63) throw new WfsimError("INVALID_OPTION", "a topic with more than 63 record types has no one-byte Avro union branch: split the topics");
  return records.length === 1 ? shapedAvroRecord(records[0]!, shape) : records.map((record) => shapedAvroRecord(record, shape));
}

/** The JSON Schema (draft 2020-12) of a topic carrying these record types. */
export function shapedTopicJsonSchema(records: readonly RecordType[], shape: Shape, title: string): object {
  const $defs: Record<string, object> = {};
  for (const record of records) $defs[record.name] = recordSchema(record, shape);
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title,
    ...(records.length === 1 ? { $ref: `#/$defs/${encodeURIComponent(records[0]!.name)}` } : { anyOf: records.map((record) => ({ $ref: `#/$defs/${encodeURIComponent(record.name)}` })) }),
    $defs,
  };
}

/** A record type's full name (Avro namespace and name): the subject under RecordNameStrategy. */
export function shapedRecordFullName(record: RecordType): string {
  return `${SHAPED_AVRO_NAMESPACE}.${record.name}`;
}
