import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Reader, readRecordsBatch } from "@platformatic/kafka";
import { keyHash } from "../../../src/kafka/partition.ts";
import { NO_PRODUCER, RecordBatchBuilder } from "../../../src/kafka/record-batch.ts";
import { serializeEvent } from "../../../src/events/serialize.ts";
import { SAMPLE_EVENTS } from "../../events/serialize.test.ts";
import { EventRecords } from "../../../src/sinks/kafka/records.ts";

const meta = { timezone: "UTC", sim_version: "x" };

describe("EventRecords", () => {
  it("keys records by txn_id and sends transaction events to topic 0, step events to topic 1", () => {
    const records = new EventRecords({ transactions: "t", steps: "s" });
    assert.deepEqual(records.topics, ["t", "s"]);
    assert.equal(records.prepare({ type: "transaction_open", txn_id: "txn_a", ts_ms: 1, meta }), 1, "one record per event");
    assert.equal(records.select(0), 0);
    assert.equal(records.hash, keyHash(Buffer.from("txn_a")));
    records.prepare({ type: "step_done", txn_id: "txn_a", step: 1, ts_ms: 2 });
    assert.equal(records.select(0), 1);
    records.prepare({ type: "transaction_close", txn_id: "txn_a", ts_ms: 3, duration_ms: 2, steps: 1 });
    assert.equal(records.select(0), 0);
    assert.equal(records.cachedKeys, 0, "a closed transaction's key is let go");
  });

  it("writes each event's JSON line (without its newline) as the value, malformed records in place, with key, header and timestamp", () => {
    const records = new EventRecords({ transactions: "t", steps: "s" });
    const builder = new RecordBatchBuilder();
    const expected: { key: string; value: string; type: string; ts: number }[] = [];
    for (const [i, event] of SAMPLE_EVENTS.entries()) {
      const malformed = i % 3 === 2;
      if (malformed) records.prepareMalformed(event, `{"broken ✓ ${i}`);
      else records.prepare(event);
      records.select(0);
      records.appendTo(builder);
      expected.push({ key: event.txn_id, value: malformed ? `{"broken ✓ ${i}` : serializeEvent(event).slice(0, -1), type: event.type, ts: event.ts_ms });
    }
    const decoded = readRecordsBatch(Reader.from(builder.finish(NO_PRODUCER, "none")));
    assert.deepEqual(
      decoded.records.map((record) => ({
        key: String(record.key),
        value: String(record.value),
        type: String(record.headers[0]![1]),
        ts: Number(decoded.firstTimestamp + record.timestampDelta),
      })),
      expected,
    );
  });

  it("keeps its key cache bounded when transactions never end (stuck ones)", () => {
    const records = new EventRecords({ transactions: "t", steps: "s" });
    for (let i = 0; i < 200_000; i++) records.prepare({ type: "transaction_open", txn_id: `txn_${i}`, ts_ms: i, meta });
    assert.ok(records.cachedKeys <= 1 << 16, `${records.cachedKeys} keys cached`);
    // A key evicted from the cache still hashes the same when it comes back.
    records.prepare({ type: "step_open", txn_id: "txn_7", step: 1, ts_ms: 9, pre_delay_ms: 0 });
    assert.equal(records.hash, keyHash(Buffer.from("txn_7")));
  });
});
