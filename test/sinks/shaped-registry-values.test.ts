// A shaped output's values in a Schema Registry's wire format, without a registry: the schemas derived
// from the shape (Avro, Protobuf, JSON Schema) hold every record of a run, and a reader with only the
// schema text (avsc, protobufjs) gets back the JSON of the same record; shapes a format cannot hold
// are refused with the place in the scenario.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import avro from "avsc";
import protobuf from "protobufjs";
import { createShaper, createSimulation } from "../../src/api/simulate.ts";
import { parseScenario } from "../../src/config/scenario/load.ts";
import { resolveSimOptions } from "../../src/config/sim-options.ts";
import type { EventSink } from "../../src/engine/simulation.ts";
import type { RegistryFormat } from "../../src/events/wire/formats.ts";
import { topLevelMessages } from "../../src/events/wire/proto-messages.ts";
import type { SchemaRegistryClient } from "../../src/kafka/registry/client.ts";
import type { RecordBatchBuilder } from "../../src/kafka/record-batch.ts";
import { ShapedKafkaRecords } from "../../src/sinks/shaped/kafka-records.ts";
import { ShapedPlans } from "../../src/sinks/shaped/plans.ts";
import { registerShapedSchemas, type SchemaSource } from "../../src/sinks/shaped/registry-values.ts";
import { WfsimError } from "../../src/errors.ts";
import { RegistryValueDecoder } from "../../src/analyze/read/registry-values.ts";
import { SCHEMA_TYPES } from "../../src/events/wire/formats.ts";

export const SHAPE = `
start_time: 2026-03-08T05:29:50Z
workflows:
  - name: pay
    steps:
      - { name: authorize, work: 40ms, failure: { prob: 0.2, reasons: [declined], retries: 1, backoff: 300ms } }
      - capture
output:
  attributes:
    amount: { dist: normal, mean: 10, sd: 30, round: 3 }
    tier: { choice: [1, 2, 3] }
    vip: { chance: 0.5 }
  topic: "pay.{record}"
  fields:
    id: "{txn_id}"
    at: "{time}"
  records:
    Opened:
      at: transaction_open
      fields: { money: { amount: "{amount}", tier: "{tier}", vip: "{vip}" }, times: ["{time:s}", "{elapsed_ms}"], seq: "{seq:06}", flag: true }
    Step:
      at: [step_open, step_done, step_failed, step_retry]
      topic: pay.steps
      fields: { step: "{step}", how: { attempt: "{attempt}", reason: "{reason}" } }
    Closed:
      at: [transaction_close, transaction_failed]
      topic: pay.steps
      fields: { duration: "{duration_ms}", text: "{record}/{event}" }
`;

interface Written {
  topic: string;
  json: string;
  value: Buffer;
}

/** Every record of a run: its JSON text and its wire-format value, with the schemas "registered" in a map. */
async function run(text: string, format: RegistryFormat, source: SchemaSource = { kind: "derived" }, strategy: "topic" | "record" | "topic-record" = "topic") {
  const options = resolveSimOptions({ scenario: parseScenario(text, "s.yaml"), clock: "virtual", samples: 200, seed: 4 });
  const shaper = createShaper(options, { inlineLabels: true })!;
  const plans = new ShapedPlans(shaper);
  const registered = new Map<number, string>();
  const subjects = new Map<string, number>();
  const client = {
    url: "http://registry.test",
    register: async (subject: string, _type: string, schema: string) => {
      const id = [...registered.entries()].find(([, s]) => s === schema)?.[0] ?? registered.size + 1;
      registered.set(id, schema);
      subjects.set(subject, id);
      return id;
    },
  } as unknown as SchemaRegistryClient;
  const { encoder } = await registerShapedSchemas(format, strategy, source, client, plans);
  let line = "";
  const records = new ShapedKafkaRecords(plans, {
    encode: (index: number, json: string) => {
      line = json;
      return encoder.encode(index, json);
    },
  } as typeof encoder);
  const written: Written[] = [];
  let value: Buffer = Buffer.alloc(0);
  const batch = { appendBytes: (_k: Buffer, v: Uint8Array) => void (value = Buffer.from(v)) } as unknown as RecordBatchBuilder;
  const sink: EventSink = {
    write(event) {
      const n = records.prepare(event);
      for (let i = 0; i < n; i++) {
        const topic = records.topics[records.select(i)]!;
        records.appendTo(batch);
        written.push({ topic, json: line, value });
      }
    },
    backpressured: false,
    drain: () => Promise.resolve(),
    flush: () => {},
  };
  await createSimulation(options, { sink, shaper }).run();
  return { written, registered, subjects };
}

