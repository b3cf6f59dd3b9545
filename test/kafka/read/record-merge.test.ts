/** Merging partition p of both topics back into one stream: order, ties, when a record may go. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DecodedRecords } from "../../../src/kafka/read/batch-decoder.ts";
import { PartitionInput, RANK_END, RANK_OPEN, RANK_STEP, releaseAcross, Slot, type MergeSettings } from "../../../src/kafka/read/record-merge.ts";

const BOUNDED: MergeSettings = { follow: false, mergeWaitMs: Infinity };
const FOLLOW: MergeSettings = { follow: true, mergeWaitMs: 300 };

/** A record named `name` (its value), of transaction `txn`. */
function record(name: string, ts: number, rank: number, offset: number, txn = name.split(":")[0]!, arrived = 0): DecodedRecords {
  const key = Buffer.from(txn);
  const records = new DecodedRecords(Buffer.concat([key, Buffer.from(name)]), 1);
  records.count = 1;
  records.ts[0] = ts;
  records.maxTs = ts;
  records.rank[0] = rank;
  records.offset[0] = offset;
  records.keyStart[0] = 0;
  records.keyEnd[0] = key.length;
  records.valueStart[0] = key.length;
  records.valueEnd[0] = records.buffers[0]!.length;
  records.arrived = arrived;
  return records;
}

function input(topicIndex: number, records: DecodedRecords[], end = records.length): PartitionInput {
  const partition = new PartitionInput(topicIndex === 0 ? "txn" : "steps", 0, topicIndex, 0, end);
  for (const r of records) partition.add(r);
  partition.next = records.length === 0 ? 0 : records.at(-1)!.offset[0]! + 1;
  return partition;
}

function drain(slot: Slot, settings = BOUNDED, now = 0): string[] {
  const out: string[] = [];
  slot.release(settings, now, (_input, r) => out.push(r.value.toString()));
  return out;
}

