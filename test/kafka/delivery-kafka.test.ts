// Delivery faults through the Kafka output, against the real broker: the topics hold exactly the
// records (malformed ones included) the same run writes to a file, in the same order per key; a
// delayed or duplicated record keeps its event time as the Kafka timestamp. Read back with the
// truth, bounded or followed, they give the file's figures (skewed transactions merged at their true time).

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { consumeAll } from "./consume.ts";
import { kafkaSkip, kafkaTarget } from "./env.ts";
import { deleteTopicsAfter, RECENT_START, testTopics, topicFlags } from "./wfsim.ts";
import { isJson } from "../helpers/json.ts";
import { FollowerProcess, waitFor } from "../follow/helpers.ts";

const TIMEOUT_MS = 120_000;
const DELIVERY = "{drop: {prob: 0.02}, duplicate: {prob: 0.02, after: 3s}, delay: {prob: 0.02, by: {dist: uniform, min: 1s, max: 20s}}, skew: {prob: 0.02, offset: 5s}, corrupt: {prob: 0.02}}";


describe("wfsim run --delivery --kafka-bootstrap", { skip: kafkaSkip(), timeout: TIMEOUT_MS }, () => {
  test("publishes the faulty stream the file gets, record for record, and the truth says what was done", async (t) => {
    const { bootstrap } = kafkaTarget("plaintext");
    const options = { bootstrapBrokers: bootstrap };
    const topics = testTopics("delivery");
    deleteTopicsAfter(t, options, topics);
    const dir = await mkdtemp(join(tmpdir(), "wfsim-delivery-kafka-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const workload = ["--samples", "2000", "--seed", "9", "--clock", "virtual", "--start-time", RECENT_START, "--delivery", DELIVERY];
    const truth = join(dir, "truth.jsonl");
    const result = await runCli(["run", ...workload, "--truth", truth, "--kafka-bootstrap", bootstrap.join(","), ...topicFlags(topics), "--partitions", "3"], {
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(result.code, 0, result.stderr);
    const file = join(dir, "events.jsonl");
    const written = await runCli(["run", ...workload, "--truth", join(dir, "truth2.jsonl"), "-o", file, "--quiet"]);
    assert.equal(written.code, 0, written.stderr);
    assert.equal(await readFile(join(dir, "truth2.jsonl"), "utf8"), await readFile(truth, "utf8"));
    const lines = (await readFile(file, "utf8")).split("\n").filter((line) => line !== "");

    const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
    assert.deepEqual(records.map((r) => r.value).sort(), [...lines].sort());
    const faults = (await readFile(truth, "utf8")).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { kind: string });
    const count = (kind: string) => faults.filter((f) => f.kind === kind).length;
    assert.equal(records.filter((r) => !isJson(r.value)).length, count("corrupt"));
    assert.ok(count("delay") > 0 && count("duplicate") > 0 && count("drop") > 0 && count("skew") > 0);
    // Every well-formed record's Kafka timestamp is its ts_ms: the event time, however late it left.
    for (const r of records.filter((r) => isJson(r.value))) {
      assert.equal(Number(r.timestamp), (JSON.parse(r.value) as { ts_ms: number }).ts_ms, r.value);
    }
    // Per key and topic, the well-formed records in the order the file has them.
    const TRANSACTION_TYPES = new Set(["transaction_open", "transaction_close", "transaction_aborted", "transaction_failed"]);
    const fromKafka = new Map<string, string[]>();
    for (const r of records.filter((r) => isJson(r.value))) {
      const key = `${r.topic} ${r.key}`;
      (fromKafka.get(key) ?? fromKafka.set(key, []).get(key)!).push(r.value);
    }
    const fromFile = new Map<string, string[]>();
    for (const line of lines.filter(isJson)) {
      const event = JSON.parse(line) as { txn_id: string; type: string };
      const key = `${TRANSACTION_TYPES.has(event.type) ? topics.transactions : topics.steps} ${event.txn_id}`;
      (fromFile.get(key) ?? fromFile.set(key, []).get(key)!).push(line);
    }
    assert.deepEqual(fromKafka, fromFile);

    // Read back with the truth: what the checks found, per fault kind, is what they find in the file.
    const analyzed = async (source: string[]) => {
      const run = await runCli(["analyze", ...source, "--truth", truth, "--format", "json"], { timeoutMs: TIMEOUT_MS });
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout) as { delivery_faults: unknown; violations: Record<string, { count: number }>; transactions: unknown };
    };
    type Found = { injected: number; found: number | null };
    const fromTopics = await analyzed(["--kafka-bootstrap", bootstrap.join(","), ...topicFlags(topics)]);
    const fromLines = await analyzed([file]);
    assert.deepEqual(fromTopics.transactions, fromLines.transactions);
    // A delayed record's place among the other topic's records is the merge's, not the file's: only
    // the out-of-order check (delay's) may differ, by a few of the delays.
    const { delay: delayed, ...others } = fromTopics.delivery_faults as Record<string, Found>;
    const { delay: delayedInFile, ...othersInFile } = fromLines.delivery_faults as Record<string, Found>;
    assert.deepEqual(others, othersInFile);
    assert.equal(delayed!.injected, delayedInFile!.injected);
    assert.ok(delayed!.found! <= delayed!.injected && Math.abs(delayed!.found! - delayedInFile!.found!) <= 0.05 * delayed!.injected, `${delayed!.found} against ${delayedInFile!.found}`);
    for (const [check, found] of Object.entries(fromLines.violations)) {
      if (check !== "out_of_order") assert.equal(fromTopics.violations[check]?.count, found.count, check);
    }
  });

  test("skewed clocks: analyze --truth of the topics gives the file's report, though the skewed records sit out of time order in their partitions", async (t) => {
    const { bootstrap } = kafkaTarget("plaintext");
    const options = { bootstrapBrokers: bootstrap };
    const topics = testTopics("skew");
    deleteTopicsAfter(t, options, topics);
    const dir = await mkdtemp(join(tmpdir(), "wfsim-skew-kafka-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const workload = ["--samples", "3000", "--seed", "5", "--clock", "virtual", "--start-time", RECENT_START, "--delivery", "{skew: {prob: 0.02, offset: {dist: uniform, min: 1s, max: 60s}}}"];
    const truth = join(dir, "truth.jsonl");
    const sent = await runCli(["run", ...workload, "--truth", truth, "--kafka-bootstrap", bootstrap.join(","), ...topicFlags(topics), "--quiet"], { timeoutMs: TIMEOUT_MS });
    assert.equal(sent.code, 0, sent.stderr);
    const file = join(dir, "events.jsonl");
    const written = await runCli(["run", ...workload, "--truth", join(dir, "truth2.jsonl"), "-o", file, "--quiet"]);
    assert.equal(written.code, 0, written.stderr);
    const analyzed = async (source: string[]) => {
      const run = await runCli(["analyze", ...source, "--truth", truth, "--format", "json"], { timeoutMs: TIMEOUT_MS });
      assert.equal(run.code, 0, run.stderr);
      // Where a record came from (a file's line, a partition's offset) is all that may differ.
      return JSON.parse(run.stdout, (key, value: unknown) => (["source", "sources", "line", "kafka"].includes(key) ? undefined : value)) as Record<string, unknown>;
    };
    const fromTopics = await analyzed(["--kafka-bootstrap", bootstrap.join(","), ...topicFlags(topics)]);
    const fromLines = await analyzed([file]);
    assert.equal((fromLines.violations as { out_of_order: { count: number } }).out_of_order.count, 0);
    assert.deepEqual(fromTopics, fromLines);

    // Following the topics with the truth: the same order, no transaction's records out of it.
    const report = join(dir, "follow.json");
    const follower = new FollowerProcess(t, ["--kafka-bootstrap", bootstrap.join(","), ...topicFlags(topics), "--truth", truth, "--summary-ms", "200", "--format", "json", "--report", report]);
    const events = (fromLines as { events: number }).events;
    await waitFor("every event followed", () => follower.events === events, 60_000, () => follower.stderr);
    const stopped = await follower.stop("SIGINT");
    assert.equal(stopped.code, 130, stopped.stderr);
    const followed = JSON.parse(await readFile(report, "utf8")) as { violations: { out_of_order: { count: number } }; transactions: unknown };
    assert.equal(followed.violations.out_of_order.count, 0);
    assert.deepEqual(followed.transactions, fromLines.transactions);
  });
});
