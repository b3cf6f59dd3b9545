// wfsim against a broker of its own that crashes, stalls or dies in the middle of a run: the run
// completes with every event exactly once, memory stays bounded while the broker stalls, and a
// broker that never comes back is a clear failure with a count.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { Admin } from "@platformatic/kafka";
import { existsSync } from "node:fs";
import { collect, startCli } from "../helpers/cli.ts";
import { pollUntil, PROMETHEUS, startPrometheus, stderrMatch } from "../live/helpers.ts";
import { startBroker, type BrokerHandle } from "./broker.ts";
import type { ConnectOptions } from "./clients.ts";
import { assertExactlyOnceInOrder, consumeAll } from "./consume.ts";
import { kafkaSkip, kafkaTarget } from "./env.ts";
import { count, jsonLines, processUsage, RECENT_START, testTopics, topicFlags, type TestTopics } from "./wfsim.ts";

const TIMEOUT_MS = 240_000;

let broker: BrokerHandle;
let options: ConnectOptions;

/** Resolves once the topics hold at least `records` records: the run is well under way. */
/** Records in both topics now (their end offsets). */
async function recordsInTopics(topics: TestTopics): Promise<number> {
  const admin = new Admin({ clientId: `wfsim-test-${process.pid}`, ...options, retries: 3 });
  try {
    const ends = await admin.listOffsets({
      topics: [topics.transactions, topics.steps].map((name) => ({ name, partitions: [{ partitionIndex: 0, timestamp: -1n }] })),
    });
    return ends.flatMap((topic) => topic.partitions).reduce((sum, p) => sum + Number(p.offset), 0);
  } finally {
    await admin.close();
  }
}

async function recordsWritten(topics: TestTopics, records: number, timeoutMs = 60_000): Promise<void> {
  const admin = new Admin({ clientId: `wfsim-test-${process.pid}`, ...options, retries: 0 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const ends = await admin
        .listOffsets({
          topics: [topics.transactions, topics.steps].map((name) => ({ name, partitions: [{ partitionIndex: 0, timestamp: -1n }] })),
        })
        .catch(() => []);
      const total = ends.flatMap((topic) => topic.partitions).reduce((sum, p) => sum + Number(p.offset), 0);
      if (total >= records) return;
      if (Date.now() > deadline) throw new Error(`only ${total} records written after ${timeoutMs} ms`);
      await sleep(50);
    }
  } finally {
    await admin.close();
  }
}

