// wfsim run --format avro|protobuf|json-schema --schema-registry against a real Apicurio Registry and
// a real broker: schemas registered under <topic>-value, every value in the Confluent wire format,
// decoded by an independent reader with the registry's schema equal to the JSON Lines of the same seed.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { assertExactlyOnceInOrder, consumeAll } from "../kafka/consume.ts";
import { kafkaTarget } from "../kafka/env.ts";
import { closedPort, deleteTopicsAfter, jsonLines, oneLineError, RECENT_START, testTopics, topicFlags } from "../kafka/wfsim.ts";
import { avroSchema } from "../../src/events/wire/avro.ts";
import { topicShapes } from "../../src/events/wire/topic-events.ts";
import { IndependentReader } from "./decode.ts";
import { kafkaAndRegistry } from "./env.ts";

const TIMEOUT_MS = 180_000;
const VIRTUAL = ["--clock", "virtual", "--start-time", RECENT_START];
const { skip, url: registryUrl } = kafkaAndRegistry();

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-registry-test-"))));
after(() => rm(dir, { recursive: true, force: true }));

function plaintext() {
  const { bootstrap } = kafkaTarget("plaintext");
  return { bootstrap: bootstrap.join(","), options: { bootstrapBrokers: bootstrap } };
}

async function subjects(): Promise<string[]> {
  return (await (await fetch(`${registryUrl()}/subjects`)).json()) as string[];
}

