// Delivery faults on a shaped output through Kafka, against the real broker: the topics hold exactly
// the records (malformed ones included) the same run writes to a file, the truth is the same, and
// each well-formed record's Kafka timestamp is its event time as rendered (skew included), however
// late it left; and analyze, reading the topics back with the truth, gives the figures of the run
// without faults, as it does from the file (test/cli/delivery-shaped.test.ts).

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Admin } from "@platformatic/kafka";
import { runCli } from "../helpers/cli.ts";
import { consumeAll } from "./consume.ts";
import { kafkaSkip, kafkaTarget } from "./env.ts";
import { RECENT_START } from "./wfsim.ts";
import { isJson } from "../helpers/json.ts";

const TIMEOUT_MS = 180_000;
const PAYMENTS = new URL("../../examples/payments-cloudevents.yaml", import.meta.url).pathname;
const DELIVERY =
  "{drop: {prob: 0.03}, duplicate: {prob: 0.03, after: 3s}, delay: {prob: 0.03, by: {dist: uniform, min: 1s, max: 20s}}, skew: {prob: 0.03, offset: 5s}, corrupt: {prob: 0.03}}";


describe("wfsim run --scenario (output section) --delivery --kafka-bootstrap", { skip: kafkaSkip(), timeout: TIMEOUT_MS }, () => {
  test("publishes the faulty shaped stream the file gets, and analyze undoes it from the topics", async (t) => {
    const { bootstrap } = kafkaTarget("plaintext");
    const prefix = `wfsim-shaped-faults-${randomBytes(5).toString("hex")}`;
    const dir = await mkdtemp(join(tmpdir(), "wfsim-shaped-faults-kafka-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const scenario = join(dir, "payments.yaml");
    await writeFile(scenario, (await readFile(PAYMENTS, "utf8")).replace('topic: "payments.{workflow}"', `topic: "${prefix}.{workflow}"\n  partitions: 3`));
    const topics = [`${prefix}.card_payment`, `${prefix}.refund`];
    t.after(async () => {
      const admin = new Admin({ clientId: "wfsim-test", bootstrapBrokers: bootstrap });
      await admin.deleteTopics({ topics }).catch(() => {});
      await admin.close();
    });
    const workload = ["--scenario", scenario, "--samples", "1500", "--seed", "5", "--clock", "virtual", "--start-time", RECENT_START];
    const truth = join(dir, "truth.jsonl");
    const sent = await runCli(["run", ...workload, "--delivery", DELIVERY, "--truth", truth, "--kafka-bootstrap", bootstrap.join(",")], { timeoutMs: TIMEOUT_MS });
    assert.equal(sent.code, 0, sent.stderr);
    const file = join(dir, "records.jsonl");
    const written = await runCli(["run", ...workload, "--delivery", DELIVERY, "--truth", join(dir, "truth2.jsonl"), "-o", file, "--quiet"]);
    assert.equal(written.code, 0, written.stderr);
    assert.equal(await readFile(join(dir, "truth2.jsonl"), "utf8"), await readFile(truth, "utf8"));
    const lines = (await readFile(file, "utf8")).split("\n").filter((line) => line !== "");

    const records = await consumeAll(t, { bootstrapBrokers: bootstrap }, topics);
    assert.deepEqual(records.map((r) => r.value).sort(), [...lines].sort());
    const faults = (await readFile(truth, "utf8")).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { kind: string });
    const count = (kind: string) => faults.filter((f) => f.kind === kind).length;
    assert.ok(["drop", "duplicate", "delay", "skew", "corrupt"].every((kind) => count(kind) > 0));
    assert.equal(records.filter((r) => !isJson(r.value)).length, count("corrupt"));
    for (const r of records.filter((r) => isJson(r.value))) {
      assert.equal(Number(r.timestamp), Date.parse((JSON.parse(r.value) as { time: string }).time), r.value);
    }

    // Partitions merged by their timestamps come out of event-time order by the skews (a record skewed
    // ahead holds its partition back): analyze must still put every transaction back together.
    const clean = await runCli(["run", ...workload, "--truth", join(dir, "clean-truth.jsonl"), "-o", join(dir, "clean.jsonl"), "--quiet"]);
    assert.equal(clean.code, 0, clean.stderr);
    const analyze = async (args: readonly string[]) => {
      const result = await runCli(["analyze", ...args, "--scenario", scenario, "--format", "json"], { timeoutMs: TIMEOUT_MS });
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    const expected = await analyze([join(dir, "clean.jsonl"), "--truth", join(dir, "clean-truth.jsonl")]);
    const fromKafka = await analyze(["--kafka-bootstrap", bootstrap.join(","), "--truth", truth]);
    for (const figure of ["events", "events_by_type", "transactions", "duration_ms", "first_event_to_close_ms", "gap_ms", "workflows", "step_baselines", "outliers", "violations"]) {
      assert.deepEqual(fromKafka[figure], expected[figure], figure);
    }
    assert.equal((expected.transactions as { total: number }).total, 1500);
    const found = fromKafka.delivery_faults as Record<string, { injected: number; found: number | null }>;
    assert.equal(found.duplicate!.found, found.duplicate!.injected);
    assert.equal(found.corrupt!.found, found.corrupt!.injected);
  });
});
