// Avro values compiled straight to JSON lines (avro-lines.ts) against the avsc path they replace (decode,
// then serializeEvent or JSON.stringify) and against the JSON Lines of the same seed: byte for byte, on
// the events of many runs, on shaped records, and on the values that test the text: unicode, escapes,
// bytes that are not UTF-8, negative and big longs, doubles JSON.stringify writes its own way.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import avro from "avsc";
import { compileAvroLines, UnsupportedAvro, type LineRoom } from "../../../src/analyze/read/avro-lines.ts";
import { decodedLineOf, RegistryValueDecoder, type DecodedRecords } from "../../../src/analyze/read/registry-values.ts";
import { createShaper, createSimulation } from "../../../src/api/simulate.ts";
import { parseScenario } from "../../../src/config/scenario/load.ts";
import { resolveSimOptions } from "../../../src/config/sim-options.ts";
import type { EventSink } from "../../../src/engine/simulation.ts";
import { WfsimError } from "../../../src/errors.ts";
import type { WfEvent } from "../../../src/events/schema.ts";
import { serializeEvent } from "../../../src/events/serialize.ts";
import { AvroEventEncoder, avroRecord } from "../../../src/events/wire/avro.ts";
import { shapeOfType } from "../../../src/events/wire/event-shapes.ts";
import { topicKindOf } from "../../../src/events/wire/topic-events.ts";
import { LineChunk } from "../../../src/kafka/read/records.ts";
import type { SchemaRegistryClient } from "../../../src/kafka/registry/client.ts";
import { wireHeader } from "../../../src/kafka/registry/wire-format.ts";
import { topicSchemaText, valueEncoder } from "../../../src/sinks/kafka/registry/value-encoders.ts";
import { registerShapedSchemas } from "../../../src/sinks/shaped/registry-values.ts";
import { ShapedKafkaRecords } from "../../../src/sinks/shaped/kafka-records.ts";
import { ShapedPlans } from "../../../src/sinks/shaped/plans.ts";
import type { RecordBatchBuilder } from "../../../src/kafka/record-batch.ts";
import { SHAPE } from "../../registry/decode-shaped.ts";
import { simulateVirtual } from "../../helpers/events.ts";

const REGISTRY_URL = "http://registry.test";
const EXAMPLES = new URL("../../../examples/", import.meta.url);

/** A room that starts at one byte, so that every growth path runs. */
class SmallRoom implements LineRoom {
  buffer = Buffer.alloc(1);
  room(at: number, need: number): Buffer {
    if (at + need > this.buffer.length) {
      const bigger = Buffer.alloc(at + need);
      this.buffer.copy(bigger, 0, 0, at);
      this.buffer = bigger;
    }
    return this.buffer;
  }
}

/**
 * Both readers of a schema, on a wire-format value placed in a larger buffer (as in a fetched batch),
 * after a line already written: the compiled line or its error, and avsc's line or its error.
 */
function readers(text: string, records: DecodedRecords, id = 7) {
  const compiled = compileAvroLines(avro.Type.forSchema(JSON.parse(text) as avro.Schema), records, { id, url: REGISTRY_URL });
  const decoded = decodedLineOf({ id, schemaType: "AVRO", schema: text }, REGISTRY_URL, records);
  const inBatch = (value: Buffer) => {
    const batch = Buffer.concat([Buffer.from("\u0000\u0001junk"), value, Buffer.from([0x80, 0x81, 0x82, 0x83, 0x01])]);
    return { batch, start: 6 + 5, end: 6 + value.length };
  };
  const outcome = (read: () => string) => {
    try {
      return read();
    } catch (error) {
      return error as Error;
    }
  };
  return {
    compiled: (value: Buffer) =>
      outcome(() => {
        const { batch, start, end } = inBatch(value);
        const room = new SmallRoom();
        room.room(0, 3).write("ab\n");
        const lineEnd = compiled(batch, start, end, room, 3);
        const line = room.buffer.subarray(0, lineEnd).toString("utf8");
        assert.equal(line.slice(0, 3), "ab\n", "the line before is kept");
        return line.slice(3);
      }),
    avsc: (value: Buffer) =>
      outcome(() => {
        const { batch, start, end } = inBatch(value);
        return decoded(batch, start, end).toString("utf8");
      }),
  };
}

