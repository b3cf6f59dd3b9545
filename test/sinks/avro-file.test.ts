// wfsim run --format avro to a file: an Avro object container file that Avro's own readers take as it
// is (avsc's file decoder; fastavro too, when Python has it), whose records are the JSON Lines of the
// same seed, for wfsim's events and for a scenario's shaped records.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import avro from "avsc";
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

async function lines(args: readonly string[]): Promise<string[]> {
  const result = await runCli(["run", ...args, "--quiet"]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.split("\n").filter((line) => line !== "");
}

describe("wfsim run --format avro --output FILE", { timeout: 120_000 }, () => {
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

  test("--schema-registry with an Avro file: one line, exit 2", async () => {
    const result = await runCli(["run", "--samples", "3", "--format", "avro", "--output", join(dir, "x.avro"), "--schema-registry", "http://127.0.0.1:1"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^wfsim: --schema-registry applies to the Kafka output; an Avro file .* carries its schema in its header\n$/);
  });
});
