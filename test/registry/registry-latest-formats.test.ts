// wfsim run --format protobuf|json-schema --schema-registry-use-latest for wfsim's own events, against
// a real broker and a real Apicurio Registry: each subject's latest version, registered by someone
// else and evolved from wfsim's own schema (one more optional field; for Protobuf, every field
// renumbered and the `type` enum given another number, so the user's numbers must be the ones
// written), is used as it is: every record decodes with it (an independent reader: protobufjs with the
// registry's .proto; for JSON Schema the JSON) to the JSON line of the same seed. A version missing a
// field wfsim writes is refused in one line naming the subject and the field, exit 2, nothing sent;
// wfsim analyze reads the records back (with the same versions) to the figures of the JSON Lines.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { EVENT_TYPES } from "../../src/events/schema.ts";
import { runCli } from "../helpers/cli.ts";
import { assertExactlyOnceInOrder, consumeAll } from "../kafka/consume.ts";
import { kafkaTarget } from "../kafka/env.ts";
import { deleteTopicsAfter, jsonLines, oneLineError, RECENT_START, testTopics, topicFlags } from "../kafka/wfsim.ts";
import { IndependentReader } from "./decode.ts";
import { kafkaAndRegistry } from "./env.ts";

const TIMEOUT_MS = 180_000;
const VIRTUAL = ["--clock", "virtual", "--start-time", RECENT_START];
const HEADERS = { "content-type": "application/vnd.schemaregistry.v1+json" };
const { skip, url: registryUrl } = kafkaAndRegistry();

type JsonNode = { anyOf: { properties: Record<string, { const?: string }>; required: string[] }[] };

let ownProto = "";
let ownJson = "";
let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wfsim-registry-latest-formats-"));
  // wfsim's own schemas as a user gets them.
  const proto = await runCli(["schema", "--format", "protobuf"]);
  assert.equal(proto.code, 0, proto.stderr);
  ownProto = proto.stdout;
  assert.match(renumbered(ownProto), /string txn_id = 12;/, "the fields renumbered");
  const json = await runCli(["schema"]);
  assert.equal(json.code, 0, json.stderr);
  ownJson = json.stdout;
});

after(() => rm(dir, { recursive: true, force: true }));

function plaintext() {
  const { bootstrap } = kafkaTarget("plaintext");
  return { bootstrap: bootstrap.join(","), options: { bootstrapBrokers: bootstrap } };
}

/** Registers `schema` under `subject` as another team would (plain HTTP), and returns its id. */
async function register(subject: string, schemaType: "PROTOBUF" | "JSON", schema: string): Promise<number> {
  const answer = await fetch(`${registryUrl()}/subjects/${subject}/versions`, { method: "POST", headers: HEADERS, body: JSON.stringify({ schemaType, schema }) });
  assert.equal(answer.status, 200, await answer.clone().text());
  return ((await answer.json()) as { id: number }).id;
}

/** wfsim's .proto with `change` applied to the text of message `name` (up to the blank line after it). */
function protoChanged(name: string, change: (message: string) => string): string {
  const start = ownProto.indexOf(`message ${name} {`);
  assert.ok(start >= 0, `message ${name} in wfsim schema --format protobuf`);
  const end = ownProto.indexOf("\n}\n", start) + 3;
  return ownProto.slice(0, start) + change(ownProto.slice(start, end)) + ownProto.slice(end);
}

/** Every field number plus 10 (nested messages too): the user's numbers are not wfsim's. */
function renumbered(proto: string): string {
  return proto.replace(/^(\s+(?:optional )?\w+ \w+ = )(\d+);$/gm, (_, head: string, n: string) => `${head}${Number(n) + 10};`);
}

/** wfsim's JSON Schema with `change` applied to the branch of event type `type`. */
function jsonChanged(type: string, change: (branch: JsonNode["anyOf"][number]) => void): string {
  const schema = JSON.parse(ownJson) as JsonNode;
  const branch = schema.anyOf.find((b) => b.properties["type"]?.const === type);
  assert.ok(branch !== undefined, `a branch for ${type}`);
  change(branch);
  return JSON.stringify(schema);
}

