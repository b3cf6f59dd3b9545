// --key-format avro against a real Apicurio Registry and a real broker: every record's key is an Avro
// "string" in the Confluent wire format, registered under <topic>-key, and decodes (avsc, with the
// schema fetched by the id in the key) to the transaction id of the JSON Lines of the same seed; the
// partitions are the string keys'; analyze reads the topics back with the figures of the JSON Lines.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import avro from "avsc";
import { runCli } from "../helpers/cli.ts";
import { assertExactlyOnceInOrder, consumeAll, type ConsumedRecord } from "../kafka/consume.ts";
import { randomTopic } from "../kafka/clients.ts";
import { kafkaTarget } from "../kafka/env.ts";
import { deleteTopicsAfter, jsonLines, oneLineError, RECENT_START, testTopics, topicFlags } from "../kafka/wfsim.ts";
import { independentDecode, SHAPE } from "./decode-shaped.ts";
import { IndependentReader } from "./decode.ts";
import { kafkaAndRegistry } from "./env.ts";

const TIMEOUT_MS = 180_000;
const VIRTUAL = ["--clock", "virtual", "--start-time", RECENT_START];
const { skip, url: registryUrl } = kafkaAndRegistry();

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-registry-keys-"))));
after(() => rm(dir, { recursive: true, force: true }));

/** The record's key bytes: the consumer hands them over as UTF-8 text, which is exact for bytes below 0x80 (checked). */
function keyBytes(record: ConsumedRecord): Buffer {
  const bytes = Buffer.from(record.key, "utf8");
  assert.ok(bytes.every((b) => b < 0x80), `key of ${record.topic}@${record.offset} has bytes the test's consumer cannot hand over`);
  return bytes;
}

/** An independent reading of a key: magic byte, id, then the registry's schema for the id with avsc. */
async function decodeKey(bytes: Buffer, schemas: Map<number, avro.Type>): Promise<{ id: number; text: unknown }> {
  assert.equal(bytes[0], 0, "magic byte");
  const id = bytes.readUInt32BE(1);
  let type = schemas.get(id);
  if (type === undefined) {
    const body = (await (await fetch(`${registryUrl()}/schemas/ids/${id}`)).json()) as { schema: string; schemaType?: string };
    assert.equal(body.schemaType ?? "AVRO", "AVRO");
    schemas.set(id, (type = avro.Type.forSchema(JSON.parse(body.schema) as avro.Schema)));
  }
  return { id, text: type.fromBuffer(bytes.subarray(5)) };
}

async function subjectSchema(subject: string): Promise<{ schema: string; id: number }> {
  const res = await fetch(`${registryUrl()}/subjects/${encodeURIComponent(subject)}/versions/latest`);
  assert.equal(res.status, 200, `subject ${subject}`);
  return (await res.json()) as { schema: string; id: number };
}

