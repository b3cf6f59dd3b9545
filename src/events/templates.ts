/**
 * Line templates: each event type's JSON line as constant text with holes for its fields, in the
 * order its schema lists them. Derived from the event schemas, so the serialisers (JavaScript here,
 * WebAssembly in the fast file sink) cannot drift from the definition of the events.
 */
import { WfEvent } from "./schema.ts";
import { FaultRecord } from "./truth.ts";

export type FieldKind = "integer" | "boolean" | "string" | "json";

export interface TemplateField {
  readonly name: string;
  readonly kind: FieldKind;
  readonly optional: boolean;
  /** Text written before the value: `,"ts_ms":` (the first field's includes the line's opening). */
  readonly prefix: string;
}

export interface LineTemplate {
  readonly type: string;
  /** `{"type":"step_open"` */
  readonly head: string;
  readonly fields: readonly TemplateField[];
}

interface JsonSchemaProperty {
  readonly type?: string;
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchemaProperty[];
}

interface JsonSchemaObject {
  readonly properties: Record<string, JsonSchemaProperty>;
  readonly required?: readonly string[];
}

function kindOf(type: string | undefined, eventType: string, name: string): FieldKind {
  switch (type) {
    case "integer":
      return "integer";
    case "boolean":
      return "boolean";
    case "string":
      return "string";
    case "object":
      return "json";
    default:
      throw new Error(`event ${eventType}: field ${name} has type ${type}, which line templates cannot write`);
  }
}

export function templateOf(schema: JsonSchemaObject): LineTemplate {
  const { type: typeSchema, ...rest } = schema.properties;
  const type = typeSchema?.const;
  if (typeof type !== "string") throw new Error("an event schema must start with a constant `type` field");
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(rest).map(([name, property]) => ({
    name,
    kind: kindOf(property.type, type, name),
    optional: !required.has(name),
    prefix: `,${JSON.stringify(name)}:`,
  }));
  return { type, head: `{"type":${JSON.stringify(type)}`, fields };
}

/** One template per event type, in the order the event union lists them. */
export const LINE_TEMPLATES: readonly LineTemplate[] = (WfEvent.anyOf as readonly JsonSchemaObject[]).map(templateOf);

/**
 * One template per delivery fault kind (a truth file's fault records), its `kind` first and then the
 * fields in the order FaultRecord lists them: what the truth sink writes them with (serializeFault
 * in truth.ts writes the same lines in JavaScript).
 */
export const FAULT_LINE_TEMPLATES: readonly LineTemplate[] = faultTemplates(FaultRecord as unknown as JsonSchemaObject);

function faultTemplates(schema: JsonSchemaObject): LineTemplate[] {
  const { kind, ...rest } = schema.properties;
  const required = new Set(schema.required ?? []);
  // A union of string constants (`as`) is written as a string.
  const typeOf = (property: JsonSchemaProperty) => property.type ?? (property.anyOf?.every((p) => p.type === "string") ? "string" : undefined);
  const fields = Object.entries(rest).map(([name, property]) => ({
    name,
    kind: kindOf(typeOf(property), "fault record", name),
    optional: !required.has(name),
    prefix: `,${JSON.stringify(name)}:`,
  }));
  return (kind?.anyOf ?? []).map((k) => ({ type: String(k.const), head: `{"kind":${JSON.stringify(k.const)}`, fields }));
}
