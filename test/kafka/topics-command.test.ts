/**
 * `wfsim topics create|describe|delete` against the real broker, and the warnings a run gets before it
 * starts from topics with small retention and timestamp limits.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { admin, randomTopic } from "./clients.ts";
import { kafkaSkip } from "./env.ts";
import { deleteTopicsAfter, oneLineError, testTopics, topicFlags } from "./wfsim.ts";
import { plaintext } from "../follow/helpers.ts";

const HOUR = 3_600_000;

describe("wfsim topics", { skip: kafkaSkip(), timeout: 120_000 }, () => {
  test("creates wfsim's topics and an alerts topic as asked, sets limits on existing ones, describes and deletes them", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("topics-cmd");
    const alerts = randomTopic("topics-cmd-alerts");
    deleteTopicsAfter(t, options, topics);
    t.after(() => admin(t, options).deleteTopics({ topics: [alerts] }).catch(() => {}));
    const flags = ["--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--alerts-topic", alerts];

    const created = await runCli(["topics", "create", ...flags, "--partitions", "3", "--retention", "30d"]);
    assert.equal(created.code, 0, created.stderr);
    const line = (name: string, retention: string, after: string) =>
      `${name}: 3 partitions, replication factor 1, retention.ms ${retention}, message.timestamp.before.max.ms unlimited, message.timestamp.after.max.ms ${after}`;
    assert.deepEqual(created.stdout.trim().split("\n"), [line(topics.transactions, "30d", "unlimited"), line(topics.steps, "30d", "unlimited"), line(alerts, "30d", "unlimited")]);
    assert.equal(created.stderr, [topics.transactions, topics.steps, alerts].map((name) => `wfsim: created topic ${name} on Kafka at ${bootstrap}\n`).join(""));

    const again = await runCli(["topics", "create", ...flags]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`^wfsim: topic ${topics.transactions} exists; left as it is$`, "m"));

    const limited = await runCli(["topics", "create", ...flags, "--retention", "1h", "--timestamp-after-max", "1h"]);
    assert.equal(limited.code, 0, limited.stderr);
    assert.match(limited.stderr, new RegExp(`^wfsim: topic ${alerts} exists; set retention.ms, message.timestamp.after.max.ms$`, "m"));
    const described = await runCli(["topics", "describe", ...flags]);
    assert.equal(described.code, 0, described.stderr);
    assert.deepEqual(described.stdout.trim().split("\n"), [line(topics.transactions, "1h", "1h"), line(topics.steps, "1h", "1h"), line(alerts, "1h", "1h")]);

    // A run against them is warned, before it starts, of what the broker will delete and refuse.
    const start = String(Date.now() - 3 * HOUR);
    const past = await runCli(["run", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--clock", "virtual", "--start-time", start, "--samples", "5", "--quiet"]);
    assert.equal(past.code, 0, past.stderr);
    const warned = past.stderr.trim().split("\n");
    assert.equal(warned.length, 2);
    assert.match(warned[0]!, new RegExp(`^wfsim: warning: topic ${topics.transactions} keeps records for 1h \\(retention\\.ms\\); the run starts at .*, 3\\.0h ago, so the broker will delete its events .*\\(wfsim topics create --retention 2d\\)`));
    const ahead = await runCli(["run", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--clock", "virtual", "--start-time", "now", "--duration", "3h", "--samples", "5", "--quiet"]);
    assert.equal(ahead.code, 0, ahead.stderr);
    assert.match(ahead.stderr, new RegExp(`^wfsim: warning: topic ${topics.steps} refuses records stamped more than 1h ahead of the broker's clock \\(message\\.timestamp\\.after\\.max\\.ms\\)`, "m"));

    const deleted = await runCli(["topics", "delete", ...flags]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, "");
    assert.match(deleted.stderr, new RegExp(`^wfsim: deleted topic ${alerts} on Kafka at ${bootstrap}$`, "m"));
    const gone = await runCli(["topics", "describe", ...flags]);
    assert.equal(gone.stdout, "");
    assert.match(gone.stderr, new RegExp(`^wfsim: no topic ${topics.steps} on Kafka at ${bootstrap}$`, "m"));
  });

  test("bad input: one line, exit 2", async () => {
    const { bootstrap } = plaintext();
    const flags = ["--kafka-bootstrap", bootstrap, ...topicFlags(testTopics("topics-bad"))];
    assert.equal(
      oneLineError(await runCli(["topics", "create", ...flags, "--retention", "soon"]), 2),
      "wfsim: --retention must be a duration such as 7d, 12h, 30m, or unlimited, got soon",
    );
    assert.equal(oneLineError(await runCli(["topics", "describe", ...flags, "--retention", "1d"]), 2), "wfsim: --retention applies to topics create");
    assert.equal(oneLineError(await runCli(["topics", "make", ...flags]), 2), "wfsim: topics: the action must be one of create, describe, delete, got make");
    assert.equal(oneLineError(await runCli(["topics", "create"]), 2), "wfsim: --kafka-bootstrap is needed: the cluster whose topics to create");
  });
});
