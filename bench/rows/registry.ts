/**
 * Issue #15's goals for the Schema Registry formats, each as a ratio to JSON measured in the same run:
 *
 * - encode: events/s turned into record values, in-process, over the same events (those of a virtual
 *   run): Avro, Protobuf and JSON Schema (wire format) beside wfsim's JSON (serializeEvent and its
 *   UTF-8 length, what the JSON output does per record). Pairs alternated, median of pair ratios.
 * - decode: events/s of record values (Avro, wire format) turned back into the JSON lines the analysis
 *   reads, in-process: the compiled reader (analyze/read/avro-lines.ts) beside avsc's decode and
 *   serializeEvent (the path it replaced, still taken for schemas it does not compile).
 * - Kafka: events/s delivered (whole process, acks=all, idempotent) in Avro beside JSON, same broker,
 *   fresh topics every run. Goal: Avro at least 70% of JSON.
 * - analyze: events/s `wfsim analyze --kafka-bootstrap --schema-registry` reads the Avro topics back,
 *   beside reading the JSON topics of the same run. Goal: at least 70%.
 *
 * The broker: KAFKA_BOOTSTRAP if set, else one started here; the registry: WFSIM_BENCH_REGISTRY_URL if
 * set, else an Apicurio Registry started here (Java 21+, see test/registry/server.ts).
 */
import { randomBytes } from "node:crypto";
import { startBroker, type BrokerHandle } from "../../test/kafka/broker.ts";
import { startRegistry, type RegistryHandle } from "../../test/registry/server.ts";
import type { WfEvent } from "../../src/events/schema.ts";
import { serializeEvent } from "../../src/events/serialize.ts";
import type { RegistryFormat } from "../../src/events/wire/formats.ts";
import { topicKindOf } from "../../src/events/wire/topic-events.ts";
import { topicSchemaText, valueEncoder } from "../../src/sinks/kafka/registry/value-encoders.ts";
import { compileAvroLines } from "../../src/analyze/read/avro-lines.ts";
import { decodedLineOf } from "../../src/analyze/read/registry-values.ts";
import { LineChunk } from "../../src/kafka/read/records.ts";
import avro from "avsc";
import { median, runProcess, type BenchRow } from "../harness.ts";
import { NODE, WFSIM } from "../paths.ts";

const ENCODE_SAMPLES = 20_000;
const KAFKA_SAMPLES = 50_000;
const EVENTS_PER_TRANSACTION = 16;
const ROUNDS = 3;
const PARTITIONS = 3;

type Encode = (event: WfEvent) => number;

/** The Kafka output's own value encoders (value-encoders.ts), and JSON as EventRecords makes it. */
function encoders(): Record<string, Encode> {
  const byKind = (format: RegistryFormat): Encode => {
    const transactions = valueEncoder(format, "transactions", 1);
    const steps = valueEncoder(format, "steps", 2);
    return (event) => (topicKindOf(event.type) === "transactions" ? transactions : steps).encode(event).length;
  };
  return {
    json: (event) => Buffer.byteLength(serializeEvent(event), "utf8") - 1,
    avro: byKind("avro"),
    protobuf: byKind("protobuf"),
    "json-schema": byKind("json-schema"),
  };
}

function timeEncode(encode: Encode, events: readonly WfEvent[]): { perSecond: number; bytes: number } {
  let bytes = 0;
  const started = performance.now();
  for (const event of events) bytes += encode(event);
  return { perSecond: events.length / ((performance.now() - started) / 1000), bytes: bytes / events.length };
}

async function virtualEvents(): Promise<WfEvent[]> {
  const run = await runProcess(NODE, [WFSIM, "run", "--clock", "virtual", "--samples", `${ENCODE_SAMPLES}`, "--outlier-prob", "0.05", "--quiet"], { stdout: "capture" });
  if (run.code !== 0) throw new Error(`wfsim failed: ${run.stderr}`);
  return run.stdout.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as WfEvent);
}

