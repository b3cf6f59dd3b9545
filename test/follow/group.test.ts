/**
 * `analyze --follow --group`: followers share the partitions as one consumer group. Together they
 * alert on exactly the stuck transactions, once each, each on its own partitions, while a third one
 * joins and one leaves. The stuck transactions of each phase are read before the rebalance and only
 * become due after it, on whichever follower then holds their partition: that follower must have
 * rebuilt them from the committed hand-over point, and must not repeat the alerts of the others.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { after, before, describe, test, type TestContext } from "node:test";
import { kafkaSkip } from "../kafka/env.ts";
import { RECENT_START, topicFlags, type TestTopics } from "../kafka/wfsim.ts";
import type { Event } from "../analyze/helpers.ts";
import {
  alertCounts,
  background,
  expectedAlerts,
  FollowerProcess,
  freshTopics,
  idsOnEveryPartition,
  inTimeOrder,
  partitionOf,
  plaintext,
  produce,
  stuck,
  waitFor,
} from "./helpers.ts";

const TIMEOUT_MS = 180_000;
const PARTITIONS = 3;
const STUCK_MS = 20_000;

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-group-test-"))));
after(() => rm(dir, { recursive: true, force: true }));

function lastTs(events: readonly Event[]): number {
  return Math.max(...events.map((e) => e.ts_ms as number));
}

/** The latest generation every running follower has applied, with its partitions. */
function settled(followers: readonly FollowerProcess[]): { generation: number; partitions: number[][] } | undefined {
  const latest = followers.map((f) => f.assignments.at(-1));
  if (latest.some((a) => a === undefined)) return undefined;
  const generation = latest[0]!.generation;
  if (latest.some((a) => a!.generation !== generation)) return undefined;
  const all = latest.flatMap((a) => a!.partitions).sort((a, b) => a - b);
  if (all.join() !== Array.from({ length: PARTITIONS }, (_, p) => p).join()) return undefined;
  return { generation, partitions: latest.map((a) => a!.partitions) };
}

