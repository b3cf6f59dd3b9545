/**
 * The JSON Schema of a shaped output's records (`wfsim schema --scenario FILE`), derived from the
 * compiled shape: one definition per record type, its fields with their JSON types, required where
 * every moment of the record has a value for them.
 */
import type { EventType } from "../../events/schema.ts";
import { ANNOUNCING_VALUES, LABEL_VALUES, placeholderKnown } from "./lifecycle.ts";
import type { Placeholder, RecordType, Shape, ValueNode } from "./model.ts";
import { placeholdersOf } from "./template.ts";

type JsonSchema = Record<string, unknown>;

export function shapeJsonSchema(shape: Shape, source: string): JsonSchema {
  const $defs: Record<string, JsonSchema> = {};
  for (const record of shape.records) $defs[record.name] = recordSchema(record, shape);
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `records of ${source}`,
    description: `One record of ${source}'s output${shape.envelope === "cloudevents" ? " (CloudEvents 1.0, structured JSON)" : ""}: one of its record types.`,
    anyOf: shape.records.map((record) => ({ $ref: `#/$defs/${encodeURIComponent(record.name)}` })),
    $defs,
  };
}

export function recordSchema(record: RecordType, shape: Shape): JsonSchema {
  const events = [...new Set(record.moments.map((m) => m.event))];
  const moments = record.moments
    .map((m) => (m.step < 0 ? m.event : `${m.event} of ${shape.workflows[m.workflow]!.name}/${shape.workflows[m.workflow]!.steps[m.step]}`))
    .slice(0, 8);
  const more = record.moments.length > 8 ? `, … (${record.moments.length} moments)` : "";
  return {
    ...nodeSchema(record.value, events, shape),
    description: `Record ${record.name}, produced at ${moments.join(", ")}${more}.`,
  };
}

function known(placeholder: Placeholder, event: EventType, shape: Shape): boolean {
  if (placeholder.source === "attribute") return placeholderKnown({ source: "attribute", scope: shape.attributes[placeholder.index]!.scope }, event);
  return placeholderKnown(placeholder, event);
}

/**
 * Whether the node has a value at every one of the events (else its field is optional). The labels
 * ride only without a truth file, the announcing values only in a stream that is not blind: a field
 * that holds one is optional, whatever run wrote the records.
 */
export function always(node: ValueNode, events: readonly EventType[], shape: Shape): boolean {
  const placeholders = node.kind === "value" ? [node.placeholder] : node.kind === "text" ? placeholdersOf(node.template) : [];
  return placeholders.every((p) => events.every((event) => known(p, event, shape) && !(p.source === "lifecycle" && (LABEL_VALUES.includes(p.name) || ANNOUNCING_VALUES.includes(p.name)))));
}

function nodeSchema(node: ValueNode, events: readonly EventType[], shape: Shape): JsonSchema {
  switch (node.kind) {
    case "constant":
      return { const: node.value };
    case "value":
      return { type: node.type, description: describePlaceholder(node.placeholder, shape) };
    case "text":
      return { type: "string", description: `"${node.template.text}"` };
    case "list":
      return { type: "array", prefixItems: node.items.map((item) => nodeSchema(item, events, shape)), items: false };
    case "object": {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const field of node.fields) {
        properties[field.name] = nodeSchema(field.value, events, shape);
        if (field.value.kind === "object" || field.value.kind === "list" || field.value.kind === "constant" || always(field.value, events, shape)) required.push(field.name);
      }
      return { type: "object", properties, required, additionalProperties: false };
    }
  }
}

function describePlaceholder(placeholder: Placeholder, shape: Shape): string {
  const spec = placeholder.source === "lifecycle" && placeholder.time !== undefined ? `:${placeholder.time}` : placeholder.pad !== undefined ? `:0${placeholder.pad}` : "";
  if (placeholder.source === "attribute") return `{${placeholder.name}${spec}}: attribute, drawn per ${shape.attributes[placeholder.index]!.scope}`;
  return `{${placeholder.name}${spec}}`;
}
