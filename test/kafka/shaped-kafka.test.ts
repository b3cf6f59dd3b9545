// A shaped output through Kafka, against the real broker npm test starts: records on the topics the
// scenario's templates name, keyed and headed as it says, on the partition Kafka's partitioner picks
// for the key, each record exactly once, each transaction's records in order on every topic, and
// the same records as the JSON Lines of the same seed (--routing shows what each topic gets).

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Admin } from "@platformatic/kafka";
import { keyHash } from "../../src/kafka/partition.ts";
import { runCli } from "../helpers/cli.ts";
import { consumeAll } from "./consume.ts";
import { kafkaSkip, kafkaTarget } from "./env.ts";
import { RECENT_START } from "./wfsim.ts";

const TIMEOUT_MS = 120_000;
const PAYMENTS = new URL("../../examples/payments-cloudevents.yaml", import.meta.url).pathname;

interface Routed {
  topic: string;
  key: string;
  headers: Record<string, string>;
  timestamp: number;
  value: unknown;
}

describe("wfsim run --scenario with an output section --kafka-bootstrap", { skip: kafkaSkip(), timeout: TIMEOUT_MS }, () => {
  test("publishes each record on its topic with its key, headers and timestamp, exactly once and in order, as the JSON Lines say", async (t) => {
    const { bootstrap } = kafkaTarget("plaintext");
    const prefix = `wfsim-shaped-${randomBytes(5).toString("hex")}`;
    const dir = await mkdtemp(join(tmpdir(), "wfsim-shaped-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // The example, on topics of this test's own and with 3 partitions per topic.
    const scenario = join(dir, "payments.yaml");
    const text = (await readFile(PAYMENTS, "utf8")).replace('topic: "payments.{workflow}"', `topic: "${prefix}.{workflow}"\n  partitions: 3`);
    assert.notEqual(text, await readFile(PAYMENTS, "utf8"));
    await writeFile(scenario, text);
    const topics = [`${prefix}.card_payment`, `${prefix}.refund`];
    t.after(async () => {
      const admin = new Admin({ clientId: "wfsim-test", bootstrapBrokers: bootstrap });
      await admin.deleteTopics({ topics }).catch(() => {});
      await admin.close();
    });
    const workload = ["--scenario", scenario, "--samples", "800", "--clock", "virtual", "--start-time", RECENT_START];
    const result = await runCli(["run", ...workload, "--kafka-bootstrap", bootstrap.join(",")], { timeoutMs: TIMEOUT_MS });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /records delivered to Kafka/);
    assert.match(result.stderr, new RegExp(`created topic ${prefix}\\.card_payment \\(3 partitions`));

    const routed = await runCli(["run", ...workload, "--routing", "--quiet"]);
    assert.equal(routed.code, 0, routed.stderr);
    const expected = routed.stdout.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Routed);
    assert.ok(expected.length > 800 * 5, `${expected.length} records`);

    const records = await consumeAll(t, { bootstrapBrokers: bootstrap }, topics);
    assert.equal(records.length, expected.length, "every record once, none more");
    const wanted = new Map<string, number>();
    const describe = (topic: string, key: string, value: string, ts: number, headers: Record<string, string>) =>
      JSON.stringify([topic, key, value, ts, headers]);
    for (const r of expected) {
      const id = describe(r.topic, r.key, JSON.stringify(r.value), r.timestamp, r.headers);
      wanted.set(id, (wanted.get(id) ?? 0) + 1);
    }
    for (const record of records) {
      const id = describe(record.topic, record.key, record.value, Number(record.timestamp), Object.fromEntries(record.headers));
      const left = wanted.get(id);
      assert.ok(left !== undefined && left > 0, `a record Kafka has and the JSON Lines do not, or twice: ${id}`);
      wanted.set(id, left - 1);
      assert.equal(record.partition, keyHash(Buffer.from(record.key)) % 3, "the partition Java's partitioner picks for the key");
    }
    // Per topic and key, the records in the order of the JSON Lines.
    const order = (list: { topic: string; key: string; value: string }[]) => {
      const byKey = new Map<string, string[]>();
      for (const r of list) byKey.set(`${r.topic} ${r.key}`, [...(byKey.get(`${r.topic} ${r.key}`) ?? []), r.value]);
      return byKey;
    };
    const consumedInOrder = [...records].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(a.offset - b.offset));
    assert.deepEqual(order(consumedInOrder), order(expected.map((r) => ({ topic: r.topic, key: r.key, value: JSON.stringify(r.value) }))));
    // The key is the payment id, the same on all of a transaction's records.
    const keysPerTxn = new Map<string, Set<string>>();
    for (const r of expected) {
      const value = r.value as { subject: string };
      keysPerTxn.set(value.subject, (keysPerTxn.get(value.subject) ?? new Set()).add(r.key));
    }
    assert.ok([...keysPerTxn.values()].every((keys) => keys.size === 1));
    assert.ok(expected.every((r) => r.headers["content-type"] === "application/cloudevents+json"));
    assert.ok(expected.every((r) => ["PaymentStarted", "StepStarted", "StepSucceeded", "StepFailed", "PaymentCompleted", "PaymentFailed", "PaymentAborted"].includes(r.headers["record"]!)));
  });
});
