/**
 * The one definition of a scenario file: its TypeScript type (what the file holds, before units are
 * resolved), the JSON Schema that `wfsim schema --scenario` prints for editors, and the structure the
 * validator walks to word its messages all come from these declarations.
 *
 * `errorMessage` is the phrase a message puts after "expected"; editors that read JSON Schema (VS Code
 * among them) show it too when a value does not match.
 */
import Type, { type Static } from "typebox";
import { DURATION_EXPECTED, DURATION_PATTERN } from "../units.ts";
import { AttributeSpec, Output, RecordSpec } from "../shape/schema.ts";

export const DISTRIBUTION_KINDS = ["constant", "uniform", "normal", "lognormal", "exponential", "empirical"] as const;
export type DistributionKind = (typeof DISTRIBUTION_KINDS)[number];

const Duration = Type.Union(
  [Type.Number({ minimum: 0 }), Type.String({ pattern: DURATION_PATTERN })],
  { errorMessage: DURATION_EXPECTED, description: "A duration: 250ms, 1.5s, 10m, 2h, 1d, or a plain number of milliseconds." },
);

const Probability = Type.Number({ minimum: 0, maximum: 1, description: "A probability, from 0 to 1." });

function distribution<const K extends DistributionKind, P extends Type.TProperties>(kind: K, description: string, properties: P) {
  return Type.Object({ dist: Type.Literal(kind), ...properties }, { additionalProperties: false, description });
}

export const ConstantDist = distribution("constant", "Always the same whole number of milliseconds.", { value: Duration });
export const UniformDist = distribution("uniform", "Uniform over the whole milliseconds from min to max, both included (the seed's delays).", {
  min: Duration,
  max: Duration,
});
export const NormalDist = distribution("normal", "Normal with this mean and standard deviation, truncated at 0 (negative draws are redrawn), rounded to whole ms.", {
  mean: Duration,
  sd: Duration,
});
export const LognormalDist = distribution(
  "lognormal",
  "Lognormal with this median and either sigma (of the log) or p99 (the 99th percentile); the usual shape of service latencies.",
  {
    median: Duration,
    sigma: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: "Standard deviation of the logarithm." })),
    p99: Type.Optional(Duration),
  },
);
export const ExponentialDist = distribution("exponential", "Exponential with this mean: memoryless waits.", { mean: Duration });
export const EmpiricalDist = distribution("empirical", "One of these values, each equally likely (repeat a value to weight it).", {
  values: Type.Array(Duration, { minItems: 1, errorMessage: "a non-empty list of durations" }),
});

export const Distribution = Type.Union(
  [Duration, ConstantDist, UniformDist, NormalDist, LognormalDist, ExponentialDist, EmpiricalDist],
  {
    errorMessage: `a distribution (${DISTRIBUTION_KINDS.join(", ")}) or a duration`,
    description: "A random delay: a duration (a constant), or an object whose `dist` names the distribution.",
  },
);

export const Outlier = Type.Object(
  {
    prob: Probability,
    extra: Distribution,
    per: Type.Optional(
      Type.Union([Type.Literal("gap"), Type.Literal("transaction")], {
        description: "gap (default): each wait between steps has the probability; transaction: each transaction has it once, on one of its gaps.",
      }),
    ),
  },
  { additionalProperties: false, description: "An extra wait between steps, labelled outlier_injected." },
);

export const Failure = Type.Object(
  {
    prob: Probability,
    reasons: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: "Reasons a failure names, one drawn per failure (default: error)." })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: "Attempts after the first (default 0)." })),
    backoff: Type.Optional(Type.Union([Distribution], { description: "Wait before the first retry (default 1s); later ones are multiplied by backoff_factor." })),
    backoff_factor: Type.Optional(Type.Number({ minimum: 1, maximum: 1000, description: "Multiplier of the backoff for each further retry (default 2)." })),
    max_backoff: Type.Optional(Duration),
  },
  { additionalProperties: false, description: "Each attempt of a step fails with this probability (step_failed), then retries with backoff (step_retry); when retries run out, transaction_failed." },
);

export const Stuck = Type.Object(
  {
    prob: Probability,
    at: Type.Optional(Type.String({ minLength: 1, description: "Name of the step that never completes (default: one drawn uniformly)." })),
  },
  { additionalProperties: false, description: "A transaction opens a step and is never heard of again; labelled stuck on its transaction_open." },
);

const timing = {
  pre: Type.Optional(Type.Union([Distribution], { description: "Wait before the step opens." })),
  work: Type.Optional(Type.Union([Distribution], { description: "Time from step_open to step_done (default 0)." })),
  inter: Type.Optional(Type.Union([Distribution], { description: "Wait after the step before the next one's pre-step wait (not after the last)." })),
};

