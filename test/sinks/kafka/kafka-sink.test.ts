import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { Reader, readRecordsBatch } from "@platformatic/kafka";
import { createSimulation } from "../../../src/api/simulate.ts";
import { resolveSimOptions } from "../../../src/config/sim-options.ts";
import { isTransactionEvent, type WfEvent } from "../../../src/events/schema.ts";
import { serializeEvent } from "../../../src/events/serialize.ts";
import { KafkaSink, type KafkaSinkSettings } from "../../../src/sinks/kafka/kafka-sink.ts";
import { keyHash } from "../../../src/kafka/partition.ts";
import { DeliveryError, type PartitionBatch, type RecordSender } from "../../../src/kafka/producer.ts";
import { NO_PRODUCER } from "../../../src/kafka/record-batch.ts";
import { CollectingSink } from "../../helpers/events.ts";

const TOPICS = { transactions: "t.txn", steps: "t.steps" };
const START = 1_767_225_600_000;

/** Records of a batch as the broker would see them. */
function valuesOf(batch: PartitionBatch): string[] {
  return readRecordsBatch(Reader.from(batch.builder.finish(NO_PRODUCER, "none"))).records.map((r) => String(r.value));
}

type Policy = "next-turn" | "manual" | "never" | { reject: unknown } | { turns: number };

/** A stand-in for the producer: remembers what it was given and answers as told. */
class FakeSender implements RecordSender {
  readonly requests: PartitionBatch[][] = [];
  /** Values per "topic:partition", in the order they were sent. */
  readonly sent = new Map<string, string[]>();
  inFlight = 0;
  maxInFlight = 0;
  closed = false;
  readonly lastConnectionError = undefined;
  policy: Policy;
  private release: (() => void)[] = [];

  constructor(policy: Policy) {
    this.policy = policy;
  }

