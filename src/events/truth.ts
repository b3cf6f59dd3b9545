/**
 * Ground truth: what wfsim injected, one record per label. Inline (the default) the stream itself
 * carries the labels (`outlier_injected` on inter_step_wait, `stuck` on transaction_open); with
 * `wfsim run --truth FILE` the stream carries none and these records go to FILE as JSON Lines, so the
 * pipeline under test sees no hints and a scorer (`wfsim analyze --truth FILE`) still knows the answers.
 *
 * Failures are events of their own (step_failed, step_retry, transaction_failed) and stay in the
 * stream either way; the truth file lists them too, so that it alone is the complete answer key.
 */
import Type, { type Static } from "typebox";

const TxnId = Type.String({ minLength: 1, description: "The transaction's txn_id in the event stream." });
const Timestamp = Type.Integer({ description: "When the labelled thing happened, epoch ms: the ts_ms of the event it concerns." });
const WorkflowName = Type.Optional(Type.String({ description: "The transaction's workflow (scenario runs)." }));
const StepNumber = Type.Integer({ minimum: 1 });

export const OutlierLabel = Type.Object(
  {
    kind: Type.Literal("outlier"),
    txn_id: TxnId,
    ts_ms: Timestamp,
    from_step: StepNumber,
    to_step: StepNumber,
    extra_ms: Type.Integer({ minimum: 0, description: "The extra wait injected into this gap (included in planned_wait_ms)." }),
    workflow: WorkflowName,
  },
  { additionalProperties: false, description: "An inter_step_wait (at ts_ms, from_step to to_step) carries an injected extra wait." },
);

export const StuckLabel = Type.Object(
  {
    kind: Type.Literal("stuck"),
    txn_id: TxnId,
    ts_ms: Timestamp,
    step: StepNumber,
    step_name: Type.String(),
    silent_since_ms: Type.Integer({ description: "ts_ms of the step_open after which nothing more comes." }),
    workflow: Type.String(),
  },
  {
    additionalProperties: false,
    description:
      "The transaction opened at ts_ms (its transaction_open carries stuck inline) opens `step` at silent_since_ms and then is never heard of again. Written when it goes silent.",
  },
);

export const StepFailureLabel = Type.Object(
  {
    kind: Type.Literal("step_failure"),
    txn_id: TxnId,
    ts_ms: Timestamp,
    step: StepNumber,
    step_name: Type.String(),
    attempt: Type.Integer({ minimum: 1 }),
    reason: Type.String(),
    final: Type.Boolean({ description: "No retry is left: the transaction fails." }),
    workflow: Type.String(),
  },
  { additionalProperties: false, description: "An injected failure: the step_failed event at ts_ms." },
);

export const TruthRecord = Type.Union([OutlierLabel, StuckLabel, StepFailureLabel], {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://wfsim.dev/schema/truth.json",
  title: "wfsim ground truth",
  description: "One line of a wfsim truth file (wfsim run --truth FILE): one injected anomaly.",
});

/**
 * A delivery fault (the scenario's `delivery` section, `wfsim run --delivery`): what was done to one
 * record on its way out. Not a label of the lifecycle: the lifecycle is as the labels and events say,
 * and these say how the stream differs from it. A skewed transaction gets one, with its first record: the offset holds for all its records.
 * On a shaped output (a scenario's output section) the records are the shape's: `record` names the
 * record type, `seq` counts the transaction's shaped records, and a skew is told at its first event.
 */
