// Shaped records read back from Kafka, against the real broker npm test starts: `wfsim analyze
// --kafka-bootstrap … --scenario FILE` reads the scenario's topics (any number of them) back into the
// lifecycle, and its report equals, figure for figure, the report of the JSON Lines of the same seed.
// Every shipped example with an output section, on its own topics, and the e-commerce one with a
// topic per record type (a transaction's records spread over five topics of three partitions each).
// Then `--follow` on such topics: alone, its report when stopped is the same, and its alerts are on
// transactions that stay open too long.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { Admin } from "@platformatic/kafka";
import { loadScenario } from "../../src/config/scenario/load.ts";
import { runCli } from "../helpers/cli.ts";
import { FollowerProcess, waitFor } from "../follow/helpers.ts";
import { kafkaSkip, kafkaTarget } from "./env.ts";
import { RECENT_START } from "./wfsim.ts";

const TIMEOUT_MS = 300_000;
const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;

async function shippedShaped(): Promise<string[]> {
  const files = (await readdir(EXAMPLES)).filter((name) => name.endsWith(".yaml")).map((name) => join(EXAMPLES, name));
  const shaped: string[] = [];
  for (const file of files) if ((await loadScenario(file)).output !== undefined) shaped.push(file);
  return shaped;
}

/** The scenario with its topic template (the section's own `topic:`) replaced, and its topics deleted after the test. */
async function onOwnTopics(t: TestContext, dir: string, file: string, template: (prefix: string) => string, partitions?: number): Promise<{ path: string; topics: readonly string[] }> {
  const prefix = `wfsim-shaped-read-${randomBytes(5).toString("hex")}`;
  const text = await readFile(file, "utf8");
  const replaced = text.replace(/^  topic: .*$/m, `  topic: "${template(prefix)}"${partitions === undefined ? "" : `\n  partitions: ${partitions}`}`);
  assert.notEqual(replaced, text, `${file} has an output-level topic:`);
  const path = join(dir, `${prefix}.yaml`);
  await writeFile(path, replaced);
  const topics = (await loadScenario(path)).output!.topics;
  t.after(async () => {
    const admin = new Admin({ clientId: "wfsim-test", bootstrapBrokers: kafkaTarget("plaintext").bootstrap });
    await admin.deleteTopics({ topics: [...topics] }).catch(() => {});
    await admin.close();
  });
  return { path, topics };
}

