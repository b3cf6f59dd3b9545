// node --test --test-global-setup=test/global-setup.ts: runs once, in the test runner's process,
// before any test file. Test files run in child processes spawned after this, with a copy of this
// process's env, so what globalSetup writes into process.env reaches them (checked on Node 24.21).
//
// Kafka: KAFKA_BOOTSTRAP already set -> the user's cluster, nothing is started. Otherwise a real
// broker is started (Java + Maven needed; the jars are fetched on first use) and described to the
// test files by the variables in test/kafka/env.ts. Without Java or Maven the Kafka tests skip,
// loudly, except in CI (CI=true), where they must run and a broker that cannot start fails the run.

import { BrokerError, startBroker, type BrokerHandle } from "./kafka/broker.ts";
import { KAFKA_TEST_ENV, brokerEnv } from "./kafka/env.ts";
import { startTestRegistry } from "./registry/setup.ts";
import type { RegistryHandle } from "./registry/server.ts";

let broker: BrokerHandle | undefined;
let registry: RegistryHandle | undefined;

function inCi(): boolean {
  const ci = process.env["CI"];
  return ci !== undefined && ci !== "" && ci !== "false" && ci !== "0";
}

function banner(lines: string[]): void {
  const rule = "=".repeat(100);
  process.stderr.write(`\n${rule}\n${lines.map((l) => `  ${l}`).join("\n")}\n${rule}\n\n`);
}

function skipKafka(reason: string): void {
  process.env[KAFKA_TEST_ENV.skipReason] = reason;
  banner([
    "KAFKA TESTS WILL BE SKIPPED",
    reason,
    "To run them: install a JDK 17+ and Maven (Debian: apt-get install openjdk-17-jdk-headless maven),",
    "or point the tests at a running cluster with KAFKA_BOOTSTRAP=host:port (see kafka/README.md).",
  ]);
}

export async function globalSetup(): Promise<void> {
  // The Schema Registry (Apicurio, ~15 s to start) comes up while the broker does.
  const registryStarted = startTestRegistry(inCi(), banner);
  try {
    await setUpKafka();
  } finally {
    registry = await registryStarted;
  }
}

async function setUpKafka(): Promise<void> {
  const userCluster = process.env[KAFKA_TEST_ENV.bootstrap];
  if (userCluster) {
    process.stderr.write(`Kafka tests use KAFKA_BOOTSTRAP=${userCluster}; no broker is started.\n`);
    return;
  }
  if (process.env["WFSIM_TEST_KAFKA"] === "off") {
    if (inCi()) {
      throw new Error("WFSIM_TEST_KAFKA=off is refused in CI: the Kafka tests must run there.");
    }
    skipKafka("WFSIM_TEST_KAFKA=off.");
    return;
  }
  const started = Date.now();
  try {
    broker = await startBroker({ keepDataDir: process.env[KAFKA_TEST_ENV.keepData] === "1" });
  } catch (error) {
    if (error instanceof BrokerError && error.code === "TOOL_MISSING" && !inCi()) {
      skipKafka(error.message);
      return;
    }
    throw new Error(
      "could not start the Kafka test broker" +
        (inCi() ? " (CI=true: the Kafka tests must run)" : "; WFSIM_TEST_KAFKA=off runs the tests without Kafka") +
        `:\n${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  Object.assign(process.env, brokerEnv(broker));
  process.stderr.write(
    `Kafka test broker up in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
      `PLAINTEXT ${broker.bootstrap.plaintext}, SASL_PLAINTEXT ${broker.bootstrap.sasl}, SSL ${broker.bootstrap.ssl} ` +
      `(log: ${broker.logFile})\n`,
  );
}

export async function globalTeardown(): Promise<void> {
  await Promise.all([broker?.stop(), registry?.stop()]);
}
