/**
 * The one definition of wfsim's events: their TypeScript types and their JSON Schema come from the same
 * TypeBox declarations, and `serialize.ts` writes them in the same field order.
 *
 * Every field of the seed's reference script is here under the same name and JSON type, so a consumer
 * written for the reference reads wfsim unchanged. Field order follows the reference too.
 */
import Type, { type Static } from "typebox";

const TxnId = Type.String({ minLength: 1, description: "Transaction id, the same on all its events." });
const Timestamp = Type.Integer({ description: "Event time, milliseconds since the Unix epoch." });
const StepNumber = Type.Integer({ minimum: 1, description: "1-based step number." });
const Millis = (description: string) => Type.Integer({ minimum: 0, description });

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
  },
  { additionalProperties: false, description: "A transaction starts." },
);

export const StepOpen = Type.Object(
  {
    type: Type.Literal("step_open"),
    txn_id: TxnId,
    step: StepNumber,
    ts_ms: Timestamp,
    pre_delay_ms: Millis("Wait before this step opened."),
  },
  { additionalProperties: false, description: "A step starts, after its pre-step wait." },
);

export const StepDone = Type.Object(
  {
    type: Type.Literal("step_done"),
    txn_id: TxnId,
    step: StepNumber,
    ts_ms: Timestamp,
  },
  { additionalProperties: false, description: "A step completes." },
);

export const InterStepWait = Type.Object(
  {
    type: Type.Literal("inter_step_wait"),
    txn_id: TxnId,
    from_step: StepNumber,
    to_step: StepNumber,
    planned_wait_ms: Millis("Wait before the next step's pre-step wait begins, outlier included."),
    outlier_injected: Type.Boolean({ description: "Ground truth: this wait carries an injected outlier delay." }),
    ts_ms: Timestamp,
  },
  { additionalProperties: false, description: "The wait between two steps begins." },
);

export const TransactionClose = Type.Object(
  {
    type: Type.Literal("transaction_close"),
    txn_id: TxnId,
    ts_ms: Timestamp,
    duration_ms: Millis("Close time minus open time."),
    steps: Type.Integer({ minimum: 1, description: "Steps the transaction completed." }),
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
  },
  { additionalProperties: false, description: "A transaction in flight when the run was stopped." },
);

export const WfEvent = Type.Union(
  [TransactionOpen, StepOpen, StepDone, InterStepWait, TransactionClose, TransactionAborted],
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
export type WfEvent = Static<typeof WfEvent>;
export type EventType = WfEvent["type"];

export const EVENT_TYPES = [
  "transaction_open",
  "step_open",
  "step_done",
  "inter_step_wait",
  "transaction_close",
  "transaction_aborted",
] as const satisfies readonly EventType[];

/** Events about the transaction as a whole; the rest are step events. The Kafka output splits topics on it. */
export function isTransactionEvent(event: WfEvent): boolean {
  return event.type === "transaction_open" || event.type === "transaction_close" || event.type === "transaction_aborted";
}
