/**
 * `wfsim run --score-alerts kafka:TOPIC` against the real broker: alerts a pipeline writes to a topic
 * while the run goes on (late and duplicate ones among them) are scored as they come, and the final
 * scores are those of `wfsim analyze --alerts kafka:TOPIC` afterwards.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { collect, parseLines, runCli, startCli } from "../helpers/cli.ts";
import { admin, createTopic, producer, randomTopic } from "../kafka/clients.ts";
import { kafkaSkip } from "../kafka/env.ts";
import { deleteTopicsAfter, testTopics, topicFlags } from "../kafka/wfsim.ts";
import { plaintext } from "../follow/helpers.ts";
import { alertLines, pollUntil, stderrMatch } from "./helpers.ts";

const EXAMPLE = new URL("../../examples/checkout.yaml", import.meta.url).pathname;
const RUN = ["run", "--scenario", EXAMPLE, "--clock", "virtual", "--samples", "1000", "--seed", "5", "--start-time", "2026-01-01T00:00:00Z"];

describe("wfsim run --score-alerts kafka:TOPIC", { skip: kafkaSkip(), timeout: 180_000 }, () => {
  it("scores alerts written to a topic during the run, late and duplicate ones included, as analyze --alerts kafka:TOPIC does", async (t) => {
    const { bootstrap, options } = plaintext();
    const dir = await mkdtemp(join(tmpdir(), "wfsim-score-kafka-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const topics = testTopics("live");
    deleteTopicsAfter(t, options, topics);
    const alertsTopic = randomTopic("live-alerts");
    await createTopic(t, options, alertsTopic, 2);
    t.after(() => admin(t, options).deleteTopics({ topics: [alertsTopic] }).catch(() => {}));

    // The run to a file first: the same transactions and labels the Kafka run makes (same seed, start, virtual clock).
    const first = await runCli([...RUN, "-q", "--truth", join(dir, "t1.jsonl"), "-o", join(dir, "e1.jsonl")]);
    assert.equal(first.code, 0, first.stderr);
    const truth = parseLines(await readFile(join(dir, "t1.jsonl"), "utf8"));
    const lines = alertLines(truth, parseLines(await readFile(join(dir, "e1.jsonl"), "utf8")));

    const reportPath = join(dir, "live.json");
    const child = startCli([...RUN, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--truth", join(dir, "t2.jsonl"),
      "--score-alerts", `kafka:${alertsTopic}`, "--score-grace", "10m", "--report", reportPath, "--metrics", "127.0.0.1:0"]);
    const done = collect(child, { timeoutMs: 150_000 });
    t.after(() => child.kill("SIGKILL"));
    const metricsUrl = (await stderrMatch(child, /^(?=[\s\S]*scoring alerts from kafka:\/\/)[\s\S]*metrics at (http:\S+)\n/))[1]!;
    // The pipeline answers: half the alerts, then all of them again (duplicates), the last ones late
    // (after the run's end: the grace waits for them).
    const send = producer(t, options);
    const half = lines.slice(0, Math.floor(lines.length / 2));
    await send.send({ messages: half.map((value, i) => ({ topic: alertsTopic, key: `k${i}`, value })) });
    // The engine is done once the truth file is complete.
    await pollUntil("the end of the run", async () => {
      const text = await readFile(join(dir, "t2.jsonl"), "utf8").catch(() => "");
      return text.split("\n").length - 1 === truth.length ? true : undefined;
    }, 120_000);
    await send.send({ messages: lines.map((value, i) => ({ topic: alertsTopic, key: `k${i}`, value })) });
    // The Kafka output's metrics once it is done: every event acknowledged, each request's latency observed.
    // (The truth file is complete when the engine stops; Kafka may still be acknowledging the last records.)
    const events = (await readFile(join(dir, "e1.jsonl"), "utf8")).split("\n").length - 1;
    const metrics = await pollUntil("every record acknowledged", async () => {
      const body = await (await fetch(metricsUrl)).text();
      return new RegExp(`^wfsim_kafka_records_delivered_total ${events}$`, "m").test(body) ? body : undefined;
    }, 60_000);
    assert.match(metrics, /^wfsim_kafka_records_in_flight 0$/m);
    const requests = Number(/^wfsim_kafka_delivery_latency_seconds_count (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(requests > 0, metrics);
    // The grace is long: a signal ends it, and the scores are those of every alert written.
    child.kill("SIGINT");
    const result = await done;
    assert.equal(result.code, 130, result.stderr);

    const after = await runCli(["analyze", join(dir, "e1.jsonl"), "--truth", join(dir, "t2.jsonl"), "--alerts", `kafka:${alertsTopic}`, "--kafka-bootstrap", bootstrap, "--format", "json"]);
    assert.equal(after.code, 0, after.stderr);
    const report = JSON.parse(await readFile(reportPath, "utf8")) as { alerts: { lines: number; true_positives: number; false_positives: number } };
    // Lines of a topic with several partitions are counted in the order read, which differs between a
    // bounded read (partition after partition) and a live one (as records come): the invalid lines
    // are the same ones, at other counts.
    type Alerts = { invalid_examples: { line: number; reason: string }[] };
    const withoutLines = (alerts: Alerts) => ({ ...alerts, invalid_examples: alerts.invalid_examples.map(({ line: _, ...rest }) => rest) });
    assert.deepEqual(withoutLines(report.alerts as unknown as Alerts), withoutLines((JSON.parse(after.stdout) as { alerts: Alerts }).alerts));
    assert.equal(report.alerts.lines, half.length + lines.length);
    assert.ok(report.alerts.true_positives > 5 && report.alerts.false_positives > 20, JSON.stringify(report.alerts));
  });

  it("with --score-alerts-group: offsets are committed to that group, and the next run resumes from them", async (t) => {
    const { bootstrap, options } = plaintext();
    const dir = await mkdtemp(join(tmpdir(), "wfsim-score-group-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const topics = testTopics("group");
    deleteTopicsAfter(t, options, topics);
    const alertsTopic = randomTopic("group-alerts");
    await createTopic(t, options, alertsTopic, 2);
    t.after(() => admin(t, options).deleteTopics({ topics: [alertsTopic] }).catch(() => {}));
    const group = randomTopic("wfsim-score-group");
    const send = producer(t, options);
    const write = (n: number, from: number) => send.send({ messages: Array.from({ length: n }, (_, i) => ({ topic: alertsTopic, key: `k${from + i}`, value: JSON.stringify({ txn_id: `txn_unknown_${from + i}` }) })) });
    const score = async (run: number, withGroup: boolean) => {
      const report = join(dir, `report-${run}.json`);
      const result = await runCli([...RUN.slice(0, 6), "50", ...RUN.slice(7), "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--score-alerts", `kafka:${alertsTopic}`,
        ...(withGroup ? ["--score-alerts-group", group] : []), "--score-grace", "0s", "--report", report], { timeoutMs: 120_000 });
      assert.equal(result.code, 0, result.stderr);
      return { lines: (JSON.parse(await readFile(report, "utf8")) as { alerts: { lines: number } }).alerts.lines, stderr: result.stderr };
    };
    // Written before the group exists: a first run starts at the topic's end, as without a group.
    await write(4, 0);
    const first = await score(1, true);
    assert.equal(first.lines, 0);
    assert.match(first.stderr, new RegExp(`^wfsim: --score-alerts-group ${group}: reading alerts from the topic's end$`, "m"));
    // Written between two runs: the next run of the group reads them; a run without it does not.
    await write(5, 4);
    assert.equal((await score(2, false)).lines, 0);
    const resumed = await score(3, true);
    assert.match(resumed.stderr, new RegExp(`^wfsim: --score-alerts-group ${group}: resuming 5 alert records behind the topic's end$`, "m"));
    assert.equal(resumed.lines, 5);
    // That run committed what it read: the next one has only what came after.
    await write(2, 9);
    assert.equal((await score(4, true)).lines, 2);
    const committed = await admin(t, options).listConsumerGroupOffsets({ groups: [group] });
    const partitions = committed[0]?.topics.find((topic) => topic.name === alertsTopic)?.partitions ?? [];
    assert.equal(partitions.reduce((sum, p) => sum + Number(p.committedOffset), 0), 11);
  });

  it("refuses --score-alerts-group with a file source, without --score-alerts, or blank: one line, exit 2", async () => {
    const file = await runCli(["run", "--samples", "5", "--score-alerts", "file:/dev/null", "--score-alerts-group", "g"]);
    assert.equal(file.code, 2);
    assert.equal(file.stderr, "wfsim: --score-alerts-group applies to --score-alerts kafka:TOPIC (a file has no consumer group), got --score-alerts 'file:/dev/null'\n");
    const alone = await runCli(["run", "--samples", "5", "--score-alerts-group", "g"]);
    assert.equal(alone.code, 2);
    assert.equal(alone.stderr, "wfsim: --score-alerts-group applies to --score-alerts\n");
    const blank = await runCli(["run", "--samples", "5", "--kafka-bootstrap", "192.0.2.1:9092", "--score-alerts", "kafka:alerts", "--score-alerts-group", " "]);
    assert.equal(blank.code, 2);
    assert.equal(blank.stderr, "wfsim: --score-alerts-group must be a consumer group name (not blank, no control characters), got ' '\n");
  });

  it("needs the Kafka output's connection, and a topic that exists; a later mistake still ends the process", async (t) => {
    const noKafka = await runCli(["run", "--samples", "5", "--score-alerts", "kafka:alerts"]);
    assert.equal(noKafka.code, 2);
    assert.equal(noKafka.stderr, "wfsim: --score-alerts kafka:alerts reads with the Kafka output's connection flags: add --kafka-bootstrap HOST:PORT\n");
    const { bootstrap } = plaintext();
    const missing = randomTopic("live-missing");
    const result = await runCli(["run", "--samples", "5", "--kafka-bootstrap", bootstrap, "--score-alerts", `kafka:${missing}`]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr.split("\n").length, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`^wfsim: .*${missing}`));
    // The alert topic's reader is connected when --truth is found to be no file: the process must still end.
    const { options } = plaintext();
    const alertsTopic = randomTopic("live-later");
    await createTopic(t, options, alertsTopic, 1);
    t.after(() => admin(t, options).deleteTopics({ topics: [alertsTopic] }).catch(() => {}));
    const later = await runCli(["run", "--samples", "5", "--kafka-bootstrap", bootstrap, "--truth", "-", "--score-alerts", `kafka:${alertsTopic}`], { timeoutMs: 30_000 });
    assert.equal(later.code, 2, later.stderr);
    assert.match(later.stderr, /^wfsim: --truth /m);
  });
});
