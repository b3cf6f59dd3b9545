/**
 * Protobuf for wfsim's events, with protobufjs (the maintained JavaScript Protobuf implementation: it
 * parses .proto text, which is what a Schema Registry holds, and generates encoders at run time). A
 * topic's schema is one .proto file with a message per event type it carries, in the event union's
 * order: the Confluent wire format names the message by that index. Field numbers follow the schema's
 * field order, so a new field goes last. `type` is an enum whose only value is 0: proto3 does not
 * write it, the reader's default gives it back. An optional field is proto3 `optional` (it has
 * presence: absent stays absent); an integer is int64.
 */
import protobuf from "protobufjs";
import type { WfEvent } from "../schema.ts";
import { pascalName, type EventShape, type ShapeField } from "./event-shapes.ts";

export const PROTO_PACKAGE = "wfsim";

function scalar(field: ShapeField): string {
  switch (field.kind) {
    case "integer":
      return "int64";
    case "boolean":
      return "bool";
    case "string":
      return "string";
    case "constant":
      return "Type";
    case "object":
      return pascalName(field.name);
  }
}

function messageText(name: string, fields: readonly ShapeField[], indent: string, description?: string): string {
  const lines: string[] = [];
  if (description !== undefined) lines.push(`${indent}// ${description}`);
  lines.push(`${indent}message ${name} {`);
  for (const field of fields) {
    if (field.kind === "constant") lines.push(`${indent}  enum Type { ${field.constant} = 0; }`);
    if (field.kind === "object") lines.push(messageText(pascalName(field.name), field.fields ?? [], `${indent}  `));
  }
  fields.forEach((field, index) => {
    if (field.description !== undefined) lines.push(`${indent}  // ${field.description}`);
    lines.push(`${indent}  ${field.optional ? "optional " : ""}${scalar(field)} ${field.name} = ${index + 1};`);
  });
  lines.push(`${indent}}`);
  return lines.join("\n");
}

/** The .proto text of a topic carrying these events: one message per event type, in this order. */
export function protoSchema(shapes: readonly EventShape[]): string {
  const messages = shapes.map((shape) => messageText(shape.name, shape.fields, "", shape.description));
  return `syntax = "proto3";\npackage ${PROTO_PACKAGE};\n\n${messages.join("\n\n")}\n`;
}

/** Writes events as the Protobuf message of their type; `indexOf` gives the message's index in the file. */
export class ProtobufEventEncoder {
  private readonly messages = new Map<string, { readonly index: number; readonly type: protobuf.Type }>();

  constructor(shapes: readonly EventShape[]) {
    const root = protobuf.parse(protoSchema(shapes), { keepCase: true }).root;
    shapes.forEach((shape, index) => {
      this.messages.set(shape.type, { index, type: root.lookupType(`${PROTO_PACKAGE}.${shape.name}`) });
    });
  }

  /** The message's index among the file's top-level messages (the Confluent wire format's message index). */
  indexOf(event: WfEvent): number {
    return this.message(event).index;
  }

  encode(event: WfEvent): Uint8Array {
    // `type` is the enum's value 0, which proto3 leaves out: the event's own string must not reach the writer.
    return this.message(event).type.encode({ ...event, type: 0 }).finish();
  }

  private message(event: WfEvent): { readonly index: number; readonly type: protobuf.Type } {
    const message = this.messages.get(event.type);
    if (message === undefined) throw new TypeError(`event type ${event.type} is not in this topic's Protobuf schema`);
    return message;
  }
}