describe("wfsim run --format ... --schema-registry", { skip, timeout: TIMEOUT_MS }, () => {
  const SCHEMA_TYPES = { avro: "AVRO", protobuf: "PROTOBUF", "json-schema": "JSON" } as const;
  for (const format of ["avro", "protobuf", "json-schema"] as const) {
    test(`${format}: every record decodes, with the registry's schema, to the JSON line of the same seed`, async (t) => {
      const { bootstrap, options } = plaintext();
      const topics = testTopics(`reg-${format}`);
      deleteTopicsAfter(t, options, topics);
      // Scenario-free flags, with outliers and a blind-free stream: every optional field shows up somewhere.
      const workload = ["--samples", "300", "--concurrency", "20", "--outlier-prob", "0.2", "--seed", "5", ...VIRTUAL];
      const result = await runCli(
        ["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--partitions", "2", "--format", format, "--schema-registry", registryUrl()],
        { timeoutMs: TIMEOUT_MS },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "");
      for (const topic of [topics.transactions, topics.steps]) {
        assert.match(result.stderr, new RegExp(`^wfsim: ${format} schema id \\d+ for subject ${topic}-value at `, "m"));
      }
      const registered = await subjects();
      assert.ok(registered.includes(`${topics.transactions}-value`) && registered.includes(`${topics.steps}-value`), registered.join(","));

      const lines = await jsonLines(workload);
      const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
      const reader = new IndependentReader(registryUrl());
      const ids = new Map<string, Set<number>>();
      const decoded = [];
      for (const record of records) {
        const { schemaId, schemaType, event } = await reader.decode(record.bytes);
        assert.equal(schemaType, SCHEMA_TYPES[format]);
        ids.set(record.topic, (ids.get(record.topic) ?? new Set()).add(schemaId));
        // Field order is the schema's in all three formats, so the decoded event prints as the JSON line.
        decoded.push({ ...record, value: JSON.stringify(event) });
      }
      assert.equal(ids.get(topics.transactions)?.size, 1, "one schema id per topic");
      assert.equal(ids.get(topics.steps)?.size, 1, "one schema id per topic");
      assertExactlyOnceInOrder(decoded, { lines, topics, partitions: { transactions: 2, steps: 2 } });
      assert.ok(lines.some((line) => line.includes('"outlier_injected":true')), "the optional fields were exercised");
    });
  }

  for (const [format, strategy] of [["avro", "topic-record"], ["protobuf", "record"]] as const) {
    test(`${format}, --subject-strategy ${strategy}: a schema per event type under its full name, every record decoding to its JSON line`, async (t) => {
      const { bootstrap, options } = plaintext();
      const topics = testTopics(`reg-${strategy}`);
      deleteTopicsAfter(t, options, topics);
      const workload = ["--samples", "100", "--outlier-prob", "0.2", "--seed", "6", ...VIRTUAL];
      const result = await runCli(
        ["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--partitions", "2", "--format", format, "--subject-strategy", strategy, "--schema-registry", registryUrl()],
        { timeoutMs: TIMEOUT_MS },
      );
      assert.equal(result.code, 0, result.stderr);
      const subjectsUsed = [...result.stderr.matchAll(/schema id \d+ for subject (\S+)/g)].map((m) => m[1]!);
      const full = format === "avro" ? "dev.wfsim.StepOpen" : "wfsim.StepOpen";
      assert.ok(subjectsUsed.includes(strategy === "record" ? full : `${topics.steps}-${full}`), subjectsUsed.join(","));
      assert.equal(subjectsUsed.length, 9, "one subject per event type");
      const lines = await jsonLines(workload);
      const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
      const reader = new IndependentReader(registryUrl());
      const decoded = [];
      for (const record of records) decoded.push({ ...record, value: JSON.stringify((await reader.decode(record.bytes)).event) });
      assertExactlyOnceInOrder(decoded, { lines, topics, partitions: { transactions: 2, steps: 2 } });
    });
  }

  test("a second run with the same schemas reuses their ids", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("reg-again");
    deleteTopicsAfter(t, options, topics);
    const args = ["run", "--samples", "20", ...VIRTUAL, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "avro", "--schema-registry", registryUrl()];
    const first = await runCli(args, { timeoutMs: TIMEOUT_MS });
    const second = await runCli(args, { timeoutMs: TIMEOUT_MS });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    const ids = (text: string) => [...text.matchAll(/schema id (\d+) for subject/g)].map((m) => m[1]);
    assert.deepEqual(ids(second.stderr), ids(first.stderr));
  });

  test("a schema the subject's BACKWARD rule refuses: one line naming the rule, exit 2, nothing sent", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("reg-incompatible");
    deleteTopicsAfter(t, options, topics);
    const subject = `${topics.transactions}-value`;
    const headers = { "content-type": "application/vnd.schemaregistry.v1+json" };
    const other = JSON.stringify({ type: "record", name: "SomethingElse", fields: [{ name: "a", type: "string" }] });
    assert.equal((await fetch(`${registryUrl()}/subjects/${subject}/versions`, { method: "POST", headers, body: JSON.stringify({ schema: other }) })).status, 200);
    assert.equal((await fetch(`${registryUrl()}/config/${subject}`, { method: "PUT", headers, body: JSON.stringify({ compatibility: "BACKWARD" }) })).status, 200);
    const result = await runCli(
      ["run", "--samples", "20", ...VIRTUAL, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "avro", "--schema-registry", registryUrl()],
      { timeoutMs: TIMEOUT_MS },
    );
    const line = oneLineError(result, 2);
    assert.match(line, new RegExp(`refused the AVRO schema for subject ${subject}: incompatible .* under the BACKWARD compatibility rule`));
  });

  test("schema evolution under BACKWARD: one more optional field is a new version; one more required field is refused", async (t) => {
    const { bootstrap, options } = plaintext();
    const headers = { "content-type": "application/vnd.schemaregistry.v1+json" };
    type Record = { name: string; fields: { name: string; default?: unknown }[] };
    // The transactions topic's schema as wfsim derives it, less one field of transaction_close.
    const older = (drop: (field: { name: string; default?: unknown }) => boolean) =>
      (avroSchema(topicShapes("transactions")) as Record[]).map((record) =>
        record.name === "TransactionClose" ? { ...record, fields: record.fields.filter((field) => !drop(field)) } : record,
      );
    const cases = [
      { label: "optional", drop: (f: { name: string }) => f.name === "workflow", accepted: true },
      { label: "required", drop: (f: { name: string }) => f.name === "steps", accepted: false },
    ];
    for (const { label, drop, accepted } of cases) {
      const topics = testTopics(`reg-evolve-${label}`);
      deleteTopicsAfter(t, options, topics);
      const subject = `${topics.transactions}-value`;
      const v1 = await fetch(`${registryUrl()}/subjects/${subject}/versions`, { method: "POST", headers, body: JSON.stringify({ schema: JSON.stringify(older(drop)) }) });
      assert.equal(v1.status, 200);
      const v1Id = ((await v1.json()) as { id: number }).id;
      assert.equal((await fetch(`${registryUrl()}/config/${subject}`, { method: "PUT", headers, body: JSON.stringify({ compatibility: "BACKWARD" }) })).status, 200);
      const result = await runCli(
        ["run", "--samples", "10", ...VIRTUAL, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "avro", "--schema-registry", registryUrl()],
        { timeoutMs: TIMEOUT_MS },
      );
      if (accepted) {
        assert.equal(result.code, 0, result.stderr);
        const id = Number(new RegExp(`schema id (\\d+) for subject ${subject}`).exec(result.stderr)?.[1]);
        assert.notEqual(id, v1Id, "a new schema id");
        const versions = (await (await fetch(`${registryUrl()}/subjects/${subject}/versions`)).json()) as number[];
        assert.equal(versions.length, 2, "registered as the subject's second version");
      } else {
        assert.match(oneLineError(result, 2), new RegExp(`refused the AVRO schema for subject ${subject}: incompatible .* under the BACKWARD compatibility rule`));
      }
    }
  });

  test("an unreachable registry, a URL that is no registry, a bad URL: one line, exit 2", async () => {
    const { bootstrap } = plaintext();
    const base = ["run", "--samples", "5", ...VIRTUAL, "--kafka-bootstrap", bootstrap, "--format", "protobuf"];
    const port = await closedPort();
    const down = oneLineError(await runCli([...base, "--schema-registry", `http://127.0.0.1:${port}/apis/ccompat/v7`]), 2);
    assert.match(down, new RegExp(`cannot reach the Schema Registry at http://127.0.0.1:${port}/apis/ccompat/v7: connection refused`));
    const wrongPath = oneLineError(await runCli([...base, "--schema-registry", registryUrl().replace("/apis/ccompat/v7", "/nothing")]), 2);
    assert.match(wrongPath, /answered 404 .*Confluent-compatible API/);
    const bad = oneLineError(await runCli([...base, "--schema-registry", "localhost:8081"]), 2);
    assert.match(bad, /--schema-registry must be an http:\/\/ or https:\/\/ URL/);
    const creds = oneLineError(await runCli([...base, "--schema-registry", "http://u:p@127.0.0.1:1/x"]), 2);
    assert.match(creds, /must not carry credentials/);
  });
});

