import assert from "node:assert/strict";
import { it } from "node:test";
import { runCli } from "../helpers/cli.ts";

it("lists the Kafka output's flags under their own heading, with their defaults", async () => {
  const result = await runCli(["run", "--help"]);
  assert.equal(result.code, 0);
  const [, kafka = ""] = result.stdout.split("\nKafka output:\n");
  const help = kafka.replace(/\s+/g, " ");
  for (const [flag, value] of [
    ["--kafka-bootstrap", undefined],
    ["--topic-txn", "workflow.transactions"],
    ["--topic-steps", "workflow.steps"],
    ["--acks", "all"],
    ["--compression", "none"],
    ["--partitions", "the cluster's num.partitions"],
    ["--replication-factor", "the cluster's default.replication.factor"],
    ["--kafka-timeout", "30000"],
    ["--undelivered", undefined],
    ["--kafka-ssl", undefined],
    ["--kafka-ca", undefined],
    ["--kafka-cert", undefined],
    ["--kafka-key", undefined],
    ["--kafka-sasl-mechanism", undefined],
    ["--kafka-user", undefined],
    ["--kafka-password-file", undefined],
  ] as const) {
    assert.ok(help.includes(`${flag} `), `${flag} under "Kafka output:"`);
    if (value !== undefined) assert.ok(help.includes(`(default: ${value})`), `${flag} default ${value}`);
  }
  assert.match(help, /WFSIM_KAFKA_PASSWORD environment variable\); never given on the command line/);
  assert.doesNotMatch(result.stdout, /--kafka-password </, "no flag takes the password itself");
});

it("lists analyze's Kafka input flags (run's connection flags, same names and defaults) and the follower's flags", async () => {
  const run = await runCli(["run", "--help"]);
  const analyze = await runCli(["analyze", "--help"]);
  assert.equal(analyze.code, 0);
  const flagsUnder = (text: string, heading: string) => {
    const [, section = ""] = text.split(`\n${heading}\n`);
    return [...section.split(/\n\S/)[0]!.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]!);
  };
  const output = flagsUnder(run.stdout, "Kafka output:");
  const input = flagsUnder(analyze.stdout, "Kafka input (instead of files):");
  const producerOnly = ["--acks", "--compression", "--partitions", "--replication-factor", "--undelivered"];
  assert.deepEqual(input, output.filter((flag) => !producerOnly.includes(flag)));
  const help = analyze.stdout.replace(/\s+/g, " ");
  for (const value of ["workflow.transactions", "workflow.steps", "30000"]) assert.ok(help.includes(`(default: ${value})`), value);
  assert.deepEqual(flagsUnder(analyze.stdout, "Following Kafka (--follow):"), [
    "--follow",
    "--stuck-ms",
    "--stuck-clock",
    "--group",
    "--summary-ms",
    "--report",
    "--metrics",
    "--ui",
    "--quiet",
  ]);
  assert.match(help, /--stuck-ms <ms> alert once on each transaction open for longer than this \(default: 60000\)/);
  assert.match(help, /"type":"stuck_transaction_alert"/);
});