async function wfsim(args: readonly string[]): Promise<string> {
  const result = await runCli(args, { timeoutMs: TIMEOUT_MS });
  assert.equal(result.code, 0, `wfsim ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** The report without what names the input (its sources, and the Kafka section). */
function figures(json: string): Record<string, unknown> {
  const report = JSON.parse(json) as Record<string, unknown> & { ground_truth?: { source?: unknown } };
  delete report.sources;
  delete report.kafka;
  if (report.ground_truth !== undefined) delete report.ground_truth.source;
  return report;
}

describe("wfsim analyze --kafka-bootstrap --scenario (shaped topics)", { skip: kafkaSkip(), timeout: TIMEOUT_MS * 3 }, async () => {
  const { bootstrap } = kafkaTarget("plaintext");
  const examples = await shippedShaped();
  const cases: { name: string; file: string; template: ((prefix: string) => string) | undefined; partitions?: number }[] = [
    ...examples.map((file) => ({ name: file.split("/").pop()!, file, template: undefined })),
    { name: "shop-orders.yaml with a topic per record type, 3 partitions each", file: join(EXAMPLES, "shop-orders.yaml"), template: (prefix: string) => `${prefix}.{record}`, partitions: 3 },
  ];

  test("the shipped examples with an output section are there", () => {
    assert.ok(examples.length >= 2, examples.join(", "));
  });

  for (const { name, file, template, partitions } of cases) {
    test(`${name}: the report from its topics equals the report from its JSON Lines, figure for figure`, async (t) => {
      const dir = await mkdtemp(join(tmpdir(), "wfsim-shaped-read-"));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const shipped = await readFile(file, "utf8");
      const shippedTemplate = /^ {2}topic: "?([^"\n]*)"?$/m.exec(shipped)![1]!;
      // The shipped template on this test's own prefix (its first dot-separated part replaced).
      const own = template ?? ((prefix: string) => `${prefix}.${shippedTemplate.split(".").slice(1).join(".") || shippedTemplate}`);
      const { path, topics } = await onOwnTopics(t, dir, file, own, partitions);
      const workload = ["--scenario", path, "--samples", "1500", "--clock", "virtual", "--start-time", RECENT_START, "--quiet"];
      const jsonl = join(dir, "records.jsonl");
      await wfsim(["run", ...workload, "--kafka-bootstrap", bootstrap.join(","), "--truth", join(dir, "kafka.truth")]);
      await wfsim(["run", ...workload, "--output", jsonl, "--truth", join(dir, "file.truth")]);
      assert.equal(await readFile(join(dir, "kafka.truth"), "utf8"), await readFile(join(dir, "file.truth"), "utf8"), "the same run");

      const truth = ["--truth", join(dir, "file.truth"), "--format", "json"];
      const fromFile = await wfsim(["analyze", "--scenario", path, jsonl, ...truth]);
      const fromKafka = await wfsim(["analyze", "--scenario", path, "--kafka-bootstrap", bootstrap.join(","), ...truth]);
      const kafka = (JSON.parse(fromKafka) as { kafka: { topics: Record<string, { name: string; records: number }> } }).kafka;
      assert.deepEqual(Object.values(kafka.topics).map((topic) => topic.name), [...topics], "every topic of the scenario read");
      const records = (await readFile(jsonl, "utf8")).split("\n").filter((line) => line !== "").length;
      assert.equal(Object.values(kafka.topics).reduce((sum, topic) => sum + topic.records, 0), records, "every record read once");
      const file_ = figures(fromFile);
      assert.ok((file_.events as number) > 10_000, `${String(file_.events)} events`);
      assert.deepEqual(figures(fromKafka), file_);
    });
  }

  test("--follow on shaped topics (a topic per record type): the report when stopped equals the JSON Lines', alerts on stuck transactions only", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "wfsim-shaped-follow-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const { path } = await onOwnTopics(t, dir, join(EXAMPLES, "shop-orders.yaml"), (prefix) => `${prefix}.{record}`, 3);
    const workload = ["--scenario", path, "--samples", "1500", "--clock", "virtual", "--start-time", RECENT_START, "--quiet"];
    const jsonl = join(dir, "records.jsonl");
    await wfsim(["run", ...workload, "--kafka-bootstrap", bootstrap.join(","), "--truth", join(dir, "kafka.truth")]);
    await wfsim(["run", ...workload, "--output", jsonl, "--truth", join(dir, "file.truth")]);
    const truthArgs = ["--truth", join(dir, "file.truth")];
    const fromFile = figures(await wfsim(["analyze", "--scenario", path, jsonl, ...truthArgs, "--format", "json"]));

    const report = join(dir, "follow.json");
    // Longer than any transaction of this run that ends (72 s at most), shorter than the run (129 s).
    const stuckMs = 75_000;
    const follower = new FollowerProcess(t, [
      "--scenario", path, "--kafka-bootstrap", bootstrap.join(","), ...truthArgs, "--stuck-ms", String(stuckMs), "--summary-ms", "200", "--format", "json", "--report", report,
    ]);
    await waitFor("the follower to analyse every event", () => follower.events >= (fromFile.events as number), 120_000, () => follower.stderr);
    const { code, stderr } = await follower.stop("SIGINT");
    assert.equal(code, 130, stderr);
    const followed = JSON.parse(await readFile(report, "utf8")) as Record<string, unknown> & { kafka: { follow: { alerts: number }; merge: string } };
    assert.equal(followed.kafka.merge, "per-partition", "the topics have one key and 3 partitions each: partition p of every topic together");
    assert.equal(followed.kafka.follow.alerts, follower.alerts.length);
    // Alerts: on transactions open longer than --stuck-ms (event time), which only stuck ones are here.
    const truth = (await readFile(join(dir, "file.truth"), "utf8")).split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as { kind: string; txn_id: string; ts_ms: number });
    const stuck = truth.filter((record) => record.kind === "stuck");
    const lines = (await readFile(jsonl, "utf8")).trimEnd().split("\n");
    const lastTs = Date.parse((JSON.parse(lines.at(-1)!) as { occurredAt: string }).occurredAt);
    // Those stuck well before the end (event time of every partition past their open by stuck-ms, with a margin) must be alerted.
    const due = stuck.filter((record) => record.ts_ms < lastTs - stuckMs - 5_000).map((record) => record.txn_id);
    assert.ok(due.length > 0, "the run has a transaction stuck early enough");
    const alerted = new Set(follower.alerts.map((alert) => alert.txn_id));
    assert.ok(due.every((id) => alerted.has(id)) && [...alerted].every((id) => stuck.some((record) => record.txn_id === id)), `alerted ${[...alerted].join(", ")}; due ${due.join(", ")}`);
    assert.equal(alerted.size, follower.alerts.length, "each transaction alerted once");
    // A follower reads the partition numbers side by side, not in one time order across them: its
    // concurrency over time follows its read order (as for wfsim's own topics); every other figure is the file's.
    const withoutTimeline = (report: Record<string, unknown>) => {
      delete (report.concurrency as { timeline?: unknown }).timeline;
      return report;
    };
    assert.deepEqual(withoutTimeline(figures(JSON.stringify(followed))), withoutTimeline(fromFile));
  });

  test("--follow --group on shaped topics: refused in one line, exit 2", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "wfsim-shaped-follow-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const result = await runCli(["analyze", "--scenario", join(EXAMPLES, "shop-orders.yaml"), "--kafka-bootstrap", bootstrap.join(","), "--follow", "--group", "g", "--dry-run"]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^wfsim: --group does not read shaped topics yet: --scenario \S+ has an output section; follow its topics without --group\n$/);
  });
});
