/**
 * What the analyzer knows about events, read from the one definition in `events/schema.ts`: each
 * type's fields with their JSON types and bounds. The strict validator (for lines the fast scanner
 * leaves alone) and the fast scanner's layouts both come from here, so neither can drift from the
 * schema.
 *
 * Unlike the schema, the analyzer tolerates fields it does not know (a later wfsim, or a pipeline that
 * enriched the events): they are counted, not rejected.
 */
import { EVENT_TYPES, WfEvent } from "../../events/schema.ts";

export type FieldType = "integer" | "boolean" | "string" | "object";

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly required: boolean;
  /** Smallest integer allowed. */
  readonly minimum?: number;
  readonly minLength?: number;
  /** An object's own fields. */
  readonly fields?: readonly FieldSpec[];
  /** Index in the register file the value is delivered in (top-level integers and booleans only). */
  readonly register: number;
  /** Index of the text register a string is delivered in (top-level strings in TEXT_FIELDS only), else -1. */
  readonly text: number;
}

export interface EventSpec {
  /** Index in EVENT_TYPES: the type code the scanner hands over. */
  readonly code: number;
  readonly type: string;
  /** In the order the schema lists them, which is the order wfsim writes them. */
  readonly fields: readonly FieldSpec[];
}

interface JsonSchema {
  readonly type?: string;
  readonly const?: unknown;
  readonly minimum?: number;
  readonly minLength?: number;
  readonly properties?: Record<string, JsonSchema>;
  readonly required?: readonly string[];
}

/**
 * Numeric and boolean fields are delivered in a Float64Array, one slot per field name across all
 * event types, so that reading an event allocates nothing.
 */
const registers = new Map<string, number>();

/** The strings the analysis reads (the rest are only validated): where each is, by name. */
const TEXT_FIELDS = ["workflow"] as const;

function fieldsOf(schema: JsonSchema, topLevel: boolean): FieldSpec[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {})
    .filter(([name]) => !(topLevel && name === "type"))
    .map(([name, property]) => {
      const type = property.type;
      if (type !== "integer" && type !== "boolean" && type !== "string" && type !== "object") {
        throw new Error(`analyzer: field ${name} has type ${type}, which it cannot read`);
      }
      let register = -1;
      if (topLevel && (type === "integer" || type === "boolean")) {
        register = registers.get(name) ?? registers.size;
        registers.set(name, register);
      }
      return {
        name,
        type,
        required: required.has(name),
        ...(property.minimum !== undefined ? { minimum: property.minimum } : {}),
        ...(property.minLength !== undefined ? { minLength: property.minLength } : {}),
        ...(type === "object" ? { fields: fieldsOf(property, false) } : {}),
        register,
        text: topLevel && type === "string" ? (TEXT_FIELDS as readonly string[]).indexOf(name) : -1,
      };
    });
}

export const EVENT_SPECS: readonly EventSpec[] = (WfEvent.anyOf as readonly JsonSchema[]).map((schema) => {
  const type = schema.properties?.type?.const;
  if (typeof type !== "string") throw new Error("analyzer: an event schema must start with a constant type");
  const code = (EVENT_TYPES as readonly string[]).indexOf(type);
  if (code < 0) throw new Error(`analyzer: event type ${type} is missing from EVENT_TYPES`);
  return { code, type, fields: fieldsOf(schema, true) };
});

export const SPEC_BY_TYPE = new Map(EVENT_SPECS.map((spec) => [spec.type, spec]));

function register(name: string): number {
  const index = registers.get(name);
  if (index === undefined) throw new Error(`analyzer: no event has a numeric field ${name}`);
  return index;
}

/** Register indices of the fields the analysis reads. */
export const R = {
  ts: register("ts_ms"),
  step: register("step"),
  fromStep: register("from_step"),
  toStep: register("to_step"),
  preDelay: register("pre_delay_ms"),
  plannedWait: register("planned_wait_ms"),
  outlier: register("outlier_injected"),
  duration: register("duration_ms"),
  steps: register("steps"),
  stepsCompleted: register("steps_completed"),
  stuck: register("stuck"),
  stepsPlanned: register("steps_planned"),
  attempt: register("attempt"),
  failedStep: register("failed_step"),
  backoff: register("backoff_ms"),
} as const;

export const REGISTER_COUNT = registers.size;