describe("wfsim run --key-format avro", { skip, timeout: TIMEOUT_MS }, () => {
  test("wfsim's events: keys decode to the txn ids of the JSON Lines, subjects <topic>-key, analyze gives the JSON Lines' figures", async (t) => {
    const { bootstrap } = kafkaTarget("plaintext");
    const options = { bootstrapBrokers: bootstrap };
    const topics = testTopics("reg-key");
    deleteTopicsAfter(t, options, topics);
    const workload = ["--samples", "300", "--concurrency", "20", "--outlier-prob", "0.1", "--seed", "11", ...VIRTUAL];
    const registry = ["--schema-registry", registryUrl()];
    const result = await runCli(
      ["run", ...workload, "--kafka-bootstrap", bootstrap.join(","), ...topicFlags(topics), "--partitions", "3", "--format", "avro", "--key-format", "avro", ...registry],
      { timeoutMs: TIMEOUT_MS },
    );
    assert.equal(result.code, 0, result.stderr);
    const keyIds = new Map<string, number>();
    for (const m of result.stderr.matchAll(/^wfsim: avro key schema id (\d+) for subject (\S+) at /gm)) keyIds.set(m[2]!, Number(m[1]));
    assert.deepEqual([...keyIds.keys()].sort(), [`${topics.transactions}-key`, `${topics.steps}-key`].sort());
    for (const [subject, id] of keyIds) {
      const registered = await subjectSchema(subject);
      assert.equal(registered.id, id);
      assert.equal(avro.Type.forSchema(JSON.parse(registered.schema) as avro.Schema).typeName, "string");
    }

    const lines = await jsonLines(workload);
    const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
    const reader = new IndependentReader(registryUrl());
    const keySchemas = new Map<number, avro.Type>();
    const decoded: ConsumedRecord[] = [];
    for (const record of records) {
      const key = await decodeKey(keyBytes(record), keySchemas);
      assert.equal(key.id, keyIds.get(`${record.topic}-key`));
      const { event } = await reader.decode(record.bytes);
      assert.equal(key.text, event["txn_id"]);
      decoded.push({ ...record, key: String(key.text), value: JSON.stringify(event) });
    }
    // Keys replaced by their decoded text: the JSON Lines, each record on the partition its txn_id's murmur2 picks.
    assertExactlyOnceInOrder(decoded, { lines, topics, partitions: { transactions: 3, steps: 3 } });

    const file = join(dir, "run.jsonl");
    await writeFile(file, `${lines.join("\n")}\n`);
    const fromFile = await runCli(["analyze", file, "--format", "json"], { timeoutMs: TIMEOUT_MS });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const fromKafka = await runCli(["analyze", "--kafka-bootstrap", bootstrap.join(","), ...topicFlags(topics), ...registry, "--format", "json"], { timeoutMs: TIMEOUT_MS });
    assert.equal(fromKafka.code, 0, fromKafka.stderr);
    const { sources: _s, ...expected } = JSON.parse(fromFile.stdout) as Record<string, unknown>;
    const { sources: _t, kafka: _k, ...figures } = JSON.parse(fromKafka.stdout) as Record<string, unknown>;
    assert.deepEqual(figures, expected);
  });

  test("a shaped output, record strategy: keys are the key field's text as an Avro string under <topic>-key", async (t) => {
    const { bootstrap } = kafkaTarget("plaintext");
    const options = { bootstrapBrokers: bootstrap };
    const prefix = randomTopic("shaped-key");
    const file = join(dir, `${prefix}.yaml`);
    await writeFile(file, SHAPE.replaceAll("TOPIC", prefix).replace("  fields:\n    id:", '  key: "k-{txn_id}"\n  fields:\n    id:'));
    const topics = { transactions: `${prefix}.Opened`, steps: `${prefix}.steps` };
    deleteTopicsAfter(t, options, topics);
    const workload = ["--scenario", file, "--samples", "60", "--seed", "4", "--clock", "virtual"];
    const result = await runCli(
      ["run", ...workload, "--kafka-bootstrap", bootstrap.join(","), "--format", "avro", "--subject-strategy", "record", "--key-format", "avro", "--schema-registry", registryUrl()],
      { timeoutMs: TIMEOUT_MS },
    );
    assert.equal(result.code, 0, result.stderr);
    const keySubjects = [...result.stderr.matchAll(/avro key schema id \d+ for subject (\S+)/g)].map((m) => m[1]);
    assert.deepEqual(keySubjects.sort(), [`${topics.transactions}-key`, `${topics.steps}-key`].sort());

    const lines = (await runCli(["run", ...workload, "--quiet"])).stdout.split("\n").filter((line) => line !== "");
    const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
    assert.equal(records.length, lines.length);
    const valueSchemas = new Map<number, string>();
    const keySchemas = new Map<number, avro.Type>();
    const decoded: string[] = [];
    for (const record of records) {
      const id = record.bytes.readUInt32BE(1);
      if (!valueSchemas.has(id)) valueSchemas.set(id, ((await (await fetch(`${registryUrl()}/schemas/ids/${id}`)).json()) as { schema: string }).schema);
      const value = independentDecode(record.bytes, valueSchemas, "avro") as { id: string };
      const key = await decodeKey(keyBytes(record), keySchemas);
      assert.equal(key.text, `k-${value.id}`);
      decoded.push(JSON.stringify(value));
    }
    assert.deepEqual(decoded.sort(), lines.map((line) => JSON.stringify(JSON.parse(line))).sort());
  });

  test("refused in one line where it does not apply, or with a value it does not know", async () => {
    const kafka = ["--kafka-bootstrap", "127.0.0.1:9"];
    const cases = [
      { args: [...kafka, "--key-format", "avro"], want: /^wfsim: --key-format applies to --format avro, json-schema or protobuf; the records are plain JSON without it$/ },
      { args: ["--format", "avro", "--output", join(dir, "x.avro"), "--key-format", "avro"], want: /^wfsim: --key-format applies to the Kafka output, not to --format avro in a file/ },
      { args: [...kafka, "--format", "avro", "--schema-registry", "http://127.0.0.1:9", "--key-format", "protobuf"], want: /^wfsim: --key-format must be one of string, avro, got "protobuf"$/ },
    ];
    for (const { args, want } of cases) {
      assert.match(oneLineError(await runCli(["run", "--samples", "1", "--clock", "virtual", ...args]), 2), want);
    }
  });
});