const FORMATS = [
  {
    format: "protobuf",
    schemaType: "PROTOBUF",
    // TransactionOpen: one more optional field, on the number 1 the others left free, and `type` as 3 in its enum.
    evolved: () =>
      protoChanged("TransactionOpen", (message) =>
        renumbered(message)
          .replace("enum Type { transaction_open = 0; }", "enum Type { TYPE_UNSPECIFIED = 0; transaction_open = 3; }")
          .replace("message TransactionOpen {\n", "message TransactionOpen {\n  optional string region = 1;\n"),
      ),
    steps: () => renumbered(ownProto),
    missingSteps: () => protoChanged("TransactionClose", (message) => message.replace(/^\s+int64 steps = \d+;\n/m, "")),
    missingMessage: "it has no field steps",
    // TransactionOpen's optional `stuck` made always present, and ts_ms as a string.
    refusals: () => [
      { schema: protoChanged("TransactionOpen", (message) => message.replace("optional bool stuck", "bool stuck")), why: "its field stuck has no presence (proto3 optional), so wfsim's absent stuck would read as its default" },
      { schema: protoChanged("TransactionOpen", (message) => message.replace("int64 ts_ms", "string ts_ms")), why: "its field ts_ms is string, which does not hold int64" },
    ],
  },
  {
    format: "json-schema",
    schemaType: "JSON",
    evolved: () => jsonChanged("transaction_open", (branch) => void (branch.properties["region"] = { type: "string" } as never)),
    steps: () => ownJson,
    missingSteps: () =>
      jsonChanged("transaction_close", (branch) => {
        delete branch.properties["steps"];
        branch.required = branch.required.filter((name) => name !== "steps");
      }),
    missingMessage: "it has no field steps and allows no other",
    refusals: () => [
      { schema: jsonChanged("transaction_open", (branch) => void branch.required.push("stuck")), why: "it requires field stuck, which wfsim leaves out of some events" },
      { schema: jsonChanged("transaction_open", (branch) => void (branch.properties["ts_ms"] = { type: "string" } as never)), why: "its field ts_ms is string, which does not hold wfsim's integer" },
    ],
  },
] as const;

