// An https Schema Registry for real: a TLS proxy (node:tls) in front of the test Apicurio, with a CA
// and a server certificate made by openssl as the Kafka test broker makes them. wfsim run registers
// over https trusting --schema-registry-ca, and analyze reads the topics back the same way; without
// the CA the certificate is refused in one line.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createServer, type Server } from "node:tls";
import { runCli } from "../helpers/cli.ts";
import { deleteTopicsAfter, oneLineError, RECENT_START, testTopics, topicFlags } from "../kafka/wfsim.ts";
import { kafkaTarget } from "../kafka/env.ts";
import { kafkaAndRegistry } from "./env.ts";

const TIMEOUT_MS = 180_000;
const { skip, url: registryUrl } = kafkaAndRegistry();
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => execFile("openssl", args, { cwd }, (error, _out, stderr) => (error === null ? resolve() : reject(new Error(`openssl: ${stderr}`)))));
}

/** A CA and a certificate for 127.0.0.1 signed by it, as test/kafka/broker.ts makes the broker's. */
async function certificates(dir: string): Promise<{ ca: string; cert: Buffer; key: Buffer }> {
  await openssl(["req", "-x509", ...EC_KEY, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj", "/CN=wfsim test registry CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  await writeFile(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  await openssl(["req", ...EC_KEY, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"], dir);
  await openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", `0x${randomBytes(8).toString("hex")}`, "-days", "825", "-extfile", "server.ext", "-out", "server.pem"], dir);
  return { ca: join(dir, "ca.pem"), cert: await readFile(join(dir, "server.pem")), key: await readFile(join(dir, "server.key")) };
}

let dir = "";
let proxy: Server | undefined;
const sockets = new Set<Socket>();
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-registry-tls-"))));
after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => (proxy === undefined ? resolve() : proxy.close(() => resolve())));
  await rm(dir, { recursive: true, force: true });
});

/** The https URL of a TLS proxy to the test registry. */
async function httpsRegistry(cert: Buffer, key: Buffer): Promise<string> {
  const target = new URL(registryUrl());
  proxy = createServer({ cert, key }, (client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  });
  await new Promise<void>((resolve) => proxy!.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  assert.ok(typeof address === "object" && address !== null);
  return `https://127.0.0.1:${address.port}${target.pathname}`;
}

describe("an https Schema Registry with --schema-registry-ca", { skip, timeout: TIMEOUT_MS }, () => {
  test("registers and reads back over TLS trusting the CA file; without it, one line naming TLS, exit 2", async (t) => {
    const { ca, cert, key } = await certificates(dir);
    const url = await httpsRegistry(cert, key);
    const bootstrap = kafkaTarget("plaintext").bootstrap.join(",");
    const topics = testTopics("reg-tls");
    deleteTopicsAfter(t, { bootstrapBrokers: kafkaTarget("plaintext").bootstrap }, topics);
    const workload = ["--samples", "100", "--seed", "3", "--clock", "virtual", "--start-time", RECENT_START];
    const base = ["run", ...workload, "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--format", "avro", "--schema-registry", url];

    const refused = oneLineError(await runCli(base, { timeoutMs: TIMEOUT_MS }), 2);
    assert.match(refused, new RegExp(`^wfsim: cannot reach the Schema Registry at ${url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: TLS: the registry's certificate is not trusted \\(unable to verify the first certificate\\): give the CA that signed it with --schema-registry-ca FILE$`));

    const written = await runCli([...base, "--schema-registry-ca", ca], { timeoutMs: TIMEOUT_MS });
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stderr, /avro schema id \d+ for subject .* at https:\/\/127\.0\.0\.1:/);

    const file = join(dir, "run.jsonl");
    assert.equal((await runCli(["run", ...workload, "--output", file, "--quiet"])).code, 0);
    const expected = JSON.parse((await runCli(["analyze", file, "--format", "json"])).stdout) as Record<string, unknown>;
    const read = await runCli(["analyze", "--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--schema-registry", url, "--schema-registry-ca", ca, "--format", "json"], { timeoutMs: TIMEOUT_MS });
    assert.equal(read.code, 0, read.stderr);
    const figures = JSON.parse(read.stdout) as Record<string, unknown>;
    assert.equal(figures["events"], expected["events"]);
    assert.deepEqual(figures["transactions"], expected["transactions"]);
  });
});
