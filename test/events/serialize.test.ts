import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EVENT_TYPES, WfEvent, type WfEvent as Event } from "../../src/events/schema.ts";
import { serializeEvent } from "../../src/events/serialize.ts";
import { LINE_TEMPLATES, templateOf } from "../../src/events/templates.ts";
import { VERSION } from "../../src/version.ts";
import { eventValidator, simulateVirtual } from "../helpers/events.ts";
import { readFileSync } from "node:fs";

const meta = { timezone: "Europe/Berlin", sim_version: VERSION };

/** One event of every type, including awkward strings. */
export const SAMPLE_EVENTS: Event[] = [
  { type: "transaction_open", txn_id: "txn_abc", ts_ms: 1_767_225_600_000, meta },
  { type: "transaction_open", txn_id: "txn_\"quoted\"\\", ts_ms: 0, meta: { timezone: "Asia/Tōkyō ✓", sim_version: "x\ny" } },
  { type: "step_open", txn_id: "txn_abc", step: 1, ts_ms: 1_767_225_600_455, pre_delay_ms: 455 },
  { type: "step_done", txn_id: "txn_abc", step: 12, ts_ms: 9_007_199_254_740_991 },
  { type: "inter_step_wait", txn_id: "t", from_step: 1, to_step: 2, planned_wait_ms: 15_846, outlier_injected: true, ts_ms: 5 },
  { type: "inter_step_wait", txn_id: "t", from_step: 2, to_step: 3, planned_wait_ms: 0, outlier_injected: false, ts_ms: 5 },
  { type: "transaction_close", txn_id: "txn_abc", ts_ms: 1_767_225_610_000, duration_ms: 10_000, steps: 5 },
  { type: "transaction_aborted", txn_id: "txn_abc", ts_ms: -1, duration_ms: 3, steps_completed: 0, reason: "SIGINT \u0001 é" },
  // Scenario runs: the optional fields, present and absent, and the failure events.
  { type: "transaction_open", txn_id: "txn_s", ts_ms: 1, meta, workflow: "checkout", stuck: true },
  { type: "transaction_open", txn_id: "txn_s", ts_ms: 1, meta, workflow: "réfund \"x\"" },
  { type: "step_open", txn_id: "txn_s", step: 2, ts_ms: 2, pre_delay_ms: 40, workflow: "checkout", step_name: "pay", attempt: 3 },
  { type: "step_done", txn_id: "txn_s", step: 2, ts_ms: 3, workflow: "checkout", step_name: "pay", work_ms: 1 },
  { type: "step_done", txn_id: "txn_s", step: 2, ts_ms: 3, workflow: "checkout", step_name: "pay", attempt: 2, work_ms: 0 },
  { type: "inter_step_wait", txn_id: "t", from_step: 1, to_step: 2, planned_wait_ms: 7, ts_ms: 5, workflow: "w" },
  { type: "inter_step_wait", txn_id: "t", from_step: 1, to_step: 2, planned_wait_ms: 7, outlier_injected: false, ts_ms: 5, workflow: "w" },
  { type: "transaction_close", txn_id: "txn_s", ts_ms: 9, duration_ms: 8, steps: 3, workflow: "checkout" },
  { type: "transaction_aborted", txn_id: "txn_s", ts_ms: 9, duration_ms: 8, steps_completed: 1, reason: "SIGINT", workflow: "checkout" },
  { type: "step_failed", txn_id: "txn_s", step: 2, ts_ms: 4, attempt: 1, reason: "gateway timeout", work_ms: 2, workflow: "checkout", step_name: "pay" },
  { type: "step_retry", txn_id: "txn_s", step: 2, ts_ms: 4, attempt: 2, backoff_ms: 200, workflow: "checkout", step_name: "pay" },
  { type: "transaction_failed", txn_id: "txn_s", ts_ms: 9, duration_ms: 8, steps_completed: 1, failed_step: 2, reason: "card \"declined\"", attempts: 3, workflow: "checkout", step_name: "pay" },
];

