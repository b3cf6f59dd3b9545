/**
 * Requests over wfsim's own connection to each broker (broker-socket.ts): used over plain TCP and
 * TLS against the real broker, not with SASL (the client's connections then, as before); and against
 * a real TCP server that misbehaves, a request unanswered in time, a connection closed and an
 * answer to another request fail as the client's connection fails them (the same lines for a user).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { describe, test, type TestContext } from "node:test";
import { resolveKafkaConnection, type KafkaOptionsInput } from "../../../src/config/kafka-options.ts";
import { BrokerConnectionError } from "../../../src/kafka/connection-error.ts";
import { describeKafkaFailure } from "../../../src/kafka/errors.ts";
import { BrokerSocket } from "../../../src/kafka/read/broker-socket.ts";
import { TopicsReader, wfsimTopics } from "../../../src/kafka/read/topics-reader.ts";
import { background, freshTopics, plaintext, produce } from "../../follow/helpers.ts";
import { kafkaSkip, kafkaTarget } from "../env.ts";

const TIMEOUT_MS = 120_000;
const PARTITIONS = 2;
const FETCH = { maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 20 };
const TOPIC = { name: "t", id: "00000000-0000-0000-0000-000000000001", partitions: [{ partition: 0, fetchOffset: 0, maxBytes: 1 << 16 }] };

/** Reads the topics to their ends with fetchRound; returns the records read and the own connections open at the end. */
async function readAll(t: TestContext, input: KafkaOptionsInput, env: Record<string, string> = {}): Promise<{ records: number; ownConnections: number }> {
  const connection = resolveKafkaConnection({ kafkaTimeout: 30_000, ...input }, { env });
  const reader = await TopicsReader.open(connection, wfsimTopics(connection), { bounded: true });
  t.after(() => reader.close());
  const slots = reader.allSlots();
  reader.setSlots(slots);
  let records = 0;
  const atEnd = () => slots.every((slot) => slot.inputs.every((partition) => partition.next >= partition.end));
  for (let round = 0; round < 200 && !atEnd(); round++) records += await reader.fetchRound(100);
  assert.ok(atEnd(), "every partition read to its end");
  return { records, ownConnections: reader.ownConnections };
}

