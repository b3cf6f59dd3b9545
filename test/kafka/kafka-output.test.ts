// wfsim run --kafka-bootstrap against the real broker npm test starts: every event exactly once,
// keyed, in order, compared with the JSON Lines of the same seed; topics; security; failures.

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { collect, runCli, startCli } from "../helpers/cli.ts";
import { admin, saslOptions, tlsOptions, type ConnectOptions } from "./clients.ts";
import { assertExactlyOnceInOrder, consumeAll, type ConsumedRecord } from "./consume.ts";
import { kafkaSkip, kafkaTarget } from "./env.ts";
import {
  closedPort,
  count,
  deleteTopicsAfter,
  jsonLines,
  oneLineError,
  RECENT_START,
  testTopics,
  topicFlags,
  type TestTopics,
} from "./wfsim.ts";

const TIMEOUT_MS = 120_000;
const VIRTUAL = ["--clock", "virtual", "--start-time", RECENT_START];

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-kafka-test-"))));
after(() => rm(dir, { recursive: true, force: true }));

function plaintext(): { bootstrap: string; options: ConnectOptions } {
  const { bootstrap } = kafkaTarget("plaintext");
  return { bootstrap: bootstrap.join(","), options: { bootstrapBrokers: bootstrap } };
}

/** Runs the same workload to Kafka and to stdout, consumes the topics back and compares. */
async function publishAndCompare(
  t: TestContext,
  connect: { bootstrap: string; options: ConnectOptions; env?: NodeJS.ProcessEnv; extra?: string[] },
  workload: string[],
  label: string,
  partitions = 1,
): Promise<{ stderr: string; records: ConsumedRecord[]; topics: TestTopics }> {
  const topics = testTopics(label);
  deleteTopicsAfter(t, connect.options, topics);
  const result = await runCli(
    ["run", ...workload, "--kafka-bootstrap", connect.bootstrap, ...topicFlags(topics), "--partitions", String(partitions), ...(connect.extra ?? [])],
    { env: connect.env ?? {}, timeoutMs: TIMEOUT_MS },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "", "nothing on stdout: the events went to Kafka");
  const lines = await jsonLines(workload);
  const records = await consumeAll(t, connect.options, [topics.transactions, topics.steps]);
  assertExactlyOnceInOrder(records, { lines, topics, partitions: { transactions: partitions, steps: partitions } });
  const transactional = lines.filter((line) => /^\{"type":"transaction_/.test(line)).length;
  const delivered = new RegExp(
    `^wfsim: ${lines.length.toLocaleString("en-US")} events delivered to Kafka at .* \\(acks=all, idempotent\\): ` +
      `${transactional.toLocaleString("en-US")} to ${topics.transactions}, ${(lines.length - transactional).toLocaleString("en-US")} to ${topics.steps}\\.$`,
    "m",
  );
  assert.match(result.stderr, delivered);
  return { stderr: result.stderr, records, topics };
}

describe("wfsim run --kafka-bootstrap", { skip: kafkaSkip(), timeout: TIMEOUT_MS }, () => {
  test("publishes every event exactly once, keyed by txn_id, in order, as the JSON Lines of the same seed", async (t) => {
    const workload = ["--samples", "4000", "--concurrency", "60", "--outlier-prob", "0.05", "--seed", "11", ...VIRTUAL];
    const { stderr, records, topics } = await publishAndCompare(t, plaintext(), workload, "exactly-once", 4);
    assert.match(stderr, new RegExp(`^wfsim: created topic ${topics.transactions} \\(4 partitions, replication factor 1\\)$`, "m"));
    assert.equal(records.length, 4000 * 16);
    assert.equal(new Set(records.filter((r) => r.topic === topics.steps).map((r) => r.partition)).size, 4, "all partitions used");
  });

  test("creates missing topics as asked and uses existing ones as they are", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("existing");
    deleteTopicsAfter(t, options, topics);
    await admin(t, options).createTopics({ topics: [topics.steps], partitions: 2, replicas: 1 });
    const workload = ["--samples", "300", ...VIRTUAL];
    const result = await runCli(
      ["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--partitions", "3", "--replication-factor", "1"],
      { timeoutMs: TIMEOUT_MS },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`^wfsim: created topic ${topics.transactions} \\(3 partitions, replication factor 1\\)$`, "m"));
    assert.match(
      result.stderr,
      new RegExp(`^wfsim: topic ${topics.steps} exists with 2 partitions, replication factor 1; used as it is \\(--partitions applies to topics wfsim creates\\)$`, "m"),
    );
    const metadata = await admin(t, options).metadata({ topics: [topics.transactions, topics.steps], forceUpdate: true });
    assert.equal(metadata.topics.get(topics.transactions)?.partitionsCount, 3);
    assert.equal(metadata.topics.get(topics.steps)?.partitionsCount, 2);
    const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
    assertExactlyOnceInOrder(records, { lines: await jsonLines(workload), topics, partitions: { transactions: 3, steps: 2 } });
  });

  test("the topic line gives the shape the cluster's defaults made, as its metadata has it", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("defaults");
    deleteTopicsAfter(t, options, topics);
    const result = await runCli(["run", "--samples", "20", ...VIRTUAL, "--kafka-bootstrap", bootstrap, ...topicFlags(topics)], { timeoutMs: TIMEOUT_MS });
    assert.equal(result.code, 0, result.stderr);
    const metadata = await admin(t, options).metadata({ topics: [topics.transactions, topics.steps], forceUpdate: true });
    for (const name of [topics.transactions, topics.steps]) {
      const topic = metadata.topics.get(name)!;
      const partitions = topic.partitionsCount;
      assert.ok(partitions > 0);
      const shape = `${partitions} partition${partitions === 1 ? "" : "s"}, replication factor ${topic.partitions[0]!.replicas.length}`;
      assert.match(result.stderr, new RegExp(`^wfsim: created topic ${name} \\(${shape}\\)$`, "m"));
    }
  });

  test("a replication factor the cluster cannot give: one line naming the topics and the flag, exit 2", async () => {
    const { bootstrap } = plaintext();
    const topics = testTopics("rf");
    const result = await runCli(["run", "--samples", "5", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--replication-factor", "999"], {
      timeoutMs: TIMEOUT_MS,
    });
    const line = oneLineError(result, 2);
    assert.match(
      line,
      new RegExp(
        `^wfsim: Kafka at ${bootstrap} refused to create topic ${topics.transactions} and ${topics.steps}: ` +
          "the replication factor is larger than the number of brokers \\(INVALID_REPLICATION_FACTOR\\).*\\(--replication-factor\\)$",
      ),
    );
  });

  for (const [extra, label] of [
    [["--compression", "gzip"], "gzip"],
    [["--compression", "snappy"], "snappy"],
    [["--compression", "lz4"], "lz4"],
    [["--compression", "zstd"], "zstd"],
  ] as const) {
    test(`delivers everything with --compression ${label}`, async (t) => {
      await publishAndCompare(t, { ...plaintext(), extra: [...extra] }, ["--samples", "500", "--seed", "5", ...VIRTUAL], label, 2);
    });
  }

  for (const acks of ["1", "0"]) {
    test(`delivers everything with --acks ${acks} (no idempotence, as Kafka requires)`, async (t) => {
      const { bootstrap, options } = plaintext();
      const topics = testTopics(`acks${acks}`);
      deleteTopicsAfter(t, options, topics);
      const workload = ["--samples", "500", ...VIRTUAL];
      const result = await runCli(["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--acks", acks], { timeoutMs: TIMEOUT_MS });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`8,000 events delivered to Kafka at .* \\(acks=${acks}\\)`));
      const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
      assertExactlyOnceInOrder(records, { lines: await jsonLines(workload), topics, partitions: { transactions: 1, steps: 1 } });
    });
  }

  test("fails within --kafka-timeout, in one line naming the address, when nothing listens there", async () => {
    const port = await closedPort();
    const started = performance.now();
    const result = await runCli(["run", "--samples", "10", "--kafka-bootstrap", `127.0.0.1:${port}`, "--kafka-timeout", "2000"]);
    const seconds = (performance.now() - started) / 1000;
    const line = oneLineError(result, 2);
    assert.equal(line, `wfsim: cannot connect to Kafka at 127.0.0.1:${port}: connection refused (gave up after 2 s, see --kafka-timeout)`);
    assert.ok(seconds < 2 + 10, `gave up after ${seconds.toFixed(1)} s`);
  });

  test("refuses events whose timestamps the topic does not accept: count, reason, exit 3", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("future");
    deleteTopicsAfter(t, options, topics);
    // Topics made elsewhere keep Kafka 4's default: no timestamp more than an hour ahead of the broker.
    await admin(t, options).createTopics({ topics: [topics.transactions, topics.steps], partitions: 1, replicas: 1 });
    // About 1.75 simulated hours from now: the events of the first hour are accepted, the rest not.
    const workload = ["--samples", "3000", "--concurrency", "5", "--clock", "virtual"];
    const result = await runCli(["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics)], {
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(result.code, 3, result.stderr);
    // The simulation may finish before the first refusal comes back: the summary counts every event.
    const summary = /^wfsim: [\d,]+ transactions .*, ([\d,]+) events to Kafka at /m.exec(result.stderr);
    assert.ok(summary, result.stderr);
    const delivered = /^wfsim: ([\d,]+) events delivered to Kafka/m.exec(result.stderr);
    const failed = /^wfsim: ([\d,]+) of ([\d,]+) events were not delivered to Kafka at \S+: the broker refused the events' timestamps \(INVALID_TIMESTAMP\)/m.exec(
      result.stderr,
    );
    assert.ok(delivered && failed, result.stderr);
    assert.equal(count(failed[2]), count(summary[1]));
    assert.equal(count(delivered[1]) + count(failed[1]), count(failed[2]));
    assert.ok(count(delivered[1]) > 0, "the first hour of events got through");
    assert.ok(result.stderr.split("\n").at(-2)?.startsWith(failed[0]), "the failure is the last line");
    const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
    assert.equal(records.length, count(delivered[1]), "what the summary calls delivered is in the topics");
  });

  test("SIGINT mid-run stops the simulation and still delivers everything emitted, transaction_aborted included", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("sigint");
    deleteTopicsAfter(t, options, topics);
    const child = startCli([
      "run",
      "--samples", "100000",
      "--concurrency", "300",
      "--speed", "20",
      "--kafka-bootstrap", bootstrap,
      ...topicFlags(topics),
    ]);
    const done = collect(child, { timeoutMs: TIMEOUT_MS });
    await new Promise<void>((resolve) => child.stderr.on("data", (chunk: Buffer) => chunk.toString().includes("created topic") && resolve()));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    child.kill("SIGINT");
    const result = await done;
    assert.equal(result.code, 130, result.stderr);
    const summary = /^wfsim: ([\d,]+) transactions \(([\d,]+) closed, ([\d,]+) aborted\), ([\d,]+) events to Kafka.*stopped early by SIGINT\.$/m.exec(result.stderr);
    assert.ok(summary, result.stderr);
    const [opened, closed, aborted, events] = [summary[1], summary[2], summary[3], summary[4]].map(count) as [number, number, number, number];
    assert.ok(aborted > 0 && opened === closed + aborted, result.stderr);
    assert.match(result.stderr, new RegExp(`^wfsim: ${events.toLocaleString("en-US")} events delivered to Kafka`, "m"));

    const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
    assert.equal(records.length, events, "every event emitted is in the topics");
    assert.equal(new Set(records.map((r) => r.value)).size, events, "none twice");
    const lastOfTransaction = new Map<string, string>();
    for (const record of records.filter((r) => r.topic === topics.transactions).sort((a, b) => Number(a.offset - b.offset))) {
      lastOfTransaction.set(record.key, JSON.parse(record.value).type);
    }
    const ends = [...lastOfTransaction.values()];
    assert.equal(ends.filter((type) => type === "transaction_aborted").length, aborted);
    assert.equal(ends.filter((type) => type === "transaction_close").length, closed);
  });

  test("N instances with the same seed publish, together, exactly one process's transactions", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = testTopics("instances");
    deleteTopicsAfter(t, options, topics);
    const workload = ["--samples", "1000", "--concurrency", "30", "--outlier-prob", "0.1", "--seed", "77", ...VIRTUAL];
    const flags = ["--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--partitions", "3"];
    const results = await Promise.all(
      [0, 1, 2].map((i) => runCli(["run", ...workload, "--instance", `${i}/3`, ...flags], { timeoutMs: TIMEOUT_MS })),
    );
    for (const result of results) assert.equal(result.code, 0, result.stderr);

    // Timestamps differ (each instance schedules its share); everything else of each transaction,
    // and the order of its events on each topic, must be the single run's.
    const withoutTimes = (line: string) => JSON.stringify({ ...JSON.parse(line), ts_ms: undefined, duration_ms: undefined });
    const group = (line: string) => {
      const event = JSON.parse(line) as { type: string; txn_id: string };
      return `${event.type.startsWith("transaction_") ? topics.transactions : topics.steps} ${event.txn_id}`;
    };
    const expected = new Map<string, string[]>();
    for (const line of await jsonLines(workload)) {
      const list = expected.get(group(line)) ?? [];
      list.push(withoutTimes(line));
      expected.set(group(line), list);
    }
    const records = await consumeAll(t, options, [topics.transactions, topics.steps]);
    assert.equal(records.length, 1000 * 16);
    const actual = new Map<string, string[]>();
    for (const record of records.sort((a, b) => (a.topic === b.topic ? Number(a.offset - b.offset) : a.topic.localeCompare(b.topic)))) {
      assert.equal(record.key, JSON.parse(record.value).txn_id);
      const list = actual.get(group(record.value)) ?? [];
      list.push(withoutTimes(record.value));
      actual.set(group(record.value), list);
    }
    assert.deepEqual(actual, expected);
  });
});