describe("event definition", () => {
  it("covers every event type once, in the union and in the templates", () => {
    assert.deepEqual(LINE_TEMPLATES.map((t) => t.type), [...EVENT_TYPES]);
    assert.equal(WfEvent.anyOf.length, EVENT_TYPES.length);
  });

  it("carries every field of the reference script under the same name, first, and adds only optional fields", () => {
    const template = (type: string) => LINE_TEMPLATES.find((t) => t.type === type)!;
    const reference: [string, string[]][] = [
      ["transaction_open", ["txn_id", "ts_ms", "meta"]],
      ["step_open", ["txn_id", "step", "ts_ms", "pre_delay_ms"]],
      ["step_done", ["txn_id", "step", "ts_ms"]],
      ["inter_step_wait", ["txn_id", "from_step", "to_step", "planned_wait_ms", "outlier_injected", "ts_ms"]],
      ["transaction_close", ["txn_id", "ts_ms", "duration_ms", "steps"]],
    ];
    for (const [type, fields] of reference) {
      const all = template(type).fields;
      assert.deepEqual(all.slice(0, fields.length).map((f) => f.name), fields, type);
      // outlier_injected is optional since labels may go to a truth file; everything after is scenario-only.
      for (const field of all) {
        if (field.name === "outlier_injected" || !fields.includes(field.name)) assert.ok(field.optional, `${type}.${field.name}`);
      }
    }
  });

  it("keeps VERSION equal to package.json's version", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    assert.equal(VERSION, pkg.version);
  });

  it("refuses a schema whose fields templates cannot write", () => {
    assert.throws(() => templateOf({ properties: { type: { const: "x" }, f: { type: "number" } } }), /cannot write/);
    assert.throws(() => templateOf({ properties: { kind: { type: "string" } } }), /constant `type`/);
  });
});

describe("serializeEvent", () => {
  it("writes exactly what JSON.stringify writes, one line each", () => {
    for (const event of SAMPLE_EVENTS) assert.equal(serializeEvent(event), `${JSON.stringify(event)}\n`);
  });

  it("does so for a whole simulation, and every event matches the schema", async () => {
    const { events } = await simulateVirtual({ samples: 300, outlierProb: 0.3 });
    for (const event of events) {
      assert.equal(serializeEvent(event), `${JSON.stringify(event)}\n`);
      assert.ok(eventValidator.Check(event));
    }
  });

  it("leaves out an optional field that is null (a decoder's absent field), and refuses a required one", () => {
    const decoded = { type: "inter_step_wait", txn_id: "t", from_step: 1, to_step: 2, planned_wait_ms: 5, outlier_injected: null, ts_ms: 5 };
    assert.equal(serializeEvent(decoded as unknown as Event), '{"type":"inter_step_wait","txn_id":"t","from_step":1,"to_step":2,"planned_wait_ms":5,"ts_ms":5}\n');
    assert.throws(() => serializeEvent({ type: "step_done", txn_id: "x", step: null, ts_ms: 1 } as unknown as Event), /lacks its step field/);
  });

  it("refuses an unknown type or a missing field", () => {
    assert.throws(() => serializeEvent({ type: "nope" } as unknown as Event), /unknown event type/);
    assert.throws(() => serializeEvent({ type: "step_done", txn_id: "x", ts_ms: 1 } as unknown as Event), /lacks its step field/);
  });
});

describe("truth records", () => {
  it("round-trip through a line, and a line that is not a record is refused", async () => {
    const { serializeTruth, parseTruthLine } = await import("../../src/events/truth.ts");
    const records = [
      { kind: "outlier", txn_id: "txn_a", ts_ms: 5, from_step: 1, to_step: 2, extra_ms: 15_000 },
      { kind: "outlier", txn_id: "txn_a", ts_ms: 5, from_step: 1, to_step: 2, extra_ms: 15_000, workflow: "w" },
      { kind: "stuck", txn_id: "txn_b", ts_ms: 1, step: 2, step_name: "pay", silent_since_ms: 9, workflow: "w" },
      { kind: "step_failure", txn_id: "txn_c", ts_ms: 3, step: 1, step_name: "a", attempt: 2, reason: "x", final: true, workflow: "w" },
    ] as const;
    for (const record of records) {
      const line = serializeTruth(record);
      assert.ok(line.endsWith("}\n") && !line.slice(0, -1).includes("\n"));
      assert.deepEqual(await parseTruthLine(line), record);
    }
    for (const bad of ["", "{", '{"kind":"outlier"}', '{"kind":"nope","txn_id":"a","ts_ms":1}', "[1]"]) {
      assert.equal(await parseTruthLine(bad), undefined, bad);
    }
  });
});
