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
];

describe("event definition", () => {
  it("covers every event type once, in the union and in the templates", () => {
    assert.deepEqual(LINE_TEMPLATES.map((t) => t.type), [...EVENT_TYPES]);
    assert.equal(WfEvent.anyOf.length, EVENT_TYPES.length);
  });

  it("carries every field of the reference script under the same name", () => {
    const fields = (type: string) => LINE_TEMPLATES.find((t) => t.type === type)!.fields.map((f) => f.name);
    assert.deepEqual(fields("transaction_open"), ["txn_id", "ts_ms", "meta"]);
    assert.deepEqual(fields("step_open"), ["txn_id", "step", "ts_ms", "pre_delay_ms"]);
    assert.deepEqual(fields("step_done"), ["txn_id", "step", "ts_ms"]);
    assert.deepEqual(fields("inter_step_wait"), ["txn_id", "from_step", "to_step", "planned_wait_ms", "outlier_injected", "ts_ms"]);
    assert.deepEqual(fields("transaction_close"), ["txn_id", "ts_ms", "duration_ms", "steps"]);
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

  it("refuses an unknown type or a missing field", () => {
    assert.throws(() => serializeEvent({ type: "nope" } as unknown as Event), /unknown event type/);
    assert.throws(() => serializeEvent({ type: "step_done", txn_id: "x", ts_ms: 1 } as unknown as Event), /lacks its step field/);
  });
});
