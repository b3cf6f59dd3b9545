import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { WfEvent } from "../../src/events/schema.ts";
import { serializeEvent } from "../../src/events/serialize.ts";
import { LINE_TEMPLATES } from "../../src/events/templates.ts";
import { compileTemplate, LineWriter } from "../../src/sinks/fast-jsonl/line-writer.ts";
import { OPS } from "../../src/sinks/fast-jsonl/layout.ts";
import { parseScenario } from "../../src/config/scenario/load.ts";
import { assertSameLines, simulateVirtual } from "../helpers/events.ts";
import { SAMPLE_EVENTS } from "../events/serialize.test.ts";

function writeAll(events: readonly WfEvent[]): { text: string; chunks: number } {
  const chunks: Buffer[] = [];
  const writer = new LineWriter((chunk) => chunks.push(Buffer.from(chunk)));
  for (const event of events) writer.write(event);
  writer.flush();
  return { text: Buffer.concat(chunks).toString("utf8"), chunks: chunks.length };
}

describe("LineWriter (WebAssembly)", () => {
  it("writes byte for byte what serializeEvent writes, awkward strings included", () => {
    const expected = SAMPLE_EVENTS.map(serializeEvent).join("");
    assertSameLines(writeAll(SAMPLE_EVENTS).text, expected);
  });

  it("agrees with serializeEvent over a whole simulation", async () => {
    const { events } = await simulateVirtual({ samples: 3000, outlierProb: 0.2, concurrency: 50 });
    assertSameLines(writeAll(events).text, events.map(serializeEvent).join(""));
  });

  it("agrees with serializeEvent over scenario runs, every event type and optional field included", async () => {
    const scenario = parseScenario(
      [
        "workflows:",
        "  - name: checkout",
        "    pre: { dist: exponential, mean: 100ms }",
        "    outlier: { prob: 0.2, extra: 5s }",
        "    stuck: { prob: 0.05 }",
        "    steps:",
        "      - cart",
        "      - { name: pay, work: { dist: lognormal, median: 50ms, sigma: 1 }, failure: { prob: 0.4, reasons: [timeout, \"card \\\"declined\\\"\", é], retries: 2 } }",
        "  - { name: réfund, steps: [ask, { name: pay, work: 1s }] }",
      ].join("\n"),
    );
    for (const truth of [false, true]) {
      const { events } = await simulateVirtual({ samples: 3000, concurrency: 50, scenario }, { truth });
      const types = new Set(events.map((e) => e.type));
      for (const type of ["step_failed", "step_retry", "transaction_failed"]) assert.ok(types.has(type as WfEvent["type"]), type);
      assertSameLines(writeAll(events).text, events.map(serializeEvent).join(""));
    }
  });

  it("keeps whole lines and their order when strings fill its table and lines fill its output", () => {
    // Long distinct ids exhaust the string area; long reasons force several format calls per batch.
    const events: WfEvent[] = [];
    for (let i = 0; i < 40_000; i++) {
      events.push({
        type: "transaction_aborted",
        txn_id: `txn_${i}_${"x".repeat(200)}`,
        ts_ms: i * 1000,
        duration_ms: i,
        steps_completed: i % 7,
        reason: `r${"é".repeat(i % 50)}`,
      });
    }
    const { text, chunks } = writeAll(events);
    assert.ok(chunks > 1);
    assertSameLines(text, events.map(serializeEvent).join(""));
  });

  it("finds repeated names again across string-table resets, and still appends ids that never repeat", () => {
    // Distinct long ids fill the table every few thousand events; names come from a small set.
    const names = ["cart", "pay", "ship", "é \"quoted\""];
    const events: WfEvent[] = [];
    for (let i = 0; i < 60_000; i++) {
      const txn_id = `txn_${i}_${"y".repeat(100)}`;
      const step_name = names[i % names.length]!;
      events.push({ type: "step_open", txn_id, step: 1, ts_ms: i, pre_delay_ms: 0, workflow: `w${i % 3}`, step_name });
      events.push({ type: "step_done", txn_id: `txn_${(i * 7) % 1000}`, step: 1, ts_ms: i, workflow: "w0", step_name: names[(i + 1) % names.length]! });
    }
    const { text, chunks } = writeAll(events);
    assert.ok(chunks > 1);
    assertSameLines(text, events.map(serializeEvent).join(""));
  });

  it("formats one line at a time (formatOne) as serializeEvent does, across string-table resets", async () => {
    const { events } = await simulateVirtual({ samples: 2000, outlierProb: 0.2, concurrency: 50 });
    // Long distinct ids fill the string table every few thousand lines.
    for (let i = 0; i < 30_000; i++) events.push({ type: "step_done", txn_id: `txn_${i}_${"z".repeat(200)}`, step: 1, ts_ms: i, workflow: "é", step_name: "pay" });
    const writer = new LineWriter<WfEvent>(() => {});
    const lines = writer.lineBytes;
    for (const event of events) {
      const length = writer.formatOne(event);
      assert.equal(lines.toString("utf8", 0, length), serializeEvent(event));
    }
  });

  it("writes negative and large integers like JavaScript does", () => {
    const values = [0, 7, 10, 99, 100, 65_535, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 1e15, 2 ** 53 - 1, -1, -(2 ** 40)];
    const events: WfEvent[] = values.map((ts_ms) => ({ type: "step_done", txn_id: "t", step: 1, ts_ms }));
    assertSameLines(writeAll(events).text, events.map(serializeEvent).join(""));
  });

  it("refuses a string longer than its table", () => {
    const writer = new LineWriter(() => {});
    const huge = { type: "transaction_aborted", txn_id: "t", ts_ms: 0, duration_ms: 0, steps_completed: 0, reason: "x".repeat(5 * 2 ** 20) } as const;
    assert.throws(() => writer.write(huge), /too long/);
  });

  it("compiles templates into bytecode that starts with the constant head and ends the line", () => {
    const { code, bound } = compileTemplate(LINE_TEMPLATES.find((t) => t.type === "step_done")!);
    assert.equal(code[0], OPS.LIT);
    assert.equal(code.at(-1), OPS.END);
    assert.ok(bound >= '{"type":"step_done","txn_id":,"step":,"ts_ms":}\n'.length + 2 * 21);
  });
});
