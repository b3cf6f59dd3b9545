// wfsim analyze --follow --schema-registry against a real broker and Apicurio: a run written in Avro
// and Protobuf is followed, decoded by the schema ids in its values, into the same figures as the
// JSON Lines of the same seed; without --schema-registry the follower says what to add, in one line.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { RECENT_START, topicFlags } from "../kafka/wfsim.ts";
import { FollowerProcess, freshTopics, plaintext, waitFor } from "../follow/helpers.ts";
import { kafkaAndRegistry } from "./env.ts";

const TIMEOUT_MS = 180_000;
const { skip, url: registryUrl } = kafkaAndRegistry();

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-registry-follow-"))));
after(() => rm(dir, { recursive: true, force: true }));

describe("wfsim analyze --follow --schema-registry", { skip, timeout: TIMEOUT_MS }, () => {
  for (const format of ["avro", "protobuf"] as const) {
    test(`${format}: the followed figures are those of the JSON Lines of the same seed`, async (t) => {
      const { bootstrap, options } = plaintext();
      const topics = await freshTopics(t, options, `reg-follow-${format}`, 2);
      const workload = ["--samples", "400", "--concurrency", "20", "--outlier-prob", "0.1", "--seed", "8", "--clock", "virtual", "--start-time", RECENT_START];
      const published = await runCli(["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", format, "--schema-registry", registryUrl(), "--quiet"], {
        timeoutMs: TIMEOUT_MS,
      });
      assert.equal(published.code, 0, published.stderr);
      const file = join(dir, `${format}.jsonl`);
      const lines = await runCli(["run", ...workload, "--output", file, "--quiet"]);
      assert.equal(lines.code, 0, lines.stderr);
      const expected = JSON.parse((await runCli(["analyze", file, "--format", "json"])).stdout) as Record<string, unknown>;

      const report = join(dir, `${format}-report.json`);
      const follower = new FollowerProcess(t, [
        "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--schema-registry", registryUrl(), "--stuck-ms", "3600000", "--summary-ms", "300", "--format", "json", "--report", report,
      ]);
      await waitFor("every event analysed", () => follower.events === expected["events"], 90_000, () => follower.stderr);
      const { code, stderr } = await follower.stop("SIGINT");
      assert.equal(code, 130, stderr);
      const figures = JSON.parse(await readFile(report, "utf8")) as Record<string, unknown>;
      assert.equal(figures["events"], expected["events"]);
      assert.deepEqual(figures["transactions"], expected["transactions"]);
      assert.deepEqual(figures["outliers"], expected["outliers"]);
      assert.deepEqual(follower.alerts, []);
    });
  }

  test("without --schema-registry, a value in the wire format: one line naming the flag, exit 2", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = await freshTopics(t, options, "reg-follow-without", 1);
    const published = await runCli(["run", "--samples", "5", "--clock", "virtual", "--start-time", RECENT_START, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "avro", "--schema-registry", registryUrl(), "--quiet"], { timeoutMs: TIMEOUT_MS });
    assert.equal(published.code, 0, published.stderr);
    const follower = new FollowerProcess(t, ["--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--quiet"]);
    await waitFor("the follower to stop", () => !follower.running, 60_000, () => follower.stderr);
    const { code, stderr } = await follower.stop("SIGINT");
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^wfsim: a record on --kafka-bootstrap holds a value in a Schema Registry's wire format \(schema id \d+\): add --schema-registry URL\n$/);
  });
});
