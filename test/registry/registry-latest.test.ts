// wfsim run --format avro --schema-registry-use-latest for wfsim's own events, against a real broker
// and a real Apicurio Registry: each subject's latest version (registered by someone else, evolved
// from `wfsim schema --format avro`) is used as it is, every record decoding with it (an independent
// reader) to the JSON line of the same seed; a version missing a field wfsim writes, or requiring one
// it does not write, and an unknown subject are refused in one line naming the subject and the field.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

type AvroRecord = { name: string; fields: { name: string; type: unknown; default?: unknown }[] };

let dir = "";
let ownSchema: AvroRecord[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wfsim-registry-latest-"));
  // wfsim's own Avro schema as a user gets it: a union of a record per event type.
  const printed = await runCli(["schema", "--format", "avro"]);
  assert.equal(printed.code, 0, printed.stderr);
  ownSchema = JSON.parse(printed.stdout) as AvroRecord[];
});
after(() => rm(dir, { recursive: true, force: true }));

function plaintext() {
  const { bootstrap } = kafkaTarget("plaintext");
  return { bootstrap: bootstrap.join(","), options: { bootstrapBrokers: bootstrap } };
}

/** Registers `schema` under `subject` as another team would (plain HTTP), and returns its id. */
async function register(subject: string, schema: unknown): Promise<number> {
  const answer = await fetch(`${registryUrl()}/subjects/${subject}/versions`, { method: "POST", headers: HEADERS, body: JSON.stringify({ schema: JSON.stringify(schema) }) });
  assert.equal(answer.status, 200, await answer.clone().text());
  return ((await answer.json()) as { id: number }).id;
}

/** wfsim's schema with `change` applied to the record named `name`. */
function changed(name: string, change: (record: AvroRecord) => AvroRecord): AvroRecord[] {
  return ownSchema.map((record) => (record.name === name ? change(record) : record));
}

describe("wfsim run --format avro --schema-registry-use-latest (wfsim's own events)", { skip, timeout: TIMEOUT_MS }, () => {
  test("each subject's latest version, evolved from wfsim schema --format avro: every record decodes to the JSON line of the same seed", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("reg-latest");
    deleteTopicsAfter(t, options, topics);
    // The transactions subject: one more field on TransactionOpen, with a default (wfsim does not write it).
    const evolved = changed("TransactionOpen", (record) => ({ ...record, fields: [...record.fields, { name: "region", type: "string", default: "eu" }] }));
    const txnId = await register(`${topics.transactions}-value`, evolved);
    const stepsId = await register(`${topics.steps}-value`, ownSchema);

    const workload = ["--samples", "200", "--concurrency", "20", "--outlier-prob", "0.2", "--seed", "11", ...VIRTUAL];
    const result = await runCli(
      ["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--partitions", "2", "--format", "avro", "--schema-registry", registryUrl(), "--schema-registry-use-latest"],
      { timeoutMs: TIMEOUT_MS },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`^wfsim: avro schema id ${txnId} \\(the latest version\\) for subject ${topics.transactions}-value at `, "m"));
    assert.match(result.stderr, new RegExp(`^wfsim: avro schema id ${stepsId} \\(the latest version\\) for subject ${topics.steps}-value at `, "m"));

    const lines = await jsonLines(workload);
    const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
    const reader = new IndependentReader(registryUrl());
    const decoded = [];
    for (const record of records) {
      const { schemaId, event } = await reader.decode(record.bytes);
      assert.equal(schemaId, record.topic === topics.transactions ? txnId : stepsId);
      if (event["type"] === "transaction_open") {
        // The field wfsim does not write reads as its default; the rest is the JSON line.
        assert.equal(event["region"], "eu");
        delete event["region"];
      }
      decoded.push({ ...record, value: JSON.stringify(event) });
    }
    assertExactlyOnceInOrder(decoded, { lines, topics, partitions: { transactions: 2, steps: 2 } });
    assert.ok(lines.some((line) => line.includes('"outlier_injected":true')), "the optional fields were exercised");
  });

  test("a latest version without a field wfsim writes: one line naming the subject and the field, exit 2, nothing sent", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("reg-latest-missing");
    deleteTopicsAfter(t, options, topics);
    const id = await register(`${topics.transactions}-value`, changed("TransactionClose", (record) => ({ ...record, fields: record.fields.filter((field) => field.name !== "steps") })));
    await register(`${topics.steps}-value`, ownSchema);
    const result = await runCli(
      ["run", "--samples", "10", ...VIRTUAL, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "avro", "--schema-registry", registryUrl(), "--schema-registry-use-latest"],
      { timeoutMs: TIMEOUT_MS },
    );
    assert.equal(
      oneLineError(result, 2),
      `wfsim: subject ${topics.transactions}-value's latest version (id ${id}) at ${registryUrl()} cannot hold wfsim's transaction_close events: it has no field steps, which wfsim writes`,
    );
    const records = await consumeAll(t, options, [topics.transactions, topics.steps]).catch(() => []);
    assert.equal(records.length, 0, "nothing sent");
  });

  test("a latest version requiring a field wfsim does not write, or a type that cannot hold one: refused by name", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("reg-latest-required");
    deleteTopicsAfter(t, options, topics);
    await register(`${topics.transactions}-value`, ownSchema);
    const args = ["run", "--samples", "10", ...VIRTUAL, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "avro", "--schema-registry", registryUrl(), "--schema-registry-use-latest"];
    const required = await register(`${topics.steps}-value`, changed("StepDone", (record) => ({ ...record, fields: [...record.fields, { name: "region", type: "string" }] })));
    assert.match(
      oneLineError(await runCli(args, { timeoutMs: TIMEOUT_MS }), 2),
      new RegExp(`^wfsim: subject ${topics.steps}-value's latest version \\(id ${required}\\) at .* cannot hold wfsim's step_done events: it requires field region \\(no default\\), which wfsim does not write$`),
    );
    // ts_ms as an int: wfsim's longs do not fit (Avro's schema resolution says so).
    const narrow = await register(`${topics.steps}-value`, changed("StepDone", (record) => ({ ...record, fields: record.fields.map((field) => (field.name === "ts_ms" ? { ...field, type: "int" } : field)) })));
    assert.match(oneLineError(await runCli(args, { timeoutMs: TIMEOUT_MS }), 2), new RegExp(`latest version \\(id ${narrow}\\) at .* cannot hold wfsim's step_done events: .*long.*int`));
  });

  test("an unknown subject: one line naming it, exit 2", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("reg-latest-unknown");
    deleteTopicsAfter(t, options, topics);
    const result = await runCli(
      ["run", "--samples", "10", ...VIRTUAL, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "avro", "--schema-registry", registryUrl(), "--schema-registry-use-latest"],
      { timeoutMs: TIMEOUT_MS },
    );
    assert.match(oneLineError(result, 2), new RegExp(`has no subject ${topics.transactions}-value: register a schema under it, or leave out --schema-registry-use-latest`));
  });
});
