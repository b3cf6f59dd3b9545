/**
 * The loop with a real pipeline, end to end against the real broker: wfsim's topics and an alerts
 * topic set up first, the reference Kafka Streams application (examples/pipelines/kafka-streams)
 * started before any event exists, a blind run of its scenario published to Kafka with the answers in
 * a truth file, the application's alerts read back from their topic by `wfsim analyze`, and both kinds
 * of anomaly found with precision and recall above the bounds its README states.
 *
 * Bounds: the detector cannot see the anomalies whose evidence comes after the stream's last event
 * (stuck transactions gone silent less than stuck-ms + grace before it, about 2.5% of a 10-minute run,
 * 1.2 of its ~49 expected); nothing else is missed or wrongly alerted when the merge is right. With
 * ~49 stuck transactions, recall ≥ 0.85 fails only if more than 7 are missed: for a Poisson count of
 * mean 1.2, a chance below 1e-4. Outliers (~260 transactions) must come out at 0.95 or better, and
 * precision of both kinds at 0.95 or better (a wrong merge gives hundreds of false alerts).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DETECTOR_JAR, ensureDetectorJar, PIPELINE_DIR } from "../../scripts/detector-jar.ts";
import { collect, runCli } from "../helpers/cli.ts";
import { admin, randomTopic } from "../kafka/clients.ts";
import { kafkaSkip } from "../kafka/env.ts";
import { deleteTopicsAfter, testTopics, topicFlags } from "../kafka/wfsim.ts";
import { plaintext } from "../follow/helpers.ts";

const BOUNDS = { outlier: { precision: 0.95, recall: 0.95 }, stuck: { precision: 0.95, recall: 0.85 } } as const;

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-pipeline-"))));
after(() => rm(dir, { recursive: true, force: true }));

describe("the reference pipeline (Kafka Streams)", { skip: kafkaSkip(), timeout: 20 * 60_000 }, () => {
  test("finds the injected slow gaps and stuck transactions of a blind run, scored from its alerts topic", async (t) => {
    const started = performance.now();
    const lap = (what: string) => t.diagnostic(`${what} at ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await ensureDetectorJar();
    lap("jar ready");
    const { bootstrap, options } = plaintext();
    const topics = testTopics("pipeline");
    const alertsTopic = randomTopic("pipeline-alerts");
    deleteTopicsAfter(t, options, topics);
    t.after(() => admin(t, options).deleteTopics({ topics: [alertsTopic] }).catch(() => {}));
    const connection = ["--kafka-bootstrap", bootstrap, ...topicFlags(topics)];

    // 1. The topics first, so that the pipeline can start before any event exists.
    const created = await runCli(["topics", "create", ...connection, "--alerts-topic", alertsTopic, "--partitions", "3"]);
    assert.equal(created.code, 0, created.stderr);

    // 2. The pipeline, bounded: it stops by itself once its input has been quiet for 8 s.
    const app = spawn(
      "java",
      [
        "-jar", DETECTOR_JAR,
        "--bootstrap", bootstrap,
        "--topic-txn", topics.transactions,
        "--topic-steps", topics.steps,
        "--alerts-topic", alertsTopic,
        "--application-id", `wfsim-detector-test-${alertsTopic}`,
        "--state-dir", join(dir, "state"),
        "--exit-when-idle-ms", "8000",
      ],
      { cwd: PIPELINE_DIR },
    );
    t.after(() => app.kill("SIGKILL"));
    const appDone = collect(app, { timeoutMs: 10 * 60_000 });

    // 3. A blind run of the pipeline's scenario into the topics, the answers in a truth file.
    const truth = join(dir, "truth.jsonl");
    const run = await runCli(
      ["run", "--scenario", join(PIPELINE_DIR, "loop.yaml"), "--clock", "virtual", "--start-time", "now", "--truth", truth, ...connection, "--quiet"],
      { timeoutMs: 5 * 60_000 },
    );
    assert.equal(run.code, 0, run.stderr);
    lap("run published");

    const appResult = await appDone;
    assert.equal(appResult.code, 0, `the pipeline failed:\n${appResult.stderr}`);
    assert.match(appResult.stderr, /no record for 8000 ms: stopping/);

    lap("pipeline stopped");

    // 4. Scored from the alerts topic, against the truth file.
    const scored = await runCli(["analyze", ...connection, "--truth", truth, "--alerts", `kafka:${alertsTopic}`, "--format", "json"], { timeoutMs: 5 * 60_000 });
    assert.equal(scored.code, 0, scored.stderr);
    lap("scored");
    const report = JSON.parse(scored.stdout);
    for (const [kind, found] of Object.entries(report.violations)) assert.equal((found as { count: number }).count, 0, kind);
    const alerts = report.alerts;
    assert.equal(alerts.invalid_lines, 0);
    assert.equal(alerts.unknown_transactions, 0);
    assert.ok(alerts.alerts_with_kind > 0);
    for (const kind of ["outlier", "stuck"] as const) {
      const k = alerts.by_kind[kind];
      const said = `${kind}: ${JSON.stringify(k)}`;
      assert.ok(k.labelled > 20, said);
      assert.ok(k.precision >= BOUNDS[kind].precision, said);
      assert.ok(k.recall >= BOUNDS[kind].recall, said);
    }
    // Found soon after the evidence was there: once stream time passes --gap-ms (4 s) or --stuck-ms
    // (20 s) plus the grace (2 s), at the next punctuation (every second of stream time), which comes
    // with the next record of the partition (a few hundred ms apart at 5 transactions a second).
    assert.ok(alerts.by_kind.outlier.detection_delay_ms.max <= 4_000 + 2_000 + 1_000 + 2_000, JSON.stringify(alerts.by_kind.outlier.detection_delay_ms));
    assert.ok(alerts.by_kind.stuck.detection_delay_ms.max <= 20_000 + 2_000 + 1_000 + 2_000, JSON.stringify(alerts.by_kind.stuck.detection_delay_ms));
    t.diagnostic(`outlier ${JSON.stringify(alerts.by_kind.outlier)}`);
    t.diagnostic(`stuck ${JSON.stringify(alerts.by_kind.stuck)}`);
  });
});
