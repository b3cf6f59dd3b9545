/**
 * `wfsim analyze --kafka-bootstrap` (bounded) against the real broker: the same figures as the JSON
 * Lines of the same run, zero stream-check findings, the topics as they were when it started, places
 * named topic-partition:offset, and one-line failures with exit code 2.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyze } from "../../../src/analyze/analyze.ts";
import { openKafkaSource } from "../../../src/analyze/read/kafka-source.ts";
import { resolveKafkaConnection } from "../../../src/config/kafka-options.ts";
import { runCli } from "../../helpers/cli.ts";
import { Producer, stringSerializers } from "@platformatic/kafka";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { admin } from "../../kafka/clients.ts";
import { kafkaSkip, kafkaTarget } from "../../kafka/env.ts";
import { closedPort, deleteTopicsAfter, jsonLines, oneLineError, RECENT_START, testTopics, topicFlags } from "../../kafka/wfsim.ts";
import { ev, freshTopics, partitionOf, plaintext, produce } from "../../follow/helpers.ts";
import { WFSIM } from "../helpers.ts";

const TIMEOUT_MS = 120_000;
const VIRTUAL = ["--clock", "virtual", "--start-time", RECENT_START];

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-kafka-source-test-"))));
after(() => rm(dir, { recursive: true, force: true }));

describe("wfsim analyze --kafka-bootstrap", { skip: kafkaSkip(), timeout: TIMEOUT_MS }, () => {
  test("reads a wfsim run from Kafka with the same figures as its JSON Lines, and no stream-check findings", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("same-figures");
    deleteTopicsAfter(t, options, topics);
    const workload = ["--samples", "6000", "--concurrency", "80", "--outlier-prob", "0.05", "--seed", "21", ...VIRTUAL];
    const published = await runCli(["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--partitions", "4", "--quiet"], { timeoutMs: TIMEOUT_MS });
    assert.equal(published.code, 0, published.stderr);
    const file = join(dir, "run.jsonl");
    await writeFile(file, `${(await jsonLines(workload)).join("\n")}\n`);

    const fromKafka = await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "json"], { timeoutMs: TIMEOUT_MS });
    assert.equal(fromKafka.code, 0, fromKafka.stderr);
    assert.equal(fromKafka.stderr, "");
    // Read in the main thread instead of a worker (kafka-worker-source.ts): the same report.
    const inThread = await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "json"], { timeoutMs: TIMEOUT_MS, env: { WFSIM_KAFKA_READ_THREAD: "main" } });
    assert.equal(inThread.code, 0, inThread.stderr);
    assert.equal(inThread.stdout, fromKafka.stdout);
    const fromFile = await runCli(["analyze", file, "--format", "json"], { timeoutMs: TIMEOUT_MS });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const kafka = JSON.parse(fromKafka.stdout);
    const jsonl = JSON.parse(fromFile.stdout);

    const { sources, kafka: section, ...figures } = kafka;
    const { sources: _sources, ...expected } = jsonl;
    assert.deepEqual(figures, expected);
    assert.deepEqual(sources, [`kafka://${bootstrap}/${topics.transactions},${topics.steps}`]);
    for (const [kind, found] of Object.entries(kafka.violations)) assert.equal((found as { count: number }).count, 0, kind);
    assert.equal(kafka.events, 6000 * 16);
    assert.ok(kafka.outliers.injected > 0 && kafka.outliers.recall === 1);
    assert.deepEqual(section, {
      bootstrap,
      topics: {
        transactions: { name: topics.transactions, partitions: 4, records: 12_000 },
        steps: { name: topics.steps, partitions: 4, records: 84_000 },
      },
      merge: "all-partitions",
      skipped_by_retention: 0,
      deleted_before_read: 0,
    });

    const text = await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics)], { timeoutMs: TIMEOUT_MS });
    assert.match(
      text.stdout,
      new RegExp(`^  from Kafka at ${bootstrap}: ${topics.transactions} \\(4 partitions, 12,000 records\\) and ${topics.steps} \\(4 partitions, 84,000 records\\); all partitions merged by record timestamp$`, "m"),
    );
  });

  test("compressed batches and a transactional producer's commits and aborts: the same figures as the JSON Lines", async (t) => {
    const { bootstrap, options } = plaintext();
    const partitions = 3;
    const topics = await freshTopics(t, options, "transactional", partitions);
    const workload = ["--samples", "3000", "--concurrency", "50", "--outlier-prob", "0.05", "--seed", "8", ...VIRTUAL];
    const lines = await jsonLines(workload);
    const file = join(dir, "transactional.jsonl");
    await writeFile(file, `${lines.join("\n")}\n`);
    const client = new Producer({ clientId: `wfsim-test-${process.pid}`, serializers: stringSerializers, idempotent: true, transactionalId: `wfsim-test-${topics.steps}`, ...options });
    t.after(() => client.close());
    const message = (line: string) => {
      const event = JSON.parse(line) as { type: string; txn_id: string; ts_ms: number };
      return {
        topic: event.type.startsWith("transaction_") ? topics.transactions : topics.steps,
        key: event.txn_id,
        value: line,
        partition: partitionOf(event.txn_id, partitions),
        timestamp: BigInt(event.ts_ms),
        headers: { event_type: event.type },
      };
    };
    // Each slice in a transaction of its own, with each codec in turn; between them, a transaction
    // of copies that is aborted: read committed, its records are never analysed (they would be duplicates).
    const codecs = ["gzip", "snappy", "lz4", "none"] as const;
    const SLICE = 4_000;
    for (let i = 0, n = 0; i < lines.length; i += SLICE, n++) {
      const slice = lines.slice(i, i + SLICE);
      const transaction = await client.beginTransaction({ compression: codecs[n % codecs.length] });
      await transaction.send({ messages: slice.map(message) });
      await transaction.commit();
      if (n % 3 === 1) {
        const aborted = await client.beginTransaction({ compression: "lz4" });
        await aborted.send({ messages: slice.slice(0, 500).map(message) });
        await aborted.abort();
      }
    }

    const fromKafka = await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "json"], { timeoutMs: TIMEOUT_MS });
    assert.equal(fromKafka.code, 0, fromKafka.stderr);
    const fromFile = await runCli(["analyze", file, "--format", "json"], { timeoutMs: TIMEOUT_MS });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const { sources: _kafkaSources, kafka: section, ...figures } = JSON.parse(fromKafka.stdout);
    const { sources: _fileSources, ...expected } = JSON.parse(fromFile.stdout);
    assert.deepEqual(figures, expected);
    assert.equal(figures.events, 3000 * 16);
    assert.equal(figures.violations.duplicates.count, 0);
    assert.equal(section.topics.transactions.records + section.topics.steps.records, 3000 * 16);
  });

  test("reads the topics as they were when it started, and names places as topic-partition:offset", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = await freshTopics(t, options, "as-they-were", 2);
    const t0 = Number(RECENT_START);
    // b's step_done 1 is missing; c's close arrives twice.
    await produce(t, options, topics, 2, [
      ev.open("b", t0), ev.stepOpen("b", 1, t0 + 5, 5), ev.close("b", t0 + 9, 9, 1),
      ev.open("c", t0 + 10), ev.stepOpen("c", 1, t0 + 12, 2), ev.stepDone("c", 1, t0 + 12), ev.close("c", t0 + 13, 3, 1), ev.close("c", t0 + 13, 3, 1),
    ]);
    const connection = resolveKafkaConnection({ kafkaBootstrap: bootstrap, topicTxn: topics.transactions, topicSteps: topics.steps });
    const source = await openKafkaSource(connection);
    // Written after the source captured the ends: not read.
    await produce(t, options, topics, 2, [ev.open("late", t0 + 20)]);
    const report = await analyze(source);
    assert.equal(report.events, 8);
    assert.equal(report.kafka?.topics.transactions?.records, 5);
    assert.equal(report.violations.missing_steps.count, 1);
    assert.deepEqual(report.violations.missing_steps.examples[0], {
      txn_id: "b",
      source: `${topics.transactions}-${partitionOf("b", 2)}`,
      line: 1,
      detail: "ended after 1 steps without step_done 1",
    });
    const duplicate = report.violations.duplicates.examples[0]!;
    assert.equal(duplicate.source, `${topics.transactions}-${partitionOf("c", 2)}`);
    assert.equal(duplicate.line, partitionOf("c", 2) === partitionOf("b", 2) ? 4 : 2, "the offset of c's second close");
  });

  test("a missing topic: one line naming it and its flag, exit 2", async () => {
    const { bootstrap } = plaintext();
    const topics = testTopics("missing");
    const result = await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--kafka-timeout", "5000"]);
    assert.equal(
      oneLineError(result, 2),
      `wfsim: cannot read topics ${topics.transactions} and ${topics.steps} from Kafka at ${bootstrap}: no such topic, or not visible to this user (see --topic-txn, --topic-steps)`,
    );
  });

  test("a broker that cannot be reached: one line, exit 2, within --kafka-timeout", async () => {
    const port = await closedPort();
    const started = performance.now();
    for (const follow of [[], ["--follow"]]) {
      const result = await runCli(["analyze", "--kafka-bootstrap", `127.0.0.1:${port}`, "--kafka-timeout", "2000", ...follow]);
      assert.equal(oneLineError(result, 2), `wfsim: cannot connect to Kafka at 127.0.0.1:${port}: connection refused (gave up after 2 s, see --kafka-timeout)`);
    }
    assert.ok(performance.now() - started < 2 * (2_000 + 8_000));
  });

  test("a listener that wants TLS or a SASL login, reached over wfsim's own connection: the same lines as the Kafka output's", { skip: kafkaSkip("ssl") || kafkaSkip("sasl") }, async () => {
    const ssl = kafkaTarget("ssl").bootstrap.join(",");
    const tls = await runCli(["analyze", "--kafka-bootstrap", ssl, "--kafka-timeout", "600000"], { timeoutMs: 60_000 });
    assert.equal(oneLineError(tls, 2), `wfsim: cannot connect to Kafka at ${ssl}: its listener speaks TLS; add --kafka-ssl (and --kafka-ca FILE unless the system's CAs trust the broker's certificate)`);
    const sasl = kafkaTarget("sasl").bootstrap.join(",");
    const login = await runCli(["analyze", "--kafka-bootstrap", sasl, "--kafka-timeout", "600000"], { timeoutMs: 60_000 });
    assert.match(oneLineError(login, 2), new RegExp(`^wfsim: Kafka at ${sasl} closed the connection: its listener at ${sasl} wants a SASL login \\(it offers [A-Z0-9, -]*PLAIN[A-Z0-9, -]*\\); give --kafka-sasl-mechanism, --kafka-user and the password$`));
  });

  test("a wrong password: one line naming the user, never the password, exit 2", { skip: kafkaSkip("sasl") }, async () => {
    const sasl = kafkaTarget("sasl");
    const user = sasl.users["SCRAM-SHA-256"];
    if (user === undefined) return;
    const result = await runCli(
      ["analyze", "--kafka-bootstrap", sasl.bootstrap.join(","), "--kafka-sasl-mechanism", "scram-sha-256", "--kafka-user", user.username, "--follow", "--group", "g"],
      { env: { WFSIM_KAFKA_PASSWORD: "not-the-password" } },
    );
    const line = oneLineError(result, 2);
    assert.match(line, new RegExp(`^wfsim: Kafka at ${sasl.bootstrap.join(",")} refused the SASL SCRAM-SHA-256 login of user ${user.username}: authentication failed`));
    assert.doesNotMatch(line, /not-the-password/);
  });

  test("--group on topics with different partition counts: refused in one line, exit 2", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("uneven");
    deleteTopicsAfter(t, options, topics);
    const client = admin(t, options);
    await client.createTopics({ topics: [topics.transactions], partitions: 3, replicas: 1 });
    await client.createTopics({ topics: [topics.steps], partitions: 4, replicas: 1 });
    const result = await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--follow", "--group", "g"]);
    assert.equal(
      oneLineError(result, 2),
      `wfsim: --group needs every topic read to have the same number of partitions (a transaction's events are on partition p of each), got ${topics.transactions} 3, ${topics.steps} 4`,
    );
  });
});

describe("wfsim analyze --kafka-bootstrap: memory", { skip: kafkaSkip(), timeout: 600_000 }, () => {
  test("a topic ten times longer than the tests' default is read within a bounded margin of the same file's peak RSS (a bound, not a timing)", async (t) => {
    const { bootstrap, options } = plaintext();
    const samples = 60_000; // 960,000 events: ten times the other tests' 6,000 transactions
    const topics = testTopics("memory");
    deleteTopicsAfter(t, options, topics);
    const workload = ["--samples", `${samples}`, "--seed", "3", ...VIRTUAL];
    const published = await runCli(["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--partitions", "3", "--quiet"], { timeoutMs: 300_000 });
    assert.equal(published.code, 0, published.stderr);
    const file = join(dir, "memory.jsonl");
    const generated = await runCli(["run", ...workload, "--output", file, "--quiet"], { timeoutMs: 300_000 });
    assert.equal(generated.code, 0, generated.stderr);
    const kafka = await peakRssOf(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "json"]);
    const local = await peakRssOf(["analyze", file, "--format", "json"]);
    assert.equal(kafka.code, 0);
    assert.equal(local.code, 0);
    assert.equal(JSON.parse(kafka.stdout).events, samples * 16);
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
    // Beyond the analysis (the file's figure), a Kafka read holds what its fetches bring (MAX_PENDING_BYTES
    // per partition and one answer, topics-reader.ts) and the socket chunks the client reads them in,
    // which V8 frees in batches once about 64 MiB of them are garbage. Holding the records would take
    // about 200 MiB more for 960,000 events, and grow with the topic.
    assert.ok(kafka.peakRss - local.peakRss < 128 * 2 ** 20, `peak RSS ${mib(kafka.peakRss)} MiB from Kafka, ${mib(local.peakRss)} MiB from the file`);
  });
});

/** Runs wfsim in a child process, sampling its resident set size from /proc every 20 ms. */
function peakRssOf(args: readonly string[]): Promise<{ code: number | null; peakRss: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WFSIM, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    let peakRss = 0;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const sampler = setInterval(() => {
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0);
        peakRss = Math.max(peakRss, kb * 1024);
      } catch {
        // Gone already.
      }
    }, 20);
    child.on("error", (error) => {
      clearInterval(sampler);
      reject(error);
    });
    child.on("close", (code) => {
      clearInterval(sampler);
      resolve({ code, peakRss, stdout });
    });
  });
}
