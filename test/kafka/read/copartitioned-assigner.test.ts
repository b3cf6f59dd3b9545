/**
 * What @platformatic/kafka's assignors do with two topics, and the co-partitioned one the followers
 * use instead: partition p of both topics to the same member, whatever the member count.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cooperativeStickyAssigner, roundRobinAssigner, type ClusterMetadata, type ExtendedGroupProtocolSubscription, type GroupPartitionsAssignments } from "@platformatic/kafka";
import { copartitionedAssigner, rangeOf } from "../../../src/kafka/read/copartitioned-assigner.ts";

const TOPICS = ["workflow.steps", "workflow.transactions"];

function metadata(partitions: number): ClusterMetadata {
  const topics = new Map(TOPICS.map((name) => [name, { id: name, partitionsCount: partitions, partitions: [] }]));
  return { id: "c", brokers: new Map(), topics, lastUpdate: 0 } as unknown as ClusterMetadata;
}

function members(count: number): Map<string, ExtendedGroupProtocolSubscription> {
  return new Map(Array.from({ length: count }, (_, i) => [`member-${i}`, { memberId: `member-${i}`, version: 1, topics: [...TOPICS] }]));
}

/** Partition numbers whose two topic-partitions went to different members. */
function split(assignments: GroupPartitionsAssignments[], partitions: number): number[] {
  const owner = (topic: string, p: number) => assignments.find((m) => m.assignments.get(topic)?.partitions.includes(p))?.memberId;
  return Array.from({ length: partitions }, (_, p) => p).filter((p) => owner(TOPICS[0]!, p) !== owner(TOPICS[1]!, p));
}

describe("co-partitioned assignment", () => {
  it("@platformatic/kafka's round robin splits partition p of the two topics unless the member count divides the partition count", () => {
    assert.deepEqual(split(roundRobinAssigner("member-0", members(2), new Set(TOPICS), metadata(3)), 3), [0, 1, 2]);
    assert.deepEqual(split(roundRobinAssigner("member-0", members(3), new Set(TOPICS), metadata(4)), 4), [0, 1, 2, 3]);
    assert.deepEqual(split(roundRobinAssigner("member-0", members(2), new Set(TOPICS), metadata(4)), 4), []);
  });

  it("@platformatic/kafka's cooperative sticky assignor balances partitions without regard to topics", () => {
    assert.notDeepEqual(split(cooperativeStickyAssigner("member-0", members(2), new Set(TOPICS), metadata(3)), 3), []);
  });

  it("gives partition p of every topic to one member, in contiguous ranges, for any member count", () => {
    for (const partitions of [1, 3, 4, 6, 7, 12]) {
      for (const count of [1, 2, 3, 5, 8]) {
        const assignments = copartitionedAssigner("member-0", members(count), new Set(TOPICS), metadata(partitions));
        assert.deepEqual(split(assignments, partitions), [], `${partitions} partitions, ${count} members`);
        const owned = assignments.flatMap((m) => m.assignments.get(TOPICS[0]!)?.partitions ?? []).sort((a, b) => a - b);
        assert.deepEqual(owned, Array.from({ length: partitions }, (_, p) => p), "each partition once");
        const sizes = assignments.map((m) => m.assignments.get(TOPICS[0]!)?.partitions.length ?? 0);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced: ${sizes}`);
      }
    }
  });

  it("ranges like Kafka's RangeAssignor: the first members get one more", () => {
    assert.deepEqual([0, 1, 2].map((i) => rangeOf(i, 3, 7)), [[0, 1, 2], [3, 4], [5, 6]]);
    assert.deepEqual([0, 1, 2].map((i) => rangeOf(i, 3, 2)), [[0], [1], []]);
  });
});
