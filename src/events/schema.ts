/**
 * The one definition of wfsim's events: their TypeScript types and their JSON Schema come from the same
 * TypeBox declarations, and `serialize.ts` writes them in the same field order.
 *
 * Every field of the seed's reference script is here under the same name and JSON type, so a consumer
 * written for the reference reads wfsim unchanged. Field order follows the reference too.
 *
 * Fields that announce a wait before it is over (`planned_wait_ms`, `pre_delay_ms`, `work_ms`,
 * `backoff_ms`, and the inter_step_wait event itself) are marked "Announces": a blind stream
 * (`wfsim run --blind`, implied by `--truth`) leaves them out, so a detector scored against the truth
 * cannot read the answers off the stream. A fair detector uses the others: types, ids, steps,
 * attempts, timestamps, outcomes, and `steps_planned`, which a real system knows from its workflow.
 */
import Type, { type Static } from "typebox";

const TxnId = Type.String({ minLength: 1, description: "Transaction id, the same on all its events." });
const Timestamp = Type.Integer({ description: "Event time, milliseconds since the Unix epoch." });
const StepNumber = Type.Integer({ minimum: 1, description: "1-based step number." });
const Millis = (description: string) => Type.Integer({ minimum: 0, description });

// Fields a scenario adds. They come after the reference's fields and are optional on the reference's
// events, so that a run from flags writes exactly what it always did.
const WorkflowName = Type.String({ description: "Scenario runs: the transaction's workflow." });
const StepName = Type.String({ description: "Scenario runs: the step's name." });
const Attempt = Type.Integer({ minimum: 1, description: "Attempt of the step, 1 for the first; on step_open and step_done only from 2 on (absent means 1)." });
const WorkMs = Millis(
  "Announces: scenario runs: the step's planned work time, from its step_open to this event; on step_done absent when the step has no work time. Absent in a blind stream.",
);

export const TransactionOpen = Type.Object(
  {
    type: Type.Literal("transaction_open"),
    txn_id: TxnId,
    ts_ms: Timestamp,
    meta: Type.Object(
      {
        timezone: Type.String({ description: "Time zone of the simulated business, for context." }),
        sim_version: Type.String({ description: "Version of the simulator that produced the event." }),
      },
      { additionalProperties: false },
    ),
    workflow: Type.Optional(WorkflowName),
    steps_planned: Type.Optional(
      Type.Integer({ minimum: 1, description: "Blind streams: the steps the transaction's workflow has, which it will go through unless it fails or hangs." }),
    ),
    stuck: Type.Optional(
      Type.Boolean({ description: "Ground truth, inline labels only: this transaction will go silent and never close (absent: it will not)." }),
    ),
  },
  { additionalProperties: false, description: "A transaction starts." },
);

export const StepOpen = Type.Object(
  {
    type: Type.Literal("step_open"),
    txn_id: TxnId,
    step: StepNumber,
    ts_ms: Timestamp,
    pre_delay_ms: Type.Optional(Millis("Announces: the wait before this step opened (for a retry: its backoff). Absent in a blind stream.")),
    workflow: Type.Optional(WorkflowName),
    step_name: Type.Optional(StepName),
    attempt: Type.Optional(Attempt),
  },
  { additionalProperties: false, description: "A step starts, after its pre-step wait." },
);

export const StepDone = Type.Object(
  {
    type: Type.Literal("step_done"),
    txn_id: TxnId,
    step: StepNumber,
    ts_ms: Timestamp,
    workflow: Type.Optional(WorkflowName),
    step_name: Type.Optional(StepName),
    attempt: Type.Optional(Attempt),
    work_ms: Type.Optional(WorkMs),
  },
  { additionalProperties: false, description: "A step completes." },
);

export const InterStepWait = Type.Object(
  {
    type: Type.Literal("inter_step_wait"),
    txn_id: TxnId,
    from_step: StepNumber,
    to_step: StepNumber,
    planned_wait_ms: Millis("Announces: the wait before the next step's pre-step wait begins, outlier included."),
    outlier_injected: Type.Optional(
      Type.Boolean({ description: "Ground truth: this wait carries an injected outlier delay. Absent when labels go to a truth file (--truth)." }),
    ),
    ts_ms: Timestamp,
    workflow: Type.Optional(WorkflowName),
  },
  { additionalProperties: false, description: "Announces: the wait between two steps begins, and how long it will be. Not in a blind stream." },
);

