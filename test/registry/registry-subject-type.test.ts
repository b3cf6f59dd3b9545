// A subject keeps one schema type. Apicurio takes a JSON Schema as a new version of an AVRO subject
// and then reports the subject's type (AVRO) for its id, whose values nobody can read: wfsim refuses
// to register under a subject of another type (one line, exit 2, nothing sent), and analyze says
// which id, type and subject when a schema does not parse as its reported type.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Producer } from "@platformatic/kafka";
import { runCli } from "../helpers/cli.ts";
import { consumeAll } from "../kafka/consume.ts";
import { createTopic, randomTopic } from "../kafka/clients.ts";
import { kafkaTarget } from "../kafka/env.ts";
import { deleteTopicsAfter, oneLineError } from "../kafka/wfsim.ts";
import { SHAPE } from "./decode-shaped.ts";
import { kafkaAndRegistry } from "./env.ts";

const TIMEOUT_MS = 180_000;
const { skip, url: registryUrl } = kafkaAndRegistry();

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-registry-subject-type-"))));
after(() => rm(dir, { recursive: true, force: true }));

async function versions(subject: string): Promise<unknown> {
  return (await fetch(`${registryUrl()}/subjects/${encodeURIComponent(subject)}/versions`)).json();
}

async function register(subject: string, body: { schema: string; schemaType?: string }): Promise<number> {
  const res = await fetch(`${registryUrl()}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: "POST",
    headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { id: number }).id;
}

describe("a subject of another schema type", { skip, timeout: TIMEOUT_MS }, () => {
  test("--format json-schema after --format avro under the record strategy: refused before anything is registered or sent", async (t) => {
    const { bootstrap } = kafkaTarget("plaintext");
    const options = { bootstrapBrokers: bootstrap };
    // Record names of this test's own (the record strategy's subjects are shared by every topic).
    const suffix = `T${randomBytes(4).toString("hex")}`;
    const prefix = randomTopic("subject-type");
    const file = join(dir, `${prefix}.yaml`);
    await writeFile(file, SHAPE.replaceAll("TOPIC", prefix).replace("    Opened:", `    Opened${suffix}:`));
    const topics = { transactions: `${prefix}.Opened${suffix}`, steps: `${prefix}.steps` };
    deleteTopicsAfter(t, options, topics);
    const run = (format: string) =>
      runCli(["run", "--scenario", file, "--samples", "20", "--seed", "2", "--clock", "virtual", "--kafka-bootstrap", bootstrap.join(","), "--format", format, "--subject-strategy", "record", "--schema-registry", registryUrl()], {
        timeoutMs: TIMEOUT_MS,
      });
    const first = await run("avro");
    assert.equal(first.code, 0, first.stderr);
    const sent = (await consumeAll(t, options, [topics.transactions, topics.steps])).length;
    assert.ok(sent > 0);
    const subject = `dev.wfsim.records.Opened${suffix}`;
    assert.deepEqual(await versions(subject), [1]);

    const line = oneLineError(await run("json-schema"), 2);
    assert.match(line, new RegExp(`^wfsim: the Schema Registry at \\S+ holds subject dev\\.wfsim\\.records\\.\\w+ as AVRO \\(its latest version 1, id \\d+\\), not JSON: a subject keeps one schema type`));
    assert.deepEqual(await versions(subject), [1], "nothing registered");
    assert.equal((await consumeAll(t, options, [topics.transactions, topics.steps])).length, sent, "nothing sent");
  });

  test("analyze: an id whose schema does not parse as its reported type is named with its type and subject", async (t) => {
    const { bootstrap } = kafkaTarget("plaintext");
    const options = { bootstrapBrokers: bootstrap };
    const topics = { transactions: randomTopic("mixed-txn"), steps: randomTopic("mixed-steps") };
    for (const topic of [topics.transactions, topics.steps]) await createTopic(t, options, topic);
    deleteTopicsAfter(t, options, topics);
    // What a registry that lets a subject mix types leaves behind, made by hand.
    const subject = `mixed.${randomBytes(4).toString("hex")}`;
    await register(subject, { schema: JSON.stringify({ type: "record", name: "R", fields: [{ name: "a", type: "long" }] }) });
    const id = await register(subject, { schemaType: "JSON", schema: JSON.stringify({ type: "object", properties: { a: { type: "integer" } } }) });
    const reported = (await (await fetch(`${registryUrl()}/schemas/ids/${id}`)).json()) as { schemaType?: string };
    assert.equal(reported.schemaType ?? "AVRO", "AVRO", "the registry reports the subject's type for the JSON Schema (else this test tests nothing)");

    const header = Buffer.alloc(5);
    header.writeUInt32BE(id, 1);
    const client = new Producer({ clientId: "wfsim-test-mixed", bootstrapBrokers: bootstrap });
    t.after(() => client.close());
    await client.send({ messages: [{ topic: topics.transactions, key: Buffer.from("t1"), value: Buffer.concat([header, Buffer.from('{"a":1}')]) }] });

    const result = await runCli(["analyze", "--kafka-bootstrap", bootstrap.join(","), "--topic-txn", topics.transactions, "--topic-steps", topics.steps, "--schema-registry", registryUrl()], {
      timeoutMs: TIMEOUT_MS,
    });
    const line = oneLineError(result, 2);
    assert.match(line, new RegExp(`^wfsim: schema id ${id} at \\S+ \\(subject ${subject.replace(".", "\\.")} version 2\\) is reported as AVRO but its text does not parse as AVRO \\(`));
    assert.doesNotMatch(line, /^wfsim: AVRO schema id \d+ .* cannot be read: unknown type/);
  });
});
