/**
 * A compiled shape: a scenario's `output` section resolved once, before anything runs, into what every
 * writer of records needs. The JSON Lines writer (WebAssembly templates), the Kafka records (topic,
 * key, headers, value), `wfsim schema --scenario FILE` (JSON Schema) and `wfsim analyze --scenario`
 * (reading records back into the lifecycle) are all derived from this one value, so they cannot drift
 * apart.
 *
 * It is also the contract for work built on shaped records: every field carries its JSON type, each
 * record type says which field holds the transaction id and which the event time (`roles`), and each
 * record type lists the lifecycle moments it stands for. Nothing here is per event: the per-event
 * work is done by the writers compiled from it.
 */
import type { EventType } from "../../events/schema.ts";
import type { LifecycleName } from "./lifecycle.ts";

/** JSON type of a value: what a field's JSON Schema says, and what Avro or Protobuf schemas map from. */
export type ValueType = "string" | "integer" | "number" | "boolean";

/** How a time is written: epoch milliseconds, whole epoch seconds, or ISO-8601 text with offset. */
export type TimeFormat = "ms" | "s" | "iso" | "iso_utc";

/**
 * One placeholder of a template: `{name}` or `{name:spec}`. `name` is a lifecycle value (see
 * lifecycle.ts) or an attribute.
 */
export type Placeholder =
  | { readonly source: "lifecycle"; readonly name: LifecycleName; readonly time?: TimeFormat; readonly pad?: number }
  | { readonly source: "attribute"; readonly name: string; readonly index: number; readonly pad?: number };

/** A template: constant text and placeholders, in order. `["ORD-", {seq, pad 8}]` for "ORD-{seq:08}". */
export type TemplatePart = string | Placeholder;
export interface Template {
  readonly parts: readonly TemplatePart[];
  /** The text as written, for messages. */
  readonly text: string;
}

/** The value of a field: a tree of objects and lists whose leaves are constants or templates. */
export type ValueNode =
  | { readonly kind: "object"; readonly fields: readonly ObjectField[] }
  | { readonly kind: "list"; readonly items: readonly ValueNode[] }
  | { readonly kind: "constant"; readonly value: string | number | boolean | null }
  /** One placeholder alone ("{amount}"): the value with its own JSON type. */
  | { readonly kind: "value"; readonly placeholder: Placeholder; readonly type: ValueType }
  /** Text with placeholders ("ORD-{seq:08}"): always a string. */
  | { readonly kind: "text"; readonly template: Template };

export interface ObjectField {
  readonly name: string;
  readonly value: ValueNode;
}

/** A lifecycle moment: an event type, in one workflow, at one step (0-based; -1 for transaction events). */
export interface Moment {
  readonly event: EventType;
  readonly workflow: number;
  readonly step: number;
}

/** A field's place in a record: its path of names from the top, e.g. ["order", "id"]. */
export type FieldPath = readonly string[];

/** Fields whose meaning other tools need to know, found by the compiler. */
export interface RecordRoles {
  /** The field holding `{txn_id}` alone, if any. */
  readonly txnId: FieldPath | undefined;
  /** The field holding `{time}` alone (any format), if any, and how it is written. */
  readonly time: { readonly path: FieldPath; readonly format: TimeFormat } | undefined;
}

export interface RecordType {
  /** Its name in the scenario (`OrderPlaced`), and the value of `{record}`. */
  readonly name: string;
  /** Position in `Shape.records`. */
  readonly index: number;
  /** The moments that produce it, in the order of the engine's events; one record per moment. */
  readonly moments: readonly Moment[];
  /** Its value: always an object at the top. */
  readonly value: ValueNode & { readonly kind: "object" };
  /** Kafka routing. The topic's template uses only {workflow} and {record}. */
  readonly topic: Template;
  /** Uses only values fixed for a whole transaction, so that a transaction's records keep their order. */
  readonly key: Template;
  readonly headers: readonly { readonly name: string; readonly value: Template }[];
  readonly roles: RecordRoles;
  /** Where it was declared, for messages: `output.records.OrderPlaced`. */
  readonly path: string;
}

export type AttributeScope = "transaction" | "step" | "record";

export type NumberDistribution =
  | { readonly kind: "constant"; readonly value: number }
  | { readonly kind: "uniform"; readonly min: number; readonly max: number }
  | { readonly kind: "normal"; readonly mean: number; readonly sd: number }
  | { readonly kind: "lognormal"; readonly mu: number; readonly sigma: number }
  | { readonly kind: "exponential"; readonly mean: number }
  | { readonly kind: "empirical"; readonly values: readonly number[] };

/** How an attribute's value is drawn. */
export type AttributeKind =
  | {
      readonly kind: "number";
      readonly dist: NumberDistribution;
      /** Decimals kept, or undefined for the value as drawn. */
      readonly round: number | undefined;
      readonly min: number | undefined;
      readonly max: number | undefined;
    }
  | { readonly kind: "int"; readonly min: number; readonly max: number }
  | { readonly kind: "choice"; readonly values: readonly (string | number | boolean)[]; readonly cumulative: readonly number[] | undefined }
  | { readonly kind: "chance"; readonly prob: number }
  | {
      readonly kind: "by";
      readonly on: Placeholder;
      /** Case value (as text) → what is drawn then. */
      readonly cases: ReadonlyMap<string, AttributeKind>;
      readonly fallback: AttributeKind | undefined;
    }
  | { readonly kind: "sequence"; readonly start: number; readonly step: number }
  | { readonly kind: "uuid"; readonly version: 4 | 7 }
  | { readonly kind: "format"; readonly template: Template }
  | {
      readonly kind: "fake";
      /** `person.fullName`. */
      readonly method: string;
      readonly args: readonly unknown[];
      readonly locale: string;
      /** Draw from a fixed set of this many values, or undefined for a fresh value each time. */
      readonly distinct: number | undefined;
    }
  | { readonly kind: "constant"; readonly value: string | number | boolean };

export interface Attribute {
  readonly name: string;
  /** Position in `Shape.attributes`, which is the order they are drawn in within a scope. */
  readonly index: number;
  readonly scope: AttributeScope;
  readonly type: ValueType;
  readonly spec: AttributeKind;
}

export type Envelope = "json" | "cloudevents";

export interface Shape {
  readonly envelope: Envelope;
  /**
   * Attributes in the order they are drawn: transaction ones, then step ones, then record ones,
   * each scope in an order where every attribute comes after those it depends on.
   */
  readonly attributes: readonly Attribute[];
  readonly records: readonly RecordType[];
  /** Every topic a record can go to, each once, in order of first use. */
  readonly topics: readonly string[];
  /** Partitions of topics wfsim creates, when the scenario says. */
  readonly partitions: number | undefined;
  /** Workflow and step names, as the moments number them. */
  readonly workflows: readonly { readonly name: string; readonly steps: readonly string[] }[];
}