// The describe's bound covers all its tests together (a broker started for them, seven runs of
// 60,000 transactions against it, some killing it): on a loaded machine more than one test's own.
describe("wfsim against a failing broker", { skip: kafkaSkip("own-broker"), timeout: 3 * TIMEOUT_MS }, () => {
  before(async () => {
    broker = await startBroker(kafkaTarget("own-broker"));
    options = { bootstrapBrokers: [broker.bootstrap.plaintext] };
  });
  after(() => broker?.stop());

  test("a broker killed (SIGKILL) and restarted mid-run: the run completes, nothing lost, nothing twice", async (t) => {
    const topics = testTopics("crash");
    const workload = ["--samples", "60000", "--seed", "21", "--clock", "virtual", "--start-time", RECENT_START];
    const child = startCli(["run", ...workload, "--kafka-bootstrap", broker.bootstrap.plaintext, ...topicFlags(topics)]);
    const done = collect(child, { timeoutMs: TIMEOUT_MS });
    await recordsWritten(topics, 100_000);
    assert.equal(child.exitCode, null, "wfsim is still running when the broker dies");
    await broker.kill();
    await sleep(1000);
    await broker.restart();
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^wfsim: 960,000 events delivered to Kafka/m);

    const records = await consumeAll(t, options, [topics.transactions, topics.steps], 180_000);
    assertExactlyOnceInOrder(records, { lines: await jsonLines(workload), topics, partitions: { transactions: 1, steps: 1 } });
  });

  test("a stalled broker (SIGSTOP): memory stays bounded and the run waits, then completes", async (t) => {
    const topics = testTopics("stall");
    const workload = ["--samples", "60000", "--seed", "22", "--clock", "virtual", "--start-time", RECENT_START];
    const child = startCli(["run", ...workload, "--kafka-bootstrap", broker.bootstrap.plaintext, ...topicFlags(topics)]);
    const done = collect(child, { timeoutMs: TIMEOUT_MS });
    await recordsWritten(topics, 100_000);
    const pid = broker.pid!;
    process.kill(pid, "SIGSTOP");
    let resumed = false;
    t.after(() => {
      if (!resumed) process.kill(pid, "SIGCONT");
    });
    // Let the sink fill up to its high-water mark, then watch the process while the broker stays silent.
    await sleep(1000);
    const start = processUsage(child.pid!);
    let peakRss = start?.rssBytes ?? 0;
    for (let i = 0; i < 40; i++) {
      await sleep(100);
      peakRss = Math.max(peakRss, processUsage(child.pid!)?.rssBytes ?? 0);
    }
    const end = processUsage(child.pid!);
    process.kill(pid, "SIGCONT");
    resumed = true;
    assert.ok(start && end, "wfsim still runs while the broker is stalled");
    // Unbounded, 4 s of a simulation that makes ~500k events/s would buffer hundreds of MB.
    assert.ok(peakRss - start.rssBytes < 48 * 1024 * 1024, `RSS grew from ${start.rssBytes} to ${peakRss} bytes`);
    assert.ok(end.cpuMs - start.cpuMs < 1000, `wfsim used ${end.cpuMs - start.cpuMs} ms of CPU in 4 s: it should be waiting`);

    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    // stderr is no terminal here: the stall and its end are told all the same.
    assert.match(result.stderr, /^wfsim: Kafka delivery stalled for \d+\.\d s: [\d,]+ records waiting \(.*\); retrying until \d\d:\d\d:\d\d UTC \(--kafka-timeout\)$/m);
    assert.match(result.stderr, /^wfsim: Kafka delivery resumed after \d+\.\d s$/m);
    // Told before the summary, which closes the run's account.
    assert.ok(result.stderr.indexOf("delivery resumed") < result.stderr.search(/events to Kafka/), result.stderr);
    const records = await consumeAll(t, options, [topics.transactions, topics.steps], 180_000);
    assertExactlyOnceInOrder(records, { lines: await jsonLines(workload), topics, partitions: { transactions: 1, steps: 1 } });
  });

  test("analyze --kafka-bootstrap when the broker stalls mid-read: one line saying it was lost during the read and how far it had come, exit 2", async (t) => {
    const topics = testTopics("analyze-stall");
    const workload = ["--samples", "100000", "--seed", "24", "--clock", "virtual", "--start-time", RECENT_START];
    const written = await collect(startCli(["run", ...workload, "--kafka-bootstrap", broker.bootstrap.plaintext, ...topicFlags(topics), "--quiet"]), { timeoutMs: TIMEOUT_MS });
    assert.equal(written.code, 0, written.stderr);
    const child = startCli(["analyze", "--kafka-bootstrap", broker.bootstrap.plaintext, ...topicFlags(topics), "--kafka-timeout", "2000", "--format", "json"]);
    const done = collect(child, { timeoutMs: TIMEOUT_MS });
    // Under way: past its start (about 250 ms of CPU), well before the end of 1.6M records (over a second).
    await pollUntil("analyze under way", async () => ((processUsage(child.pid!)?.cpuMs ?? 0) >= 400 ? true : undefined), 60_000, 10);
    const pid = broker.pid!;
    process.kill(pid, "SIGSTOP");
    t.after(() => process.kill(pid, "SIGCONT"));
    const result = await done;
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^wfsim: lost Kafka at [\d.:]+ during the read, [\d,]+ records in: no answer in time \(gave up after 2 s, see --kafka-timeout\)\n$/);
  });

  test("a second signal while the broker stalls: the records not delivered are counted, exit 3 (not 130)", async (t) => {
    const topics = testTopics("second-signal");
    const workload = ["--samples", "60000", "--seed", "23", "--clock", "virtual", "--start-time", RECENT_START];
    const dir = await mkdtemp(join(tmpdir(), "wfsim-undelivered-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const listFile = join(dir, "undelivered.txt");
    const child = startCli(["run", ...workload, "--kafka-bootstrap", broker.bootstrap.plaintext, "--kafka-timeout", "120000", "--undelivered", listFile, ...topicFlags(topics)]);
    const done = collect(child, { timeoutMs: TIMEOUT_MS });
    await recordsWritten(topics, 100_000);
    const pid = broker.pid!;
    process.kill(pid, "SIGSTOP");
    t.after(() => process.kill(pid, "SIGCONT"));
    // The first signal stops the run, which then waits for a broker that does not answer; signals
    // do not queue, so the second is sent once the first has surely been taken.
    child.kill("SIGINT");
    await sleep(1000);
    assert.equal(child.exitCode, null, "the first signal waits for delivery");
    child.kill("SIGINT");
    const result = await done;
    assert.equal(result.code, 3, result.stderr);
    const lost = /^wfsim: stopped at once by a second signal: ([\d,]+) records emitted were not delivered to Kafka/m.exec(result.stderr);
    assert.ok(lost && count(lost[1]) > 0, result.stderr);
    // The transactions those records belong to, listed on the way out.
    const counted = new RegExp(`^wfsim: records of ([\\d,]+) transactions were not all delivered \\(the topics hold them cut short\\): listed in ${listFile}$`, "m").exec(result.stderr);
    assert.ok(counted, result.stderr);
    const listed = (await readFile(listFile, "utf8")).split("\n").filter((line) => line !== "");
    assert.equal(listed.length, count(counted[1]));
    assert.ok(listed.length > 0 && listed.length <= count(lost[1]));
  });

  test("a broker that does not come back: the run fails within --kafka-timeout with a count and the reason, exit 3", async () => {
    const topics = testTopics("gone");
    const child = startCli([
      "run",
      "--samples", "150000",
      "--clock", "virtual",
      "--start-time", RECENT_START,
      "--kafka-bootstrap", broker.bootstrap.plaintext,
      "--kafka-timeout", "3000",
      ...topicFlags(topics),
    ]);
    const done = collect(child, { timeoutMs: TIMEOUT_MS });
    await recordsWritten(topics, 50_000);
    await broker.kill();
    const killed = performance.now();
    const result = await done;
    const seconds = (performance.now() - killed) / 1000;
    await broker.restart(); // for whatever runs next
    assert.equal(result.code, 3, result.stderr);
    assert.ok(seconds < 3 + 10, `failed ${seconds.toFixed(1)} s after the broker died`);
    const delivered = /^wfsim: ([\d,]+) events delivered to Kafka/m.exec(result.stderr);
    const failed = new RegExp(
      `^wfsim: ([\\d,]+) of ([\\d,]+) events were not delivered to Kafka at ${broker.bootstrap.plaintext}: ` +
        "no acknowledgement within 3 s \\(last error: connection refused\\)$",
      "m",
    ).exec(result.stderr);
    assert.ok(delivered && failed, result.stderr);
    assert.equal(count(delivered[1]) + count(failed[1]), count(failed[2]));
    // Every event Kafka acknowledged is in the topics. (More may be: the broker can die after
    // writing a request and before answering it; those count as not delivered, as they must.)
    assert.ok(count(delivered[1]) > 0);
    assert.ok(count(delivered[1]) <= (await recordsInTopics(topics)), "an acknowledged event is missing");
    assert.match(result.stderr, /stopped early by Kafka delivery failed\./);
  });

  test("a broker that does not come back: --undelivered lists exactly the transactions whose records are not all delivered", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "wfsim-undelivered-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const listFile = join(dir, "undelivered.txt");
    const topics = testTopics("undelivered");
    const workload = ["--samples", "60000", "--seed", "24", "--clock", "virtual", "--start-time", RECENT_START];
    const child = startCli(["run", ...workload, "--kafka-bootstrap", broker.bootstrap.plaintext, "--kafka-timeout", "3000", "--undelivered", listFile, ...topicFlags(topics)]);
    const done = collect(child, { timeoutMs: TIMEOUT_MS });
    await recordsWritten(topics, 100_000);
    await broker.kill();
    const result = await done;
    await broker.restart(); // to read back what the topics hold, and for whatever runs next
    assert.equal(result.code, 3, result.stderr);
    const perTopic = new RegExp(`^wfsim: [\\d,]+ events delivered to Kafka at .*: ([\\d,]+) to ${topics.transactions}, ([\\d,]+) to ${topics.steps}\\.$`, "m").exec(result.stderr);
    const counted = new RegExp(`^wfsim: records of ([\\d,]+) transactions were not all delivered \\(the topics hold them cut short\\): listed in ${listFile}$`, "m").exec(result.stderr);
    assert.ok(perTopic && counted, result.stderr);
    const listed = (await readFile(listFile, "utf8")).split("\n").filter((line) => line !== "");
    assert.equal(listed.length, count(counted[1]));
    assert.deepEqual(listed, [...listed].sort(), "sorted, one id a line");
    const undelivered = new Set(listed);
    assert.equal(undelivered.size, listed.length);

    // What the topics hold, against what the run would have made had it gone to its end.
    const records = await consumeAll(t, options, [topics.transactions, topics.steps], 180_000);
    const full = new Map<string, number>();
    for (const line of await jsonLines(workload)) {
      const id = (JSON.parse(line) as { txn_id: string }).txn_id;
      full.set(id, (full.get(id) ?? 0) + 1);
    }
    const held = new Map<string, number>();
    // Records the broker wrote but did not acknowledge before it died (one partition a topic: those
    // past the acknowledged count): delivered after all, and rightly listed as not known to be.
    const unacknowledged = new Set<string>();
    const acknowledged = { [topics.transactions]: count(perTopic[1]), [topics.steps]: count(perTopic[2]) };
    for (const record of records) {
      held.set(record.key, (held.get(record.key) ?? 0) + 1);
      if (record.offset >= BigInt(acknowledged[record.topic]!)) unacknowledged.add(record.key);
    }
    // Every transaction the topics hold cut short is listed (the run was cut: those in flight ended
    // with a transaction_aborted that was never delivered, so they are listed too).
    const cut = [...held].filter(([id, n]) => n < full.get(id)!).map(([id]) => id);
    assert.ok(cut.length > 0, "the kill cut transactions short");
    for (const id of cut) assert.ok(undelivered.has(id), `${id} is cut short in the topics and not listed`);
    // And nothing else: a listed transaction is cut short or absent, or had records written unacknowledged.
    for (const id of undelivered) {
      const n = held.get(id) ?? 0;
      assert.ok(n < full.get(id)! || unacknowledged.has(id), `${id} is listed but all its ${n} records were delivered`);
    }
  });

  // Issue 13's metrics per broker, seen by a real Prometheus. (A retriable refusal cannot be had from
  // the shared broker: Kafka 4's eligible leader replicas ignore a topic's min.insync.replicas; a
  // broker killed mid-run gives a connection refused on its own address.)
  test("--metrics: the retries while the broker is down, by broker and error, as Prometheus scrapes them", { skip: existsSync(PROMETHEUS) ? false : `${PROMETHEUS} not found (apt-get install prometheus)` }, async (t) => {
    const topics = testTopics("retry-metrics");
    const workload = ["--samples", "60000", "--seed", "25", "--clock", "virtual", "--start-time", RECENT_START];
    const child = startCli(["run", ...workload, "--kafka-bootstrap", broker.bootstrap.plaintext, "--metrics", "127.0.0.1:0", ...topicFlags(topics)]);
    const done = collect(child, { timeoutMs: TIMEOUT_MS });
    t.after(() => child.kill("SIGKILL"));
    const target = (await stderrMatch(child, /metrics at http:\/\/(127\.0\.0\.1:\d+)\/metrics/))[1]!;
    const prometheus = await startPrometheus(target);
    t.after(() => prometheus.stop());
    await recordsWritten(topics, 100_000);
    await broker.kill();
    let restarted = false;
    t.after(async () => {
      if (!restarted) await broker.restart();
    });
    const retried = await pollUntil("a retry on the dead broker's address in Prometheus", async () => {
      const samples = await prometheus.query(`wfsim_kafka_retries_total{job="wfsim",address="${broker.bootstrap.plaintext}"}`);
      return samples.some((sample) => sample.value > 0) ? samples : undefined;
    }, 60_000);
    // Asked while the run is scraped (once it has ended, Prometheus marks its series stale).
    const errors = await prometheus.query(`sum(wfsim_kafka_broker_errors_total{job="wfsim"})`);
    await broker.restart();
    restarted = true;
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    for (const sample of retried) {
      assert.match(sample.metric.broker ?? "", /^\d+$/, "the broker's node id");
      assert.match(sample.metric.error ?? "", /^[A-Z_]+$/, "an error name");
    }
    assert.ok((errors[0]?.value ?? 0) > 0, "errors are counted beside the retries");
  });
});
