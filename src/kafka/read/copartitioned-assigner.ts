/**
 * The group assignment `analyze --follow --group` needs: partition p of every subscribed topic to
 * the same member, because a transaction's events are on partition p of both topics.
 *
 * @platformatic/kafka's default, `roundRobinAssigner`, deals the partitions of all topics out one by
 * one in a single sequence (topic after topic), so partition p of the second topic goes to member
 * (P + p) mod M where the first topic's goes to p mod M: the same member only when the member count
 * divides the partition count (3 partitions, 2 members: never for partition 0). Its cooperative-
 * sticky assigner balances by partition count without regard to topics either. This one is Kafka's
 * RangeAssignor applied to partition numbers: members sorted by id, member i gets a contiguous
 * range of partition numbers, and with it that partition of every topic.
 *
 * Followers register it under their own protocol name, so a consumer with another assignor cannot
 * join their group (Kafka refuses it: INCONSISTENT_GROUP_PROTOCOL) and break the pairing.
 */
import type { ClusterMetadata, ExtendedGroupProtocolSubscription, GroupAssignment, GroupPartitionsAssignments } from "@platformatic/kafka";

export const COPARTITIONED_PROTOCOL = { name: "wfsim-copartitioned", version: 1 } as const;

/** Which partition numbers member `index` of `members` gets out of `partitions`: a contiguous range. */
export function rangeOf(index: number, members: number, partitions: number): number[] {
  const per = Math.floor(partitions / members);
  const extra = partitions % members;
  const start = index * per + Math.min(index, extra);
  const count = per + (index < extra ? 1 : 0);
  return Array.from({ length: count }, (_, i) => start + i);
}

export function copartitionedAssigner(
  _current: string,
  members: Map<string, ExtendedGroupProtocolSubscription>,
  topics: Set<string>,
  metadata: ClusterMetadata,
): GroupPartitionsAssignments[] {
  const ids = [...members.keys()].sort();
  const names = [...topics].sort();
  const counts = new Map(names.map((name) => [name, metadata.topics.get(name)?.partitionsCount ?? 0]));
  const slots = Math.max(0, ...counts.values());
  return ids.map((memberId, index) => {
    const range = rangeOf(index, ids.length, slots);
    const subscribed = members.get(memberId)?.topics ?? names;
    const assignments = new Map<string, GroupAssignment>();
    for (const name of names) {
      if (!subscribed.includes(name)) continue;
      const count = counts.get(name) ?? 0;
      const partitions = range.filter((p) => p < count);
      if (partitions.length > 0) assignments.set(name, { topic: name, partitions });
    }
    return { memberId, assignments };
  });
}
