/**
 * For the Kafka input's tests against the real broker: events written to wfsim's topics in time
 * order (simulated background traffic and hand-made transactions, keyed and partitioned as wfsim
 * does), the alerts they must give (computed here, independently of the follower), and followers
 * run as real processes with bounded waits.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import type { TestContext } from "node:test";
import { simulate } from "../../src/api/simulate.ts";
import { serializeEvent } from "../../src/events/serialize.ts";
import { keyHash } from "../../src/kafka/partition.ts";
import { CLI } from "../helpers/cli.ts";
import { admin, producer, type ConnectOptions } from "../kafka/clients.ts";
import { kafkaTarget } from "../kafka/env.ts";
import { deleteTopicsAfter, testTopics, type TestTopics } from "../kafka/wfsim.ts";
import { ev, type Event } from "../analyze/helpers.ts";

export { ev };

export function plaintext(): { bootstrap: string; options: ConnectOptions } {
  const { bootstrap } = kafkaTarget("plaintext");
  return { bootstrap: bootstrap.join(","), options: { bootstrapBrokers: bootstrap } };
}

/** Fresh topics with `partitions` partitions each, deleted after the test. */
export async function freshTopics(t: TestContext, options: ConnectOptions, label: string, partitions: number): Promise<TestTopics> {
  const topics = testTopics(label);
  deleteTopicsAfter(t, options, topics);
  await admin(t, options).createTopics({ topics: [topics.transactions, topics.steps], partitions, replicas: 1 });
  return topics;
}

export function partitionOf(txnId: string, partitions: number): number {
  return keyHash(Buffer.from(txnId)) % partitions;
}

/** `perPartition` transaction ids on each of `partitions` partitions, named `prefix-…`. */
export function idsOnEveryPartition(prefix: string, partitions: number, perPartition: number): string[] {
  const ids: string[] = [];
  const count = new Array<number>(partitions).fill(0);
  for (let i = 0; ids.length < partitions * perPartition; i++) {
    const id = `${prefix}-${i}`;
    const p = partitionOf(id, partitions);
    if (count[p]! < perPartition) {
      count[p]!++;
      ids.push(id);
    }
  }
  return ids;
}

/** A transaction that opens, does its first step, and then nothing: stuck. */
export function stuck(id: string, ts: number): Event[] {
  return [ev.open(id, ts), ev.stepOpen(id, 1, ts + 100, 100), ev.stepDone(id, 1, ts + 100)];
}

/** A one-step transaction that closes `duration` ms after it opened. */
export function lasting(id: string, ts: number, duration: number): Event[] {
  return [ev.open(id, ts), ev.stepOpen(id, 1, ts + 100, 100), ev.stepDone(id, 1, ts + 100), ev.close(id, ts + duration, duration, 1)];
}

/** A one-step transaction whose step fails for good `duration` ms after it opened: it ends then, as a close would. */
export function failing(id: string, ts: number, duration: number): Event[] {
  return [ev.open(id, ts), ev.stepOpen(id, 1, ts + 100, 100), ev.stepFailed(id, 1, ts + duration, 1), ev.failed(id, ts + duration, duration, 1, 1)];
}

/** wfsim's own events (virtual clock, no outliers: every transaction closes within 15 s). */
export async function background(samples: number, startTime: number, seed: number): Promise<Event[]> {
  const events: Event[] = [];
  for await (const event of simulate({ samples, clock: "virtual", startTime, outlierProb: 0, seed })) {
    events.push(JSON.parse(serializeEvent(event)) as Event);
  }
  return events;
}

/** Events sorted by ts_ms, stable: each transaction's events keep their order. */
export function inTimeOrder(...lists: Event[][]): Event[] {
  return lists.flat().sort((a, b) => (a.ts_ms as number) - (b.ts_ms as number));
}

const TRANSACTION_TYPES = new Set(["transaction_open", "transaction_close", "transaction_aborted"]);