describe("wfsim analyze --follow --group", { skip: kafkaSkip(), timeout: TIMEOUT_MS }, () => {
  test("two followers, then a third joining, then one leaving: the union of their alerts is exact, without duplicates", async (t: TestContext) => {
    const { bootstrap, options } = plaintext();
    const topics: TestTopics = await freshTopics(t, options, "group", PARTITIONS);
    const group = `wfsim-test-group-${randomBytes(4).toString("hex")}`;
    const produced: Event[] = [];
    const send = async (events: Event[]) => {
      await produce(t, options, topics, PARTITIONS, events);
      produced.push(...events);
    };
    const followers: FollowerProcess[] = [];
    const start = (name: string) => {
      const follower = new FollowerProcess(t, [
        "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--group", group, "--stuck-ms", String(STUCK_MS), "--summary-ms", "300",
        "--format", "json", "--report", join(dir, `${name}.json`),
      ]);
      followers.push(follower);
      return follower;
    };
    const running = () => followers.filter((f) => f.running);
    const analysed = () => followers.reduce((sum, f) => sum + f.events, 0);
    const alerted = () => new Set(followers.flatMap((f) => f.alerts.map((a) => a.txn_id)));
    const state = () => `analysed ${analysed()} of ${produced.length}\n` + followers.map((f, i) => `F${i + 1}: ${JSON.stringify(f.assignments)} ${f.alerts.length} alerts\n${f.stderr.slice(-600)}`).join("\n");

    // Phase A: stuck transactions early on, and enough traffic after them for them to come due.
    const t0 = Number(RECENT_START);
    const stuckA = idsOnEveryPartition("stuck-a", PARTITIONS, 2);
    await send(inTimeOrder(await background(300, t0, 1), ...stuckA.map((id, i) => stuck(id, t0 + 5_000 + i * 500))));
    const f1 = start("f1");
    const f2 = start("f2");
    await waitFor("two followers sharing the partitions", () => settled(running())?.partitions.every((p) => p.length > 0) === true, 30_000, state);
    await waitFor("phase A's alerts", () => alerted().size >= stuckA.length, 30_000, state);

    // Phase B: stuck transactions read by F1 and F2, not due yet; F3 joins; then the traffic that makes them due.
    const endA = lastTs(produced);
    const stuckB = idsOnEveryPartition("stuck-b", PARTITIONS, 2);
    await send(inTimeOrder(...stuckB.map((id, i) => stuck(id, endA + 1_000 + i * 100))));
    await waitFor("phase B's stuck transactions read", () => analysed() === produced.length, 30_000, state);
    const before = settled(running())!.generation;
    const f3 = start("f3");
    await waitFor("three followers, one partition each", () => {
      const now = settled(running());
      return now !== undefined && now.generation > before && now.partitions.every((p) => p.length === 1);
    }, 30_000, state);
    await send(await background(300, endA + 2_000, 2));
    await waitFor("phase B's alerts", () => alerted().size >= stuckA.length + stuckB.length, 30_000, state);

    // Phase C: stuck transactions read by all three; F2 leaves; then the traffic that makes them due.
    const endB = lastTs(produced);
    const stuckC = idsOnEveryPartition("stuck-c", PARTITIONS, 2);
    await send(inTimeOrder(...stuckC.map((id, i) => stuck(id, endB + 1_000 + i * 100))));
    await waitFor("phase C's stuck transactions read", () => analysed() === produced.length, 30_000, state);
    const leaving = await f2.stop("SIGINT");
    assert.equal(leaving.code, 130, leaving.stderr);
    const beforeLeave = followers.filter((f) => f !== f2).map((f) => f.assignments.at(-1)!.generation);
    await waitFor("two followers again", () => {
      const now = settled(running());
      return now !== undefined && now.generation > Math.max(...beforeLeave);
    }, 30_000, state);
    await send(await background(300, endB + 2_000, 3));
    const expected = expectedAlerts(produced, PARTITIONS, STUCK_MS);
    assert.deepEqual([...expected].sort(), [...stuckA, ...stuckB, ...stuckC].sort());
    await waitFor("phase C's alerts", () => alerted().size >= expected.size, 30_000, state);
    await waitFor("every event analysed", () => analysed() === produced.length, 30_000, state);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const follower of [f1, f3]) {
      const { code, stderr } = await follower.stop("SIGINT");
      assert.equal(code, 130, stderr);
    }

    assert.deepEqual(alerted(), expected, "together, exactly the stuck transactions");
    const duplicates = [...alertCounts(...followers)].filter(([, n]) => n > 1);
    assert.deepEqual(duplicates, [], "each alerted on once, across the group");
    for (const [i, follower] of followers.entries()) {
      for (const alert of follower.alerts) {
        assert.equal(alert.partition, partitionOf(alert.txn_id, PARTITIONS));
        assert.ok(follower.everRead.has(alert.partition!), `F${i + 1} alerted on ${alert.txn_id} of partition ${alert.partition}, which it never read`);
      }
    }
    // Phases B and C were alerted on after a rebalance: some of them by a follower that rebuilt them.
    const reports = await Promise.all(["f1", "f2", "f3"].map(async (name) => JSON.parse(await readFile(join(dir, `${name}.json`), "utf8"))));
    const follow = reports.map((r) => r.kafka.follow);
    assert.ok(follow.reduce((sum, f) => sum + f.adopted, 0) >= 2, JSON.stringify(follow));
    assert.ok(follow.reduce((sum, f) => sum + f.handed_over, 0) >= 2, JSON.stringify(follow));
    assert.equal(follow.reduce((sum, f) => sum + f.alerts, 0), expected.size);
    // Each event was analysed by one follower, and no stream check found anything but the stuck ones.
    assert.equal(reports.reduce((sum, r) => sum + r.events, 0), produced.length);
    for (const report of reports) {
      for (const kind of ["out_of_order", "missing_steps", "duplicates", "close_without_open"]) {
        assert.equal(report.violations[kind].count, 0, `${kind}: ${JSON.stringify(report.violations[kind].examples)}`);
      }
    }
    assert.equal(reports.reduce((sum, r) => sum + r.transactions.completed, 0), 900, "every background transaction completed, in one report");
  });
});
