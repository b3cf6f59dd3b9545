/**
 * How `wfsim analyze --scenario FILE` reads a shaped stream: for each record type and moment, what in
 * a record tells them apart from the others (its signature: fields whose value is fixed at that
 * moment), and where the lifecycle values the analysis needs are (the fields holding them alone).
 *
 * Worked out before anything is read, and refused in one line when the stream could not be read
 * back: a record type without the transaction id or a millisecond time, two moments a record cannot
 * be told apart by, a moment that would go unseen, a gap whose two waits no record carries.
 */
import type { Scenario } from "../../../config/scenario/model.ts";
import type { LifecycleName } from "../../../config/shape/lifecycle.ts";
import type { Moment, Placeholder, RecordType, Shape, Template, TimeFormat, ValueNode } from "../../../config/shape/model.ts";
import type { EventType } from "../../../events/schema.ts";
import { topicOf } from "../../../config/shape/resolve.ts";
import { WfsimError } from "../../../errors.ts";

/** A field's place and its value's source. */
export type Path = readonly string[];

/** A JSON value a field has at every record of a candidate (its text, for comparison). */
export interface Signature {
  readonly path: Path;
  readonly json: string;
}

/** Lifecycle values whose fields the rebuilder reads (beyond the signature). */
export type ReadName = "txn_id" | "time" | "attempt" | "reason" | "pre_delay_ms" | "work_ms" | "planned_wait_ms" | "backoff_ms" | "duration_ms" | "steps_completed" | "outlier_injected" | "stuck";

const READ_NAMES: readonly ReadName[] = ["txn_id", "time", "attempt", "reason", "pre_delay_ms", "work_ms", "planned_wait_ms", "backoff_ms", "duration_ms", "steps_completed", "outlier_injected", "stuck"];

export interface Candidate {
  readonly record: RecordType;
  readonly moment: Moment;
  /** The first record type of a moment stands for it; records of the others are recognised and skipped. */
  readonly primary: boolean;
  readonly signature: readonly Signature[];
  /** Paths of other fields whose value depends on the record (a variable). */
  readonly variables: readonly Path[];
  /** Where each lifecycle value the rebuilder reads is, when the record carries it alone in a field. */
  readonly fields: Partial<Record<ReadName, Path>>;
  readonly timeFormat: TimeFormat;
  /**
   * Its records' lane: candidates of one lane put a transaction's records on one topic with one key,
   * so on one partition, in the order they were written (a merge of topics cannot reorder them).
   */
  readonly lane: number;
}

export interface ReadPlan {
  readonly candidates: readonly Candidate[];
  readonly shape: Shape;
  readonly scenario: Scenario;
  /** Per workflow, per step (0-based): retries of its failure policy, or -1 without one. */
  readonly retries: readonly (readonly number[])[];
}

/** Moments the rebuilder makes up when no record stands for them: each follows another at the same time. */
const DERIVABLE: readonly EventType[] = ["inter_step_wait", "step_retry", "transaction_close", "transaction_failed"];
/** Values that vary with the moment only, so that a field of them tells moments apart. */
const MOMENT_VALUES: readonly LifecycleName[] = ["record", "event", "workflow", "step", "step_number", "from_step", "to_step"];

export function readPlan(scenario: Scenario): ReadPlan {
  const shape = scenario.output!;
  const source = scenario.source;
  const refuse = (where: string, message: string): never => {
    throw new WfsimError("SCENARIO", `${source}: ${where}: ${message}`);
  };
  const candidates: Candidate[] = [];
  const primaryOf = new Map<string, Candidate>();
  const lanes = new Map<string, number>();
  for (const record of shape.records) {
    for (const moment of record.moments) {
      const key = momentKey(moment);
      const route = `${topicOf(record, scenario.workflows[moment.workflow]!.name)}\u0000${record.key.text}`;
      if (!lanes.has(route)) lanes.set(route, lanes.size);
      const candidate = compileCandidate(record, moment, shape, !primaryOf.has(key), lanes.get(route)!);
      if (candidate.primary) primaryOf.set(key, candidate);
      candidates.push(candidate);
      if (candidate.fields.txn_id === undefined) {
        refuse(record.path, `analyze needs the transaction id in every record: add a field "{txn_id}"`);
      }
      if (candidate.fields.time === undefined) refuse(record.path, `analyze needs the event time in every record: add a field "{time}" or "{time:iso}"`);
      if (candidate.timeFormat === "s") refuse(record.path, `analyze needs event times to the millisecond, and {time:s} has whole seconds: use {time} or {time:iso}`);
    }
  }
  // Two candidates a record could match both of cannot be told apart.
  for (const a of candidates) {
    for (const b of candidates) {
      if (a === b || !couldMatch(a, b)) continue;
      const what = (c: Candidate) => `${c.record.name} at ${describeMoment(c.moment, shape)}`;
      refuse(
        a.record.path,
        `analyze cannot tell ${what(a)} from ${what(b)}: give them a field that differs (a constant, or {record}, {event}, {step})`,
      );
    }
  }
  const retries = scenario.workflows.map((w) => w.steps.map((s) => (s.failure === undefined ? -1 : s.failure.retries)));
  // Every moment a transaction can reach has a record, or follows from one.
  scenario.workflows.forEach((workflow, w) => {
    const need = (event: EventType, step: number) => {
      if (primaryOf.has(momentKey({ event, workflow: w, step })) || DERIVABLE.includes(event)) return;
      refuse(
        "output",
        `analyze needs a record at ${describeMoment({ event, workflow: w, step }, shape)} to follow the transactions (only inter_step_wait, step_retry, transaction_close and transaction_failed may go without one)`,
      );
    };
    need("transaction_open", -1);
    need("transaction_aborted", -1);
    workflow.steps.forEach((step, s) => {
      need("step_open", s);
      need("step_done", s);
      if (step.failure !== undefined) need("step_failed", s);
      if (s === 0) return;
      // The gap before a step is its inter-step wait plus its pre-step wait: one of them must be in a record.
      const open = primaryOf.get(momentKey({ event: "step_open", workflow: w, step: s }))!;
      const wait = primaryOf.get(momentKey({ event: "inter_step_wait", workflow: w, step: s - 1 }));
      if (open.fields.pre_delay_ms === undefined && wait?.fields.planned_wait_ms === undefined) {
        refuse(
          open.record.path,
          `analyze needs the pre-step wait of ${describeMoment(open.moment, shape)}: add a field "{pre_delay_ms}", or a record at the inter_step_wait before it with "{planned_wait_ms}"`,
        );
      }
    });
  });
  return { candidates, shape, scenario, retries };
}

