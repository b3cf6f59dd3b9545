import type { WfEvent } from "./schema.ts";
import { LINE_TEMPLATES, type LineTemplate } from "./templates.ts";

const BY_TYPE = new Map<string, LineTemplate>(LINE_TEMPLATES.map((template) => [template.type, template]));

/**
 * One event as one JSON line, newline included: what JSON.stringify writes for an event built in
 * schema order, with fields in the order the schema lists them. Unknown fields are left out.
 */
export function serializeEvent(event: WfEvent): string {
  const template = BY_TYPE.get(event.type);
  if (template === undefined) throw new TypeError(`unknown event type ${JSON.stringify(event.type)}`);
  const record = event as unknown as Record<string, unknown>;
  let line = template.head;
  for (const field of template.fields) {
    const value = record[field.name];
    // null as absent: a decoder's (Avro, Protobuf) way of saying an optional field was not written.
    if (value === undefined || value === null) {
      if (field.optional) continue;
      throw new TypeError(`${event.type} event lacks its ${field.name} field`);
    }
    line += field.prefix + (field.kind === "integer" || field.kind === "boolean" ? String(value) : JSON.stringify(value));
  }
  return `${line}}\n`;
}
