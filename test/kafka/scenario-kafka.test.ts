// Scenario events through the Kafka output, against the real broker npm test starts: the failure
// events on their topics (transaction_failed with the transactions), stuck transactions' keys, and
// exactly the lines the same scenario writes to stdout.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { assertExactlyOnceInOrder, consumeAll } from "./consume.ts";
import { kafkaSkip, kafkaTarget } from "./env.ts";
import { deleteTopicsAfter, jsonLines, RECENT_START, testTopics, topicFlags } from "./wfsim.ts";

const TIMEOUT_MS = 120_000;
const CHECKOUT = new URL("../../examples/checkout.yaml", import.meta.url).pathname;

describe("wfsim run --scenario --kafka-bootstrap", { skip: kafkaSkip(), timeout: TIMEOUT_MS }, () => {
  test("publishes a scenario's events, failures and retries included, each on its topic, exactly once and in order", async (t) => {
    const { bootstrap } = kafkaTarget("plaintext");
    const options = { bootstrapBrokers: bootstrap };
    const topics = testTopics("scenario");
    deleteTopicsAfter(t, options, topics);
    const workload = ["--scenario", CHECKOUT, "--samples", "3000", "--outlier-prob", "0.05", "--clock", "virtual", "--start-time", RECENT_START];
    const result = await runCli(["run", ...workload, "--kafka-bootstrap", bootstrap.join(","), ...topicFlags(topics), "--partitions", "3"], {
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^wfsim: scenario shop-checkout: 3,000 transactions \(/m);
    const lines = await jsonLines(workload);
    const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
    assertExactlyOnceInOrder(records, { lines, topics, partitions: { transactions: 3, steps: 3 } });
    const types = (topic: string) => new Set(records.filter((r) => r.topic === topic).map((r) => r.headers.get("event_type")));
    assert.ok(types(topics.transactions).has("transaction_failed"));
    for (const type of ["step_failed", "step_retry"]) assert.ok(types(topics.steps).has(type), type);
  });
});
