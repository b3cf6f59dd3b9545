// @platformatic/kafka clients for tests that talk to the test broker: each test makes its own
// randomly named topic and registers every client it opens for closing in t.after. Every wait is
// bounded, so a broker that stops answering fails a test instead of hanging the run.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { TestContext } from "node:test";
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers, type BaseOptions } from "@platformatic/kafka";
import type { SaslUser } from "./broker.ts";
import type { SslTarget } from "./env.ts";

/** Connection options shared by Admin, Producer and Consumer. */
export type ConnectOptions = Omit<BaseOptions, "clientId">;

export function randomTopic(label = "test"): string {
  return `wfsim-${label}-${randomBytes(6).toString("hex")}`;
}

export function saslOptions(bootstrap: string[], user: SaslUser): ConnectOptions {
  return {
    bootstrapBrokers: bootstrap,
    sasl: { mechanism: user.mechanism, username: user.username, password: user.password },
  };
}

export function tlsOptions(ssl: SslTarget, caFile: string, withClientCert = false): ConnectOptions {
  const client = withClientCert && ssl.client;
  return {
    bootstrapBrokers: ssl.bootstrap,
    tls: {
      ca: readFileSync(caFile),
      ...(client ? { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) } : {}),
    },
  };
}

const clientId = () => `wfsim-test-${process.pid}`;

export function admin(t: TestContext, options: ConnectOptions): Admin {
  const client = new Admin({ clientId: clientId(), ...options });
  t.after(() => client.close());
  return client;
}

/**
 * Idempotent: a test writes its records exactly once even when a send is retried (a fresh topic's
 * leader not known yet, a slow broker under CI load), so what a test reads back is what it wrote.
 */
export function producer(t: TestContext, options: ConnectOptions): Producer<string, string, string, string> {
  const client = new Producer({ clientId: clientId(), serializers: stringSerializers, idempotent: true, ...options });
  t.after(() => client.close());
  return client;
}

export async function createTopic(t: TestContext, options: ConnectOptions, topic: string, partitions = 1): Promise<void> {
  await admin(t, options).createTopics({ topics: [topic], partitions, replicas: 1 });
}

export interface ReadRecord {
  key: string;
  value: string;
  partition: number;
  offset: bigint;
}

/** Reads `count` records of `topic` from the earliest offset, in a fresh consumer group. */
export async function readRecords(
  t: TestContext,
  options: ConnectOptions,
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<ReadRecord[]> {
  const consumer = new Consumer({
    clientId: clientId(),
    groupId: `${topic}-reader-${randomBytes(4).toString("hex")}`,
    deserializers: stringDeserializers,
    ...options,
  });
  t.after(() => consumer.close(true));
  const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false, maxWaitTime: 200 });
  const records: ReadRecord[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${records.length} of ${count} records of ${topic} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      stream.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      stream.on("data", (message) => {
        records.push({ key: message.key, value: message.value, partition: message.partition, offset: message.offset });
        if (records.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    await stream.close();
  }
  return records;
}

/** Walks an error, its `cause`s and AggregateError `errors`, and returns every `code` found. */
export function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (typeof e !== "object" || e === null || seen.has(e)) {
      return;
    }
    seen.add(e);
    const { code, cause, errors } = e as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === "string") {
      codes.push(code);
    }
    visit(cause);
    if (Array.isArray(errors)) {
      errors.forEach(visit);
    }
  };
  visit(error);
  return codes;
}
