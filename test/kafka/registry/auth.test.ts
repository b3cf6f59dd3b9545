// The registry client's credentials on the wire: a real HTTP server on loopback that, like a
// registry behind basic auth or a bearer-token gateway, answers 401 unless the Authorization header is
// right. The CLI's answer to refused credentials: one line, exit 2, no secret in it.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SchemaRegistryClient } from "../../../src/kafka/registry/client.ts";
import { isWfsimError } from "../../../src/errors.ts";
import { runCli } from "../../helpers/cli.ts";
import { oneLineError } from "../wfsim.ts";

let server: Server;
let url = "";
let dir = "";
const seen: (string | undefined)[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wfsim-registry-auth-"));
  server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    const ok = req.headers.authorization === `Basic ${Buffer.from("alice:s3cret").toString("base64")}` || req.headers.authorization === "Bearer t0ken";
    if (!ok) {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error_code: 401, message: "Unauthorized" }));
      return;
    }
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const registering = req.method === "POST" && /^\/apis\/ccompat\/v7\/subjects\/[^/]+-value\/versions$/.test(req.url ?? "");
      const schemaType = (JSON.parse(body || "{}") as { schemaType?: string }).schemaType;
      if (!registering || schemaType !== "AVRO") {
        res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ message: `unexpected ${req.method} ${req.url} ${schemaType}` }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: 41 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  url = `http://127.0.0.1:${address.port}/apis/ccompat/v7`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("Schema Registry credentials", () => {
  test("basic auth and a bearer token go in the Authorization header", async () => {
    const basic = new SchemaRegistryClient({ url, auth: { kind: "basic", user: "alice", password: "s3cret" }, timeoutMs: 5000 });
    assert.equal(await basic.register("t-value", "AVRO", '"string"'), 41);
    const bearer = new SchemaRegistryClient({ url, auth: { kind: "bearer", token: "t0ken" }, timeoutMs: 5000 });
    assert.equal(await bearer.register("t-value", "AVRO", '"string"'), 41);
  });

  test("refused credentials: REGISTRY_AUTH (exit 2), naming the registry, never the secret", async () => {
    const wrong = new SchemaRegistryClient({ url, auth: { kind: "basic", user: "alice", password: "wrong-password" }, timeoutMs: 5000 });
    await assert.rejects(wrong.register("t-value", "AVRO", '"string"'), (error) => {
      assert.ok(isWfsimError(error));
      assert.equal(error.code, "REGISTRY_AUTH");
      assert.equal(error.exitCode, 2);
      assert.equal(error.message, `the Schema Registry at ${url} answered 401 registering subject t-value: the basic credentials were refused`);
      assert.doesNotMatch(error.message, /wrong-password/);
      return true;
    });
    const none = new SchemaRegistryClient({ url, auth: { kind: "none" }, timeoutMs: 5000 });
    await assert.rejects(none.register("t-value", "AVRO", '"string"'), /answered 401 registering subject t-value: no credentials were given/);
  });
});

describe("wfsim run --schema-registry-user / --schema-registry-token-file", () => {
  const base = () => ["run", "--samples", "1", "--clock", "virtual", "--kafka-bootstrap", "127.0.0.1:1", "--kafka-timeout", "1000", "--format", "avro", "--schema-registry", url];

  test("a wrong password from a file: one line naming the registry and the user's kind of credentials, exit 2", async () => {
    const file = join(dir, "password");
    await writeFile(file, "not-it\n");
    const line = oneLineError(await runCli([...base(), "--schema-registry-user", "alice", "--schema-registry-password-file", file]), 2);
    assert.equal(line, `wfsim: the Schema Registry at ${url} answered 401 registering subject workflow.transactions-value: the basic credentials were refused`);
  });

  test("the right password from the environment, a token from a file: the registry accepts, then Kafka is tried", async () => {
    const token = join(dir, "token");
    await writeFile(token, "t0ken\n");
    for (const [extra, env] of [
      [["--schema-registry-user", "alice"], { WFSIM_SCHEMA_REGISTRY_PASSWORD: "s3cret" }],
      [["--schema-registry-token-file", token], {}],
    ] as const) {
      const line = oneLineError(await runCli([...base(), ...extra, "--quiet"], { env }), 2);
      assert.match(line, /^wfsim: cannot connect to Kafka at 127\.0\.0\.1:1/);
    }
  });
});

describe("an https:// URL for a plain http registry", () => {
  test("one line saying the registry did not answer TLS, without OpenSSL's codes or source path", async () => {
    const https = url.replace(/^http:/, "https:");
    const line = oneLineError(await runCli(["run", "--samples", "1", "--clock", "virtual", "--kafka-bootstrap", "127.0.0.1:1", "--format", "avro", "--schema-registry", https]), 2);
    assert.equal(line, `wfsim: cannot reach the Schema Registry at ${https}: it did not answer TLS (wrong version number): is it an http:// registry?`);
  });
});
