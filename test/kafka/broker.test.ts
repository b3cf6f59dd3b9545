// The test broker itself, through the client wfsim uses: every listener, every SASL mechanism,
// TLS trust, and a crash (SIGKILL) followed by a restart that keeps what was written.

import assert from "node:assert/strict";
import { describe, test, type TestContext } from "node:test";
import { startBroker, type SaslUser } from "./broker.ts";
import { admin, createTopic, errorCodes, producer, randomTopic, readRecords, saslOptions, tlsOptions, type ConnectOptions } from "./clients.ts";
import { kafkaSkip, kafkaTarget } from "./env.ts";

const TEST_TIMEOUT_MS = 60_000;

/** No retries: a refused login or handshake must fail at once, not after the retry back-off. */
const NO_RETRY = { retries: 0, connectTimeout: 5_000 } as const;

async function roundTrip(t: TestContext, options: ConnectOptions, label: string): Promise<void> {
  const topic = randomTopic(label);
  await createTopic(t, options, topic);
  const sent = [1, 2, 3].map((i) => ({ topic, key: `k${i}`, value: `${label} record ${i}` }));
  const result = await producer(t, options).send({ messages: sent, acks: -1 });
  assert.equal(result.offsets?.[0]?.offset, 0n, "the batch acknowledged at base offset 0");
  const read = await readRecords(t, options, topic, sent.length);
  assert.deepEqual(
    read.map((r) => ({ key: r.key, value: r.value, offset: r.offset })),
    sent.map((m, i) => ({ key: m.key, value: m.value, offset: BigInt(i) })),
  );
}

/** Resolves to the error codes of a metadata request that must fail. */
async function failingMetadata(t: TestContext, options: ConnectOptions): Promise<string[]> {
  const error = await admin(t, { ...options, ...NO_RETRY })
    .metadata({ topics: [] })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(error, "the request should have been refused");
  return errorCodes(error);
}

test("PLAINTEXT: produces and consumes records", { skip: kafkaSkip(), timeout: TEST_TIMEOUT_MS }, async (t) => {
  await roundTrip(t, { bootstrapBrokers: kafkaTarget("plaintext").bootstrap }, "plaintext");
});

describe("SASL_PLAINTEXT", { skip: kafkaSkip("sasl"), timeout: TEST_TIMEOUT_MS }, () => {
  for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
    const userOf = (): SaslUser => {
      const user = kafkaTarget("sasl").users[mechanism];
      assert.ok(user, `no ${mechanism} credentials given`);
      return user;
    };

    test(`${mechanism}: the right password produces and consumes`, async (t) => {
      const { bootstrap } = kafkaTarget("sasl");
      await roundTrip(t, saslOptions(bootstrap, userOf()), mechanism.toLowerCase());
    });

    test(`${mechanism}: a wrong password is refused as an authentication failure`, async (t) => {
      const { bootstrap } = kafkaTarget("sasl");
      const codes = await failingMetadata(t, saslOptions(bootstrap, { ...userOf(), password: "not-the-password" }));
      assert.ok(codes.includes("PLT_KFK_AUTHENTICATION"), `codes: ${codes.join(", ")}`);
    });
  }

  test("a SCRAM-SHA-256 user cannot log in with SCRAM-SHA-512 (the mechanism really is used)", async (t) => {
    const { bootstrap, users } = kafkaTarget("sasl");
    const user = users["SCRAM-SHA-256"];
    assert.ok(user);
    const codes = await failingMetadata(t, saslOptions(bootstrap, { ...user, mechanism: "SCRAM-SHA-512" }));
    assert.ok(codes.includes("PLT_KFK_AUTHENTICATION"), `codes: ${codes.join(", ")}`);
  });
});

describe("SSL", { skip: kafkaSkip("ssl"), timeout: TEST_TIMEOUT_MS }, () => {
  test("a client trusting the broker's CA produces and consumes", async (t) => {
    const ssl = kafkaTarget("ssl");
    await roundTrip(t, tlsOptions(ssl, ssl.caFile), "tls");
  });

  test("a client certificate signed by the CA is accepted (mutual TLS)", async (t) => {
    const ssl = kafkaTarget("ssl");
    if (!ssl.client) {
      t.skip(`no client certificate given (WFSIM_TEST_KAFKA_SSL_CLIENT_CERT_FILE)`);
      return;
    }
    const metadata = await admin(t, { ...tlsOptions(ssl, ssl.caFile, true), ...NO_RETRY }).metadata({ topics: [] });
    assert.ok(metadata.brokers.size >= 1);
  });

  test("a client trusting only an unrelated CA refuses the broker's certificate", async (t) => {
    const ssl = kafkaTarget("ssl");
    if (!ssl.untrustedCaFile) {
      t.skip(`no untrusted CA given (WFSIM_TEST_KAFKA_SSL_UNTRUSTED_CA_FILE)`);
      return;
    }
    const codes = await failingMetadata(t, tlsOptions(ssl, ssl.untrustedCaFile));
    const certificateErrors = ["SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"];
    assert.ok(
      codes.some((code) => certificateErrors.includes(code)),
      `expected a certificate verification error, got codes: ${codes.join(", ")}`,
    );
  });
});

test(
  "a broker killed with SIGKILL restarts on the same ports with the records it had acknowledged",
  { skip: kafkaSkip("own-broker"), timeout: 3 * TEST_TIMEOUT_MS },
  async (t) => {
    const broker = await startBroker(kafkaTarget("own-broker"));
    t.after(() => broker.stop());
    const options: ConnectOptions = { bootstrapBrokers: [broker.bootstrap.plaintext] };
    const topic = randomTopic("restart");
    await createTopic(t, options, topic);
    const sent = Array.from({ length: 20 }, (_, i) => ({ topic, key: `k${i}`, value: `before the crash ${i}` }));
    await producer(t, options).send({ messages: sent, acks: -1 });

    const pid = broker.pid;
    await broker.kill();
    assert.equal(broker.running, false);
    assert.throws(() => process.kill(pid ?? 0, 0), "the JVM is gone after kill()");
    const codes = await failingMetadata(t, options);
    assert.ok(codes.includes("PLT_KFK_NETWORK"), `a killed broker refuses connections; codes: ${codes.join(", ")}`);

    const bootstrap = broker.bootstrap.plaintext;
    await broker.restart();
    assert.equal(broker.bootstrap.plaintext, bootstrap);
    const read = await readRecords(t, options, topic, sent.length);
    assert.deepEqual(
      read.map((r) => r.value),
      sent.map((m) => m.value),
    );
  },
);
