/**
 * Issue #3's goal: events/s wfsim delivers to a local broker with acks=all and idempotence, beside
 * Kafka's own org.apache.kafka.tools.ProducerPerformance sending as many records of the same average
 * size, with the same acks and idempotence, to the same broker in the same run. Goal: at least 70%
 * of ProducerPerformance's records/s.
 *
 * The broker: KAFKA_BOOTSTRAP if set, else one started here with Kafka's usual JVM settings.
 * Topics are fresh for every run, with the same partition count for both programs.
 *
 * Then `wfsim analyze` reads the last round's topics back, beside `wfsim analyze` of the same run's
 * JSON Lines file.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { javaCommand, kafkaClasspath, startBroker, type BrokerHandle } from "../../test/kafka/broker.ts";
import { median, runProcess, type BenchRow } from "../harness.ts";
import { NODE, WFSIM } from "../paths.ts";

const SAMPLES = 100_000;
const EVENTS_PER_TRANSACTION = 16;
const PARTITIONS = 3;
const ROUNDS = 3;
const HEADER_KEY = "event_type";

export async function kafkaRows(): Promise<BenchRow[]> {
  const external = process.env["KAFKA_BOOTSTRAP"];
  let broker: BrokerHandle | undefined;
  if (external === undefined || external === "") broker = await startBroker({ jvm: "throughput" });
  const bootstrap = external || broker!.bootstrap.plaintext;
  try {
    // Simulated time starts a day back, so that no timestamp lies far ahead of the broker's clock.
    const start = String(Date.now() - 86_400_000);
    const workload = ["run", "--clock", "virtual", "--samples", `${SAMPLES}`, "--start-time", start, "--quiet"];
    const recordSize = await averageRecordSize(workload);
    const events = SAMPLES * EVENTS_PER_TRANSACTION;

    const ours: number[] = [];
    const theirs: number[] = [];
    let peakRss = 0;
    let lastTopics: string[] = [];
    // Alternated, so that a slow moment of a shared machine does not fall on one side only.
    for (let round = 0; round < ROUNDS; round++) {
      const suffix = randomBytes(4).toString("hex");
      const run = await runProcess(NODE, [
        WFSIM,
        ...workload,
        "--kafka-bootstrap", bootstrap,
        "--topic-txn", `bench-txn-${suffix}`,
        "--topic-steps", `bench-steps-${suffix}`,
        "--partitions", `${PARTITIONS}`,
      ]);
      if (run.code !== 0) throw new Error(`wfsim failed: ${run.stderr}`);
      lastTopics = ["--topic-txn", `bench-txn-${suffix}`, "--topic-steps", `bench-steps-${suffix}`];
      ours.push(events / (run.wallMs / 1000));
      peakRss = Math.max(peakRss, run.peakRssBytes);
      theirs.push(await producerPerformance(bootstrap, `bench-pp-${suffix}`, events, recordSize));
    }
    const wfsim = median(ours);
    const reference = median(theirs);
    return [
      {
        name: `Kafka: ${events.toLocaleString("en-US")} events delivered, acks=all, idempotent, ${PARTITIONS} partitions per topic (wfsim: whole process)`,
        unit: "records/s",
        wfsim,
        reference,
        referenceLabel: `ProducerPerformance (${recordSize} B records, acks=all, enable.idempotence=true)`,
        goal: { value: 0.7, better: "higher", on: "ratio" },
        note:
          `runs: wfsim ${ours.map(format).join(", ")}; ProducerPerformance ${theirs.map(format).join(", ")}; ` +
          `wfsim peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB; broker ${external ? `KAFKA_BOOTSTRAP=${external}` : "started by the bench"}`,
      },
      ...(await analyzeFromKafkaRows(bootstrap, lastTopics, workload, events)),
    ];
  } finally {
    await broker?.stop();
  }
}

const format = (value: number) => Math.round(value).toLocaleString("en-US");

/**
 * `wfsim analyze` reading the last round's topics (bounded: from the beginning to the end they have
 * when it starts), beside `wfsim analyze` of the same run's JSON Lines file: whole processes, median
 * of 3 each, alternated. Issue #14's goals: at least 75% of the file's events/s (the median of the
 * pairs' ratios), and a peak RSS of at most 200 MB.
 */
