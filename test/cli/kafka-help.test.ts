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