export const FaultRecord = Type.Object(
  {
    kind: Type.Union([Type.Literal("drop"), Type.Literal("duplicate"), Type.Literal("delay"), Type.Literal("skew"), Type.Literal("corrupt")]),
    txn_id: TxnId,
    type: Type.String({ description: "The record's event type (a shaped output's record: the lifecycle moment that produced it)." }),
    record: Type.Optional(Type.String({ description: "A shaped output's record: its record type (the output section's name for it)." })),
    step: Type.Optional(StepNumber),
    attempt: Type.Optional(Type.Integer({ minimum: 1, description: "A shaped output's record made at a step event that carries an attempt: that attempt." })),
    workflow: WorkflowName,
    seq: Type.Integer({ minimum: 0, description: "The record's place among its transaction's records, from 0 (a shaped output: among its shaped records)." }),
    ts_ms: Type.Integer({ description: "The record's ts_ms as emitted (the event time, or with a skew the event time plus offset_ms)." }),
    due_ms: Type.Integer({ description: "When the record should have been emitted: its event time." }),
    emitted_ms: Type.Optional(Type.Integer({ description: "When it was emitted (a duplicate: the copy); absent for a drop." })),
    delay_ms: Type.Optional(Type.Integer({ minimum: 0, description: "delay: how late; duplicate: the copy after the original." })),
    offset_ms: Type.Optional(Type.Integer({ description: "skew: the producer clock's error, signed, for every record of the transaction." })),
    as: Type.Optional(Type.Union([Type.Literal("truncated"), Type.Literal("not_json")], { description: "corrupt: what replaced the record." })),
  },
  { additionalProperties: false, description: "A delivery fault injected into one record." },
);

export type OutlierLabel = Static<typeof OutlierLabel>;
export type StuckLabel = Static<typeof StuckLabel>;
export type StepFailureLabel = Static<typeof StepFailureLabel>;
export type TruthRecord = Static<typeof TruthRecord>;
export type TruthKind = TruthRecord["kind"];
export type FaultRecord = Static<typeof FaultRecord>;
/** Any line of a truth file: a label, or a delivery fault. */
export type TruthLine = TruthRecord | FaultRecord;

/** One truth file line's JSON Schema: a label or a fault (what `wfsim schema --truth` prints). */
export const TruthLineSchema = Type.Union([OutlierLabel, StuckLabel, StepFailureLabel, FaultRecord], {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://wfsim.dev/schema/truth.json",
  title: "wfsim ground truth",
  description: "One line of a wfsim truth file (wfsim run --truth FILE): one injected anomaly or delivery fault.",
});

export const TRUTH_KINDS = ["outlier", "stuck", "step_failure"] as const satisfies readonly TruthKind[];

/** One record as one JSON line: its fields in schema order (records are built in that order). */
export function serializeTruth(record: TruthLine): string {
  return record.kind in FAULT_LINE ? serializeFault(record as FaultRecord) : `${JSON.stringify(record)}\n`;
}

const FAULT_LINE = { drop: true, duplicate: true, delay: true, skew: true, corrupt: true };

/**
 * A fault record's line, fields in schema order, written by hand: a run makes one per fault, their
 * optional fields vary, and JSON.stringify of objects of many shapes showed in the profile.
 */
export function serializeFault(r: FaultRecord): string {
  let out = `{"kind":"${r.kind}","txn_id":${JSON.stringify(r.txn_id)},"type":${JSON.stringify(r.type)}`;
  if (r.record !== undefined) out += `,"record":${JSON.stringify(r.record)}`;
  if (r.step !== undefined) out += `,"step":${r.step}`;
  if (r.attempt !== undefined) out += `,"attempt":${r.attempt}`;
  if (r.workflow !== undefined) out += `,"workflow":${JSON.stringify(r.workflow)}`;
  out += `,"seq":${r.seq},"ts_ms":${r.ts_ms},"due_ms":${r.due_ms}`;
  if (r.emitted_ms !== undefined) out += `,"emitted_ms":${r.emitted_ms}`;
  if (r.delay_ms !== undefined) out += `,"delay_ms":${r.delay_ms}`;
  if (r.offset_ms !== undefined) out += `,"offset_ms":${r.offset_ms}`;
  if (r.as !== undefined) out += `,"as":"${r.as}"`;
  return `${out}}\n`;
}

let validator: { Check(value: unknown): boolean } | undefined;

/**
 * One line of a truth file as a record, or undefined when it is not one (bad JSON, an unknown kind,
 * a missing or mistyped field): what a scorer reading `--truth FILE` needs.
 */
export async function parseTruthLine(line: string): Promise<TruthRecord | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  validator ??= (await import("typebox/compile")).Compile(TruthRecord);
  return validator.Check(value) ? (value as TruthRecord) : undefined;
}