describe("fetching over wfsim's own connection", { skip: kafkaSkip(), timeout: TIMEOUT_MS }, () => {
  test("plain TCP and TLS: every record is fetched over wfsim's own connection; SASL: through the client's", { skip: kafkaSkip("ssl") || kafkaSkip("sasl") }, async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = await freshTopics(t, options, "broker-socket", PARTITIONS);
    const events = await background(60, Date.now() - 3_600_000, 5);
    await produce(t, options, topics, PARTITIONS, events);
    const names = { topicTxn: topics.transactions, topicSteps: topics.steps };

    const plain = await readAll(t, { kafkaBootstrap: bootstrap, ...names });
    assert.equal(plain.records, events.length);
    assert.equal(plain.ownConnections, 1);

    const ssl = kafkaTarget("ssl");
    const secure = await readAll(t, { kafkaBootstrap: ssl.bootstrap.join(","), kafkaSsl: true, kafkaCa: ssl.caFile, ...names });
    assert.equal(secure.records, events.length);
    assert.equal(secure.ownConnections, 1);

    const sasl = kafkaTarget("sasl");
    const user = sasl.users.PLAIN;
    assert.ok(user !== undefined, "the test broker has a SASL/PLAIN user");
    const login = await readAll(t, { kafkaBootstrap: sasl.bootstrap.join(","), kafkaSaslMechanism: "plain", kafkaUser: user.username, ...names }, { WFSIM_KAFKA_PASSWORD: user.password });
    assert.equal(login.records, events.length);
    assert.equal(login.ownConnections, 0);
  });

  test("a read without SASL does not load @platformatic/kafka (0.3 s of CPU and tens of MB to import)", async (t) => {
    const { bootstrap, options } = plaintext();
    const topics = await freshTopics(t, options, "no-client", 1);
    await produce(t, options, topics, 1, await background(10, Date.now() - 3_600_000, 5));
    // A child that reads the topics to their end with the reader and says whether the client was ever resolved.
    const script = `
      import { registerHooks } from "node:module";
      let loaded = false;
      registerHooks({ resolve(specifier, context, next) { if (specifier.startsWith("@platformatic/kafka")) loaded = true; return next(specifier, context); } });
      const { resolveKafkaConnection } = await import(${JSON.stringify(new URL("../../../src/config/kafka-options.ts", import.meta.url).href)});
      const { TopicsReader, wfsimTopics } = await import(${JSON.stringify(new URL("../../../src/kafka/read/topics-reader.ts", import.meta.url).href)});
      const connection = resolveKafkaConnection({ kafkaBootstrap: ${JSON.stringify(bootstrap)}, topicTxn: ${JSON.stringify(topics.transactions)}, topicSteps: ${JSON.stringify(topics.steps)}, kafkaTimeout: 30000 }, { env: {} });
      const reader = await TopicsReader.open(connection, wfsimTopics(connection), { bounded: true });
      const slots = reader.allSlots();
      reader.setSlots(slots);
      let records = 0;
      while (!slots.every((slot) => slot.inputs.every((input) => input.next >= input.end))) records += await reader.fetchRound(100);
      await reader.close();
      console.log(JSON.stringify({ records, loaded }));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    const { records, loaded } = JSON.parse(child.stdout) as { records: number; loaded: boolean };
    assert.ok(records > 0, "records were read");
    assert.equal(loaded, false, "@platformatic/kafka was loaded");
  });
});

/** A TCP server that hands each request it reads (as one Kafka frame) to `answer`. */
async function server(t: TestContext, answer: (socket: Socket, request: Buffer) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const listening: Server = createServer((socket) => {
    sockets.add(socket);
    let received = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        const end = 4 + received.readInt32BE(0);
        answer(socket, received.subarray(4, end));
        received = received.subarray(end);
      }
    });
    socket.on("error", () => {});
  });
  listening.listen(0, "127.0.0.1");
  await once(listening, "listening");
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    listening.close();
  });
  return (listening.address() as AddressInfo).port;
}

function brokerSocket(t: TestContext, port: number, requestTimeoutMs = 30_000): BrokerSocket {
  const socket = new BrokerSocket({ host: "127.0.0.1", port, tls: undefined, clientId: "wfsim-test", connectTimeoutMs: 5_000, requestTimeoutMs });
  t.after(() => socket.close());
  return socket;
}

/** A Fetch v13 answer with no topics, for the request's correlation id. */
function emptyAnswer(correlationId: number): Buffer {
  const body = Buffer.alloc(4 + 1 + 4 + 2 + 4 + 1 + 1);
  body.writeInt32BE(correlationId, 0);
  // tagged fields 0, throttle 0, error 0, session 0
  body.writeUInt8(1, 15); // topics: none (compact array length + 1)
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** The request header's api key, version and correlation id. */
function header(request: Buffer): { apiKey: number; version: number; correlationId: number } {
  return { apiKey: request.readInt16BE(0), version: request.readInt16BE(2), correlationId: request.readInt32BE(4) };
}

describe("wfsim's own fetch connection against a server that misbehaves", () => {
  test("an answer written a byte at a time is read whole, request after request", async (t) => {
    const port = await server(t, (socket, request) => {
      const bytes = emptyAnswer(header(request).correlationId);
      const next = (at: number): void => {
        if (at < bytes.length) socket.write(bytes.subarray(at, at + 1), () => next(at + 1));
      };
      next(0);
    });
    const socket = brokerSocket(t, port);
    for (let i = 0; i < 3; i++) assert.deepEqual(await socket.fetch(13, FETCH, [TOPIC]), { errorCode: 0, partitions: [] });
  });

  test("a request unanswered within the request timeout fails as the client's do (no answer in time), and the connection is closed", async (t) => {
    const seen: { apiKey: number; version: number; correlationId: number }[] = [];
    const port = await server(t, (_socket, request) => seen.push(header(request)));
    const socket = brokerSocket(t, port, 300);
    const error = await socket.fetch(13, FETCH, [TOPIC]).then(
      () => assert.fail("the fetch was answered"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof BrokerConnectionError && error.timedOut, String(error));
    assert.deepEqual(seen, [{ apiKey: 1, version: 13, correlationId: 1 }]);
    const failure = describeKafkaFailure(error);
    assert.deepEqual([failure.kind, failure.reason, failure.retriable], ["connect", "no answer in time", true]);
    assert.equal(socket.closed, true);
  });

  test("a connection the broker closes fails the request waiting on it as the client's does (retriable)", async (t) => {
    const port = await server(t, (socket) => socket.destroy());
    const socket = brokerSocket(t, port);
    const error = await socket.fetch(13, FETCH, [TOPIC]).then(
      () => assert.fail("the fetch was answered"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof BrokerConnectionError, String(error));
    const failure = describeKafkaFailure(error);
    assert.deepEqual([failure.kind, failure.retriable], ["connect", true]);
    assert.equal(socket.closed, true);
  });

  test("an answer to another request ends the connection and fails the request", async (t) => {
    const port = await server(t, (socket, request) => socket.write(emptyAnswer(header(request).correlationId + 7)));
    const socket = brokerSocket(t, port);
    const error = await socket.fetch(13, FETCH, [TOPIC]).then(
      () => assert.fail("the fetch was answered"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof BrokerConnectionError, String(error));
    assert.match((error as Error).message, /correlation id 8, expected 1/);
  });
});