/** Writes events as wfsim does: topic by kind, key txn_id, Java's partition, timestamp ts_ms, event_type header. */
export async function produce(t: TestContext, options: ConnectOptions, topics: TestTopics, partitions: number, events: readonly Event[]): Promise<void> {
  const client = producer(t, options);
  const BATCH = 5_000;
  for (let i = 0; i < events.length; i += BATCH) {
    await client.send({
      messages: events.slice(i, i + BATCH).map((event) => {
        const key = event.txn_id as string;
        return {
          topic: TRANSACTION_TYPES.has(event.type as string) ? topics.transactions : topics.steps,
          key,
          value: JSON.stringify(event),
          partition: partitionOf(key, partitions),
          timestamp: BigInt(event.ts_ms as number),
          headers: { event_type: event.type as string },
        };
      }),
    });
  }
}

/**
 * The transactions an event-time follower must alert on: open for longer than `stuckMs` before they
 * end, or, never ending, by the latest time their partition (of both topics) reaches.
 */
export function expectedAlerts(events: readonly Event[], partitions: number, stuckMs: number): Set<string> {
  const first = new Map<string, number>();
  const end = new Map<string, number>();
  const partitionTime = new Array<number>(partitions).fill(-Infinity);
  for (const event of events) {
    const id = event.txn_id as string;
    const ts = event.ts_ms as number;
    if (!first.has(id)) first.set(id, ts);
    if (event.type === "transaction_close" || event.type === "transaction_aborted" || event.type === "transaction_failed") end.set(id, ts);
    const p = partitionOf(id, partitions);
    partitionTime[p] = Math.max(partitionTime[p]!, ts);
  }
  const alerts = new Set<string>();
  for (const [id, since] of first) {
    const until = end.get(id) ?? partitionTime[partitionOf(id, partitions)]!;
    if (until - since > stuckMs) alerts.add(id);
  }
  return alerts;
}

export interface Alert {
  readonly type: string;
  readonly txn_id: string;
  readonly ts_ms: number;
  readonly open_since_ms: number;
  readonly open_for_ms: number;
  readonly stuck_ms: number;
  readonly clock: string;
  readonly partition: number | null;
  readonly last_event: string;
}

/** `wfsim analyze --follow …` as a real process: its alerts, its stderr, bounded waits, signals. */
export class FollowerProcess {
  readonly alerts: Alert[] = [];
  stderr = "";
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private buffered = "";

  constructor(t: TestContext, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [CLI, "analyze", "--follow", ...args], { env: { ...process.env, ...env } });
    this.child.stdin.end();
    this.child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      this.buffered += chunk;
      const lines = this.buffered.split("\n");
      this.buffered = lines.pop()!;
      for (const line of lines) if (line !== "") this.alerts.push(JSON.parse(line) as Alert);
    });
    this.child.stderr.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.closed = new Promise((resolve) => this.child.on("close", (code, signal) => resolve({ code, signal })));
    t.after(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The latest rolling summary's event count (0 before the first). */
  get events(): number {
    const all = [...this.stderr.matchAll(/^wfsim analyze: [\d,]+ events\/s, ([\d,]+) events,/gm)];
    return all.length === 0 ? 0 : Number(all.at(-1)![1]!.replaceAll(",", ""));
  }

  /** Partitions of each assignment received, in order, from the notices on stderr. */
  get assignments(): { generation: number; partitions: number[] }[] {
    return [...this.stderr.matchAll(/^wfsim: group \S+: reading partitions? ([\d, ]+|\(none\)) of \d+ \(generation (\d+)\)/gm)].map((m) => ({
      generation: Number(m[2]),
      partitions: m[1] === "(none)" ? [] : m[1]!.split(", ").map(Number),
    }));
  }

  /** Partitions read at some point. */
  get everRead(): Set<number> {
    return new Set(this.assignments.flatMap((a) => a.partitions));
  }

  async stop(signal: NodeJS.Signals = "SIGINT", timeoutMs = 20_000): Promise<{ code: number | null; stderr: string }> {
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const { code } = await this.closed;
    clearTimeout(timer);
    return { code, stderr: this.stderr };
  }
}

/** Polls `condition` every 100 ms until it holds, or fails after `timeoutMs` saying what it waited for. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000, detail: () => string = () => ""): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}; ${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Alert lines per transaction id, across followers: a duplicate shows as a count above 1. */
export function alertCounts(...followers: FollowerProcess[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const follower of followers) for (const alert of follower.alerts) counts.set(alert.txn_id, (counts.get(alert.txn_id) ?? 0) + 1);
  return counts;
}