describe("wfsim run --kafka-bootstrap on secured listeners", { timeout: TIMEOUT_MS }, () => {
  const workload = ["--samples", "300", "--seed", "3", ...VIRTUAL];

  for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
    test(`SASL ${mechanism}: delivers everything, the password read from the environment`, { skip: kafkaSkip("sasl") }, async (t) => {
      const { bootstrap, users } = kafkaTarget("sasl");
      const user = users[mechanism];
      assert.ok(user, `no ${mechanism} user`);
      await publishAndCompare(
        t,
        {
          bootstrap: bootstrap.join(","),
          options: saslOptions(bootstrap, user),
          env: { WFSIM_KAFKA_PASSWORD: user.password },
          extra: ["--kafka-sasl-mechanism", mechanism.toLowerCase(), "--kafka-user", user.username],
        },
        workload,
        mechanism.toLowerCase(),
      );
    });
  }

  test("SASL SCRAM-SHA-512: the password read from --kafka-password-file", { skip: kafkaSkip("sasl") }, async (t) => {
    const { bootstrap, users } = kafkaTarget("sasl");
    const user = users["SCRAM-SHA-512"];
    assert.ok(user);
    const file = join(dir, "scram512.password");
    await writeFile(file, `${user.password}\n`, { mode: 0o600 });
    await publishAndCompare(
      t,
      {
        bootstrap: bootstrap.join(","),
        options: saslOptions(bootstrap, user),
        env: { WFSIM_KAFKA_PASSWORD: "" },
        extra: ["--kafka-sasl-mechanism", "scram-sha-512", "--kafka-user", user.username, "--kafka-password-file", file],
      },
      workload,
      "password-file",
    );
  });

  test("a wrong SASL password: one line naming the address and the user, exit 2, the password never shown", { skip: kafkaSkip("sasl") }, async () => {
    const { bootstrap, users } = kafkaTarget("sasl");
    const user = users["SCRAM-SHA-256"];
    assert.ok(user);
    const wrong = `not-the-password-${process.pid}-Zq9`;
    const file = join(dir, "wrong.password");
    await writeFile(file, wrong);
    const address = bootstrap.join(",");
    for (const source of [{ env: { WFSIM_KAFKA_PASSWORD: wrong }, flags: [] }, { env: {}, flags: ["--kafka-password-file", file] }]) {
      const result = await runCli(
        ["run", "--samples", "5", "--kafka-bootstrap", address, "--kafka-sasl-mechanism", "scram-sha-256", "--kafka-user", user.username, ...source.flags],
        { env: source.env, timeoutMs: TIMEOUT_MS },
      );
      const line = oneLineError(result, 2);
      assert.match(line, new RegExp(`^wfsim: Kafka at ${address} refused the SASL SCRAM-SHA-256 login of user ${user.username}: authentication failed`));
      assert.ok(!result.stderr.includes(wrong) && !result.stdout.includes(wrong), "the password is never echoed");
    }
  });

  // The listener's protocol is told from its first answer: with a --kafka-timeout of ten minutes, a
  // hint that waited for it would not come within the test's own bound.
  test("no SASL against the SASL listener: one line at once naming what it wants, exit 2", { skip: kafkaSkip("sasl") }, async () => {
    const address = kafkaTarget("sasl").bootstrap.join(",");
    const result = await runCli(["run", "--samples", "5", "--kafka-bootstrap", address, "--kafka-timeout", "600000"], { timeoutMs: 60_000 });
    const line = oneLineError(result, 2);
    assert.match(line, new RegExp(`^wfsim: Kafka at ${address} closed the connection: its listener at ${address} wants a SASL login \\(it offers [A-Z0-9, -]*PLAIN[A-Z0-9, -]*\\); give --kafka-sasl-mechanism, --kafka-user and the password$`));
  });

  test("no TLS against the SSL listener: one line at once saying so, exit 2", { skip: kafkaSkip("ssl") }, async () => {
    const address = kafkaTarget("ssl").bootstrap.join(",");
    const result = await runCli(["run", "--samples", "5", "--kafka-bootstrap", address, "--kafka-timeout", "600000"], { timeoutMs: 60_000 });
    const line = oneLineError(result, 2);
    assert.equal(line, `wfsim: cannot connect to Kafka at ${address}: its listener speaks TLS; add --kafka-ssl (and --kafka-ca FILE unless the system's CAs trust the broker's certificate)`);
  });

  test("an address that takes the connection and never answers: \"no answer\", not \"closed\"", async (t) => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    const address = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const result = await runCli(["run", "--samples", "5", "--kafka-bootstrap", address, "--kafka-timeout", "2000"], { timeoutMs: 60_000 });
    const line = oneLineError(result, 2);
    assert.match(line, new RegExp(`^wfsim: cannot connect to Kafka at ${address}: no answer( in time)? \\(gave up after 2 s, see --kafka-timeout\\)$`));
  });

  test("TLS with the broker's CA: delivers everything", { skip: kafkaSkip("ssl") }, async (t) => {
    const ssl = kafkaTarget("ssl");
    await publishAndCompare(
      t,
      { bootstrap: ssl.bootstrap.join(","), options: tlsOptions(ssl, ssl.caFile), extra: ["--kafka-ssl", "--kafka-ca", ssl.caFile] },
      workload,
      "tls",
    );
  });

  test("TLS with a client certificate (mutual TLS): delivers everything", { skip: kafkaSkip("ssl") }, async (t) => {
    const ssl = kafkaTarget("ssl");
    if (!ssl.client) {
      t.skip("no client certificate given (WFSIM_TEST_KAFKA_SSL_CLIENT_CERT_FILE)");
      return;
    }
    const extra = ["--kafka-ssl", "--kafka-ca", ssl.caFile, "--kafka-cert", ssl.client.certFile, "--kafka-key", ssl.client.keyFile];
    await publishAndCompare(t, { bootstrap: ssl.bootstrap.join(","), options: tlsOptions(ssl, ssl.caFile, true), extra }, workload, "mtls");
  });

  test("TLS trusting an unrelated CA: one line naming the address and the certificate problem, exit 2", { skip: kafkaSkip("ssl") }, async (t) => {
    const ssl = kafkaTarget("ssl");
    if (!ssl.untrustedCaFile) {
      t.skip("no untrusted CA given (WFSIM_TEST_KAFKA_SSL_UNTRUSTED_CA_FILE)");
      return;
    }
    const address = ssl.bootstrap.join(",");
    const result = await runCli(["run", "--samples", "5", "--kafka-bootstrap", address, "--kafka-ssl", "--kafka-ca", ssl.untrustedCaFile], {
      timeoutMs: TIMEOUT_MS,
    });
    const line = oneLineError(result, 2);
    assert.match(line, new RegExp(`^wfsim: TLS handshake with Kafka at ${address} failed: the broker's certificate is not signed by a trusted CA \\(`));
  });
});
