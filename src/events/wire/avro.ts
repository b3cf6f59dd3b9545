/**
 * Avro for wfsim's events, with avsc (the maintained pure-JavaScript Avro implementation: it compiles
 * a schema into specialised encoders, which keeps Avro near JSON's speed). A topic's schema is a union
 * of one record per event type it carries; its records come from the events' shapes (event-shapes.ts).
 * `type` is an enum of one symbol (one byte on the wire), an integer is a long, an optional field is
 * a union with null whose default is null (so a new optional field is a backward compatible change).
 */
import avro from "avsc";
import type { WfEvent } from "../schema.ts";
import type { EventShape, ShapeField } from "./event-shapes.ts";

const EMPTY = Buffer.alloc(0);

export const AVRO_NAMESPACE = "dev.wfsim";

type AvroSchema = string | readonly AvroSchema[] | { readonly [key: string]: unknown };

function fieldSchema(field: ShapeField, owner: string): AvroSchema {
  const doc = field.description === undefined ? {} : { doc: field.description };
  switch (field.kind) {
    case "constant":
      return { type: "enum", name: `${owner}Type`, symbols: [field.constant!], ...doc };
    case "integer":
      return "long";
    case "boolean":
      return "boolean";
    case "string":
      return "string";
    case "object": {
      const name = `${owner}${field.name.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase())}`;
      return { type: "record", name, fields: (field.fields ?? []).map((inner) => avroField(inner, name)), ...doc };
    }
  }
}

function avroField(field: ShapeField, owner: string): { readonly [key: string]: unknown } {
  const type = fieldSchema(field, owner);
  const doc = field.description === undefined ? {} : { doc: field.description };
  return field.optional ? { name: field.name, type: ["null", type], default: null, ...doc } : { name: field.name, type, ...doc };
}

export function avroRecord(shape: EventShape): { readonly [key: string]: unknown } {
  return {
    type: "record",
    name: shape.name,
    namespace: AVRO_NAMESPACE,
    ...(shape.description === undefined ? {} : { doc: shape.description }),
    fields: shape.fields.map((field) => avroField(field, shape.name)),
  };
}

/** The Avro schema of a topic carrying these events: a union of their records. */
export function avroSchema(shapes: readonly EventShape[]): AvroSchema {
  return shapes.map(avroRecord);
}

/**
 * Writes events of the given shapes as Avro binary of their topic's union: the branch index (a zigzag
 * varint; one byte for fewer than 64 branches), then the record. Each record is its own compiled avsc
 * type, so an event goes straight to its branch's encoder.
 */
export class AvroEventEncoder {
  private readonly branches = new Map<string, { readonly prefix: number; readonly type: avro.Type }>();

  /** False for a schema that is a single record (RecordNameStrategy): no branch index is written. */
  private readonly union: boolean;

  constructor(shapes: readonly EventShape[], { union = true }: { readonly union?: boolean } = {}) {
    if (!union && shapes.length !== 1) throw new Error("a schema that is not a union holds one record");
    this.union = union;
    if (shapes.length > 63) throw new Error("an Avro union of more than 63 records needs a longer branch index");
    shapes.forEach((shape, index) => {
      this.branches.set(shape.type, { prefix: index * 2, type: avro.Type.forSchema(avroRecord(shape) as avro.Schema, { wrapUnions: false }) });
    });
  }

  /** Where records are encoded before their exact size is known; grows when a record does not fit. */
  private scratch = Buffer.allocUnsafe(4096);

  /** The event's Avro bytes, after `header` (the wire format's, or nothing). */
  encode(event: WfEvent, header: Buffer = EMPTY): Buffer {
    const branch = this.branches.get(event.type);
    if (branch === undefined) throw new TypeError(`event type ${event.type} is not in this topic's Avro schema`);
    const start = header.length + (this.union ? 1 : 0);
    let end = branch.type.encode(event, this.scratch, start);
    // avsc returns a negative number when the buffer is too small (minus the size it needs).
    while (end < 0) {
      this.scratch = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, start - end + 64));
      end = branch.type.encode(event, this.scratch, start);
    }
    header.copy(this.scratch, 0);
    if (this.union) this.scratch[header.length] = branch.prefix;
    return Buffer.from(this.scratch.subarray(0, end));
  }
}