/** Avro values back to lines, as the analysis gets them: into a chunk, handed over every 4 MiB. */
function decodeRow(events: readonly WfEvent[]): BenchRow {
  const kinds = ["transactions", "steps"] as const;
  const ids = { transactions: 1, steps: 2 };
  const encoders = { transactions: valueEncoder("avro", "transactions", ids.transactions), steps: valueEncoder("avro", "steps", ids.steps) };
  const values = events.map((event) => encoders[topicKindOf(event.type)].encode(event));
  const texts = Object.fromEntries(kinds.map((kind) => [kind, topicSchemaText("avro", kind, kind)])) as Record<(typeof kinds)[number], string>;
  const compiled = kinds.map((kind) => compileAvroLines(avro.Type.forSchema(JSON.parse(texts[kind]) as avro.Schema), "events", { id: ids[kind], url: "bench" }));
  const decoded = kinds.map((kind) => decodedLineOf({ id: ids[kind], schemaType: "AVRO", schema: texts[kind] }, "bench", "events"));
  const chunk = new LineChunk();
  const time = (append: (value: Buffer) => void) => {
    chunk.reset();
    const started = performance.now();
    for (const value of values) {
      append(value);
      if (chunk.length > 1 << 22) chunk.reset();
    }
    return values.length / ((performance.now() - started) / 1000);
  };
  const viaLines = (value: Buffer) => chunk.endLine(compiled[value.readUInt32BE(1) - 1]!(value, 5, value.length, chunk, chunk.length));
  const viaAvsc = (value: Buffer) => chunk.append(decoded[value.readUInt32BE(1) - 1]!(value, 5, value.length));
  time(viaLines);
  time(viaAvsc);
  const ours: number[] = [];
  const theirs: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < 5; round++) {
    ours.push(time(viaLines));
    theirs.push(time(viaAvsc));
    ratios.push(ours.at(-1)! / theirs.at(-1)!);
  }
  return {
    name: `decode ${events.length.toLocaleString("en-US")} Avro record values to the analysis's JSON lines, compiled reader vs avsc + serializeEvent, in-process`,
    unit: "events/s",
    wfsim: median(ours),
    reference: median(theirs),
    referenceLabel: "avsc",
    ratio: median(ratios),
    note: `pairs: ${ratios.map((r) => r.toFixed(2)).join(", ")}`,
  };
}

async function encodeRows(): Promise<BenchRow[]> {
  const events = await virtualEvents();
  const all = encoders();
  // Warm-up: every encoder compiled and optimised before it is timed.
  for (const encode of Object.values(all)) timeEncode(encode, events);
  const rows: BenchRow[] = [];
  for (const format of ["avro", "protobuf", "json-schema"] as const) {
    const ratios: number[] = [];
    const ours: number[] = [];
    const json: number[] = [];
    let size = 0;
    let jsonSize = 0;
    for (let round = 0; round < 5; round++) {
      const a = timeEncode(all[format]!, events);
      const b = timeEncode(all["json"]!, events);
      ours.push(a.perSecond);
      json.push(b.perSecond);
      ratios.push(a.perSecond / b.perSecond);
      size = a.bytes;
      jsonSize = b.bytes;
    }
    rows.push({
      name: `encode ${events.length.toLocaleString("en-US")} events to record values, ${format} (wire format) vs JSON, in-process`,
      unit: "events/s",
      wfsim: median(ours),
      reference: median(json),
      referenceLabel: "JSON",
      ratio: median(ratios),
      note: `value size ${size.toFixed(1)} B vs ${jsonSize.toFixed(1)} B JSON; pairs: ${ratios.map((r) => r.toFixed(2)).join(", ")}`,
    });
  }
  rows.push(decodeRow(events));
  return rows;
}

const format = (value: number) => Math.round(value).toLocaleString("en-US");

