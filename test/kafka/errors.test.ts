import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, TimeoutError, UserError } from "@platformatic/kafka";
import { describeKafkaFailure, isUnknownTopic } from "../../src/kafka/errors.ts";
import { partitionAnswer } from "../../src/kafka/produce-request.ts";
import { DeliveryError } from "../../src/kafka/producer.ts";
import { mechanismsOf } from "../../src/kafka/sasl-probe.ts";

/** How @platformatic/kafka reports a failed connection: a NetworkError around Node's error, retried. */
function connectionFailure(cause: Error): Error {
  const attempt = new NetworkError("Connection to 127.0.0.1:1 failed.", { cause });
  return new MultipleErrors("metadata failed 2 times.", [attempt, attempt]);
}

function systemError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

describe("describeKafkaFailure", () => {
  it("finds Node's network error under the client's wrappers; a refused connection may be retried", () => {
    const failure = describeKafkaFailure(connectionFailure(systemError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1")));
    assert.deepEqual(
      { kind: failure.kind, reason: failure.reason, retriable: failure.retriable, code: failure.code },
      { kind: "connect", reason: "connection refused", retriable: true, code: "ECONNREFUSED" },
    );
  });

  it("names an unknown host and does not retry it", () => {
    const failure = describeKafkaFailure(connectionFailure(systemError("ENOTFOUND", "getaddrinfo ENOTFOUND kafka", { hostname: "kafka" })));
    assert.equal(failure.reason, "unknown host kafka");
    assert.equal(failure.retriable, false);
  });

  it("tells an untrusted certificate from other TLS trouble", () => {
    const untrusted = describeKafkaFailure(connectionFailure(systemError("SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain")));
    assert.equal(untrusted.kind, "tls");
    assert.match(untrusted.reason, /not signed by a trusted CA \(SELF_SIGNED_CERT_IN_CHAIN\)/);
    assert.equal(untrusted.retriable, false);
    const name = describeKafkaFailure(connectionFailure(systemError("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match")));
    assert.match(name.reason, /does not name the host/);
  });

  it("reports a refused SASL login with the broker's words", () => {
    const protocol = new ProtocolError("SASL_AUTHENTICATION_FAILED", "Authentication failed: Invalid username or password");
    const failure = describeKafkaFailure(new NetworkError("Connection to b:9093 failed.", { cause: new AuthenticationError("SASL authentication failed.", { cause: protocol }) }));
    assert.equal(failure.kind, "auth");
    assert.equal(failure.retriable, false);
    assert.equal(failure.reason, "authentication failed: Authentication failed: Invalid username or password");
  });

  it("explains Kafka's refusals of a batch, such as timestamps out of the topic's window", () => {
    const failure = describeKafkaFailure(
      new DeliveryError({ topic: "t", partition: 0, errorCode: 32, errorId: "INVALID_TIMESTAMP", errorMessage: "out of range", retriable: false }),
    );
    assert.equal(failure.kind, "refused");
    assert.match(failure.reason, /INVALID_TIMESTAMP.*message\.timestamp\.after\.max\.ms.*--start-time.*: out of range$/);
  });

  it("takes the client's own refusals as they are, and timeouts as retriable", () => {
    const user = describeKafkaFailure(new MultipleErrors("x failed 1 times.", [new UserError("Cannot find broker 3.")]));
    assert.deepEqual([user.reason, user.retriable], ["cannot find broker 3", false]);
    // The client saw a TLS record answer a connection made without TLS: a listener of another protocol.
    const tls = describeKafkaFailure(new MultipleErrors("x failed 1 times.", [new UserError("Broker requires TLS.")]));
    assert.deepEqual([tls.kind, tls.code, tls.retriable], ["tls", "TLS_REQUIRED", false]);
    const timeout = describeKafkaFailure(new TimeoutError("Connection to b:1 timed out.", { canRetry: true }));
    assert.deepEqual([timeout.kind, timeout.retriable], ["connect", true]);
  });

  it("tells a topic missing from a broker's metadata (retried for topics known to exist) from other refusals", () => {
    // The client's metadata call says it in words (a UserError), a Produce answer with Kafka's error 3.
    assert.equal(isUnknownTopic(new MultipleErrors("metadata failed 1 times.", [new UserError("Unknown topic wf-steps-1.")])), true);
    assert.equal(isUnknownTopic(new UserError("Unknown topic wf-steps-1.")), true);
    const answer = partitionAnswer("wf-steps-1", 2, 3, null);
    assert.deepEqual([answer.errorId, answer.retriable], ["UNKNOWN_TOPIC_OR_PARTITION", true]);
    assert.equal(isUnknownTopic(new DeliveryError(answer)), true);
    assert.equal(isUnknownTopic(new UserError("Cannot find broker 3.")), false);
    assert.equal(isUnknownTopic(new DeliveryError(partitionAnswer("t", 0, 29, null))), false);
    assert.equal(partitionAnswer("t", 0, 29, null).retriable, false, "TOPIC_AUTHORIZATION_FAILED is not retried");
    assert.equal(partitionAnswer("t", 0, 0, null).errorId, "NONE");
  });

  it("reads a SaslHandshake answer: the mechanisms of a listener that wants SASL, nothing from one that does not", () => {
    const answer = (errorCode: number, mechanisms: string[]) => {
      const strings = mechanisms.map((m) => Buffer.concat([Buffer.from([0, m.length]), Buffer.from(m)]));
      const body = Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from([0, errorCode]), Buffer.from([0, 0, 0, mechanisms.length]), ...strings]);
      const size = Buffer.alloc(4);
      size.writeInt32BE(body.length);
      return Buffer.concat([size, body]);
    };
    assert.deepEqual(mechanismsOf(answer(0, ["PLAIN", "SCRAM-SHA-256"])), ["PLAIN", "SCRAM-SHA-256"]);
    assert.deepEqual(mechanismsOf(answer(33, ["SCRAM-SHA-512"])), ["SCRAM-SHA-512"]);
    assert.equal(mechanismsOf(answer(34, [])), undefined, "ILLEGAL_SASL_STATE: a PLAINTEXT listener");
    assert.equal(mechanismsOf(Buffer.from([0, 0, 0, 1, 0])), undefined);
  });
});