/** avsc's decoded record as the JSON the writer had: an absent optional field is null in Avro. */
function plain(value: unknown, inArray = false): unknown {
  if (Array.isArray(value)) return value.map((v) => plain(v, true));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) if (inner !== null || inArray) out[key] = plain(inner);
  return out;
}

const avroTypes = new Map<string, avro.Type>();
const protoFiles = new Map<string, protobuf.Type[]>();

function independentDecode(value: Buffer, registered: Map<number, string>, format: RegistryFormat): unknown {
  assert.equal(value[0], 0);
  const schema = registered.get(value.readUInt32BE(1))!;
  if (format === "json-schema") return JSON.parse(value.subarray(5).toString("utf8"));
  if (format === "avro") {
    let type = avroTypes.get(schema);
    if (type === undefined) avroTypes.set(schema, (type = avro.Type.forSchema(JSON.parse(schema) as avro.Schema)));
    const decoded = type.fromBuffer(value.subarray(5)) as Record<string, unknown>;
    return plain(type.typeName === "union:wrapped" ? Object.values(decoded)[0] : decoded);
  }
  let messages = protoFiles.get(schema);
  if (messages === undefined) protoFiles.set(schema, (messages = topLevelMessages(protobuf.parse(schema, { keepCase: true }).root)));
  const index = value[5] === 0 ? 0 : value[6]! / 2;
  const message = messages[index]!;
  const at = value[5] === 0 ? 6 : 7;
  const decoded = message.toObject(message.decode(value.subarray(at)), { longs: Number, defaults: true, arrays: true });
  const order = (type: protobuf.Type, object: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(
      type.fieldsArray
        .filter((f) => object[f.name] !== undefined && object[f.name] !== null)
        .map((f) => {
          f.resolve();
          const inner = object[f.name];
          if (f.resolvedType instanceof protobuf.Type) {
            const t = f.resolvedType;
            return [f.name, Array.isArray(inner) ? inner.map((i) => order(t, i as Record<string, unknown>)) : order(t, inner as Record<string, unknown>)];
          }
          return [f.name, inner];
        }),
    );
  return order(message, decoded);
}

describe("shaped values in the wire format", () => {
  for (const format of ["avro", "protobuf", "json-schema"] as const) {
    for (const strategy of ["topic", "record"] as const) {
      it(`${format}, ${strategy} strategy: every record decodes with the schema text alone to its JSON`, async () => {
        const { written, registered, subjects } = await run(SHAPE, format, { kind: "derived" }, strategy);
        assert.ok(written.length > 1000);
        const topics = new Set(written.map((w) => w.topic));
        assert.deepEqual([...topics].sort(), ["pay.Opened", "pay.steps"]);
        if (strategy === "topic") assert.deepEqual([...subjects.keys()].sort(), ["pay.Opened-value", "pay.steps-value"]);
        else assert.equal(subjects.size, 3);
        for (const w of written) assert.deepEqual(independentDecode(w.value, registered, format), JSON.parse(w.json), w.json);
        // wfsim's own reader (analyze --schema-registry) gives back the very JSON line.
        const decoder = new RegistryValueDecoder(
          { url: "http://registry.test", schemaById: async (id: number) => ({ id, schemaType: SCHEMA_TYPES[format], schema: registered.get(id)! }) } as unknown as SchemaRegistryClient,
          { records: "shaped" },
        );
        await decoder.prepare(written.map((w) => w.value));
        for (const w of written) assert.equal(decoder.toLine(w.value).toString("utf8"), w.json);
        // The optional fields were exercised: a step record with and without a reason.
        assert.ok(written.some((w) => w.json.includes('"reason"')) && written.some((w) => w.json.includes('"how":{"attempt":1}')));
      });
    }
  }

  it("the example scenarios' shapes have Avro and Protobuf forms", async () => {
    for (const file of ["shop-orders.yaml", "payments-cloudevents.yaml"]) {
      const text = readFileSync(new URL(`../../examples/${file}`, import.meta.url), "utf8");
      for (const format of ["avro", "protobuf"] as const) {
        const { written, registered } = await run(text, format);
        for (const w of written.slice(0, 300)) assert.deepEqual(independentDecode(w.value, registered, format), JSON.parse(w.json), `${file} ${format}: ${w.json}`);
      }
    }
  });

  it("Protobuf refuses a list with null and a constant null, naming the field", async () => {
    const text = SHAPE.replace('flag: true', 'flag: true, nothing: [null, 1]');
    await assert.rejects(run(text, "protobuf"), (error: unknown) => {
      assert.ok(error instanceof WfsimError);
      assert.match(error.message, /^output\.records\.Opened\.nothing: a list with an item unknown at some moment|^output\.records\.Opened.*nothing.*constant null/);
      return true;
    });
  });
});
