/**
 * The events' shapes as the binary formats need them: each event type's fields in schema order, with
 * a kind each format can map (a constant, an integer, a boolean, a string, a nested object) and
 * whether it may be absent. Read off the JSON Schema that schema.ts derives from its TypeBox
 * declarations, so Avro, Protobuf and JSON Schema come from the one definition of the events and
 * cannot drift from it.
 */
import { EVENT_TYPES, WfEvent, type EventType } from "../schema.ts";

export type ShapeKind = "constant" | "integer" | "boolean" | "string" | "object";

export interface ShapeField {
  readonly name: string;
  readonly kind: ShapeKind;
  readonly optional: boolean;
  readonly description?: string;
  /** kind "constant": the value (the event's `type`). */
  readonly constant?: string;
  /** kind "object": its fields. */
  readonly fields?: readonly ShapeField[];
}

export interface EventShape {
  readonly type: EventType;
  /** `TransactionOpen` for transaction_open: the record or message name in Avro and Protobuf. */
  readonly name: string;
  readonly description?: string;
  readonly fields: readonly ShapeField[];
  /** The event's own JSON Schema, as schema.ts defines it. */
  readonly jsonSchema: object;
}

interface JsonSchemaNode {
  readonly type?: string;
  readonly const?: unknown;
  readonly description?: string;
  readonly properties?: Record<string, JsonSchemaNode>;
  readonly required?: readonly string[];
}

function fieldsOf(node: JsonSchemaNode, where: string): ShapeField[] {
  const required = new Set(node.required ?? []);
  return Object.entries(node.properties ?? {}).map(([name, property]) => fieldOf(name, property, !required.has(name), `${where}.${name}`));
}

function fieldOf(name: string, node: JsonSchemaNode, optional: boolean, where: string): ShapeField {
  const common = { name, optional, ...(node.description === undefined ? {} : { description: node.description }) };
  if (typeof node.const === "string") return { ...common, kind: "constant", constant: node.const };
  switch (node.type) {
    case "integer":
    case "boolean":
    case "string":
      return { ...common, kind: node.type };
    case "object":
      return { ...common, kind: "object", fields: fieldsOf(node, where) };
    default:
      throw new Error(`${where} has JSON type ${String(node.type)}, which the binary formats do not map`);
  }
}

/** transaction_open -> TransactionOpen */
export function pascalName(snake: string): string {
  return snake.replace(/(^|_)([a-z0-9])/g, (_, __, letter: string) => letter.toUpperCase());
}

function shapeOf(node: JsonSchemaNode): EventShape {
  const type = node.properties?.["type"]?.const;
  if (typeof type !== "string" || !(EVENT_TYPES as readonly string[]).includes(type)) {
    throw new Error("an event schema must start with a constant `type` field naming an event type");
  }
  return {
    type: type as EventType,
    name: pascalName(type),
    ...(node.description === undefined ? {} : { description: node.description }),
    fields: fieldsOf(node, type),
    jsonSchema: node,
  };
}

/** One shape per event type, in the order the event union lists them. */
export const EVENT_SHAPES: readonly EventShape[] = (WfEvent.anyOf as readonly JsonSchemaNode[]).map(shapeOf);

const BY_TYPE = new Map<EventType, EventShape>(EVENT_SHAPES.map((shape) => [shape.type, shape]));

export function shapeOfType(type: EventType): EventShape {
  const shape = BY_TYPE.get(type);
  if (shape === undefined) throw new Error(`no shape for event type ${type}`);
  return shape;
}