export const StepObject = Type.Object(
  {
    name: Type.String({ minLength: 1, description: "Carried as step_name on the step's events." }),
    ...timing,
    failure: Type.Optional(Failure),
  },
  { additionalProperties: false },
);

export const Step = Type.Union([Type.String({ minLength: 1 }), StepObject], {
  errorMessage: "a step: a name, or an object with a name",
  description: "A step: its name, or an object with its name and its own delays and failures.",
});

export const Workflow = Type.Object(
  {
    name: Type.String({ minLength: 1, description: "Carried as workflow on every event of its transactions." }),
    weight: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: "Share of transactions, relative to the other workflows' (default 1)." })),
    ...timing,
    failure: Type.Optional(Failure),
    outlier: Type.Optional(Outlier),
    stuck: Type.Optional(Stuck),
    steps: Type.Array(Step, { minItems: 1, errorMessage: "a non-empty list of steps" }),
  },
  { additionalProperties: false, description: "A kind of transaction. pre, work, inter and failure here apply to every step that does not set its own." },
);

const EventTypeName = Type.Union(
  ["transaction_open", "step_open", "step_done", "inter_step_wait", "transaction_close", "transaction_aborted", "step_failed", "step_retry", "transaction_failed"].map((type) => Type.Literal(type)),
  { errorMessage: "an event type (transaction_open, step_open, step_done, inter_step_wait, transaction_close, transaction_aborted, step_failed, step_retry, transaction_failed)" },
);

/** Which records a fault may hit: those of these workflows and (per record) these event types; absent: all. */
const faultFilters = {
  workflows: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: "Only transactions of these workflows (default: all)." })),
};
const recordFilters = {
  ...faultFilters,
  types: Type.Optional(Type.Array(EventTypeName, { minItems: 1, description: "Only records of these event types (default: all)." })),
  records: Type.Optional(
    Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: "Only records of these record types of the output section (default: all); needs an output section." }),
  ),
};

export const DropFault = Type.Object(
  { prob: Probability, ...recordFilters },
  { additionalProperties: false, description: "Each record is never emitted with this probability." },
);
export const DuplicateFault = Type.Object(
  { prob: Probability, after: Type.Optional(Type.Union([Distribution], { description: "When the copy is emitted after the original (default 0)." })), ...recordFilters },
  { additionalProperties: false, description: "Each record is emitted a second time, the same bytes, after a drawn delay." },
);
export const DelayFault = Type.Object(
  { prob: Probability, by: Type.Union([Distribution], { description: "How much later than its event time the record is emitted; its ts_ms stays the event time." }), ...recordFilters },
  { additionalProperties: false, description: "Each record is emitted late (and out of order) with this probability." },
);
export const SkewFault = Type.Object(
  {
    prob: Probability,
    offset: Type.Union([Distribution], { description: "How far off the producer's clock is: every ts_ms of the transaction carries it." }),
    direction: Type.Optional(
      Type.Union([Type.Literal("ahead"), Type.Literal("behind"), Type.Literal("either")], { description: "ahead: ts_ms later than the truth; behind: earlier; either (default): one or the other, drawn." }),
    ),
    ...faultFilters,
  },
  { additionalProperties: false, description: "Each transaction's producer clock is off by a drawn offset with this probability." },
);
export const CorruptFault = Type.Object(
  {
    prob: Probability,
    as: Type.Optional(
      Type.Union([Type.Literal("truncated"), Type.Literal("not_json"), Type.Literal("either")], { description: "truncated: the JSON line cut short; not_json: key=value text; either (default): one or the other, drawn." }),
    ),
    ...recordFilters,
  },
  { additionalProperties: false, description: "Each record is replaced by a malformed one with this probability." },
);

export const Delivery = Type.Object(
  { drop: Type.Optional(DropFault), duplicate: Type.Optional(DuplicateFault), delay: Type.Optional(DelayFault), skew: Type.Optional(SkewFault), corrupt: Type.Optional(CorruptFault) },
  {
    additionalProperties: false,
    patternProperties: { "^x-": {} },
    description: "Faults injected between the lifecycle and the output, each recorded in the truth file (--truth).",
  },
);

const Samples = Type.Union([Type.Integer({ minimum: 1 }), Type.Literal("unlimited")], {
  errorMessage: "a whole number of at least 1, or unlimited",
  description: "Transactions to open; the run ends when they have finished.",
});

const bounds = {
  samples: Type.Optional(Samples),
  duration: Type.Optional(Type.Union([Duration], { description: "Simulated time after which no transaction opens; those in flight finish." })),
};

export const ClosedLoad = Type.Object(
  {
    model: Type.Literal("closed"),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, description: "Transactions in flight at once (default 20)." })),
    ...bounds,
  },
  { additionalProperties: false, description: "A fixed number of transactions in flight; one opens as soon as another ends (the seed's model)." },
);

