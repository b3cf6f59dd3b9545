import { WfsimError } from "../errors.ts";
import { invalidOption } from "./sim-options.ts";
import { text } from "./values.ts";

export interface KafkaTopics {
  /** Topic for step_open, step_done and inter_step_wait. */
  readonly steps: string;
  /** Topic for transaction_open, transaction_close and transaction_aborted. */
  readonly transactions: string;
}

export const KAFKA_DEFAULTS = {
  topicSteps: "workflow.steps",
  topicTxn: "workflow.transactions",
} as const;

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/** Parses "host:port[,host:port...]" into its brokers; throws naming the flag when it is malformed. */
export function parseBootstrap(raw: unknown, name: string): string[] {
  const expected = "a comma-separated list of host:port (for example localhost:9092)";
  if (typeof raw !== "string" || raw.trim() === "") throw invalidOption(name, expected, raw);
  const brokers = raw.split(",").map((entry) => entry.trim());
  for (const broker of brokers) {
    const match = HOST_PORT.exec(broker);
    const port = Number(match?.[2]);
    if (match === null || port < 1 || port > 65535) {
      throw new WfsimError(
        "INVALID_OPTION",
        `${name} must be ${expected}, got ${raw} (${broker === "" ? "an empty entry" : `"${broker}" is not host:port`})`,
      );
    }
  }
  return brokers;
}

/** Kafka's own rule for topic names: 1 to 249 of [a-zA-Z0-9._-], and not "." or "..". */
const topicName = text(/^(?!\.{1,2}$)[a-zA-Z0-9._-]{1,249}$/, "a Kafka topic name: 1 to 249 characters from a-z A-Z 0-9 . _ -");

export function parseTopic(raw: unknown, name: string): string {
  const value = topicName.parse(raw);
  if (value === undefined) throw invalidOption(name, topicName.expected, raw);
  return value;
}
