/**
 * Lifecycle values: what a shaped record can carry about the transaction and the moment it stands
 * for, by name (`{txn_id}`, `{time:iso}`, `{step}`). Each has a JSON type and the events at which it
 * is known; a record produced at a moment where one of its values is not known leaves that field out.
 */
import { EVENT_TYPES, type EventType } from "../../events/schema.ts";
import type { ValueType } from "./model.ts";

const STEP_EVENTS: readonly EventType[] = ["step_open", "step_done", "step_failed", "step_retry"];
const ALL = EVENT_TYPES;

/**
 * How a value varies: fixed for the whole transaction (what a Kafka key may use), fixed for a moment
 * of a workflow (what a topic may use), or different at every event.
 */
export type Constancy = "transaction" | "moment" | "event";

export interface LifecycleValue {
  readonly type: ValueType;
  readonly at: readonly EventType[];
  readonly constancy: Constancy;
  readonly description: string;
}

export const LIFECYCLE = {
  txn_id: { type: "string", at: ALL, constancy: "transaction", description: "the transaction id, the same on all its records" },
  seq: { type: "integer", at: ALL, constancy: "transaction", description: "the transaction's number, from 1 (its index + 1; unique across --instance)" },
  workflow: { type: "string", at: ALL, constancy: "transaction", description: "the transaction's workflow" },
  record: { type: "string", at: ALL, constancy: "moment", description: "the record's type name" },
  event: { type: "string", at: ALL, constancy: "moment", description: "the lifecycle event the record stands for (step_done, ...)" },
  time: { type: "integer", at: ALL, constancy: "event", description: "the event time: epoch ms; {time:s} whole epoch seconds, {time:iso} ISO-8601 in the scenario's time zone, {time:iso_utc} in UTC" },
  elapsed_ms: { type: "integer", at: ALL, constancy: "event", description: "ms since the transaction opened (its duration so far)" },
  event_seq: { type: "integer", at: ALL, constancy: "event", description: "the lifecycle event's number within its transaction, from 0 (transaction_open)" },
  step: { type: "string", at: [...STEP_EVENTS, "inter_step_wait", "transaction_failed"], constancy: "moment", description: "the step's name (at inter_step_wait, the step just done; at transaction_failed, the failed one)" },
  step_number: { type: "integer", at: [...STEP_EVENTS, "inter_step_wait", "transaction_failed"], constancy: "moment", description: "the step's number, from 1" },
  attempt: { type: "integer", at: [...STEP_EVENTS, "transaction_failed"], constancy: "event", description: "the attempt of the step, from 1 (at step_retry the one about to start; at transaction_failed the attempts made)" },
  reason: { type: "string", at: ["step_failed", "transaction_failed", "transaction_aborted"], constancy: "event", description: "why the attempt failed, or why the run stopped" },
  pre_delay_ms: { type: "integer", at: ["step_open"], constancy: "event", description: "the wait before this step_open" },
  work_ms: { type: "integer", at: ["step_done", "step_failed"], constancy: "event", description: "the attempt's work time" },
  planned_wait_ms: { type: "integer", at: ["inter_step_wait"], constancy: "event", description: "the wait before the next step's pre-step wait, outlier included" },
  from_step: { type: "integer", at: ["inter_step_wait"], constancy: "moment", description: "the step just done" },
  to_step: { type: "integer", at: ["inter_step_wait"], constancy: "moment", description: "the next step" },
  outlier_injected: { type: "boolean", at: ["inter_step_wait"], constancy: "event", description: "ground truth, inline labels only: this wait carries an injected outlier" },
  backoff_ms: { type: "integer", at: ["step_retry"], constancy: "event", description: "the wait before the retry's step_open" },
  duration_ms: { type: "integer", at: ["transaction_close", "transaction_failed", "transaction_aborted"], constancy: "event", description: "end time minus open time" },
  steps_completed: { type: "integer", at: ["transaction_close", "transaction_failed", "transaction_aborted"], constancy: "event", description: "steps done" },
  stuck: { type: "boolean", at: ["transaction_open"], constancy: "event", description: "ground truth, inline labels only: this transaction will go silent" },
} as const satisfies Record<string, LifecycleValue>;

export type LifecycleName = keyof typeof LIFECYCLE;

export const LIFECYCLE_NAMES = Object.keys(LIFECYCLE) as LifecycleName[];

export function isLifecycleName(name: string): name is LifecycleName {
  return Object.hasOwn(LIFECYCLE, name);
}

/** Whether `name` is known at events of type `event`. */
export function knownAt(name: LifecycleName, event: EventType): boolean {
  return (LIFECYCLE[name].at as readonly EventType[]).includes(event);
}

/** Values only inline labels carry: absent when the labels go to a truth file. */
export const LABEL_VALUES: readonly LifecycleName[] = ["outlier_injected", "stuck"];

/**
 * Values a blind stream (`wfsim run --blind`, implied by `--truth`) leaves out, as it leaves them out
 * of wfsim's own events: each tells a wait or a work time that a detector could use before it is over.
 */
export const ANNOUNCING_VALUES: readonly LifecycleName[] = ["pre_delay_ms", "work_ms", "planned_wait_ms", "backoff_ms"];

/** What the run's events carry beyond what every stream carries. */
export interface StreamKind {
  /** The labels ride on the events (no truth file): {outlier_injected} and {stuck} are known. */
  readonly inlineLabels: boolean;
  /** A blind stream: the announcing values are not known, and no inter_step_wait moment comes. */
  readonly blind: boolean;
}

/** wfsim's stream without a truth file: inline labels, nothing left out. */
export const INLINE_STREAM: StreamKind = { inlineLabels: true, blind: false };

export const TRANSACTION_EVENTS: readonly EventType[] = ["transaction_open", "transaction_close", "transaction_aborted", "transaction_failed"];

/** Events at which step attributes are known: those that belong to a step. */
export const STEP_SCOPE_EVENTS: readonly EventType[] = ["step_open", "step_done", "step_failed", "step_retry", "inter_step_wait", "transaction_failed"];

/**
 * Whether a placeholder has a value at events of type `event`: a lifecycle value where it is known
 * (the labels only when they ride inline, the announcing values only in a stream that is not blind),
 * an attribute except a step one outside a step. Where it has none, the field that uses it is left
 * out of the record.
 */
export function placeholderKnown(
  placeholder: { readonly source: "lifecycle"; readonly name: LifecycleName } | { readonly source: "attribute"; readonly scope: string },
  event: EventType,
  stream: StreamKind = INLINE_STREAM,
): boolean {
  if (placeholder.source === "attribute") return placeholder.scope !== "step" || STEP_SCOPE_EVENTS.includes(event);
  if (!knownAt(placeholder.name, event)) return false;
  if (!stream.inlineLabels && LABEL_VALUES.includes(placeholder.name)) return false;
  return !stream.blind || !ANNOUNCING_VALUES.includes(placeholder.name);
}
