// Running the wfsim CLI against a Kafka cluster in tests, and what to compare its topics with.

import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { TestContext } from "node:test";
import { Admin } from "@platformatic/kafka";
import { runCli, type CliResult } from "../helpers/cli.ts";
import { randomTopic, type ConnectOptions } from "./clients.ts";

/**
 * A simulated start an hour ago: well inside any retention, so the broker never deletes what a test
 * wrote, and the same for wfsim's Kafka run and its JSON Lines twin.
 */
export const RECENT_START = String(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);

export interface TestTopics {
  transactions: string;
  steps: string;
}

export function testTopics(label: string): TestTopics {
  return { transactions: randomTopic(`${label}-txn`), steps: randomTopic(`${label}-steps`) };
}

export function topicFlags(topics: TestTopics): string[] {
  return ["--topic-txn", topics.transactions, "--topic-steps", topics.steps];
}

/** Deletes the test's topics afterwards, so that repeated runs do not fill the cluster. */
export function deleteTopicsAfter(t: TestContext, options: ConnectOptions, topics: TestTopics): void {
  t.after(async () => {
    const admin = new Admin({ clientId: `wfsim-test-${process.pid}`, ...options });
    await admin.deleteTopics({ topics: [topics.transactions, topics.steps] }).catch(() => {});
    await admin.close();
  });
}

/** The JSON Lines the same run writes to stdout, without their newlines. */
export async function jsonLines(args: readonly string[]): Promise<string[]> {
  const result = await runCli(["run", ...args, "--quiet"]);
  if (result.code !== 0) throw new Error(`wfsim failed: ${result.stderr}`);
  return result.stdout.split("\n").filter((line) => line !== "");
}

/** Checks the CLI's failure shape: the exit code, one line on stderr, no stack, nothing on stdout. */
export function oneLineError(result: CliResult, code: number): string {
  const lines = result.stderr.split("\n").filter((line) => line !== "");
  if (result.code !== code || lines.length !== 1 || result.stdout !== "" || /\n\s+at /.test(result.stderr)) {
    throw new Error(`expected exit ${code} and one line on stderr, got exit ${result.code}:\n${result.stderr}`);
  }
  return lines[0]!;
}

/** A loopback port nobody listens on. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** "1,600" -> 1600 */
export function count(text: string | undefined): number {
  return Number((text ?? "NaN").replaceAll(",", ""));
}

/** Resident memory and CPU time (user + system) of a process, from /proc. */
export function processUsage(pid: number): { rssBytes: number; cpuMs: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at index 2: utime is 14th, stime 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rssBytes: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024, cpuMs: (ticks * 1000) / 100 };
  } catch {
    return undefined;
  }
}
