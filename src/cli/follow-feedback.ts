import type { FollowSummary } from "../follow/follow.ts";

const numberFormat = new Intl.NumberFormat("en-US");
const fmt = (value: number) => numberFormat.format(Math.round(value));

/** "0-2, 5": partition numbers as ranges. */
export function formatPartitions(partitions: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < partitions.length; ) {
    let j = i;
    while (j + 1 < partitions.length && partitions[j + 1] === partitions[j]! + 1) j++;
    parts.push(j === i ? `${partitions[i]}` : `${partitions[i]}-${partitions[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

/** The rolling summary a follower writes on stderr, one line every --summary-ms. */
export function formatFollowSummary(summary: FollowSummary): string {
  const parts = [
    `${fmt(summary.eventsPerSecond)} events/s`,
    `${fmt(summary.events)} events`,
    `${fmt(summary.open)} open`,
    `${fmt(summary.alerts)} alert${summary.alerts === 1 ? "" : "s"}`,
    `lag ${summary.lag === null ? "unknown" : `${fmt(summary.lag)} records`}`,
    `event time ${summary.eventTime === null ? "none yet" : new Date(summary.eventTime).toISOString()}`,
  ];
  // A followed file has no partitions (partitionCount 0): nothing to say of them.
  if (summary.partitionCount > 0) {
    const partitions = summary.partitions.length === 0 ? "no partitions" : `partition${summary.partitions.length === 1 ? "" : "s"} ${formatPartitions(summary.partitions)}`;
    parts.push(`${partitions} of ${summary.partitionCount}${summary.group === undefined ? "" : ` (group ${summary.group})`}`);
  }
  return `wfsim analyze: ${parts.join(", ")}\n`;
}
