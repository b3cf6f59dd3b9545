// A request whose answer never comes: a real HTTP server on loopback that keeps the first request of
// each path waiting forever and answers the next. A lookup (GET) is asked once more on a connection of
// its own and succeeds; registering (POST) is not repeated, since its first attempt may have landed.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { after, before, describe, test } from "node:test";
import { SchemaRegistryClient } from "../../../src/kafka/registry/client.ts";
import { isWfsimError } from "../../../src/errors.ts";

let server: Server;
let url = "";
const requests: string[] = [];
const waiting: ServerResponse[] = [];

before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const key = `${req.method} ${req.url}`;
    const first = !requests.includes(key);
    requests.push(key);
    req.resume();
    if (first) {
      waiting.push(res); // never answered: the client's timeout decides
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ schema: '"string"', id: 7 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/apis/ccompat/v7`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("Schema Registry requests without an answer", () => {
  // The timeout is the client's own (per attempt); 300 ms keeps the test short, not a timing assertion.
  const client = () => new SchemaRegistryClient({ url, auth: { kind: "none" }, timeoutMs: 300 });

  test("a lookup is asked once more, on a new connection, and gets its schema", async () => {
    const schema = await client().schemaById(7);
    assert.deepEqual(schema, { id: 7, schemaType: "AVRO", schema: '"string"' });
    assert.deepEqual(requests.filter((r) => r === "GET /apis/ccompat/v7/schemas/ids/7"), ["GET /apis/ccompat/v7/schemas/ids/7", "GET /apis/ccompat/v7/schemas/ids/7"]);
  });

  test("registering is not repeated: one attempt, then one line saying no answer came", async () => {
    await assert.rejects(client().register("t-value", "AVRO", '"string"'), (error) => {
      assert.ok(isWfsimError(error));
      assert.equal(error.code, "REGISTRY_CONNECT");
      assert.equal(error.message, `cannot reach the Schema Registry at ${url}: no answer within 300 ms`);
      return true;
    });
    assert.ok(requests.filter((r) => r.startsWith("POST ")).length <= 1, "registering was not sent again");
  });
});