export function momentKey(moment: Moment): string {
  return `${moment.workflow}/${moment.event}/${moment.step}`;
}

export function describeMoment(moment: Moment, shape: Shape): string {
  const workflow = shape.workflows[moment.workflow]!;
  return moment.step < 0 ? `${moment.event} of ${workflow.name}` : `${moment.event} of ${workflow.name}/${workflow.steps[moment.step]}`;
}

/** Whether a record of `b` could match `a`'s signature (then a record of b might be read as a's). */
function couldMatch(a: Candidate, b: Candidate): boolean {
  for (const sig of a.signature) {
    const own = b.signature.find((s) => samePath(s.path, sig.path));
    if (own !== undefined) {
      if (own.json !== sig.json) return false;
      continue;
    }
    if (!b.variables.some((p) => samePath(p, sig.path))) return false;
  }
  return true;
}

function samePath(a: Path, b: Path): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

function compileCandidate(record: RecordType, moment: Moment, shape: Shape, primary: boolean, lane: number): Candidate {
  const signature: Signature[] = [];
  const variables: Path[] = [];
  const fields: Partial<Record<ReadName, Path>> = {};
  let timeFormat: TimeFormat = "ms";
  const walk = (node: ValueNode, path: string[]) => {
    switch (node.kind) {
      case "object":
        for (const field of node.fields) walk(field.value, [...path, field.name]);
        return;
      case "list":
        // Lists are compared whole when fixed, else taken as variables.
        {
          const fixed = fixedJson(node, moment, shape, record);
          if (fixed === undefined) variables.push(path);
          else signature.push({ path, json: fixed });
        }
        return;
      default: {
        const fixed = fixedJson(node, moment, shape, record);
        if (fixed !== undefined) {
          signature.push({ path, json: fixed });
          return;
        }
        variables.push(path);
        if (node.kind === "value" && node.placeholder.source === "lifecycle" && node.placeholder.pad === undefined) {
          const name = node.placeholder.name as ReadName;
          if (READ_NAMES.includes(name) && fields[name] === undefined) {
            fields[name] = path;
            if (name === "time") timeFormat = node.placeholder.time ?? "ms";
          }
        }
      }
    }
  };
  walk(record.value, []);
  return { record, moment, primary, signature, variables, fields, timeFormat, lane };
}

/** The node's JSON text when it is the same at every record of this moment, else undefined. */
function fixedJson(node: ValueNode, moment: Moment, shape: Shape, record: RecordType): string | undefined {
  switch (node.kind) {
    case "constant":
      return JSON.stringify(node.value);
    case "value": {
      const text = fixedText(node.placeholder, moment, shape, record);
      if (text === undefined) return undefined;
      const type = node.type;
      return type === "string" ? JSON.stringify(text) : text;
    }
    case "text": {
      const text = fixedTemplate(node.template, moment, shape, record);
      return text === undefined ? undefined : JSON.stringify(text);
    }
    case "list": {
      const items = node.items.map((item) => fixedJson(item, moment, shape, record));
      return items.some((i) => i === undefined) ? undefined : `[${items.join(",")}]`;
    }
    case "object":
      return undefined;
  }
}

function fixedTemplate(template: Template, moment: Moment, shape: Shape, record: RecordType): string | undefined {
  let text = "";
  for (const part of template.parts) {
    if (typeof part === "string") {
      text += part;
      continue;
    }
    const value = fixedText(part, moment, shape, record);
    if (value === undefined) return undefined;
    text += value;
  }
  return text;
}

function fixedText(placeholder: Placeholder, moment: Moment, shape: Shape, record: RecordType): string | undefined {
  if (placeholder.source !== "lifecycle" || !MOMENT_VALUES.includes(placeholder.name)) return undefined;
  const workflow = shape.workflows[moment.workflow]!;
  const step = moment.step;
  let value: string | number | undefined;
  switch (placeholder.name) {
    case "record":
      value = record.name;
      break;
    case "event":
      value = moment.event;
      break;
    case "workflow":
      value = workflow.name;
      break;
    case "step":
      value = step >= 0 ? workflow.steps[step] : undefined;
      break;
    case "step_number":
      value = step >= 0 ? step + 1 : undefined;
      break;
    case "from_step":
      value = step + 1;
      break;
    case "to_step":
      value = step + 2;
      break;
  }
  if (value === undefined) return undefined;
  const text = String(value);
  return placeholder.pad === undefined ? text : text.padStart(placeholder.pad, "0");
}