function sameOutcome(compiled: string | Error, avsc: string | Error, what: string): void {
  if (typeof avsc === "string") assert.equal(compiled, avsc, what);
  else assert.ok(compiled instanceof Error, `${what}: avsc refused (${avsc.message}), the compiled reader wrote ${String(compiled)}`);
}

async function scenarioEvents(file: string, seed: number): Promise<WfEvent[]> {
  const scenario = parseScenario(readFileSync(new URL(file, EXAMPLES), "utf8"), file);
  return (await simulateVirtual({ scenario, samples: 150, seed })).events;
}

describe("Avro lines: wfsim's events", () => {
  const schemas = {
    transactions: topicSchemaText("avro", "transactions", "t"),
    steps: topicSchemaText("avro", "steps", "s"),
  };
  const byKind = { transactions: readers(schemas.transactions, "events", 1), steps: readers(schemas.steps, "events", 2) };
  const encoders = { transactions: valueEncoder("avro", "transactions", 1), steps: valueEncoder("avro", "steps", 2) };

  const check = (events: readonly WfEvent[]) => {
    const types = new Set<string>();
    for (const event of events) {
      const kind = topicKindOf(event.type);
      const value = encoders[kind].encode(event);
      const line = serializeEvent(event).slice(0, -1);
      assert.equal(byKind[kind].compiled(value), line);
      assert.equal(byKind[kind].avsc(value), line);
      types.add(event.type);
    }
    return types;
  };

  it("every event of runs of the reference and of the example scenarios is its JSON line", async () => {
    const types = new Set<string>();
    for (const seed of [1, 2, 3]) for (const type of check((await simulateVirtual({ samples: 300, seed, outlierProb: 0.2 })).events)) types.add(type);
    for (const file of readdirSync(EXAMPLES).filter((name) => name.endsWith(".yaml"))) {
      for (const type of check(await scenarioEvents(file, 5))) types.add(type);
    }
    for (const type of check((await simulateVirtual({ samples: 200, seed: 9 }, { truth: true, blind: true })).events)) types.add(type);
    // Every event type went through (a union branch each), optional fields present and absent.
    assert.ok(types.size >= 8, [...types].join(", "));
  });

  it("a schema of one record (RecordNameStrategy) reads without a union branch", async () => {
    const { events } = await simulateVirtual({ samples: 50, seed: 4 });
    const stepOpen = shapeOfType("step_open");
    const { compiled, avsc } = readers(JSON.stringify(avroRecord(stepOpen)), "events");
    const encoder = new AvroEventEncoder([stepOpen], { union: false });
    const opens = events.filter((event) => event.type === "step_open");
    assert.ok(opens.length > 50);
    for (const event of opens) {
      const value = encoder.encode(event, wireHeader(7));
      assert.equal(compiled(value), serializeEvent(event).slice(0, -1));
      assert.equal(avsc(value), compiled(value));
    }
  });

  const open = (fields: Partial<Record<string, unknown>>): WfEvent =>
    ({ type: "transaction_open", txn_id: "t-1", ts_ms: 1_767_225_600_000, meta: { timezone: "UTC", sim_version: "1" }, ...fields }) as unknown as WfEvent;

  it("strings: unicode, quotes, backslashes, controls, U+2028, empty, long", () => {
    const texts = ["é✓😀", '"quoted" \\ back', "\n\r\t\b\f\u0000\u0001\u001f\u007f", "\u2028\u2029", "", "x".repeat(5000), "\ud83d alone", "mix é\"\u0003😀".repeat(300)];
    for (const text of texts) {
      const event = open({ txn_id: text, meta: { timezone: text, sim_version: "v" }, workflow: text });
      const value = encoders.transactions.encode(event);
      const line = byKind.transactions.compiled(value);
      assert.equal(line, byKind.transactions.avsc(value), JSON.stringify(text));
      // A lone surrogate became U+FFFD in UTF-8; every other text is the JSON line of the event.
      if (!text.includes("\ud83d")) assert.equal(line, serializeEvent(event).slice(0, -1));
    }
  });

  it("bytes that are not UTF-8 come out as avsc decodes them (U+FFFD)", () => {
    const value = encoders.transactions.encode(open({ txn_id: "AbCdEfGh" }));
    const at = value.indexOf("AbCdEfGh");
    for (const bad of [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98]]) {
      const broken = Buffer.from(value);
      Buffer.from(bad).copy(broken, at + 2);
      const line = byKind.transactions.compiled(broken);
      assert.equal(line, byKind.transactions.avsc(broken), bad.join(","));
      assert.ok(String(line).includes("\ufffd"));
    }
  });

  // (avsc's encoder, in floating point, loses the last bit of a negative long beyond 2^52: not ours to test.)
  // Every count of digits, and the numbers around each.
  const widths = Array.from({ length: 16 }, (_, k) => [10 ** k, 10 ** k - 1, 10 ** k + 1, -(10 ** k), 1_767_225_600_000 + k * 100_000_007]).flat();
  it("longs: negative, around 2^31 and 2^32, up to avsc's bound; beyond 2^53 both refuse", () => {
    for (const ts of [0, 1, -1, 9, 10, -10, 63, 64, -64, -65, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32, 1e15 + 7, 2 ** 52 + 1, -(2 ** 51) - 3, 9007199254740990, ...widths]) {
      const event = open({ ts_ms: ts, steps_planned: -(ts % 2 ** 40) });
      const value = encoders.transactions.encode(event);
      assert.equal(byKind.transactions.compiled(value), serializeEvent(event).slice(0, -1), String(ts));
      assert.equal(byKind.transactions.avsc(value), byKind.transactions.compiled(value));
    }
    // ts_ms of 2^60, written by hand: both refuse it (a number would lose its last digits).
    const value = encoders.transactions.encode(open({ ts_ms: 1 }));
    const at = value.indexOf(2, 5 + 1 + 1 + 1 + 3); // after the header, branch, enum, "t-1": ts_ms 1 is zigzag 2
    const big = Buffer.concat([value.subarray(0, at), zigzag(2n ** 60n), value.subarray(at + 1)]);
    const compiled = byKind.transactions.compiled(big);
    assert.ok(compiled instanceof WfsimError && /beyond 2\^53/.test(compiled.message), String(compiled));
    assert.ok(byKind.transactions.avsc(big) instanceof Error);
    // Just below: read the same way.
    const edge = Buffer.concat([value.subarray(0, at), zigzag(-(2n ** 51n) - 3n), value.subarray(at + 1)]);
    assert.match(String(byKind.transactions.compiled(edge)), /"ts_ms":-2251799813685251,/);
    assert.equal(byKind.transactions.compiled(edge), byKind.transactions.avsc(edge));
  });

  it("values cut short or with a bad union branch are refused, as avsc refuses them", () => {
    const value = encoders.transactions.encode(open({ workflow: "flow" }));
    for (let cut = 6; cut < value.length; cut++) sameOutcome(byKind.transactions.compiled(value.subarray(0, cut)), byKind.transactions.avsc(value.subarray(0, cut)), `cut at ${cut}`);
    const badBranch = Buffer.from(value);
    badBranch[5] = 2 * 9;
    assert.ok(byKind.transactions.compiled(badBranch) instanceof WfsimError);
    assert.ok(byKind.transactions.avsc(badBranch) instanceof WfsimError);
  });

  it("a writer schema with a field wfsim does not know skips it; a required field that is null is refused with avsc's words", () => {
    const record = avroRecord(shapeOfType("transaction_open")) as { fields: { name: string; type: unknown }[] };
    const extra = { ...record, fields: [...record.fields.slice(0, 2), { name: "note", type: ["null", { type: "array", items: "string" }] }, { name: "score", type: "double" }, ...record.fields.slice(2)] };
    const writer = avro.Type.forSchema(extra as avro.Schema);
    const { compiled, avsc } = readers(JSON.stringify(extra), "events");
    for (const note of [null, [], ["a", "b"]]) {
      const value = Buffer.concat([wireHeader(7), writer.toBuffer({ type: "transaction_open", txn_id: "x", note, score: 1.5, ts_ms: 5, meta: { timezone: "Z", sim_version: "1" }, workflow: null, steps_planned: 3, stuck: null })]);
      assert.equal(compiled(value), '{"type":"transaction_open","txn_id":"x","ts_ms":5,"meta":{"timezone":"Z","sim_version":"1"},"steps_planned":3}');
      assert.equal(avsc(value), compiled(value));
    }
    const nullable = { ...record, fields: record.fields.map((field) => (field.name === "txn_id" ? { name: "txn_id", type: ["null", "string"] } : field)) };
    const nullWriter = avro.Type.forSchema(nullable as avro.Schema);
    const both = readers(JSON.stringify(nullable), "events");
    const value = Buffer.concat([wireHeader(7), nullWriter.toBuffer({ type: "transaction_open", txn_id: null, ts_ms: 5, meta: { timezone: "Z", sim_version: "1" }, workflow: null, steps_planned: null, stuck: null })]);
    const a = both.compiled(value);
    const b = both.avsc(value);
    assert.ok(a instanceof WfsimError && b instanceof WfsimError);
    assert.equal(a.message, b.message);
  });

  it("schemas it does not compile are read by avsc, with the same lines", async () => {
    const record = avroRecord(shapeOfType("transaction_open")) as { fields: { name: string }[] };
    // Fields in another order than the event's: not compiled; the decoder reads it with avsc.
    const reordered = { ...record, fields: [...record.fields].reverse() };
    assert.throws(() => compileAvroLines(avro.Type.forSchema(reordered as avro.Schema), "events", { id: 1, url: REGISTRY_URL }), UnsupportedAvro);
    const mapped = { type: "record", name: "M", fields: [{ name: "m", type: { type: "map", values: "long" } }] };
    assert.throws(() => compileAvroLines(avro.Type.forSchema(mapped as avro.Schema), "shaped", { id: 1, url: REGISTRY_URL }), UnsupportedAvro);
    const texts = new Map([
      [1, JSON.stringify(reordered)],
      [2, schemas.transactions],
      [3, JSON.stringify(mapped)],
    ]);
    const client = { url: REGISTRY_URL, schemaById: async (id: number) => ({ id, schemaType: "AVRO", schema: texts.get(id)! }) } as unknown as SchemaRegistryClient;
    const event = open({ workflow: "w" });
    const reorderedValue = Buffer.concat([wireHeader(1), avro.Type.forSchema(reordered as avro.Schema).toBuffer({ ...event, steps_planned: null, stuck: null })]);
    const unionValue = valueEncoder("avro", "transactions", 2).encode(event);
    const decoder = new RegistryValueDecoder(client);
    await decoder.prepare([reorderedValue, unionValue]);
    const chunk = new LineChunk();
    chunk.appendText("first");
    decoder.appendTo(chunk, reorderedValue);
    decoder.appendTo(chunk, unionValue);
    decoder.appendTo(chunk, Buffer.from('{"type":"plain"}'));
    const line = serializeEvent(event);
    assert.equal(chunk.bytes().toString("utf8"), `first\n${line}${line}{"type":"plain"}\n`);
    assert.equal(chunk.lines, 4);
    assert.equal(decoder.toLine(unionValue).toString("utf8"), line.slice(0, -1));
    // A line longer than the decoder's own room (toLine's, which grows) and than a chunk's first buffer.
    const long = open({ workflow: "é\"".repeat(300_000) });
    const longValue = valueEncoder("avro", "transactions", 2).encode(long);
    assert.equal(decoder.toLine(longValue).toString("utf8"), serializeEvent(long).slice(0, -1));
    decoder.appendTo(chunk, longValue);
    assert.equal(chunk.bytes().toString("utf8"), `first\n${line}${line}{"type":"plain"}\n${serializeEvent(long)}`);
    const shaped = new RegistryValueDecoder(client, { records: "shaped" });
    const mapValue = Buffer.concat([wireHeader(3), avro.Type.forSchema(mapped as avro.Schema).toBuffer({ m: { b: 1, 2: 3, a: -1 } })]);
    await shaped.prepare([mapValue]);
    assert.equal(shaped.toLine(mapValue).toString("utf8"), '{"m":{"2":3,"b":1,"a":-1}}');
  });
});

