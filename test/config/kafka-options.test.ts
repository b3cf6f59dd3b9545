import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { after, before, describe, it } from "node:test";
import { PASSWORD_ENV, resolveKafkaOptions } from "../../src/config/kafka-options.ts";
import { isWfsimError } from "../../src/errors.ts";

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-kafka-options-"))));
after(() => rm(dir, { recursive: true, force: true }));

const SECRET = "s3cr3t-Pa55word-that-must-never-show";

function failure(action: () => unknown): { code: string; message: string } {
  try {
    action();
  } catch (error) {
    assert.ok(isWfsimError(error), String(error));
    return { code: error.code, message: error.message };
  }
  assert.fail("expected a WfsimError");
}

describe("Kafka options", () => {
  it("fills in defaults: acks=all (idempotent), no compression, the cluster's topic defaults, 30 s", () => {
    const options = resolveKafkaOptions({ kafkaBootstrap: "a:1, b:2" }, { env: {} });
    assert.deepEqual(options.bootstrap, ["a:1", "b:2"]);
    assert.deepEqual(options.topics, { transactions: "workflow.transactions", steps: "workflow.steps" });
    assert.equal(options.acks, -1);
    assert.equal(options.idempotent, true);
    assert.equal(options.compression, "none");
    assert.equal(options.partitions, undefined);
    assert.equal(options.replicationFactor, undefined);
    assert.equal(options.timeoutMs, 30_000);
    assert.equal(options.tls, undefined);
    assert.equal(options.sasl, undefined);
  });

  it("turns idempotence off with acks other than all, as Kafka requires", () => {
    assert.equal(resolveKafkaOptions({ kafkaBootstrap: "a:1", acks: "1" }).idempotent, false);
    assert.equal(resolveKafkaOptions({ kafkaBootstrap: "a:1", acks: 0 }).acks, 0);
    assert.equal(resolveKafkaOptions({ kafkaBootstrap: "a:1", acks: "ALL" }).acks, -1);
    assert.equal(resolveKafkaOptions({ kafkaBootstrap: "a:1", acks: "-1" }).idempotent, true);
  });

  it("reads the password from a file first, then the option, then the environment, and never shows it", async () => {
    const file = join(dir, "password");
    await writeFile(file, `${SECRET}\n`);
    const base = { kafkaBootstrap: "a:1", kafkaSaslMechanism: "scram-sha-512", kafkaUser: "me" };
    const fromFile = resolveKafkaOptions({ ...base, kafkaPasswordFile: file, kafkaPassword: "other" }, { env: { [PASSWORD_ENV]: "env" } });
    assert.equal(fromFile.sasl?.mechanism, "SCRAM-SHA-512");
    assert.equal(fromFile.sasl?.password(), SECRET, "the file's final newline is not part of the password");
    assert.equal(resolveKafkaOptions({ ...base, kafkaPassword: "other" }, { env: { [PASSWORD_ENV]: "env" } }).sasl?.password(), "other");
    assert.equal(resolveKafkaOptions(base, { env: { [PASSWORD_ENV]: "env" } }).sasl?.password(), "env");
    assert.doesNotMatch(inspect(fromFile, { depth: 10 }), new RegExp(SECRET));
    assert.doesNotMatch(JSON.stringify(fromFile), new RegExp(SECRET));
  });

  it("names what is missing for SASL and TLS, without the password", async () => {
    const empty = join(dir, "empty");
    await writeFile(empty, "");
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ kafkaSaslMechanism: "plain" }, /kafkaSaslMechanism plain needs a user name: add kafkaUser/],
      [{ kafkaSaslMechanism: "plain", kafkaUser: "me" }, new RegExp(`needs a password: set ${PASSWORD_ENV} or add kafkaPasswordFile FILE`)],
      [{ kafkaSaslMechanism: "gssapi", kafkaUser: "me" }, /kafkaSaslMechanism must be one of plain, scram-sha-256, scram-sha-512, got gssapi/],
      [{ kafkaUser: "me" }, /kafkaUser applies to SASL logins: add kafkaSaslMechanism/],
      [{ kafkaSaslMechanism: "plain", kafkaUser: "me", kafkaPasswordFile: join(dir, "nope") }, /kafkaPasswordFile .*nope: cannot read \(no such file or directory\)/],
      [{ kafkaSaslMechanism: "plain", kafkaUser: "me", kafkaPasswordFile: empty }, /kafkaPasswordFile .*empty: the file is empty/],
      [{ kafkaCa: "ca.pem" }, /kafkaCa applies to TLS connections: add kafkaSsl/],
      [{ kafkaSsl: true, kafkaCert: "c.pem" }, /kafkaCert needs kafkaKey/],
      [{ kafkaSsl: true, kafkaCa: empty }, /kafkaCa .*empty: not a PEM certificate \(expected a -----BEGIN CERTIFICATE----- block\)/],
      [{ topicTxn: "same", topicSteps: "same" }, /topicTxn and topicSteps must differ, got same for both/],
      [{ acks: "2" }, /acks must be one of all, 1, 0/],
      [{ compression: "brotli" }, /compression must be one of none, gzip, snappy, lz4, zstd, got brotli/],
      [{ partitions: "0" }, /partitions must be a whole number from 1/],
      [{ kafkaTimeout: "soon" }, /kafkaTimeout must be a whole number from 1/],
    ];
    for (const [input, message] of cases) {
      const { message: text } = failure(() => resolveKafkaOptions({ kafkaBootstrap: "a:1", ...input }, { env: {} }));
      assert.match(text, message);
    }
    // Real certificates and keys, two pairs, to put in the wrong places.
    for (const name of ["a", "b"]) {
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", `/CN=${name}`,
        "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.crt`)], { stdio: "ignore" });
    }
    const tls = (files: Record<string, string>) => () => resolveKafkaOptions({ kafkaBootstrap: "a:1", kafkaSsl: true, ...files }, { env: {} });
    const [aCrt, aKey, bKey] = [join(dir, "a.crt"), join(dir, "a.key"), join(dir, "b.key")];
    assert.ok(tls({ kafkaCa: aCrt, kafkaCert: aCrt, kafkaKey: aKey })().tls?.cert !== undefined, "a matching pair is taken");
    assert.match(failure(tls({ kafkaCa: aKey })).message, /^kafkaCa .*a\.key: not a PEM certificate/);
    assert.match(failure(tls({ kafkaCert: aCrt, kafkaKey: aCrt })).message, /^kafkaKey .*a\.crt: not a PEM private key/);
    assert.match(failure(tls({ kafkaCert: aCrt, kafkaKey: bKey })).message, /^kafkaKey .*b\.key: not the private key of kafkaCert .*a\.crt \(their public keys differ\)$/);

    const wrong = failure(() =>
      resolveKafkaOptions({ kafkaBootstrap: "a:1", kafkaSaslMechanism: "nope", kafkaUser: "me", kafkaPassword: SECRET }, { env: {} }),
    );
    assert.doesNotMatch(wrong.message, new RegExp(SECRET));
  });
});
