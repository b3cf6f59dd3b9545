// wfsim analyze --kafka-bootstrap --schema-registry: a run written in Avro, Protobuf or JSON Schema
// reads back with the same figures as the JSON Lines of the same seed: the scoring loop stays closed.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { kafkaTarget } from "../kafka/env.ts";
import { deleteTopicsAfter, jsonLines, oneLineError, RECENT_START, testTopics, topicFlags } from "../kafka/wfsim.ts";
import { kafkaAndRegistry } from "./env.ts";

const TIMEOUT_MS = 180_000;
const VIRTUAL = ["--clock", "virtual", "--start-time", RECENT_START];
const { skip, url: registryUrl } = kafkaAndRegistry();

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-registry-analyze-"))));
after(() => rm(dir, { recursive: true, force: true }));

describe("wfsim analyze --kafka-bootstrap --schema-registry", { skip, timeout: TIMEOUT_MS }, () => {
  const workload = ["--samples", "1500", "--concurrency", "40", "--outlier-prob", "0.05", "--seed", "23", ...VIRTUAL];
  let expected: Record<string, unknown> = {};
  before(async () => {
    if (skip) return;
    const file = join(dir, "run.jsonl");
    await writeFile(file, `${(await jsonLines(workload)).join("\n")}\n`);
    const fromFile = await runCli(["analyze", file, "--format", "json"], { timeoutMs: TIMEOUT_MS });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const { sources: _sources, ...figures } = JSON.parse(fromFile.stdout) as Record<string, unknown>;
    expected = figures;
  });

  for (const format of ["avro", "protobuf", "json-schema"] as const) {
    test(`${format}: the same figures as the JSON Lines of the same seed`, async (t) => {
      const bootstrap = kafkaTarget("plaintext").bootstrap.join(",");
      const topics = testTopics(`reg-analyze-${format}`);
      deleteTopicsAfter(t, { bootstrapBrokers: bootstrap.split(",") }, topics);
      const registry = ["--schema-registry", registryUrl()];
      const published = await runCli(["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--partitions", "3", "--format", format, ...registry, "--quiet"], {
        timeoutMs: TIMEOUT_MS,
      });
      assert.equal(published.code, 0, published.stderr);

      const fromKafka = await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), ...registry, "--format", "json"], { timeoutMs: TIMEOUT_MS });
      assert.equal(fromKafka.code, 0, fromKafka.stderr);
      const { sources: _sources, kafka: _kafka, ...figures } = JSON.parse(fromKafka.stdout) as Record<string, unknown>;
      assert.deepEqual(figures, expected);
      assert.equal(figures["events"], 1500 * 16);

      // Without the registry the values are refused by name, not misread as broken JSON.
      const without = oneLineError(await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics)], { timeoutMs: TIMEOUT_MS }), 2);
      assert.match(without, /holds a value in a Schema Registry's wire format \(schema id \d+\): add --schema-registry URL/);
    });
  }

  test("--schema-registry with files: refused in one line", async () => {
    const file = join(dir, "run.jsonl");
    assert.match(oneLineError(await runCli(["analyze", file, "--schema-registry", registryUrl()]), 2), /--schema-registry applies to reading Kafka/);
  });
});
