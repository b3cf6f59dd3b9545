// wfsim analyze --follow --schema-registry against a real broker and a real Apicurio Registry: a run
// written in Avro, Protobuf or JSON Schema is followed, each value decoded by the schema id it
// carries, into the figures a bounded `analyze --schema-registry` of the same topics gives (and so the
// JSON Lines of the same seed). A scenario's shaped records decode as shaped records, bounded and
// followed. Without --schema-registry a value in the wire format stops the follower in one line that
// names the record, as it stops a bounded read.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { Admin } from "@platformatic/kafka";
import { loadScenario } from "../../src/config/scenario/load.ts";
import { runCli } from "../helpers/cli.ts";
import { RECENT_START, topicFlags } from "../kafka/wfsim.ts";
import { kafkaTarget } from "../kafka/env.ts";
import { FollowerProcess, freshTopics, plaintext, waitFor } from "../follow/helpers.ts";
import { kafkaAndRegistry } from "./env.ts";

const TIMEOUT_MS = 240_000;
const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;
const { skip, url: registryUrl } = kafkaAndRegistry();

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-registry-follow-"))));
after(() => rm(dir, { recursive: true, force: true }));

async function wfsim(args: readonly string[]): Promise<string> {
  const result = await runCli(args, { timeoutMs: TIMEOUT_MS });
  assert.equal(result.code, 0, `wfsim ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** A report's figures: without what names the input (its sources and Kafka section) and the concurrency timeline. */
function figures(report: Record<string, unknown>): Record<string, unknown> {
  const { sources: _sources, kafka: _kafka, ...rest } = report;
  // A follower reads partitions side by side, not in one time order across them: the number of
  // transactions open over time follows its read order. Every other figure is read-order free.
  const concurrency = rest["concurrency"] as Record<string, unknown> | undefined;
  if (concurrency !== undefined) {
    const { timeline: _timeline, ...others } = concurrency;
    rest["concurrency"] = others;
  }
  return rest;
}

/** Follows with these flags until `events` are analysed, stops it (SIGINT) and returns its report. */
async function followed(t: TestContext, args: readonly string[], events: number): Promise<Record<string, unknown>> {
  const report = join(dir, `follow-${randomBytes(4).toString("hex")}.json`);
  const follower = new FollowerProcess(t, [...args, "--stuck-ms", "36000000", "--summary-ms", "200", "--format", "json", "--report", report]);
  await waitFor(`the follower to analyse ${events} events`, () => follower.events >= events || !follower.running, 120_000, () => follower.stderr);
  const { code, stderr } = await follower.stop("SIGINT");
  assert.equal(code, 130, stderr);
  assert.deepEqual(follower.alerts, []);
  return JSON.parse(await readFile(report, "utf8")) as Record<string, unknown>;
}

describe("wfsim analyze --follow --schema-registry", { skip, timeout: TIMEOUT_MS * 4 }, () => {
  for (const format of ["avro", "protobuf", "json-schema"] as const) {
    test(`${format}: the followed figures are those of a bounded read of the same topics, and of the JSON Lines`, async (t) => {
      const { bootstrap, options } = plaintext();
      const topics = await freshTopics(t, options, `reg-follow-${format}`, 3);
      const workload = ["--samples", "600", "--concurrency", "30", "--outlier-prob", "0.1", "--seed", "8", "--clock", "virtual", "--start-time", RECENT_START, "--quiet"];
      const registry = ["--schema-registry", registryUrl()];
      await wfsim(["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", format, ...registry]);
      const file = join(dir, `${format}.jsonl`);
      await wfsim(["run", ...workload, "--output", file]);
      const fromFile = figures(JSON.parse(await wfsim(["analyze", file, "--format", "json"])) as Record<string, unknown>);
      const bounded = figures(JSON.parse(await wfsim(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), ...registry, "--format", "json"])) as Record<string, unknown>);
      assert.deepEqual(bounded, fromFile);
      assert.equal(bounded["events"], 600 * 16);

      const report = await followed(t, ["--kafka-bootstrap", bootstrap, ...topicFlags(topics), ...registry], bounded["events"] as number);
      assert.deepEqual(figures(report), bounded);
    });
  }

  test("a scenario's shaped records (avro): bounded and followed, decoded as shaped records, the JSON Lines' figures", async (t) => {
    const { bootstrap } = kafkaTarget("plaintext");
    const prefix = `wfsim-reg-follow-shaped-${randomBytes(5).toString("hex")}`;
    const shipped = await readFile(join(EXAMPLES, "shop-orders.yaml"), "utf8");
    const text = shipped.replace(/^ {2}topic: .*$/m, `  topic: "${prefix}.{record}"\n  partitions: 2`);
    assert.notEqual(text, shipped);
    const path = join(dir, `${prefix}.yaml`);
    await writeFile(path, text);
    const topics = (await loadScenario(path)).output!.topics;
    t.after(async () => {
      const admin = new Admin({ clientId: "wfsim-test", bootstrapBrokers: bootstrap });
      await admin.deleteTopics({ topics: [...topics] }).catch(() => {});
      await admin.close();
    });
    const workload = ["--scenario", path, "--samples", "400", "--seed", "5", "--clock", "virtual", "--start-time", RECENT_START, "--quiet"];
    const registry = ["--schema-registry", registryUrl()];
    await wfsim(["run", ...workload, "--kafka-bootstrap", bootstrap.join(","), "--format", "avro", ...registry, "--truth", join(dir, `${prefix}.kafka.truth`)]);
    const jsonl = join(dir, `${prefix}.jsonl`);
    await wfsim(["run", ...workload, "--output", jsonl, "--truth", join(dir, `${prefix}.truth`)]);
    const truth = ["--truth", join(dir, `${prefix}.truth`)];
    const fromFile = figures(JSON.parse(await wfsim(["analyze", "--scenario", path, jsonl, ...truth, "--format", "json"])) as Record<string, unknown>);
    delete (fromFile["ground_truth"] as { source?: unknown }).source;
    const bounded = figures(JSON.parse(await wfsim(["analyze", "--scenario", path, "--kafka-bootstrap", bootstrap.join(","), ...registry, ...truth, "--format", "json"])) as Record<string, unknown>);
    delete (bounded["ground_truth"] as { source?: unknown }).source;
    assert.deepEqual(bounded, fromFile);
    assert.ok((bounded["events"] as number) > 2_000, `${String(bounded["events"])} events`);

    const report = figures(await followed(t, ["--scenario", path, "--kafka-bootstrap", bootstrap.join(","), ...registry, ...truth], bounded["events"] as number));
    delete (report["ground_truth"] as { source?: unknown }).source;
    assert.deepEqual(report, bounded);
  });

  test("without --schema-registry, a value in the wire format: one line naming the record, exit 2, as a bounded read says", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = await freshTopics(t, options, "reg-follow-without", 1);
    await wfsim(["run", "--samples", "5", "--clock", "virtual", "--start-time", RECENT_START, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "avro", "--schema-registry", registryUrl(), "--quiet"]);
    const bounded = await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics)], { timeoutMs: TIMEOUT_MS });
    assert.equal(bounded.code, 2, bounded.stderr);

    const follower = new FollowerProcess(t, ["--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--quiet"]);
    await waitFor("the follower to stop", () => !follower.running, 60_000, () => follower.stderr);
    const { code, stderr } = await follower.stop("SIGINT");
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^wfsim: \S+-0 offset 0 holds a value in a Schema Registry's wire format \(schema id \d+\): add --schema-registry URL to decode it\n$/);
    assert.equal(stderr, bounded.stderr, "the follower's line is the bounded read's");
  });
});