describe("wfsim run --format: flag checks before anything is opened", () => {
  test("a registry format needs Kafka and --schema-registry; the registry flags need a registry format", async () => {
    assert.match(oneLineError(await runCli(["run", "--samples", "1", "--format", "json-schema"]), 2), /--format json-schema applies to the Kafka output: add --kafka-bootstrap/);
    assert.match(oneLineError(await runCli(["run", "--samples", "1", "--format", "xml"]), 2), /--format must be one of json, avro, json-schema, protobuf, got "xml"/);
    assert.match(
      oneLineError(await runCli(["run", "--samples", "1", "--kafka-bootstrap", "127.0.0.1:1", "--format", "avro"]), 2),
      /--format avro needs a Schema Registry: add --schema-registry URL/,
    );
    assert.match(
      oneLineError(await runCli(["run", "--samples", "1", "--kafka-bootstrap", "127.0.0.1:1", "--schema-registry", "http://127.0.0.1:1"]), 2),
      /--schema-registry applies to --format avro, json-schema or protobuf/,
    );
  });

  test("credentials come from a file or the environment; a missing one is named", async () => {
    const base = ["run", "--samples", "1", "--kafka-bootstrap", "127.0.0.1:1", "--format", "avro", "--schema-registry", "http://127.0.0.1:1/apis/ccompat/v7"];
    assert.match(
      oneLineError(await runCli([...base, "--schema-registry-user", "alice"], { env: { WFSIM_SCHEMA_REGISTRY_PASSWORD: "" } }), 2),
      /--schema-registry-user needs a password: set WFSIM_SCHEMA_REGISTRY_PASSWORD or add --schema-registry-password-file FILE/,
    );
    const missing = join(dir, "no-such-token");
    assert.match(oneLineError(await runCli([...base, "--schema-registry-token-file", missing]), 2), new RegExp(`--schema-registry-token-file ${missing}: cannot read \\(no such file or directory\\)`));
    const token = join(dir, "token");
    await writeFile(token, "t0ken\n");
    assert.match(
      oneLineError(await runCli([...base, "--schema-registry-user", "alice", "--schema-registry-token-file", token]), 2),
      /--schema-registry-user and --schema-registry-token-file exclude each other/,
    );
  });
});
