// A scenario with an output section through a real Apicurio Registry and a real broker: the schemas
// derived from the shape are registered per topic (or per record type), every record on the topics
// decodes with the registry's schema (an independent reader) to the JSON Lines of the same seed, and
// the checks before anything is sent: a user's schema missing a field, use-latest on an unknown subject.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { consumeAll } from "../kafka/consume.ts";
import { randomTopic } from "../kafka/clients.ts";
import { kafkaTarget } from "../kafka/env.ts";
import { closedPort, deleteTopicsAfter, oneLineError } from "../kafka/wfsim.ts";
import { independentDecode, SHAPE } from "./decode-shaped.ts";
import { kafkaAndRegistry } from "./env.ts";

const TIMEOUT_MS = 180_000;
const { skip, url: registryUrl } = kafkaAndRegistry();
const SCHEMA_TYPES = { avro: "AVRO", protobuf: "PROTOBUF", "json-schema": "JSON" } as const;

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-registry-shaped-"))));
after(() => rm(dir, { recursive: true, force: true }));

async function scenario(label: string): Promise<{ file: string; topics: { transactions: string; steps: string } }> {
  const prefix = randomTopic(label);
  const file = join(dir, `${prefix}.yaml`);
  await writeFile(file, SHAPE.replaceAll("TOPIC", prefix));
  return { file, topics: { transactions: `${prefix}.Opened`, steps: `${prefix}.steps` } };
}

async function fetchSchema(id: number): Promise<{ schemaType: string; schema: string }> {
  const body = (await (await fetch(`${registryUrl()}/schemas/ids/${id}`)).json()) as { schema: string; schemaType?: string };
  return { schemaType: body.schemaType ?? "AVRO", schema: body.schema };
}

describe("wfsim run --scenario (output section) --format ... --schema-registry", { skip, timeout: TIMEOUT_MS }, () => {
  const cases = [
    { format: "avro", strategy: "topic" },
    { format: "protobuf", strategy: "topic" },
    { format: "json-schema", strategy: "topic" },
    { format: "avro", strategy: "topic-record" },
  ] as const;
  for (const { format, strategy } of cases) {
    test(`${format}, ${strategy} strategy: every record decodes with the registry's schema to the JSON line of the same seed`, async (t) => {
      const { bootstrap } = kafkaTarget("plaintext");
      const options = { bootstrapBrokers: bootstrap };
      const { file, topics } = await scenario(`shaped-${format}`);
      deleteTopicsAfter(t, options, topics);
      const workload = ["--scenario", file, "--samples", "150", "--seed", "9", "--clock", "virtual"];
      const result = await runCli(
        ["run", ...workload, "--kafka-bootstrap", bootstrap.join(","), "--format", format, "--subject-strategy", strategy, "--schema-registry", registryUrl()],
        { timeoutMs: TIMEOUT_MS },
      );
      assert.equal(result.code, 0, result.stderr);
      const subjects = [...result.stderr.matchAll(/schema id (\d+) for subject (\S+)/g)].map((m) => m[2]);
      if (strategy === "topic") assert.deepEqual(subjects.sort(), [`${topics.transactions}-value`, `${topics.steps}-value`].sort());
      else assert.deepEqual(subjects.sort(), [`${topics.transactions}-dev.wfsim.records.Opened`, `${topics.steps}-dev.wfsim.records.Closed`, `${topics.steps}-dev.wfsim.records.Step`].sort());

      const lines = (await runCli(["run", ...workload, "--quiet"])).stdout.split("\n").filter((line) => line !== "");
      const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
      assert.equal(records.length, lines.length);
      const schemas = new Map<number, string>();
      const decoded: string[] = [];
      for (const record of records) {
        const id = record.bytes.readUInt32BE(1);
        if (!schemas.has(id)) {
          const fetched = await fetchSchema(id);
          assert.equal(fetched.schemaType, SCHEMA_TYPES[format]);
          schemas.set(id, fetched.schema);
        }
        decoded.push(JSON.stringify(independentDecode(record.bytes, schemas, format)));
      }
      assert.deepEqual(decoded.sort(), lines.map((line) => JSON.stringify(JSON.parse(line))).sort());
    });
  }

  test("--schema-registry-use-latest writes with the registered version; on an unknown subject, one line and exit 2", async (t) => {
    const { bootstrap } = kafkaTarget("plaintext");
    const options = { bootstrapBrokers: bootstrap };
    const { file, topics } = await scenario("shaped-latest");
    deleteTopicsAfter(t, options, topics);
    const args = ["run", "--scenario", file, "--samples", "20", "--seed", "3", "--clock", "virtual", "--kafka-bootstrap", bootstrap.join(","), "--format", "avro", "--schema-registry", registryUrl()];
    const refused = await runCli([...args, "--schema-registry-use-latest"], { timeoutMs: TIMEOUT_MS });
    assert.match(oneLineError(refused, 2), new RegExp(`has no subject ${topics.transactions.replaceAll(".", "\\.")}-value`));
    const first = await runCli(args, { timeoutMs: TIMEOUT_MS });
    assert.equal(first.code, 0, first.stderr);
    const latest = await runCli([...args, "--schema-registry-use-latest"], { timeoutMs: TIMEOUT_MS });
    assert.equal(latest.code, 0, latest.stderr);
    const ids = (text: string) => [...text.matchAll(/schema id (\d+) for subject (\S+)/g)].map((m) => `${m[2]}=${m[1]}`).sort();
    assert.deepEqual(ids(latest.stderr), ids(first.stderr));
  });

  test("a latest version that cannot hold the records is refused in one line before anything is sent", async (t) => {
    const { bootstrap } = kafkaTarget("plaintext");
    const options = { bootstrapBrokers: bootstrap };
    const { file, topics } = await scenario("shaped-latest-narrow");
    deleteTopicsAfter(t, options, topics);
    const headers = { "content-type": "application/vnd.schemaregistry.v1+json" };
    // A record Opened that requires a field the shape does not give.
    const narrow = JSON.stringify({ type: "record", name: "Opened", fields: [{ name: "id", type: "string" }, { name: "region", type: "string" }] });
    for (const topic of [topics.transactions, topics.steps]) {
      assert.equal((await fetch(`${registryUrl()}/subjects/${topic}-value/versions`, { method: "POST", headers, body: JSON.stringify({ schema: narrow }) })).status, 200);
    }
    const result = await runCli(
      ["run", "--scenario", file, "--samples", "20", "--clock", "virtual", "--kafka-bootstrap", bootstrap.join(","), "--format", "avro", "--schema-registry", registryUrl(), "--schema-registry-use-latest"],
      { timeoutMs: TIMEOUT_MS },
    );
    assert.match(oneLineError(result, 2), /latest version \(id \d+\) at .* cannot hold output\.records\.Opened: /);
  });
});

