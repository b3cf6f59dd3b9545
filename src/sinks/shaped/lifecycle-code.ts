/**
 * Where each lifecycle value comes from at a given moment, as JavaScript source over the event `e`
 * and the transaction's context `c`: what the generated serializers inline. Values fixed by the
 * moment (its step, the record's name) are constants here, so a serializer does no lookup for them.
 */
import { placeholderKnown, type LifecycleName, type StreamKind } from "../../config/shape/lifecycle.ts";
import type { Emission } from "../../engine/shape/shaper.ts";
import type { Placeholder, Shape } from "../../config/shape/model.ts";

/** A value's source at a moment: a constant, an expression, or unknown there (its field is left out). */
export type ValueCode =
  | { readonly kind: "constant"; readonly value: string | number | boolean }
  | { readonly kind: "expression"; readonly code: string; readonly type: "string" | "integer" | "number" | "boolean"; readonly safeText: boolean }
  | { readonly kind: "unknown" };

const UNKNOWN: ValueCode = { kind: "unknown" };

function expression(code: string, type: "string" | "integer" | "number" | "boolean", safeText = type !== "string"): ValueCode {
  return { kind: "expression", code, type, safeText };
}

/**
 * The raw value (not its JSON) of `placeholder` at `emission`'s moment. `stream` says whether the
 * events carry outlier_injected and stuck, and whether they are blind.
 */
export function valueCode(placeholder: Placeholder, emission: Emission, shape: Shape, stream: StreamKind): ValueCode {
  const { moment, record } = emission;
  const event = moment.event;
  if (placeholder.source === "attribute") {
    const attribute = shape.attributes[placeholder.index]!;
    if (!placeholderKnown({ source: "attribute", scope: attribute.scope }, event)) return UNKNOWN;
    return expression(`c.values[${placeholder.index}]`, attribute.type, attribute.type !== "string");
  }
  const name: LifecycleName = placeholder.name;
  if (!placeholderKnown(placeholder, event, stream)) return UNKNOWN;
  const workflow = shape.workflows[moment.workflow]!;
  const stepIndex = event === "transaction_failed" ? -1 : moment.step;
  switch (name) {
    case "txn_id":
      // wfsim's ids are txn_ and [a-z0-9]: nothing in them needs escaping.
      return expression("e.txn_id", "string", true);
    case "seq":
      return expression("(c.index + 1)", "integer");
    case "workflow":
      return { kind: "constant", value: workflow.name };
    case "record":
      return { kind: "constant", value: record.name };
    case "event":
      return { kind: "constant", value: event };
    case "time":
      switch (placeholder.time) {
        case "s":
          return expression("Math.floor(e.ts_ms / 1000)", "integer");
        case "iso":
          return expression("T.zone.iso(e.ts_ms)", "string", true);
        case "iso_utc":
          return expression("T.isoUtc(e.ts_ms)", "string", true);
        default:
          return expression("e.ts_ms", "integer");
      }
    case "elapsed_ms":
      return expression("(e.ts_ms - c.openedAt)", "integer");
    case "event_seq":
      return expression("c.eventSeq", "integer");
    case "step":
      return stepIndex >= 0 ? { kind: "constant", value: workflow.steps[stepIndex]! } : expression("e.step_name", "string");
    case "step_number":
      return stepIndex >= 0 ? { kind: "constant", value: stepIndex + 1 } : expression("e.failed_step", "integer");
    case "attempt":
      if (event === "step_open" || event === "step_done") return expression("(e.attempt ?? 1)", "integer");
      if (event === "transaction_failed") return expression("e.attempts", "integer");
      return expression("e.attempt", "integer");
    case "reason":
      return expression("e.reason", "string");
    case "pre_delay_ms":
      return expression("e.pre_delay_ms", "integer");
    case "work_ms":
      return expression("(e.work_ms ?? 0)", "integer");
    case "planned_wait_ms":
      return expression("e.planned_wait_ms", "integer");
    case "from_step":
      return { kind: "constant", value: moment.step + 1 };
    case "to_step":
      return { kind: "constant", value: moment.step + 2 };
    case "outlier_injected":
      return expression("e.outlier_injected", "boolean");
    case "backoff_ms":
      return expression("e.backoff_ms", "integer");
    case "duration_ms":
      return expression("e.duration_ms", "integer");
    case "steps_completed":
      return expression(event === "transaction_close" ? "e.steps" : "e.steps_completed", "integer");
    case "stuck":
      return expression("(e.stuck === true)", "boolean");
  }
}