export const TransactionClose = Type.Object(
  {
    type: Type.Literal("transaction_close"),
    txn_id: TxnId,
    ts_ms: Timestamp,
    duration_ms: Millis("Close time minus open time."),
    steps: Type.Integer({ minimum: 1, description: "Steps the transaction completed." }),
    workflow: Type.Optional(WorkflowName),
  },
  { additionalProperties: false, description: "A transaction completes after its last step." },
);

export const TransactionAborted = Type.Object(
  {
    type: Type.Literal("transaction_aborted"),
    txn_id: TxnId,
    ts_ms: Timestamp,
    duration_ms: Millis("Abort time minus open time."),
    steps_completed: Type.Integer({ minimum: 0, description: "Steps done before the abort." }),
    reason: Type.String({ description: "Why the run stopped: SIGINT, SIGTERM, or the caller's reason." }),
    workflow: Type.Optional(WorkflowName),
  },
  { additionalProperties: false, description: "A transaction in flight when the run was stopped." },
);

export const StepFailed = Type.Object(
  {
    type: Type.Literal("step_failed"),
    txn_id: TxnId,
    step: StepNumber,
    ts_ms: Timestamp,
    attempt: Attempt,
    reason: Type.String({ description: "Why the attempt failed, one of the scenario's reasons." }),
    work_ms: Type.Optional(WorkMs),
    workflow: WorkflowName,
    step_name: StepName,
  },
  { additionalProperties: false, description: "An attempt of a step fails, work_ms after its step_open (scenario runs)." },
);

export const StepRetry = Type.Object(
  {
    type: Type.Literal("step_retry"),
    txn_id: TxnId,
    step: StepNumber,
    ts_ms: Timestamp,
    attempt: Type.Integer({ minimum: 2, description: "The attempt about to start." }),
    backoff_ms: Type.Optional(Millis("Announces: the wait before the retry's step_open. Absent in a blind stream.")),
    workflow: WorkflowName,
    step_name: StepName,
  },
  { additionalProperties: false, description: "A failed step will be tried again after backoff_ms (scenario runs)." },
);

export const TransactionFailed = Type.Object(
  {
    type: Type.Literal("transaction_failed"),
    txn_id: TxnId,
    ts_ms: Timestamp,
    duration_ms: Millis("Failure time minus open time."),
    steps_completed: Type.Integer({ minimum: 0, description: "Steps done before the one that failed." }),
    failed_step: StepNumber,
    reason: Type.String({ description: "The last attempt's failure reason." }),
    attempts: Type.Integer({ minimum: 1, description: "Attempts made of the failed step." }),
    workflow: WorkflowName,
    step_name: StepName,
  },
  { additionalProperties: false, description: "A step failed and ran out of retries: the transaction ends without closing (scenario runs)." },
);

export const WfEvent = Type.Union(
  [TransactionOpen, StepOpen, StepDone, InterStepWait, TransactionClose, TransactionAborted, StepFailed, StepRetry, TransactionFailed],
  {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://wfsim.dev/schema/event.json",
    title: "wfsim event",
    description: "One line of wfsim's JSON Lines output: a transaction lifecycle event.",
  },
);

export type TransactionOpen = Static<typeof TransactionOpen>;
export type StepOpen = Static<typeof StepOpen>;
export type StepDone = Static<typeof StepDone>;
export type InterStepWait = Static<typeof InterStepWait>;
export type TransactionClose = Static<typeof TransactionClose>;
export type TransactionAborted = Static<typeof TransactionAborted>;
export type StepFailed = Static<typeof StepFailed>;
export type StepRetry = Static<typeof StepRetry>;
export type TransactionFailed = Static<typeof TransactionFailed>;
export type WfEvent = Static<typeof WfEvent>;
export type EventType = WfEvent["type"];

export const EVENT_TYPES = [
  "transaction_open",
  "step_open",
  "step_done",
  "inter_step_wait",
  "transaction_close",
  "transaction_aborted",
  "step_failed",
  "step_retry",
  "transaction_failed",
] as const satisfies readonly EventType[];

/** Events about the transaction as a whole; the rest are step events. The Kafka output splits topics on it. */
export function isTransactionEvent(event: WfEvent): boolean {
  return (
    event.type === "transaction_open" ||
    event.type === "transaction_close" ||
    event.type === "transaction_aborted" ||
    event.type === "transaction_failed"
  );
}
