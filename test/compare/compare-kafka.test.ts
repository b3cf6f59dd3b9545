/**
 * Against the real broker: a pipeline's windowed results read from a Kafka topic (`--actual
 * kafka:TOPIC`) are judged as the same records in a file are; a window the pipeline updated (two
 * records, possibly in different partitions' order) is judged on its last record; a topic that does
 * not exist is one line, exit 2.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { admin, producer, randomTopic } from "../kafka/clients.ts";
import { kafkaSkip } from "../kafka/env.ts";
import { oneLineError } from "../kafka/wfsim.ts";
import { plaintext } from "../follow/helpers.ts";

const TIMEOUT_MS = 60_000;

const golden = (start: number, completed: number) => ({
  window_start_ms: start,
  window_end_ms: start + 60_000,
  window_start: new Date(start).toISOString(),
  opened: completed,
  completed,
  failed: 0,
  aborted: 0,
  stuck: 0,
  in_flight: 0,
  duration_p50_ms: 10,
  duration_p95_ms: 20,
  duration_p99_ms: 30,
  duration_max_ms: 40,
});

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-compare-kafka-test-"))));
after(() => rm(dir, { recursive: true, force: true }));

describe("wfsim compare: the pipeline's output from Kafka", { skip: kafkaSkip(), timeout: TIMEOUT_MS }, () => {
  test("--actual kafka:TOPIC gives the verdicts the same records in a file give", async (t) => {
    const { bootstrap, options } = plaintext();
    const expected = join(dir, "golden.jsonl");
    await writeFile(expected, [golden(0, 5), golden(60_000, 7), golden(120_000, 9)].map((r) => JSON.stringify(r)).join("\n"));
    const output = [
      { window: "1970-01-01T00:00:00Z", count: 2 }, // an early update, replaced by the next one
      { window: "1970-01-01T00:00:00Z", count: 5 },
      { window: "1970-01-01T00:01:00Z", count: 6 },
      { window: "1970-01-01T00:03:00Z", count: 1 },
    ];
    const file = join(dir, "actual.jsonl");
    await writeFile(file, output.map((r) => JSON.stringify(r)).join("\n"));
    const topic = randomTopic("windows");
    t.after(() => admin(t, options).deleteTopics({ topics: [topic] }).catch(() => {}));
    await admin(t, options).createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    await producer(t, options).send({ messages: output.map((record) => ({ topic, key: record.window, value: JSON.stringify(record), partition: 0 })) });

    const flags = ["--expected", expected, "--window-field", "window", "--field", "completed=count"];
    const fromKafka = await runCli(["compare", ...flags, "--actual", `kafka:${topic}`, "--kafka-bootstrap", bootstrap, "--report", join(dir, "kafka.json")]);
    assert.equal(fromKafka.code, 1, fromKafka.stderr);
    const fromFile = await runCli(["compare", ...flags, "--actual", file]);
    assert.equal(fromFile.code, 1, fromFile.stderr);
    const body = (text: string) => text.split("\n").slice(1).join("\n");
    assert.equal(body(fromKafka.stdout), body(fromFile.stdout));
    assert.match(fromKafka.stdout, new RegExp(`actual kafka://${bootstrap}/${topic}`));
    assert.match(fromKafka.stdout, /3 expected, 3 actual \(4 records, 1 earlier updates of a window replaced by later ones\), 2 matched, 1 missing, 1 extra/);
    assert.match(fromKafka.stdout, /1970-01-01T00:01:00.000Z {2}completed: expected 7, actual 6 \(-1\)/);
  });

  test("a topic that does not exist, or no broker named: one line, exit 2", async () => {
    const { bootstrap } = plaintext();
    const expected = join(dir, "golden1.jsonl");
    await writeFile(expected, JSON.stringify(golden(0, 1)));
    const topic = randomTopic("no-windows");
    const missing = await runCli(["compare", "--expected", expected, "--actual", `kafka:${topic}`, "--kafka-bootstrap", bootstrap, "--kafka-timeout", "5000"]);
    assert.equal(oneLineError(missing, 2), `wfsim: --actual kafka:${topic}: no topic ${topic} at Kafka at ${bootstrap}, or not visible to this user`);
    const noBootstrap = await runCli(["compare", "--expected", expected, "--actual", `kafka:${topic}`]);
    assert.equal(oneLineError(noBootstrap, 2), `wfsim: --actual kafka:${topic} reads a Kafka topic: add --kafka-bootstrap HOST:PORT`);
  });
});
