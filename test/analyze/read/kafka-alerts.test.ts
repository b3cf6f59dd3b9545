/**
 * Against the real broker: alerts read from a topic (`--alerts kafka:TOPIC`) score as the same alerts
 * in a file do, and records deleted before a read (a partition starting past offset 0) are said, for
 * the event topics and for the alerts topic, instead of an empty stream passing for a clean one.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../helpers/cli.ts";
import { admin, producer, randomTopic } from "../../kafka/clients.ts";
import { kafkaSkip } from "../../kafka/env.ts";
import { oneLineError, RECENT_START, topicFlags } from "../../kafka/wfsim.ts";
import { freshTopics, partitionOf, plaintext, produce } from "../../follow/helpers.ts";
import { compact, transaction } from "../helpers.ts";

const TIMEOUT_MS = 60_000;
const T0 = Number(RECENT_START);

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-kafka-alerts-test-"))));
after(() => rm(dir, { recursive: true, force: true }));

describe("wfsim analyze: alerts from Kafka, records deleted before the read", { skip: kafkaSkip(), timeout: TIMEOUT_MS }, () => {
  test("--alerts kafka:TOPIC scores the topic's alerts as the same alerts in a file", async (t) => {
    const { bootstrap, options } = plaintext();
    const events = join(dir, "events.jsonl");
    await writeFile(
      events,
      compact([
        ...transaction("O", T0, [10, 10], [5000], [true]),
        ...transaction("N", T0 + 100, [10, 10], [100]),
        ...transaction("P", T0 + 200, [10, 10], [5000], [true]),
      ]),
    );
    const alerts = [
      { type: "alert", kind: "outlier", txn_id: "O", ts_ms: T0 + 2010 },
      { type: "alert", kind: "outlier", txn_id: "N", ts_ms: T0 + 300 },
      // A pretty-printed value stays one alert.
      { type: "alert", kind: "outlier", txn_id: "P", ts_ms: T0 + 3210 },
    ];
    const file = join(dir, "alerts.jsonl");
    await writeFile(file, alerts.map((alert) => JSON.stringify(alert)).join("\n"));
    const topic = randomTopic("alerts");
    t.after(() => admin(t, options).deleteTopics({ topics: [topic] }).catch(() => {}));
    await admin(t, options).createTopics({ topics: [topic], partitions: 3, replicas: 1 });
    await producer(t, options).send({
      messages: alerts.map((alert, i) => ({
        topic,
        key: alert.txn_id,
        value: i === 2 ? JSON.stringify(alert, null, 2) : JSON.stringify(alert),
        partition: partitionOf(alert.txn_id, 3),
      })),
    });

    const fromKafka = await runCli(["analyze", events, "--alerts", `kafka:${topic}`, "--kafka-bootstrap", bootstrap, "--format", "json"]);
    assert.equal(fromKafka.code, 0, fromKafka.stderr);
    assert.equal(fromKafka.stderr, "");
    const fromFile = await runCli(["analyze", events, "--alerts", file, "--format", "json"]);
    const { source, lines: _lines, ...scores } = JSON.parse(fromKafka.stdout).alerts;
    const { source: _source, lines: _fileLines, ...expected } = JSON.parse(fromFile.stdout).alerts;
    assert.equal(source, `kafka://${bootstrap}/${topic}`);
    assert.deepEqual(scores, expected);
    assert.deepEqual([scores.true_positives, scores.false_positives, scores.by_kind.outlier.precision], [2, 1, 2 / 3]);
  });

  test("an alerts topic that does not exist, or no broker to read it from: one line, exit 2", async () => {
    const { bootstrap } = plaintext();
    const events = join(dir, "one.jsonl");
    await writeFile(events, compact(transaction("N", T0, [10], [])));
    const topic = randomTopic("no-alerts");
    const missing = await runCli(["analyze", events, "--alerts", `kafka:${topic}`, "--kafka-bootstrap", bootstrap, "--kafka-timeout", "5000"]);
    assert.equal(oneLineError(missing, 2), `wfsim: --alerts kafka:${topic}: no topic ${topic} at Kafka at ${bootstrap}, or not visible to this user`);
    const noBootstrap = await runCli(["analyze", events, "--alerts", `kafka:${topic}`]);
    assert.equal(oneLineError(noBootstrap, 2), `wfsim: --alerts kafka:${topic} reads a Kafka topic: add --kafka-bootstrap HOST:PORT`);
    const badName = await runCli(["analyze", events, "--alerts", "kafka:no/such", "--kafka-bootstrap", bootstrap]);
    assert.match(oneLineError(badName, 2), /^wfsim: --alerts kafka:TOPIC's topic must be a Kafka topic name/);
  });

  test("records deleted before the read: said in the report and on stderr, for the events and for the alerts", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = await freshTopics(t, options, "deleted", 1);
    await produce(t, options, topics, 1, [...transaction("gone", T0, [10], []), ...transaction("kept", T0 + 100, [10], [])]);
    // What retention does to old records, done at once: the partitions now start past offset 0.
    await admin(t, options).deleteRecords({
      topics: [
        { name: topics.transactions, partitions: [{ partition: 0, offset: 1n }] },
        { name: topics.steps, partitions: [{ partition: 0, offset: 2n }] },
      ],
    });
    const result = await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "json"]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.kafka.deleted_before_read, 3);
    assert.match(result.stderr, /^wfsim: warning: 3 records had been deleted before this read began \(partitions start past offset 0: retention\.ms/);
    const text = await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics)]);
    assert.match(text.stdout, /^ {2}3 records had been deleted before this read began/m);

    const alertsTopic = randomTopic("deleted-alerts");
    t.after(() => admin(t, options).deleteTopics({ topics: [alertsTopic] }).catch(() => {}));
    await admin(t, options).createTopics({ topics: [alertsTopic], partitions: 1, replicas: 1 });
    await producer(t, options).send({ messages: ["gone", "kept"].map((id) => ({ topic: alertsTopic, key: id, value: JSON.stringify({ txn_id: id, ts_ms: T0 + 200 }) })) });
    await admin(t, options).deleteRecords({ topics: [{ name: alertsTopic, partitions: [{ partition: 0, offset: 1n }] }] });
    const events = join(dir, "kept.jsonl");
    await writeFile(events, compact(transaction("kept", T0 + 100, [10], [])));
    const scored = await runCli(["analyze", events, "--alerts", `kafka:${alertsTopic}`, "--kafka-bootstrap", bootstrap, "--format", "json"]);
    assert.equal(scored.code, 0, scored.stderr);
    assert.equal(
      scored.stderr,
      `wfsim: --alerts kafka:${alertsTopic}: 1 records were deleted from the topic before it was read (retention.ms): those alerts are not scored\n`,
    );
    assert.equal(JSON.parse(scored.stdout).alerts.alerted, 1);
  });
});