describe("--value-schema, checked before anything is sent", { timeout: TIMEOUT_MS }, () => {
  test("a field the schema requires that the shape does not give: one line, exit 2, neither broker nor registry asked, no file emptied", async () => {
    const { file } = await scenario("shaped-user");
    const avsc = join(dir, "mine.avsc");
    await writeFile(avsc, JSON.stringify({ type: "record", name: "Opened", fields: [{ name: "id", type: "string" }, { name: "region", type: "string" }] }));
    const kept = ["truth.jsonl", "report.json", "undelivered.txt"].map((name) => join(dir, `shaped-user-${name}`));
    for (const path of kept) await writeFile(path, "keep me\n");
    const alerts = join(dir, "shaped-user-alerts.jsonl");
    await writeFile(alerts, "");
    const port = await closedPort();
    const result = await runCli(["run", "--scenario", file, "--samples", "5", "--clock", "virtual", "--quiet", "--kafka-bootstrap", `127.0.0.1:${port}`, "--format", "avro", "--schema-registry", `http://127.0.0.1:${port}`, "--value-schema", avsc, "--subject-strategy", "topic-record",
      "--truth", kept[0]!, "--score-alerts", `file:${alerts}`, "--report", kept[1]!, "--undelivered", kept[2]!]);
    assert.match(oneLineError(result, 2), /^wfsim: --value-schema .*mine\.avsc cannot hold output\.records\.\w+: /);
    for (const path of kept) assert.equal(await readFile(path, "utf8"), "keep me\n", `${path} survived the refused run`);
  });

  test("a type that cannot hold the value (Protobuf int32 for the shape's double)", async () => {
    const { file } = await scenario("shaped-user-proto");
    const proto = join(dir, "mine.proto");
    await writeFile(proto, 'syntax = "proto3";\nmessage Opened { string id = 1; int64 at = 2; Money money = 3; message Money { int32 amount = 1; } }\n');
    const port = await closedPort();
    const result = await runCli(["run", "--scenario", file, "--samples", "5", "--clock", "virtual", "--kafka-bootstrap", `127.0.0.1:${port}`, "--format", "protobuf", "--schema-registry", `http://127.0.0.1:${port}`, "--value-schema", proto, "--subject-strategy", "record"]);
    assert.match(oneLineError(result, 2), /--value-schema .*mine\.proto cannot hold output\.records\.\w+: /);
  });
});
