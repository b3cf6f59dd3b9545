// wfsim run --format avro|protobuf to a file: an Avro object container file that Avro's own readers
// take as it is (avsc's file decoder; fastavro too, when Python has it), and length-delimited Protobuf
// Records read with protobufjs and the .proto of wfsim schema --format protobuf; the records are the
// JSON Lines of the same seed, for wfsim's events and for a scenario's shaped records.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import avro from "avsc";
import protobuf from "protobufjs";
import { runCli } from "../helpers/cli.ts";
import { SHAPE } from "../registry/decode-shaped.ts";

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-avro-file-"))));
after(() => rm(dir, { recursive: true, force: true }));

/** The records of a container file, read by avsc's own decoder: the union's branch unwrapped, absent optional fields (null) left out. */
function readContainer(path: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const records: unknown[] = [];
    avro
      .createFileDecoder(path)
      .on("data", (value: Record<string, unknown>) => records.push(value))
      .on("error", reject)
      .on("end", () => resolve(records));
  });
}

/** An Avro value as the JSON the writer had: a union value is one key (the branch); null in a record field is an absent optional field. */
function plain(value: unknown, inArray = false, unwrap = false): unknown {
  if (Array.isArray(value)) return value.map((v) => plain(v, true));
  if (value === null || typeof value !== "object") return value;
  if (unwrap) return plain(Object.values(value)[0]);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) if (inner !== null || inArray) out[key] = plain(inner);
  return out;
}

function fastavro(path: string): Promise<string | undefined> {
  const script = "import fastavro, json, sys\nwith open(sys.argv[1], 'rb') as f:\n  for r in fastavro.reader(f): print(json.dumps(r, separators=(',', ':'), ensure_ascii=False))";
  return new Promise((resolve) => {
    execFile("python3", ["-c", script, path], { maxBuffer: 64 << 20 }, (error, stdout) => resolve(error === null ? stdout : undefined));
  });
}

/** protobufjs's object in field-number order, absent fields left out; an event's `type` enum back to its name. */
function ordered(type: protobuf.Type, object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const inner = object[field.name];
    if (inner === undefined || inner === null) continue;
    field.resolve();
    const nested = field.resolvedType;
    if (nested instanceof protobuf.Type) out[field.name] = Array.isArray(inner) ? inner.map((i) => ordered(nested, i as Record<string, unknown>)) : ordered(nested, inner as Record<string, unknown>);
    else if (nested instanceof protobuf.Enum && field.name === "type") out[field.name] = Object.keys(nested.values)[0];
    else out[field.name] = inner;
  }
  return out;
}

async function lines(args: readonly string[]): Promise<string[]> {
  const result = await runCli(["run", ...args, "--quiet"]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.split("\n").filter((line) => line !== "");
}

describe("wfsim run --format avro|protobuf --output FILE", { timeout: 120_000 }, () => {
  const cases = [
    { label: "wfsim's events", args: ["--samples", "200", "--outlier-prob", "0.2", "--seed", "5", "--clock", "virtual", "--start-time", "0"], union: true },
    { label: "a scenario's shaped records", args: ["--scenario", "SHAPE", "--samples", "200", "--seed", "5", "--clock", "virtual"], union: true },
  ];
  for (const { label, args, union } of cases) {
    test(`${label}: a container file whose records are the JSON Lines of the same seed`, async (t) => {
      const scenario = join(dir, "shape.yaml");
      await writeFile(scenario, SHAPE.replaceAll("TOPIC", "t"));
      const argv = args.map((arg) => (arg === "SHAPE" ? scenario : arg));
      const file = join(dir, `${label.length}.avro`);
      const result = await runCli(["run", ...argv, "--format", "avro", "--output", file, "--quiet"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal((await readFile(file)).subarray(0, 4).toString("latin1"), "Obj\u0001");
      const expected = (await lines(argv)).map((line) => JSON.parse(line) as unknown);
      const records = (await readContainer(file)).map((record) => plain(record, false, union));
      assert.equal(records.length, expected.length);
      assert.deepEqual(records, expected);
      const other = await fastavro(file);
      if (other === undefined) {
        t.diagnostic("fastavro is not installed for python3: read back with avsc only");
        return;
      }
      const theirs = other.split("\n").filter((line) => line !== "").map((line) => plain(JSON.parse(line)));
      assert.deepEqual(theirs, expected);
    });
  }

  for (const { label, args } of cases) {
    test(`${label}: length-delimited Protobuf Records, read with the .proto wfsim schema prints, are the JSON Lines of the same seed`, async () => {
      const scenario = join(dir, "shape.yaml");
      await writeFile(scenario, SHAPE.replaceAll("TOPIC", "t"));
      const argv = args.map((arg) => (arg === "SHAPE" ? scenario : arg));
      const file = join(dir, `${label.length}.pb`);
      const result = await runCli(["run", ...argv, "--format", "protobuf", "--output", file, "--quiet"]);
      assert.equal(result.code, 0, result.stderr);
      const proto = await runCli(["schema", "--format", "protobuf", ...(argv[0] === "--scenario" ? ["--scenario", scenario] : [])]);
      assert.equal(proto.code, 0, proto.stderr);
      const root = protobuf.parse(proto.stdout, { keepCase: true }).root;
      const record = root.lookupType(argv[0] === "--scenario" ? "wfsim.records.Record" : "wfsim.Record");
      const reader = protobuf.Reader.create(await readFile(file));
      const records: unknown[] = [];
      while (reader.pos < reader.len) {
        const decoded = record.toObject(record.decodeDelimited(reader), { longs: Number, enums: String, defaults: true, arrays: true, oneofs: true });
        const which = decoded["record"] as string;
        const type = record.fields[which]!.resolvedType as protobuf.Type;
        records.push(ordered(type, decoded[which] as Record<string, unknown>));
      }
      const expected = (await lines(argv)).map((line) => JSON.parse(line) as unknown);
      assert.equal(records.length, expected.length);
      assert.deepEqual(records, expected);
    });
  }

  test("a shape Protobuf cannot hold: one line naming the field, exit 2, and no file made", async () => {
    const scenario = join(dir, "nulls.yaml");
    await writeFile(scenario, SHAPE.replaceAll("TOPIC", "t").replace("flag: true", "flag: true, nothing: [null, 1]"));
    const file = join(dir, "never.pb");
    const result = await runCli(["run", "--scenario", scenario, "--samples", "3", "--clock", "virtual", "--format", "protobuf", "--output", file]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^wfsim: output\.records\.Opened\.nothing: a constant null, which Protobuf cannot hold \(--format json-schema can\)\n$/);
    await assert.rejects(readFile(file), { code: "ENOENT" });
  });

  test("--schema-registry with an Avro or Protobuf file: one line, exit 2", async () => {
    for (const format of ["avro", "protobuf"]) {
      const result = await runCli(["run", "--samples", "3", "--format", format, "--output", join(dir, "x.bin"), "--schema-registry", "http://127.0.0.1:1"]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, new RegExp(`^wfsim: --schema-registry applies to the Kafka output, not to --format ${format} in a file \\(.*\\)\n$`));
    }
  });
});