/** A topic-record run, then the same with use-latest: the versions registered are used again, ids and all. */
async function sameIdsAgain(t: TestContext, format: string): Promise<void> {
  const { bootstrap, options } = plaintext();
  const topics = testTopics(`reg-latest-${format}-record`);
  deleteTopicsAfter(t, options, topics);
  const args = ["run", "--samples", "20", "--seed", "3", ...VIRTUAL, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", format, "--subject-strategy", "topic-record", "--schema-registry", registryUrl()];
  const first = await runCli(args, { timeoutMs: TIMEOUT_MS });
  assert.equal(first.code, 0, first.stderr);
  const latest = await runCli([...args, "--schema-registry-use-latest"], { timeoutMs: TIMEOUT_MS });
  assert.equal(latest.code, 0, latest.stderr);
  const ids = (text: string) => [...text.matchAll(/schema id (\d+) .*for subject (\S+)/g)].map((m) => `${m[2]}=${m[1]}`).sort();
  assert.equal(ids(first.stderr).length, EVENT_TYPES.length, "a subject per event type");
  assert.deepEqual(ids(latest.stderr), ids(first.stderr));
}

describe("wfsim run --format avro --subject-strategy topic-record --schema-registry-use-latest", { skip, timeout: TIMEOUT_MS }, () => {
  test("the versions a run registered are used again, with the same ids", (t) => sameIdsAgain(t, "avro"));
});

for (const { format, schemaType, evolved, steps, missingSteps, missingMessage, refusals } of FORMATS) {
  describe(`wfsim run --format ${format} --schema-registry-use-latest (wfsim's own events)`, { skip, timeout: TIMEOUT_MS }, () => {
    test("each subject's latest version, evolved from wfsim's own: every record decodes with it to the JSON line of the same seed", async (t) => {
      const { bootstrap, options } = plaintext();
      const topics = testTopics(`reg-latest-${format}`);
      deleteTopicsAfter(t, options, topics);
      const txnId = await register(`${topics.transactions}-value`, schemaType, evolved());
      const stepsId = await register(`${topics.steps}-value`, schemaType, steps());

      const workload = ["--samples", "200", "--concurrency", "20", "--outlier-prob", "0.2", "--seed", "11", ...VIRTUAL];
      const result = await runCli(
        ["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--partitions", "2", "--format", format, "--schema-registry", registryUrl(), "--schema-registry-use-latest"],
        { timeoutMs: TIMEOUT_MS },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`^wfsim: ${format} schema id ${txnId} \\(the latest version\\) for subject ${topics.transactions}-value at `, "m"));
      assert.match(result.stderr, new RegExp(`^wfsim: ${format} schema id ${stepsId} \\(the latest version\\) for subject ${topics.steps}-value at `, "m"));

      const lines = await jsonLines(workload);
      const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
      const reader = new IndependentReader(registryUrl());
      const decoded = [];
      for (const record of records) {
        const { schemaId, event } = await reader.decode(record.bytes);
        assert.equal(schemaId, record.topic === topics.transactions ? txnId : stepsId);
        // The optional field wfsim does not write stays absent.
        assert.equal(event["region"], undefined);
        decoded.push({ ...record, value: JSON.stringify(event) });
      }
      assertExactlyOnceInOrder(decoded, { lines, topics, partitions: { transactions: 2, steps: 2 } });
      assert.ok(lines.some((line) => line.includes('"outlier_injected":true')), "the optional fields were exercised");

      // wfsim analyze reads them back with the same versions: the figures of the JSON Lines.
      const file = join(dir, `${format}.jsonl`);
      await writeFile(file, `${lines.join("\n")}\n`);
      const fromFile = await runCli(["analyze", file, "--format", "json"], { timeoutMs: TIMEOUT_MS });
      assert.equal(fromFile.code, 0, fromFile.stderr);
      const fromKafka = await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--schema-registry", registryUrl(), "--format", "json"], { timeoutMs: TIMEOUT_MS });
      assert.equal(fromKafka.code, 0, fromKafka.stderr);
      const figures = (text: string) => {
        const { sources: _sources, kafka: _kafka, ...rest } = JSON.parse(text) as Record<string, unknown>;
        return rest;
      };
      assert.deepEqual(figures(fromKafka.stdout), figures(fromFile.stdout));
    });

    test("--subject-strategy topic-record: the versions a run registered are used again, with the same ids", (t) => sameIdsAgain(t, format));

    test("a latest version without a field wfsim writes: one line naming the subject and the field, exit 2, nothing sent", async (t) => {
      const { bootstrap, options } = plaintext();
      const topics = testTopics(`reg-latest-${format}-missing`);
      deleteTopicsAfter(t, options, topics);
      const id = await register(`${topics.transactions}-value`, schemaType, missingSteps());
      await register(`${topics.steps}-value`, schemaType, steps());
      const result = await runCli(
        ["run", "--samples", "10", ...VIRTUAL, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", format, "--schema-registry", registryUrl(), "--schema-registry-use-latest"],
        { timeoutMs: TIMEOUT_MS },
      );
      assert.equal(
        oneLineError(result, 2),
        `wfsim: subject ${topics.transactions}-value's latest version (id ${id}) at ${registryUrl()} cannot hold wfsim's transaction_close events: ${missingMessage}`,
      );
      const records = await consumeAll(t, options, [topics.transactions, topics.steps]).catch(() => []);
      assert.equal(records.length, 0, "nothing sent");
    });

    test("a latest version that would lose an absent field, requires one wfsim leaves out, or has a narrower type: refused by name", async (t) => {
      const { bootstrap, options } = plaintext();
      const topics = testTopics(`reg-latest-${format}-refused`);
      deleteTopicsAfter(t, options, topics);
      await register(`${topics.steps}-value`, schemaType, steps());
      const args = ["run", "--samples", "10", ...VIRTUAL, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", format, "--schema-registry", registryUrl(), "--schema-registry-use-latest"];
      for (const { schema, why } of refusals()) {
        const id = await register(`${topics.transactions}-value`, schemaType, schema);
        assert.equal(
          oneLineError(await runCli(args, { timeoutMs: TIMEOUT_MS }), 2),
          `wfsim: subject ${topics.transactions}-value's latest version (id ${id}) at ${registryUrl()} cannot hold wfsim's transaction_open events: ${why}`,
        );
      }
    });
  });
}