describe("record merge", () => {
  it("shows the waiting values, oldest first, across fetch answers, without taking them", () => {
    const txn = input(0, [record("a:open", 0, RANK_OPEN, 0), record("b:open", 5, RANK_OPEN, 1), record("a:close", 30, RANK_END, 2)]);
    const seen = () => {
      const values: string[] = [];
      txn.forEachWaiting((bytes, start, end) => values.push(bytes.toString("utf8", start, end)));
      return values;
    };
    assert.deepEqual(seen(), ["a:open", "b:open", "a:close"]);
    assert.equal(txn.take().value.toString(), "a:open");
    assert.deepEqual(seen(), ["b:open", "a:close"]);
    assert.equal(txn.pending, 2, "looking takes nothing");
  });

  it("merges by timestamp, keeping each partition's order", () => {
    const txn = input(0, [record("a:open", 0, RANK_OPEN, 0), record("a:close", 30, RANK_END, 1)]);
    const steps = input(1, [record("a:s1", 10, RANK_STEP, 0), record("a:d1", 20, RANK_STEP, 1)]);
    assert.deepEqual(drain(new Slot(0, [txn, steps])), ["a:open", "a:s1", "a:d1", "a:close"]);
  });

  it("at the same millisecond: steps, then ends, then the opens that replace them", () => {
    // wfsim at t=50: b's last step_done, b's close, then c opens in b's place.
    const txn = input(0, [record("c:open", 50, RANK_OPEN, 0)]);
    const txn2 = new PartitionInput("txn", 1, 0, 0, 1);
    txn2.add(record("b:close", 50, RANK_END, 0));
    txn2.next = 1;
    const steps = input(1, [record("b:done", 50, RANK_STEP, 0)]);
    assert.deepEqual(drain(new Slot(-1, [txn, txn2, steps])), ["b:done", "b:close", "c:open"]);
  });

  it("puts an open before its own transaction's step of the same millisecond", () => {
    // --pre-min 0: step_open 1 at the very millisecond of the open; another transaction's end too.
    const txn = input(0, [record("x:close", 50, RANK_END, 0), record("a:open", 50, RANK_OPEN, 1)]);
    const steps = input(1, [record("a:s1", 50, RANK_STEP, 0), record("a:d1", 50, RANK_STEP, 1)]);
    assert.deepEqual(drain(new Slot(0, [txn, steps])), ["x:close", "a:open", "a:s1", "a:d1"]);
  });

  it("takes first the partition that reaches an end after the fewest opens", () => {
    // Partition 0 holds two opens; partition 1 an open then an end. Closing first keeps the count of
    // transactions open at once where the producer had it.
    const p0 = new PartitionInput("txn", 0, 0, 0, 2);
    p0.add(record("n:open", 7, RANK_OPEN, 0));
    p0.add(record("m:open", 7, RANK_OPEN, 1));
    p0.next = 2;
    const p1 = new PartitionInput("txn", 1, 0, 0, 2);
    p1.add(record("k:open", 7, RANK_OPEN, 0));
    p1.add(record("j:close", 7, RANK_END, 1));
    p1.next = 2;
    assert.deepEqual(drain(new Slot(-1, [p0, p1])), ["k:open", "j:close", "n:open", "m:open"]);
  });

  it("waits for a partition that may still deliver something earlier", () => {
    const txn = input(0, [record("a:open", 0, RANK_OPEN, 0), record("a:close", 30, RANK_END, 1)], 10);
    const steps = input(1, [record("a:s1", 10, RANK_STEP, 0)], 10);
    const slot = new Slot(0, [txn, steps]);
    // steps has shown nothing beyond ts 10 and is not at its end: a:close (ts 30) must wait.
    assert.deepEqual(drain(slot), ["a:open", "a:s1"]);
    steps.add(record("a:d1", 20, RANK_STEP, 1));
    steps.add(record("b:s1", 40, RANK_STEP, 2));
    steps.next = 3;
    assert.deepEqual(drain(slot), ["a:d1", "a:close"]);
  });

  it("following: releases past an idle, caught-up partition after the merge wait", () => {
    const txn = input(0, [record("a:open", 0, RANK_OPEN, 0, "a", 1000)], Infinity);
    const steps = input(1, [], Infinity);
    const slot = new Slot(0, [txn, steps]);
    assert.deepEqual(drain(slot, FOLLOW, 1100), [], "steps not known to be caught up");
    steps.caughtUp = true;
    assert.deepEqual(drain(slot, FOLLOW, 1100), [], "caught up, but the wait has not passed");
    assert.deepEqual(drain(slot, FOLLOW, 1300), ["a:open"]);
    assert.equal(slot.watermark, 0);
  });

  it("replaying: releases only the records below replayUntil, then stops", () => {
    const txn = input(0, [record("a:open", 0, RANK_OPEN, 0), record("b:open", 5, RANK_OPEN, 1)]);
    const steps = input(1, [record("a:s1", 1, RANK_STEP, 0), record("b:s1", 6, RANK_STEP, 1)]);
    txn.replayUntil = 1;
    steps.replayUntil = 1;
    const slot = new Slot(0, [txn, steps]);
    slot.replaying = true;
    assert.deepEqual(drain(slot), ["a:open", "a:s1"]);
    assert.ok(slot.replayDone);
    assert.equal(slot.watermark, -Infinity, "replayed records do not move the watermark");
    slot.replaying = false;
    assert.deepEqual(drain(slot), ["b:open", "b:s1"]);
    assert.deepEqual(slot.positions(), [2, 2]);
  });

  it("releases several slots in one order, without one waiting slot holding the others", () => {
    const a = new Slot(0, [input(0, [record("a:open", 5, RANK_OPEN, 0)], Infinity), input(1, [record("a:s1", 9, RANK_STEP, 0)], Infinity)]);
    const b = new Slot(1, [input(0, [record("b:open", 1, RANK_OPEN, 0)], Infinity), input(1, [record("b:s1", 7, RANK_STEP, 0)], Infinity)]);
    const c = new Slot(2, [input(0, [record("c:open", 0, RANK_OPEN, 0)], 10), input(1, [], 10)]);
    const out: string[] = [];
    releaseAcross([a, b, c], BOUNDED, 0, (_slot, _input, r) => out.push(r.value.toString()));
    // c:open waits: c's steps partition has shown nothing and may still hold an earlier record. a and
    // b go in time order; their steps wait for their transactions partitions to show a later time.
    assert.deepEqual(out, ["b:open", "a:open"]);
  });
});