export const Stage = Type.Object(
  {
    to: Type.Optional(Type.Number({ minimum: 0, description: "Rate at the end of the stage, transactions per second." })),
    over: Type.Optional(Duration),
    hold: Type.Optional(Duration),
  },
  { additionalProperties: false, description: "{ to: R, over: D } ramps linearly to R over D; { hold: D } keeps the rate for D." },
);

export const OpenLoad = Type.Object(
  {
    model: Type.Literal("open"),
    arrivals: Type.Optional(
      Type.Union([Type.Literal("poisson"), Type.Literal("fixed")], { description: "poisson (default): random arrivals at the rate; fixed: evenly spaced." }),
    ),
    rate: Type.Optional(Type.Number({ minimum: 0, description: "Arrival rate at the start, transactions per second (default 0 with stages, else required)." })),
    stages: Type.Optional(Type.Array(Stage, { minItems: 1, description: "Rate changes in order; arrivals stop after the last." })),
    max_in_flight: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10_000_000, description: "Cap on transactions in flight; an arrival that finds it reached is dropped and counted (default 10000)." }),
    ),
    ...bounds,
  },
  { additionalProperties: false, description: "Transactions arrive at a rate, whatever is in flight (up to a cap)." },
);

export const Load = Type.Union([ClosedLoad, OpenLoad], { errorMessage: "a load model (closed, open)" });

export const ScenarioFile = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: "The JSON Schema of this file, for editors." })),
    name: Type.Optional(Type.String({ description: "What the scenario is called in summaries." })),
    description: Type.Optional(Type.String()),
    seed: Type.Optional(Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, description: "Default seed (--seed overrides)." })),
    timezone: Type.Optional(Type.String({ description: "IANA time zone carried in transaction_open's meta (--timezone overrides)." })),
    start_time: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0 }), Type.String()], { errorMessage: "an ISO-8601 date or date-time (UTC unless an offset is given) or milliseconds since the Unix epoch" }),
    ),
    load: Type.Optional(Load),
    workflows: Type.Array(Workflow, { minItems: 1, errorMessage: "a non-empty list of workflows" }),
    output: Type.Optional(Output),
    delivery: Type.Optional(Delivery),
  },
  {
    additionalProperties: false,
    // Keys starting with x- are left alone: a place for YAML anchors that workflows share (<<: *name).
    patternProperties: { "^x-": {} },
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://wfsim.dev/schema/scenario.json",
    title: "wfsim scenario",
    description: "Workflows, their delays and anomalies, and the load that runs them: `wfsim run --scenario FILE`.",
  },
);

export type DurationInput = Static<typeof Duration>;
export type DistributionInput = Static<typeof Distribution>;
export type FailureInput = Static<typeof Failure>;
export type OutlierInput = Static<typeof Outlier>;
export type StuckInput = Static<typeof Stuck>;
export type StepInput = Static<typeof Step>;
export type WorkflowInput = Static<typeof Workflow>;
export type LoadInput = Static<typeof Load>;
export type StageInput = Static<typeof Stage>;
export type ScenarioInput = Static<typeof ScenarioFile>;
export type DeliveryInput = Static<typeof Delivery>;

/** Shared parts named once in the printed JSON Schema, and referred to with $ref wherever they recur. */
const DEFINITIONS: Record<string, unknown> = {
  duration: Duration,
  distribution: Distribution,
  failure: Failure,
  outlier: Outlier,
  stuck: Stuck,
  step: Step,
  workflow: Workflow,
  stage: Stage,
  load: Load,
  output: Output,
  delivery: Delivery,
  record: RecordSpec,
  attribute: AttributeSpec,
};

/**
 * The scenario's JSON Schema as `wfsim schema --scenario` prints it: the same definition, with each
 * shared part written once under $defs (a distribution appears in a dozen places; inlined, the
 * schema would be ten times longer for editors to load).
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  const names = new Map<unknown, string>(Object.entries(DEFINITIONS).map(([name, schema]) => [schema, name]));
  const copy = (node: unknown, self?: unknown): unknown => {
    if (node !== self && names.has(node)) return { $ref: `#/$defs/${names.get(node)}` };
    if (Array.isArray(node)) return node.map((item) => copy(item));
    if (typeof node !== "object" || node === null) return node;
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, copy(value)]));
  };
  const { $schema, $id, title, description, ...rest } = copy(ScenarioFile) as Record<string, unknown>;
  const $defs = Object.fromEntries(Object.entries(DEFINITIONS).map(([name, schema]) => [name, copy(schema, schema)]));
  return { $schema, $id, title, description, ...rest, $defs };
}