/** A long as Avro writes it: zigzag, then 7 bits a byte. */
function zigzag(n: bigint): Buffer {
  let z = n >= 0n ? n << 1n : ((-n) << 1n) - 1n;
  const bytes: number[] = [];
  do {
    const low = Number(z & 0x7fn);
    z >>= 7n;
    bytes.push(z > 0n ? low | 0x80 : low);
  } while (z > 0n);
  return Buffer.from(bytes);
}

describe("Avro lines: shaped records", () => {
  it("every record of a shaped run (derived schemas, a union of records per topic) is its JSON line", async () => {
    for (const seed of [4, 11]) {
      const options = resolveSimOptions({ scenario: parseScenario(SHAPE.replaceAll("TOPIC", "pay"), "s.yaml"), clock: "virtual", samples: 200, seed });
      const shaper = createShaper(options, { inlineLabels: true })!;
      const plans = new ShapedPlans(shaper);
      const registered = new Map<number, string>();
      const client = {
        url: REGISTRY_URL,
        register: async (_subject: string, _type: string, schema: string) => {
          const id = [...registered.entries()].find(([, s]) => s === schema)?.[0] ?? registered.size + 1;
          registered.set(id, schema);
          return id;
        },
      } as unknown as SchemaRegistryClient;
      const { encoder } = await registerShapedSchemas("avro", "topic", { kind: "derived" }, client, plans);
      let json = "";
      const records = new ShapedKafkaRecords(plans, {
        encode: (index: number, text: string) => {
          json = text;
          return encoder.encode(index, text);
        },
      } as typeof encoder);
      let value = Buffer.alloc(0);
      const batch = { appendBytes: (_k: Buffer, v: Uint8Array) => void (value = Buffer.from(v)) } as unknown as RecordBatchBuilder;
      const written: { json: string; value: Buffer }[] = [];
      const sink: EventSink = {
        write(event) {
          const n = records.prepare(event);
          for (let i = 0; i < n; i++) {
            records.select(i);
            records.appendTo(batch);
            written.push({ json, value });
          }
        },
        backpressured: false,
        drain: () => Promise.resolve(),
        flush: () => {},
      };
      await createSimulation(options, { sink, shaper }).run();
      assert.ok(written.length > 1000);
      const byId = new Map([...registered].map(([id, text]) => [id, readers(text, "shaped", id)]));
      for (const { json, value } of written) {
        const both = byId.get(value.readUInt32BE(1))!;
        assert.equal(both.compiled(value), json);
        assert.equal(both.avsc(value), json);
      }
      // Optional fields both ways, and a union of several records.
      assert.ok(written.some((w) => w.json.includes('"reason"')) && written.some((w) => w.json.includes('"how":{"attempt":1}')));
      assert.ok([...registered.values()].some((text) => text.startsWith("[")));
    }
  });

  const schema = {
    type: "record",
    name: "Everything",
    namespace: "dev.wfsim.records",
    fields: [
      { name: "d", type: "double" },
      { name: "f", type: "float" },
      { name: "maybe", type: ["null", "double"], default: null },
      { name: "nothing", type: "null" },
      { name: "n", type: "long" },
      { name: "i", type: "int" },
      { name: "ok", type: "boolean" },
      { name: "e", type: { type: "enum", name: "Color", symbols: ["red", "green_e"] } },
      { name: "later", type: ["string", "null"] },
      { name: "list", type: { type: "array", items: ["null", "string"] } },
      { name: "nested", type: { type: "record", name: "Nested", fields: [{ name: "a", type: ["null", "long"] }, { name: "b", type: { type: "array", items: { type: "record", name: "Item", fields: [{ name: "x", type: ["null", "boolean"] }] } } }] } },
      { name: "last", type: ["null", "string"] },
    ],
  };
  const writer = avro.Type.forSchema(schema as avro.Schema);
  const both = readers(JSON.stringify(schema), "shaped");
  const base = { d: 0, f: 0, maybe: null, nothing: null, n: 0, i: 0, ok: true, e: "red", later: null, list: [], nested: { a: null, b: [] }, last: null };

  it("doubles as JSON.stringify writes them: 1e21, -0, 5e-324, NaN and infinities as null", () => {
    for (const d of [0, -0, 1e21, 1e-7, 123.456, -1.7976931348623157e308, 5e-324, 0.1 + 0.2, NaN, Infinity, -Infinity, 2 ** 53 + 2, -1234567.875]) {
      const value = Buffer.concat([wireHeader(7), writer.toBuffer({ ...base, d, f: d, maybe: d })]);
      const line = both.compiled(value);
      assert.equal(line, both.avsc(value), String(d));
      assert.equal(JSON.parse(String(line)).d, Number.isFinite(d) ? (Object.is(d, -0) ? 0 : d) : null);
    }
  });

  it("nulls: an absent optional field is left out, a null of type null or a null list item is kept; first and last fields too", () => {
    const values = [
      base,
      { ...base, maybe: 2.5, later: "x", last: "y", nested: { a: -5, b: [{ x: null }, { x: true }, { x: false }] } },
      { ...base, list: [null, "a", null, "\u0000\"é"], n: -(2 ** 40), i: -(2 ** 31), ok: false, e: "green_e" },
    ];
    const lines = values.map((record) => {
      const value = Buffer.concat([wireHeader(7), writer.toBuffer(record)]);
      const line = both.compiled(value);
      assert.equal(line, both.avsc(value));
      return String(line);
    });
    assert.equal(lines[0], '{"d":0,"f":0,"nothing":null,"n":0,"i":0,"ok":true,"e":"red","list":[],"nested":{"b":[]}}');
    assert.match(lines[1]!, /"maybe":2.5,.*"later":"x",.*"nested":\{"a":-5,"b":\[\{\},\{"x":true\},\{"x":false\}\]\},"last":"y"\}$/);
    assert.match(lines[2]!, /"list":\[null,"a",null,"\\u0000\\"é"\]/);
    // A record whose first field is absent: no comma before the first written.
    const firstOptional = { type: "record", name: "R", fields: [{ name: "a", type: ["null", "long"] }, { name: "b", type: ["null", "long"] }] };
    const r = readers(JSON.stringify(firstOptional), "shaped");
    const rw = avro.Type.forSchema(firstOptional as avro.Schema);
    for (const [a, b, text] of [[null, null, "{}"], [1, null, '{"a":1}'], [null, 2, '{"b":2}'], [1, 2, '{"a":1,"b":2}']] as const) {
      const value = Buffer.concat([wireHeader(7), rw.toBuffer({ a, b })]);
      assert.equal(r.compiled(value), text);
      assert.equal(r.avsc(value), text);
    }
  });

  it("arrays in several blocks, with and without their byte size (negative counts)", () => {
    const value = Buffer.concat([wireHeader(7), writer.toBuffer({ ...base, list: ["a", "b", "c"] })]);
    const plain = String(both.compiled(value));
    // The list [a, b, c] as blocks of 2 (with size) and 1: count -2, size, items; count 1, item; 0.
    const encoded = writer.toBuffer({ ...base, list: ["a", "b", "c"] });
    const listAt = encoded.indexOf(Buffer.from([6, 2, 2, 0x61]));
    assert.ok(listAt > 0);
    const blocks = Buffer.from([3, 12, 2, 2, 0x61, 2, 2, 0x62, 2, 2, 2, 0x63, 0]);
    const rewritten = Buffer.concat([wireHeader(7), encoded.subarray(0, listAt), blocks, encoded.subarray(listAt + 11)]);
    assert.equal(both.compiled(rewritten), plain);
    assert.equal(both.avsc(rewritten), plain);
  });

  it("trailing bytes and cut values are refused, as avsc's fromBuffer refuses them", () => {
    const value = Buffer.concat([wireHeader(7), writer.toBuffer({ ...base, later: "z", list: ["q"] })]);
    assert.ok(both.compiled(Buffer.concat([value, Buffer.from([0])])) instanceof WfsimError);
    assert.ok(both.avsc(Buffer.concat([value, Buffer.from([0])])) instanceof Error);
    for (let cut = 6; cut < value.length; cut++) sameOutcome(both.compiled(value.subarray(0, cut)), both.avsc(value.subarray(0, cut)), `cut at ${cut}`);
  });
});