  async send(batches: readonly PartitionBatch[], acknowledged: (batch: PartitionBatch) => void): Promise<void> {
    this.requests.push([...batches]);
    const partitions = batches.map((b) => `${b.topic}:${b.partition}`);
    assert.equal(new Set(partitions).size, partitions.length, "one batch per partition per request");
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const policy = this.policy;
      if (policy === "never") await new Promise(() => {});
      if (policy === "manual") await new Promise<void>((resolve) => this.release.push(resolve));
      if (policy === "next-turn") await nextTurn();
      if (typeof policy === "object" && "turns" in policy) for (let i = 0; i < policy.turns; i++) await nextTurn();
      if (typeof policy === "object" && "reject" in policy) throw policy.reject;
      for (const batch of batches) {
        const key = `${batch.topic}:${batch.partition}`;
        const list = this.sent.get(key) ?? [];
        list.push(...valuesOf(batch));
        this.sent.set(key, list);
        acknowledged(batch);
      }
    } finally {
      this.inFlight--;
    }
  }

  /** Acknowledges the oldest request held by the "manual" policy. */
  acknowledge(): void {
    this.release.shift()?.();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function sinkWith(sender: RecordSender, settings: Partial<KafkaSinkSettings> = {}): KafkaSink {
  return new KafkaSink(sender, {
    topics: TOPICS,
    partitions: { transactions: 2, steps: 3 },
    deliveryTimeoutMs: 10_000,
    ...settings,
  });
}

/** What the events should look like per "topic:partition", in write order. */
function expectedPerPartition(events: readonly WfEvent[], partitions: { transactions: number; steps: number }): Map<string, string[]> {
  const expected = new Map<string, string[]>();
  for (const event of events) {
    const transactional = isTransactionEvent(event);
    const count = transactional ? partitions.transactions : partitions.steps;
    const key = `${transactional ? TOPICS.transactions : TOPICS.steps}:${keyHash(Buffer.from(event.txn_id)) % count}`;
    const list = expected.get(key) ?? [];
    list.push(serializeEvent(event).slice(0, -1));
    expected.set(key, list);
  }
  return expected;
}

async function simulateInto(sink: KafkaSink, samples: number, signal?: AbortSignal): Promise<WfEvent[]> {
  const options = resolveSimOptions({ clock: "virtual", startTime: START, samples, seed: 99 });
  const reference = new CollectingSink();
  await createSimulation(options, { sink: reference }).run();
  await createSimulation(options, { sink, ...(signal === undefined ? {} : { signal }) }).run();
  return reference.events;
}

/** Acknowledges the steps topic's batches, then refuses the request for the transactions topic's. */
class HalfRefusingSender extends FakeSender {
  override async send(batches: readonly PartitionBatch[], acknowledged: (batch: PartitionBatch) => void): Promise<void> {
    for (const batch of batches) if (batch.topic === TOPICS.steps) acknowledged(batch);
    throw new DeliveryError({ topic: TOPICS.transactions, partition: 0, errorCode: 29, errorId: "TOPIC_AUTHORIZATION_FAILED", errorMessage: null, retriable: false });
  }
}

describe("KafkaSink", () => {
  it("sends every event once, each partition's records in write order, one request at a time", async () => {
    const sender = new FakeSender("next-turn");
    const sink = sinkWith(sender, { maxBatchBytes: 4096, maxRequestBytes: 16 * 1024 });
    const events = await simulateInto(sink, 3000);
    const report = await sink.close();
    assert.deepEqual(sender.sent, expectedPerPartition(events, { transactions: 2, steps: 3 }));
    assert.equal(sender.maxInFlight, 1);
    assert.ok(sender.requests.length > 10, `${sender.requests.length} requests`);
    const transactional = events.filter(isTransactionEvent).length;
    assert.deepEqual(report, {
      delivered: { [TOPICS.transactions]: transactional, [TOPICS.steps]: events.length - transactional },
      deliveredTotal: events.length,
      undelivered: 0,
    });
    assert.ok(sender.closed);
  });

  it("holds memory to its high-water mark while the broker is slow, and the engine waits for it", async () => {
    const sender = new FakeSender({ turns: 20 });
    const highWaterBytes = 64 * 1024;
    const maxRequestBytes = 32 * 1024;
    const sink = sinkWith(sender, { maxBatchBytes: 8 * 1024, maxRequestBytes, highWaterBytes });
    let peak = 0;
    let waits = 0;
    const write = sink.write.bind(sink);
    sink.write = (event) => {
      write(event);
      peak = Math.max(peak, sink.buffered.bytes);
    };
    const drain = sink.drain.bind(sink);
    sink.drain = () => {
      waits++;
      return drain();
    };
    const events = await simulateInto(sink, 20_000); // 320,000 events, about 45 MB of records
    const report = await sink.close();
    assert.equal(report.deliveredTotal, events.length);
    // One engine step can overshoot the mark by the events due in the same millisecond.
    assert.ok(peak <= highWaterBytes + maxRequestBytes + 16 * 1024, `peak ${peak} bytes buffered`);
    assert.ok(waits > 100, `the engine waited ${waits} times`);
  });

  it("lets a flushed partial batch leave once the request in flight is acknowledged", async () => {
    const sender = new FakeSender("manual");
    const sink = sinkWith(sender);
    const event = (i: number): WfEvent => ({ type: "step_done", txn_id: `txn_${i}`, step: 1, ts_ms: START + i });
    sink.write(event(1));
    assert.equal(sender.requests.length, 0, "a filling batch waits");
    sink.flush();
    assert.equal(sender.requests.length, 1);
    sink.write(event(2));
    sink.flush();
    assert.equal(sender.requests.length, 1, "one request in flight at a time");
    sender.acknowledge();
    await nextTurn();
    assert.equal(sender.requests.length, 2);
    sender.acknowledge();
    const report = await sink.close();
    assert.equal(report.deliveredTotal, 2);
  });

  it("fails when a request is not acknowledged in time, counting everything not delivered", async () => {
    const sender = new FakeSender("never");
    let failures = 0;
    const sink = sinkWith(sender, { deliveryTimeoutMs: 30, onFailure: () => failures++ });
    for (let i = 0; i < 10; i++) sink.write({ type: "step_done", txn_id: `txn_${i}`, step: 1, ts_ms: START });
    sink.flush();
    sink.write({ type: "step_done", txn_id: "txn_late", step: 1, ts_ms: START });
    const ids = (...more: string[]) => [...Array.from({ length: 10 }, (_, i) => `txn_${i}`), ...more].sort();
    // Before the failure (what a forced exit would lose): the request out and what waits behind it.
    assert.deepEqual([...sink.undeliveredKeys()].sort(), ids("txn_late"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(failures, 1);
    sink.write({ type: "step_done", txn_id: "txn_after", step: 1, ts_ms: START });
    assert.equal(sink.backpressured, false);
    await sink.drain();
    const report = await sink.close();
    assert.equal(report.deliveredTotal, 0);
    assert.equal(report.undelivered, 12);
    assert.match(report.failure?.reason ?? "", /^no acknowledgement within 0\.03 s/);
    // After it: the batches held when it failed, and what was given after.
    assert.deepEqual([...sink.undeliveredKeys()].sort(), ids("txn_after", "txn_late"));
    assert.ok(sender.closed);
  });

  it("counts the batches of a failed request that Kafka did acknowledge as delivered", async () => {
    const sink = sinkWith(new HalfRefusingSender("next-turn"), { partitions: { transactions: 1, steps: 1 } });
    sink.write({ type: "transaction_open", txn_id: "txn_1", ts_ms: START, meta: { timezone: "UTC", sim_version: "0" } });
    sink.write({ type: "step_open", txn_id: "txn_1", step: 1, ts_ms: START, pre_delay_ms: 0 });
    sink.write({ type: "step_done", txn_id: "txn_1", step: 1, ts_ms: START });
    const report = await sink.close();
    assert.deepEqual(report.delivered, { [TOPICS.transactions]: 0, [TOPICS.steps]: 2 });
    assert.equal(report.undelivered, 1);
    assert.match(report.failure?.reason ?? "", /TOPIC_AUTHORIZATION_FAILED/);
    // Its steps were delivered, its open was not: the transaction is listed.
    assert.deepEqual([...sink.undeliveredKeys()], ["txn_1"]);
  });

  it("stops the run with Kafka's reason when a batch is refused", async () => {
    const refusal = new DeliveryError({
      topic: TOPICS.steps,
      partition: 0,
      errorCode: 32,
      errorId: "INVALID_TIMESTAMP",
      errorMessage: "Timestamp 1 of message with offset 0 is out of range.",
      retriable: false,
    });
    const sender = new FakeSender({ reject: refusal });
    const controller = new AbortController();
    const sink = sinkWith(sender, { onFailure: () => controller.abort("Kafka delivery failed") });
    const options = resolveSimOptions({ clock: "virtual", startTime: START, samples: 5000 });
    const summary = await createSimulation(options, { sink, signal: controller.signal }).run();
    const report = await sink.close();
    assert.equal(summary.stopReason, "Kafka delivery failed");
    assert.equal(report.deliveredTotal, 0);
    assert.equal(report.undelivered, summary.events);
    assert.match(report.failure?.reason ?? "", /INVALID_TIMESTAMP.*Timestamp 1 of message/);
  });
});