async function analyzeFromKafkaRows(bootstrap: string, topics: readonly string[], workload: readonly string[], events: number): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), "wfsim-bench-analyze-kafka-"));
  try {
    const file = join(dir, "run.jsonl");
    const generate = await runProcess(NODE, [WFSIM, ...workload, "--output", file]);
    if (generate.code !== 0) throw new Error(`wfsim run failed: ${generate.stderr}`);
    const fromKafka: number[] = [];
    const fromFile: number[] = [];
    const ratios: number[] = [];
    let kafkaRss = 0;
    let fileRss = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const kafka = await runProcess(NODE, [WFSIM, "analyze", "--kafka-bootstrap", bootstrap, ...topics, "--format", "json"], { stdout: "capture" });
      if (kafka.code !== 0 || JSON.parse(kafka.stdout).events !== events) throw new Error(`analyze from Kafka failed: ${kafka.stderr}`);
      fromKafka.push(events / (kafka.wallMs / 1000));
      kafkaRss = Math.max(kafkaRss, kafka.peakRssBytes);
      const local = await runProcess(NODE, [WFSIM, "analyze", file, "--format", "json"]);
      if (local.code !== 0) throw new Error(`analyze of the file failed: ${local.stderr}`);
      fromFile.push(events / (local.wallMs / 1000));
      fileRss = Math.max(fileRss, local.peakRssBytes);
      ratios.push(local.wallMs / kafka.wallMs);
    }
    const row: BenchRow = {
      name: `analyze: the same ${events.toLocaleString("en-US")} events read from Kafka (${PARTITIONS} partitions per topic, merged), whole process`,
      unit: "events/s",
      wfsim: median(fromKafka),
      reference: median(fromFile),
      referenceLabel: "wfsim analyze of the same run's JSON Lines file (page cache warm)",
      goal: { value: 0.75, better: "higher", on: "ratio" },
      ratio: median(ratios),
      note:
        `runs: Kafka ${fromKafka.map(format).join(", ")}; file ${fromFile.map(format).join(", ")}; ` +
        `peak RSS ${(kafkaRss / 2 ** 20).toFixed(0)} MiB from Kafka, ${(fileRss / 2 ** 20).toFixed(0)} MiB from the file; load average ${loadavg()[0]!.toFixed(1)}`,
    };
    const memory: BenchRow = {
      name: `analyze: peak RSS reading those ${events.toLocaleString("en-US")} events from Kafka (highest of the runs)`,
      unit: "MB",
      wfsim: Math.round(kafkaRss / 1e6),
      reference: Math.round(fileRss / 1e6),
      referenceLabel: "wfsim analyze of the same run's JSON Lines file",
      goal: { value: 200, better: "lower", on: "wfsim" },
    };
    return [row, memory];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Key, value and header bytes of the average record wfsim sends for this workload. */
async function averageRecordSize(workload: readonly string[]): Promise<number> {
  const run = await runProcess(NODE, [WFSIM, ...workload.map((arg) => (arg === `${SAMPLES}` ? "10000" : arg))], { stdout: "capture" });
  if (run.code !== 0) throw new Error(`wfsim failed: ${run.stderr}`);
  let bytes = 0;
  let records = 0;
  for (const line of run.stdout.split("\n")) {
    if (line === "") continue;
    const event = JSON.parse(line) as { type: string; txn_id: string };
    bytes += Buffer.byteLength(line) + Buffer.byteLength(event.txn_id) + HEADER_KEY.length + event.type.length;
    records++;
  }
  return Math.round(bytes / records);
}

/** Creates the topic, runs ProducerPerformance, and returns the records/s it reports. */
async function producerPerformance(bootstrap: string, topic: string, records: number, recordSize: number): Promise<number> {
  const classpath = kafkaClasspath();
  const create = await runProcess(javaCommand(), [
    "-cp", classpath,
    "org.apache.kafka.tools.TopicCommand",
    "--bootstrap-server", bootstrap,
    "--create", "--topic", topic,
    "--partitions", `${PARTITIONS}`,
  ]);
  if (create.code !== 0) throw new Error(`TopicCommand failed: ${create.stderr}`);
  const run = await runProcess(
    javaCommand(),
    [
      "-cp", classpath,
      "org.apache.kafka.tools.ProducerPerformance",
      "--topic", topic,
      "--num-records", `${records}`,
      "--record-size", `${recordSize}`,
      "--throughput", "-1",
      "--producer-props", `bootstrap.servers=${bootstrap}`, "acks=all", "enable.idempotence=true",
    ],
    { stdout: "capture" },
  );
  // Its last line: "1600000 records sent, 412345.6 records/sec (54.43 MB/sec), ..."
  const rate = /^\d+ records sent, ([\d.]+) records\/sec/m.exec(run.stdout.trim().split("\n").at(-1) ?? "");
  if (run.code !== 0 || rate === null) throw new Error(`ProducerPerformance failed: ${run.stderr}\n${run.stdout.slice(-2000)}`);
  return Number(rate[1]);
}