async function kafkaRows(bootstrap: string, registryUrl: string): Promise<BenchRow[]> {
  const start = String(Date.now() - 86_400_000);
  const workload = ["run", "--clock", "virtual", "--samples", `${KAFKA_SAMPLES}`, "--start-time", start, "--quiet"];
  const events = KAFKA_SAMPLES * EVENTS_PER_TRANSACTION;
  const produce: Record<"avro" | "json", number[]> = { avro: [], json: [] };
  const read: Record<"avro" | "json", number[]> = { avro: [], json: [] };
  const produceRatios: number[] = [];
  const readRatios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const rates: Record<string, number> = {};
    const readRates: Record<string, number> = {};
    for (const fmt of ["avro", "json"] as const) {
      const suffix = randomBytes(4).toString("hex");
      const topics = ["--topic-txn", `bench-reg-txn-${suffix}`, "--topic-steps", `bench-reg-steps-${suffix}`];
      const registry = fmt === "avro" ? ["--format", "avro", "--schema-registry", registryUrl] : [];
      // Created beforehand (untimed, for both formats): a run's own creation sometimes meets a broker
      // whose metadata does not list the new topic yet ("unknown topic"), on this loaded machine.
      const created = await runProcess(NODE, [WFSIM, "topics", "create", "--kafka-bootstrap", bootstrap, ...topics, "--partitions", `${PARTITIONS}`]);
      if (created.code !== 0) throw new Error(`wfsim topics create failed: ${created.stderr}`);
      const run = await runProcess(NODE, [WFSIM, ...workload, "--kafka-bootstrap", bootstrap, ...topics, "--partitions", `${PARTITIONS}`, ...registry]);
      if (run.code !== 0) throw new Error(`wfsim run (${fmt}) failed: ${run.stderr}`);
      rates[fmt] = events / (run.wallMs / 1000);
      produce[fmt].push(rates[fmt]!);
      const analyzeRun = await runProcess(NODE, [WFSIM, "analyze", "--kafka-bootstrap", bootstrap, ...topics, ...(fmt === "avro" ? ["--schema-registry", registryUrl] : []), "--format", "json"], {
        stdout: "capture",
      });
      if (analyzeRun.code !== 0 || (JSON.parse(analyzeRun.stdout) as { events: number }).events !== events) throw new Error(`wfsim analyze (${fmt}) failed: ${analyzeRun.stderr}`);
      readRates[fmt] = events / (analyzeRun.wallMs / 1000);
      read[fmt].push(readRates[fmt]!);
    }
    produceRatios.push(rates["avro"]! / rates["json"]!);
    readRatios.push(readRates["avro"]! / readRates["json"]!);
  }
  return [
    {
      name: `Kafka: ${events.toLocaleString("en-US")} events delivered in Avro (Confluent wire format) vs JSON, acks=all, idempotent, whole process`,
      unit: "events/s",
      wfsim: median(produce.avro),
      reference: median(produce.json),
      referenceLabel: "JSON",
      ratio: median(produceRatios),
      goal: { value: 0.7, better: "higher", on: "ratio" },
      note: `runs: Avro ${produce.avro.map(format).join(", ")}; JSON ${produce.json.map(format).join(", ")}`,
    },
    {
      name: `analyze from Kafka: the same events in Avro (schemas by id from the registry) vs JSON, whole process`,
      unit: "events/s",
      wfsim: median(read.avro),
      reference: median(read.json),
      referenceLabel: "JSON",
      ratio: median(readRatios),
      goal: { value: 0.7, better: "higher", on: "ratio" },
      note: `runs: Avro ${read.avro.map(format).join(", ")}; JSON ${read.json.map(format).join(", ")}`,
    },
  ];
}

export async function registryRows(): Promise<BenchRow[]> {
  const rows = await encodeRows();
  const externalKafka = process.env["KAFKA_BOOTSTRAP"];
  const externalRegistry = process.env["WFSIM_BENCH_REGISTRY_URL"];
  let broker: BrokerHandle | undefined;
  let registry: RegistryHandle | undefined;
  try {
    [broker, registry] = await Promise.all([
      externalKafka ? undefined : startBroker({ jvm: "throughput" }),
      externalRegistry ? undefined : startRegistry(),
    ]);
    rows.push(...(await kafkaRows(externalKafka || broker!.bootstrap.plaintext, externalRegistry || registry!.url)));
  } finally {
    await Promise.all([broker?.stop(), registry?.stop()]);
  }
  return rows;
}
