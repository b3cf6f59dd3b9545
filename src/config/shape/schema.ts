/**
 * The `output` section of a scenario file: the records a scenario's transactions produce, their
 * fields, attributes and routing. Part of the scenario file's one definition (config/scenario/schema.ts
 * includes it), so editors complete it and `wfsim validate` words its errors like the rest's.
 *
 * What the schema cannot say (a template's placeholders, an attribute's kind, dependencies between
 * attributes, topic names) resolve.ts checks, with the same one-line messages.
 */
import Type, { type Static } from "typebox";

const Name = Type.String({ minLength: 1 });
const Names = Type.Union([Name, Type.Array(Name, { minItems: 1 })], { errorMessage: "a name or a non-empty list of names" });

export const LIFECYCLE_MOMENTS_TEXT =
  "transaction_open, step_open, step_done, inter_step_wait, step_failed, step_retry, transaction_close, transaction_failed, transaction_aborted";

const MomentObject = Type.Object(
  {
    event: Type.String({ minLength: 1, description: `The lifecycle event: ${LIFECYCLE_MOMENTS_TEXT}.` }),
    workflow: Type.Optional(Type.Union([Names], { description: "Only in these workflows (default: all)." })),
    step: Type.Optional(Type.Union([Names], { description: "Only at these steps (step events only; default: all)." })),
  },
  { additionalProperties: false },
);

export const Moment = Type.Union([Type.String({ minLength: 1 }), MomentObject], {
  errorMessage: "a lifecycle event name, or { event, workflow, step }",
  description: "A lifecycle moment: an event name (every workflow and step), or an object that narrows it to workflows and steps.",
});

const At = Type.Union([Moment, Type.Array(Moment, { minItems: 1 })], {
  errorMessage: "a lifecycle moment or a non-empty list of them",
  description: "The lifecycle moments that produce this record.",
});

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()], { errorMessage: "a string, a number or true/false" });

const Headers = Type.Record(Type.String({ minLength: 1 }), Scalar, {
  description: "Kafka record headers: name → value, a constant or a template (\"{record}\"). Values are written as UTF-8 text.",
});

const Fields = Type.Record(Type.String(), Type.Unknown(), {
  description:
    "The record's fields: name (or dotted path, order.id) → a constant, a template (\"{txn_id}\", \"ORD-{seq:08}\"), a nested object or a list. null leaves out a field of output.fields.",
});

export const RecordSpec = Type.Object(
  {
    at: At,
    fields: Type.Optional(Fields),
    topic: Type.Optional(Type.String({ minLength: 1, description: "Kafka topic: a name or a template over {workflow} and {record} (default: output.topic)." })),
    key: Type.Optional(Type.String({ description: "Kafka record key, a template (default: output.key, else \"{txn_id}\")." })),
    headers: Type.Optional(Headers),
    type: Type.Optional(Type.String({ minLength: 1, description: "CloudEvents only: the event's type, a template (default: the record's name)." })),
    subject: Type.Optional(Type.String({ description: "CloudEvents only: the event's subject, a template (default: \"{txn_id}\")." })),
  },
  { additionalProperties: false, description: "One kind of record: when it is produced and what it holds." },
);

const NumberOrDuration = Type.Number();