/** Text register indices of the strings the analysis reads. */
export const X = { workflow: TEXT_FIELDS.indexOf("workflow") } as const;
export const TEXT_REGISTER_COUNT = TEXT_FIELDS.length;

/** Type codes, as EVENT_TYPES orders them. */
export const T = {
  open: EVENT_TYPES.indexOf("transaction_open"),
  stepOpen: EVENT_TYPES.indexOf("step_open"),
  stepDone: EVENT_TYPES.indexOf("step_done"),
  wait: EVENT_TYPES.indexOf("inter_step_wait"),
  close: EVENT_TYPES.indexOf("transaction_close"),
  aborted: EVENT_TYPES.indexOf("transaction_aborted"),
  stepFailed: EVENT_TYPES.indexOf("step_failed"),
  stepRetry: EVENT_TYPES.indexOf("step_retry"),
  failed: EVENT_TYPES.indexOf("transaction_failed"),
} as const;

/** The outcome of checking one parsed line: an event, a type the analyzer does not know, or a fault. */
export type Checked =
  | { readonly kind: "event"; readonly spec: EventSpec; readonly txnId: string; readonly extraFields: boolean }
  | { readonly kind: "unknown"; readonly type: string }
  | { readonly kind: "invalid"; readonly reason: string };

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return String(value);
}

function checkField(spec: FieldSpec, value: unknown, path: string): string | undefined {
  switch (spec.type) {
    case "integer":
      if (typeof value !== "number" || !Number.isSafeInteger(value)) return `${path} must be a whole number, got ${describe(value)}`;
      if (spec.minimum !== undefined && value < spec.minimum) return `${path} must be at least ${spec.minimum}, got ${value}`;
      return undefined;
    case "boolean":
      return typeof value === "boolean" ? undefined : `${path} must be true or false, got ${describe(value)}`;
    case "string":
      if (typeof value !== "string") return `${path} must be a string, got ${describe(value)}`;
      if (spec.minLength !== undefined && value.length < spec.minLength) return `${path} must not be empty`;
      return undefined;
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return `${path} must be an object, got ${describe(value)}`;
      return checkFields(spec.fields ?? [], value as Record<string, unknown>, `${path}.`).reason;
    }
  }
}

/** Checks the known fields; `extra` says whether the record has others (`also` known keys not in `fields`, such as `type`). */
function checkFields(
  fields: readonly FieldSpec[],
  record: Record<string, unknown>,
  prefix: string,
  also = 0,
): { reason?: string; extra: boolean } {
  let known = 0;
  for (const field of fields) {
    const value = record[field.name];
    if (value === undefined) {
      if (field.required) return { reason: `${prefix}${field.name} is missing`, extra: false };
      continue;
    }
    known++;
    const reason = checkField(field, value, `${prefix}${field.name}`);
    if (reason !== undefined) return { reason, extra: false };
  }
  return { extra: Object.keys(record).length > known + also };
}

/**
 * Checks a value JSON.parse produced against the event definitions. Known types must have every
 * required field with the right JSON type and bounds; fields beyond those are allowed and reported.
 * Numbers written with a fraction or exponent are accepted when their value is a whole number, as a
 * JSON Schema validator would.
 */
export function checkEvent(value: unknown): Checked {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "invalid", reason: `not a JSON object, got ${describe(value)}` };
  }
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (type === undefined) return { kind: "invalid", reason: "type is missing" };
  if (typeof type !== "string") return { kind: "invalid", reason: `type must be a string, got ${describe(type)}` };
  const spec = SPEC_BY_TYPE.get(type);
  if (spec === undefined) return { kind: "unknown", type };
  const { reason, extra } = checkFields(spec.fields, record, `${type}: `, 1);
  if (reason !== undefined) return { kind: "invalid", reason };
  return { kind: "event", spec, txnId: record.txn_id as string, extraFields: extra };
}

/** Copies a checked event's numeric and boolean fields into the register file, and its texts. */
export function loadRegisters(spec: EventSpec, record: Record<string, unknown>, regs: Float64Array, texts: (string | undefined)[]): void {
  texts.fill(undefined);
  for (const field of spec.fields) {
    if (field.text >= 0) texts[field.text] = record[field.name] as string | undefined;
    if (field.register < 0) continue;
    const value = record[field.name];
    regs[field.register] = value === undefined ? NaN : value === true ? 1 : value === false ? 0 : (value as number);
  }
}
