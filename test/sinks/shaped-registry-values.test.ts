// A shaped output's values in a Schema Registry's wire format, without a registry: the schemas derived
// from the shape (Avro, Protobuf, JSON Schema) hold every record of a run, and a reader with only the
// schema text (avsc, protobufjs) gets back the JSON of the same record; shapes a format cannot hold
// are refused with the place in the scenario.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createShaper, createSimulation } from "../../src/api/simulate.ts";
import { parseScenario } from "../../src/config/scenario/load.ts";
import { resolveSimOptions } from "../../src/config/sim-options.ts";
import type { EventSink } from "../../src/engine/simulation.ts";
import type { RegistryFormat } from "../../src/events/wire/formats.ts";
import type { SchemaRegistryClient } from "../../src/kafka/registry/client.ts";
import type { RecordBatchBuilder } from "../../src/kafka/record-batch.ts";
import { ShapedKafkaRecords } from "../../src/sinks/shaped/kafka-records.ts";
import { ShapedPlans } from "../../src/sinks/shaped/plans.ts";
import { registerShapedSchemas, type SchemaSource } from "../../src/sinks/shaped/registry-values.ts";
import { WfsimError } from "../../src/errors.ts";
import { independentDecode, SHAPE } from "../registry/decode-shaped.ts";
import { RegistryValueDecoder } from "../../src/analyze/read/registry-values.ts";
import { SCHEMA_TYPES } from "../../src/events/wire/formats.ts";


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

describe("shaped values in the wire format", () => {
  for (const format of ["avro", "protobuf", "json-schema"] as const) {
    for (const strategy of ["topic", "record"] as const) {
      it(`${format}, ${strategy} strategy: every record decodes with the schema text alone to its JSON`, async () => {
        const { written, registered, subjects } = await run(SHAPE.replaceAll("TOPIC", "pay"), format, { kind: "derived" }, strategy);
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
    const text = SHAPE.replaceAll("TOPIC", "pay").replace("flag: true", "flag: true, nothing: [null, 1]");
    await assert.rejects(run(text, "protobuf"), (error: unknown) => {
      assert.ok(error instanceof WfsimError);
      assert.match(error.message, /^output\.records\.Opened\.nothing: a list with an item unknown at some moment|^output\.records\.Opened.*nothing.*constant null/);
      return true;
    });
  });
});

describe("--value-schema: a type that cannot hold a field's value", () => {
  it("Avro: the line names the field (money.amount), its type and the shape's", async () => {
    // The derived records, one per record type; the user's copy has an int where the shape gives doubles.
    const { registered } = await run(SHAPE.replaceAll("TOPIC", "pay"), "avro", { kind: "derived" }, "record");
    const records = [...registered.values()].map((text) => JSON.parse(text) as { name: string; fields: { name: string; type: unknown }[] });
    const opened = records.find((r) => r.name.endsWith("Opened"))!;
    const money = opened.fields.find((f) => f.name === "money")!;
    const moneyType = (Array.isArray(money.type) ? money.type.find((t) => t !== "null") : money.type) as { fields: { name: string; type: unknown }[] };
    const amount = moneyType.fields.find((f) => f.name === "amount")!;
    assert.ok(JSON.stringify(amount.type).includes("double"), JSON.stringify(amount.type));
    amount.type = "int";
    await assert.rejects(
      run(SHAPE.replaceAll("TOPIC", "pay"), "avro", { kind: "file", path: "mine.avsc", text: JSON.stringify(records) }),
      (error) => {
        assert.ok(error instanceof WfsimError);
        assert.match(error.message, /^--value-schema mine\.avsc cannot hold output\.records\.Opened: its field money\.amount is "int", which cannot hold the shape's (\["null","double"\]|"double") \(.*\)$/);
        return true;
      },
    );
  });
});
