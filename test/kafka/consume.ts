// Reading wfsim's topics back and checking them against the JSON Lines of the same seed: every event
// exactly once, on the right topic, keyed by txn_id on the partition Java's partitioner picks, with
// ts_ms as the record timestamp, the event_type header, and each transaction's events in order.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { Admin, Consumer } from "@platformatic/kafka";
import { keyHash } from "../../src/kafka/partition.ts";
import type { ConnectOptions } from "./clients.ts";

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: string;
  value: string;
  /** The value's bytes, for values that are not text (a Schema Registry's wire format). */
  bytes: Buffer;
  timestamp: bigint;
  headers: Map<string, string>;
}

const decode = (data: Buffer | undefined | null): string => (data == null ? "" : data.toString("utf8"));

/**
 * Reads every record of `topics` from the beginning, in a fresh consumer group, until the end
 * offsets seen at the start are reached (or `timeoutMs` passes: then it fails, saying how far it got).
 */
export async function consumeAll(t: TestContext, options: ConnectOptions, topics: readonly string[], timeoutMs = 60_000): Promise<ConsumedRecord[]> {
  const admin = new Admin({ clientId: `wfsim-test-${process.pid}`, ...options });
  t.after(() => admin.close());
  const expected = await endOffsets(admin, topics);
  const total = [...expected.values()].reduce((sum, end) => sum + Number(end), 0);
  const records: ConsumedRecord[] = [];
  if (total === 0) return records;

  const consumer = new Consumer({
    clientId: `wfsim-test-${process.pid}`,
    groupId: `wfsim-test-reader-${randomBytes(6).toString("hex")}`,
    ...options,
  });
  t.after(() => consumer.close(true));
  const stream = await consumer.consume({
    topics: [...topics],
    mode: "earliest",
    autocommit: false,
    maxWaitTime: 200,
    maxBytesPerPartition: 16 * 1024 * 1024,
    highWaterMark: 65_536,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${records.length} of ${total} records of ${topics.join(", ")} in ${timeoutMs} ms`)), timeoutMs);
      stream.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      stream.on("data", (message) => {
        const headers = new Map<string, string>();
        for (const [key, value] of message.headers) headers.set(decode(key), decode(value));
        records.push({
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          key: decode(message.key),
          value: decode(message.value),
          bytes: message.value ?? Buffer.alloc(0),
          timestamp: message.timestamp,
          headers,
        });
        if (records.length >= total) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    await stream.close();
  }
  return records;
}

/** Per "topic:partition", the offset after the last record. */
async function endOffsets(admin: Admin, topics: readonly string[]): Promise<Map<string, bigint>> {
  const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
  const request = topics.map((name) => ({
    name,
    partitions: Array.from({ length: metadata.topics.get(name)?.partitionsCount ?? 0 }, (_, partitionIndex) => ({
      partitionIndex,
      timestamp: -1n,
    })),
  }));
  const answer = await admin.listOffsets({ topics: request });
  const ends = new Map<string, bigint>();
  for (const topic of answer) {
    for (const partition of topic.partitions) ends.set(`${topic.name}:${partition.partitionIndex}`, partition.offset);
  }
  return ends;
}

export interface Expectation {
  /** The JSON Lines of the same run written to stdout, in order. */
  lines: readonly string[];
  topics: { transactions: string; steps: string };
  /** Partition count per topic, to check each record's partition against Java's partitioner. */
  partitions: { transactions: number; steps: number };
}

const TRANSACTION_TYPES = new Set(["transaction_open", "transaction_close", "transaction_aborted", "transaction_failed"]);

/**
 * Every expected line exactly once (no loss, no duplicate), on its topic, keyed by txn_id on the
 * partition murmur2 picks, timestamp = ts_ms, header event_type = type, and per topic each
 * transaction's events in the order of the JSON Lines.
 */
export function assertExactlyOnceInOrder(records: readonly ConsumedRecord[], expectation: Expectation): void {
  const { lines, topics, partitions } = expectation;
  const wanted = new Map<string, number>();
  for (const line of lines) wanted.set(line, (wanted.get(line) ?? 0) + 1);
  const duplicates: string[] = [];
  const unexpected: string[] = [];
  for (const record of records) {
    const left = wanted.get(record.value);
    if (left === undefined) unexpected.push(record.value);
    else if (left === 0) duplicates.push(record.value);
    else wanted.set(record.value, left - 1);
  }
  const missing = [...wanted].filter(([, left]) => left > 0).map(([line]) => line);
  assert.deepEqual(
    { missing: missing.length, duplicates: duplicates.length, unexpected: unexpected.length },
    { missing: 0, duplicates: 0, unexpected: 0 },
    `first missing: ${missing[0]}; first duplicate: ${duplicates[0]}; first unexpected: ${unexpected[0]}`,
  );
  assert.equal(records.length, lines.length);

  for (const record of records) {
    const event = JSON.parse(record.value) as { type: string; txn_id: string; ts_ms: number };
    const transactional = TRANSACTION_TYPES.has(event.type);
    assert.equal(record.topic, transactional ? topics.transactions : topics.steps, `topic of ${record.value}`);
    assert.equal(record.key, event.txn_id, `key of ${record.value}`);
    assert.equal(record.timestamp, BigInt(event.ts_ms), `timestamp of ${record.value}`);
    assert.equal(record.headers.get("event_type"), event.type, `event_type header of ${record.value}`);
    const count = transactional ? partitions.transactions : partitions.steps;
    assert.equal(record.partition, keyHash(Buffer.from(record.key)) % count, `partition of ${record.value}`);
  }

  // Order: per topic, each transaction's records by offset (all on one partition) as in the lines.
  const expectedOrder = groupLines(lines.map((line) => ({ line, topicOf: topicOf(line, topics) })));
  const sorted = [...records].sort((a, b) =>
    a.topic !== b.topic ? a.topic.localeCompare(b.topic) : a.partition !== b.partition ? a.partition - b.partition : Number(a.offset - b.offset),
  );
  const actualOrder = groupLines(sorted.map((record) => ({ line: record.value, topicOf: record.topic })));
  for (const [group, expected] of expectedOrder) {
    assert.deepEqual(actualOrder.get(group), expected, `order of ${group}`);
  }
}

function topicOf(line: string, topics: Expectation["topics"]): string {
  const type = (JSON.parse(line) as { type: string }).type;
  return TRANSACTION_TYPES.has(type) ? topics.transactions : topics.steps;
}

function groupLines(items: readonly { line: string; topicOf: string }[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const { line, topicOf } of items) {
    const group = `${topicOf} ${(JSON.parse(line) as { txn_id: string }).txn_id}`;
    const list = groups.get(group);
    if (list === undefined) groups.set(group, [line]);
    else list.push(line);
  }
  return groups;
}