export const AttributeSpec = Type.Object(
  {
    per: Type.Optional(
      Type.Union([Type.Literal("transaction"), Type.Literal("step"), Type.Literal("record")], {
        description: "Drawn once per transaction (default), anew at each step's first step_open, or for each record.",
      }),
    ),
    dist: Type.Optional(
      Type.Union(
        [Type.Literal("constant"), Type.Literal("uniform"), Type.Literal("normal"), Type.Literal("lognormal"), Type.Literal("exponential"), Type.Literal("empirical")],
        { errorMessage: "one of constant, uniform, normal, lognormal, exponential, empirical", description: "A number from a distribution (plain numbers, no units)." },
      ),
    ),
    min: Type.Optional(NumberOrDuration),
    max: Type.Optional(NumberOrDuration),
    mean: Type.Optional(NumberOrDuration),
    sd: Type.Optional(Type.Number({ minimum: 0 })),
    median: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    p99: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    sigma: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    values: Type.Optional(Type.Array(Type.Number(), { minItems: 1, errorMessage: "a non-empty list of numbers" })),
    round: Type.Optional(Type.Integer({ minimum: 0, maximum: 6, description: "Decimals a drawn number is rounded to (0 to 6; default: not rounded)." })),
    int: Type.Optional(Type.Array(Type.Integer(), { minItems: 2, errorMessage: "a list of two whole numbers: [min, max]", description: "A whole number from min to max, both included." })),
    choice: Type.Optional(
      Type.Union([Type.Array(Scalar, { minItems: 1 }), Type.Record(Type.String(), Type.Number({ minimum: 0 }))], {
        errorMessage: "a non-empty list of values, or a map of value → weight",
        description: "One of these values, equally likely; or a map value → weight.",
      }),
    ),
    weights: Type.Optional(Type.Array(Type.Number({ minimum: 0 }), { minItems: 1, description: "Weights of a choice list's values, in order." })),
    chance: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "true with this probability, else false." })),
    by: Type.Optional(Type.String({ minLength: 1, description: "An attribute (or workflow, step) whose value picks the case." })),
    cases: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "Value of `by` → a constant or an attribute (an object like this one)." })),
    default: Type.Optional(Type.Unknown({ description: "A constant or an attribute for values of `by` that no case names." })),
    sequence: Type.Optional(
      Type.Object(
        { start: Type.Optional(Type.Integer()), step: Type.Optional(Type.Integer()) },
        { additionalProperties: false, description: "start + step × the transaction's index (default start 1, step 1): unique across --instance." },
      ),
    ),
    uuid: Type.Optional(Type.Union([Type.Literal("v4"), Type.Literal("v7")], { errorMessage: "v4 or v7", description: "v4: random; v7: the time of the moment it is drawn, then random." })),
    format: Type.Optional(Type.String({ description: "Text from a template over attributes and lifecycle values: \"ORD-{seq:08}\"." })),
    fake: Type.Optional(Type.String({ minLength: 1, description: "A @faker-js/faker method, module.method: person.fullName, internet.email, finance.iban, ..." })),
    args: Type.Optional(Type.Array(Type.Unknown(), { description: "Arguments passed to the fake method." })),
    locale: Type.Optional(Type.String({ minLength: 1, description: "The faker locale (default en): de, fr, en_US, ..." })),
    distinct: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: "Fake values come from a fixed set of this many (a customer base): cheaper, and values repeat." }),
    ),
    value: Type.Optional(Type.Unknown({ description: "Always this value." })),
  },
  { additionalProperties: false, description: "A value drawn for each transaction (or step, or record) from its own random stream." },
);

export const Output = Type.Object(
  {
    envelope: Type.Optional(
      Type.Union([Type.Literal("json"), Type.Literal("cloudevents")], {
        description: "json (default): each record is its fields; cloudevents: CloudEvents 1.0 structured JSON with the fields as data.",
      }),
    ),
    source: Type.Optional(Type.String({ minLength: 1, description: "CloudEvents only: the source, a template (default: \"/wfsim/{workflow}\")." })),
    attributes: Type.Optional(Type.Record(Type.String(), AttributeSpec, { description: "Attributes by name, referred to as {name} in templates." })),
    fields: Type.Optional(Fields),
    topic: Type.Optional(Type.String({ minLength: 1, description: "Default Kafka topic of every record: a name or a template over {workflow} and {record}." })),
    key: Type.Optional(Type.String({ description: "Default Kafka record key, a template (default \"{txn_id}\")." })),
    headers: Type.Optional(Headers),
    partitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: "Partitions of the topics wfsim creates (--partitions overrides)." })),
    records: Type.Record(Type.String({ minLength: 1 }), RecordSpec, { description: "The kinds of record, by type name." }),
  },
  {
    additionalProperties: false,
    description: "The records the transactions produce instead of wfsim's lifecycle events: which moments, which fields, which topics, keys and headers.",
  },
);

export type OutputInput = Static<typeof Output>;
export type RecordInput = Static<typeof RecordSpec>;
export type AttributeInput = Static<typeof AttributeSpec>;
export type MomentInput = Static<typeof Moment>;
