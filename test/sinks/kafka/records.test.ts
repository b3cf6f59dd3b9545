import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keyHash } from "../../../src/kafka/partition.ts";
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

  it("keeps its key cache bounded when transactions never end (stuck ones)", () => {
    const records = new EventRecords({ transactions: "t", steps: "s" });
    for (let i = 0; i < 200_000; i++) records.prepare({ type: "transaction_open", txn_id: `txn_${i}`, ts_ms: i, meta });
    assert.ok(records.cachedKeys <= 1 << 16, `${records.cachedKeys} keys cached`);
    // A key evicted from the cache still hashes the same when it comes back.
    records.prepare({ type: "step_open", txn_id: "txn_7", step: 1, ts_ms: 9, pre_delay_ms: 0 });
    assert.equal(records.hash, keyHash(Buffer.from("txn_7")));
  });
});
