// Shaped outputs from the command line: what `wfsim run`, `validate`, `schema` and `analyze` do with
// a scenario's output section, on the shipped examples and on broken ones.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Compile } from "typebox/compile";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { runCli } from "../helpers/cli.ts";
import { readdirSync } from "node:fs";

const SHOP = new URL("../../examples/shop-orders.yaml", import.meta.url).pathname;
const PAYMENTS = new URL("../../examples/payments-cloudevents.yaml", import.meta.url).pathname;
const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;
const SHAPED_EXAMPLES: string[] = [];
for (const file of readdirSync(EXAMPLES).filter((name) => /\.ya?ml$/.test(name)).map((name) => join(EXAMPLES, name))) if ((parseYaml(await readFile(file, "utf8")) as { output?: unknown }).output !== undefined) SHAPED_EXAMPLES.push(file);

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wfsim-shape-"));
});
after(() => rm(dir, { recursive: true, force: true }));

/** Runs wfsim and returns its stdout, failing with its stderr. */
async function wfsim(args: readonly string[]): Promise<string> {
  const result = await runCli(args, { timeoutMs: 120_000 });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

function records(stdout: string): Record<string, unknown>[] {
  return stdout.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The same scenario without its output section, as a file. */
async function withoutOutput(file: string): Promise<string> {
  const scenario = parseYaml(await readFile(file, "utf8"), { merge: true }) as Record<string, unknown>;
  delete scenario.output;
  const plain = join(dir, `plain-${file.split("/").pop()}`);
  await writeFile(plain, stringifyYaml(scenario));
  return plain;
}

function oneLine(result: { code: number | null; stdout: string; stderr: string }): string {
  const lines = result.stderr.split("\n").filter((line) => line !== "");
  assert.equal(result.code, 2, result.stderr);
  assert.equal(lines.length, 1, result.stderr);
  assert.equal(result.stdout, "", "nothing emitted");
  assert.doesNotMatch(result.stderr, /\n\s+at /);
  return lines[0]!;
}

describe("the shipped examples with an output section", () => {
  it("are there: an e-commerce order flow and a CloudEvents payments flow", () => {
    assert.ok(SHAPED_EXAMPLES.includes(SHOP) && SHAPED_EXAMPLES.includes(PAYMENTS), SHAPED_EXAMPLES.join(", "));
  });

  for (const file of SHAPED_EXAMPLES) {
    const name = file.split("/").pop()!;
    it(`${name}: analyze reads its records back into the report of the same run without its output section, figure for figure`, async () => {
      const plain = await withoutOutput(file);
      const run = ["--clock", "virtual", "--samples", "3000", "--duration", "1000h", "--quiet"];
      const shapedFile = join(dir, `${name}.shaped.jsonl`);
      const plainFile = join(dir, `${name}.plain.jsonl`);
      await wfsim(["run", "--scenario", file, ...run, "--output", shapedFile, "--truth", `${shapedFile}.truth`]);
      await wfsim(["run", "--scenario", plain, ...run, "--output", plainFile, "--truth", `${plainFile}.truth`]);
      assert.equal(await readFile(`${shapedFile}.truth`, "utf8"), await readFile(`${plainFile}.truth`, "utf8"), "the same transactions, timings and anomalies");
      const shaped = JSON.parse(await wfsim(["analyze", "--scenario", file, shapedFile, "--truth", `${shapedFile}.truth`, "--format", "json"]));
      const own = JSON.parse(await wfsim(["analyze", plainFile, "--truth", `${plainFile}.truth`, "--format", "json"]));
      for (const report of [shaped, own]) {
        delete report.sources;
        delete report.ground_truth.source;
      }
      assert.ok(own.events > 20_000 && own.transactions.completed > 2000, `${own.events} events`);
      assert.deepEqual(shaped, own);
    });
  }

  it("write the same bytes for the same seed, through the WebAssembly writer as through the JavaScript one", async () => {
    const args = ["run", "--scenario", SHOP, "--clock", "virtual", "--samples", "500", "--quiet"];
    const first = await wfsim(args);
    assert.equal(await wfsim(args), first);
    const routed = records(await wfsim([...args, "--routing"]));
    assert.equal(routed.map((r) => JSON.stringify(r.value)).join("\n") + "\n", first);
    assert.ok(routed.every((r) => r.topic === "shop.orders" && typeof r.key === "string" && (r.key as string).startsWith("ORD-")));
  });

  it("keep every attribute whatever the concurrency, the clock or --instance", async () => {
    // The closed model, so that the same transactions run whatever the concurrency.
    const text = (await readFile(SHOP, "utf8")).replace(/load:\n(  .*\n)+/, "load: { model: closed, concurrency: 20, samples: 400 }\n");
    const closed = join(dir, "shop-closed.yaml");
    await writeFile(closed, text);
    const placed = async (extra: readonly string[]) => {
      const out = records(await wfsim(["run", "--scenario", closed, "--quiet", ...extra]));
      const byTxn = new Map<string, unknown>();
      for (const r of out) if (r.eventType === "OrderPlaced") byTxn.set(r.txn_id as string, { order: r.order, customer: r.customer });
      return byTxn;
    };
    const reference = await placed(["--clock", "virtual"]);
    assert.equal(reference.size, 400);
    assert.deepEqual(await placed(["--clock", "virtual", "--concurrency", "3"]), reference);
    assert.deepEqual(await placed(["--clock", "real", "--speed", "1000000", "--samples", "60", "--start-time", "2026-03-02T08:00:00Z"]), new Map([...reference].filter(([, v]) => Number(((v as { order: { id: string } }).order.id).slice(4)) <= 60)));
    const parts = [...(await placed(["--clock", "virtual", "--instance", "0/2"])), ...(await placed(["--clock", "virtual", "--instance", "1/2"]))];
    assert.deepEqual(new Map(parts.sort(([a], [b]) => a.localeCompare(b))), new Map([...reference].sort(([a], [b]) => a.localeCompare(b))));
  });

  it("wfsim run --sample prints one transaction of each workflow, shaped", async () => {
    const out = records(await wfsim(["run", "--scenario", PAYMENTS, "--sample"]));
    const subjects = [...new Set(out.map((r) => r.subject))];
    assert.equal(subjects.length, 2);
    assert.deepEqual(
      [...new Set(out.map((r) => (r.source as string).split("/").pop()))],
      ["card_payment", "refund"],
    );
    assert.ok(out.every((r) => r.specversion === "1.0" && r.datacontenttype === "application/json" && typeof r.data === "object"));
    assert.match(out[0]!.time as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it("wfsim schema --scenario FILE prints a JSON Schema every record of a run fits", async () => {
    for (const file of SHAPED_EXAMPLES) {
      const schema = JSON.parse(await wfsim(["schema", "--scenario", file]));
      const check = Compile(schema as never);
      const out = records(await wfsim(["run", "--scenario", file, "--clock", "virtual", "--samples", "300", "--quiet"]));
      for (const record of out) assert.ok(check.Check(record), `${file}: ${JSON.stringify(record)}`);
      // And it is strict: a record with a field removed or renamed does not fit.
      const broken = { ...out[0]!, unexpected: 1 };
      assert.equal(check.Check(broken), false);
    }
  });

  it("wfsim validate accepts them and says what they write", async () => {
    const out = await wfsim(["validate", SHOP]);
    assert.match(out, /valid: 1 workflow/);
  });
});

describe("shaped output: bad input", () => {
  const broken = async (name: string, output: string) => {
    const file = join(dir, name);
    await writeFile(file, `workflows:\n  - name: shop\n    steps: [cart, payment]\noutput:\n${output}`);
    return file;
  };

  it("validate and run refuse a bad output section in one line, before anything is emitted", async () => {
    const file = await broken("bad.yaml", '  attributes:\n    name: { fake: person.fulName }\n  records:\n    Opened: { at: transaction_open, fields: { id: "{txn_id}" } }\n');
    const expected = `wfsim: ${file}:6:19: output.attributes.name.fake: expected a @faker-js/faker method (module.method) such as person.fullName or internet.email, got "person.fulName" (did you mean "person.fullName"?)`;
    assert.equal(oneLine(await runCli(["validate", file])), expected);
    assert.equal(oneLine(await runCli(["run", "--scenario", file, "--clock", "virtual"])), expected);
  });

  it("analyze refuses a shape without the transaction id where it needs it, in one line", async () => {
    const file = await broken("no-id.yaml", '  records:\n    Opened: { at: transaction_open, fields: { at: "{time}" } }\n');
    const line = oneLine(await runCli(["analyze", "--scenario", file, "/dev/null"]));
    assert.equal(line, `wfsim: ${file}: output.records.Opened: analyze needs the transaction id in every record: add a field "{txn_id}"`);
  });

  it("analyze refuses a shape whose moments it cannot follow, or cannot tell apart, in one line", async () => {
    const silent = await broken("silent.yaml", '  records:\n    Opened: { at: transaction_open, fields: { id: "{txn_id}", at: "{time}" } }\n');
    assert.match(oneLine(await runCli(["analyze", "--scenario", silent, "/dev/null"])), /analyze needs a record at transaction_aborted of shop to follow the transactions/);
    const alike = await broken(
      "alike.yaml",
      '  fields: { id: "{txn_id}", at: "{time}" }\n  records:\n    Step: { at: [step_open, step_done], fields: { step: "{step}" } }\n    Other: { at: [transaction_open, transaction_aborted] }\n',
    );
    assert.match(oneLine(await runCli(["analyze", "--scenario", alike, "/dev/null"])), /analyze cannot tell Step at step_open of shop\/cart from Step at step_done of shop\/cart/);
  });

  it("a blind run refuses a record it could never write, or a header it would write without its value, in one line", async () => {
    const waits = await broken("waits.yaml", '  records:\n    Waiting: { at: inter_step_wait, fields: { id: "{txn_id}" } }\n    Opened: { at: transaction_open, fields: { id: "{txn_id}" } }\n');
    const truth = join(dir, "waits-truth.jsonl");
    const args = ["run", "--scenario", waits, "--clock", "virtual", "--samples", "5", "--quiet"];
    assert.equal(
      oneLine(await runCli([...args, "--truth", truth])),
      `wfsim: --truth (which implies --blind): ${waits}: output.records.Waiting is produced only at inter_step_wait, which a blind run does not have; give --no-blind to keep it, or change the output section`,
    );
    assert.match(oneLine(await runCli([...args, "--blind"])), /^wfsim: --blind: .*output\.records\.Waiting is produced only at inter_step_wait/);
    // --no-blind keeps the waits: their records are written.
    const kept = records(await wfsim([...args, "--truth", truth, "--no-blind"]));
    assert.ok(kept.some((r) => Object.keys(r).length === 1 && typeof r.id === "string") && kept.length > 5);
    const header = await broken(
      "header.yaml",
      '  records:\n    Done: { at: step_done, fields: { id: "{txn_id}" }, headers: { took: "{work_ms}" } }\n',
    );
    assert.match(oneLine(await runCli(["run", "--scenario", header, "--clock", "virtual", "--blind"])), /output\.records\.Done's header took holds \{work_ms\}, which a blind run leaves out/);
  });

  it("analyze counts lines that are no record of the scenario as invalid, pointing at them", async () => {
    const file = join(dir, "mixed.jsonl");
    const out = await wfsim(["run", "--scenario", SHOP, "--clock", "virtual", "--samples", "50", "--quiet"]);
    await writeFile(file, `${out}{"eventType":"Nothing"}\nnot json\n`);
    const report = JSON.parse(await wfsim(["analyze", "--scenario", SHOP, file, "--format", "json"]));
    assert.equal(report.invalid_lines, 2);
    const lines = out.split("\n").length;
    assert.deepEqual(report.invalid_examples.map((e: { line: number }) => e.line), [lines, lines + 1]);
  });

  it("run refuses flags a shaped output replaces or needs", async () => {
    assert.match(oneLine(await runCli(["run", "--scenario", SHOP, "--topic-txn", "x", "--kafka-bootstrap", "127.0.0.1:1"])), /--topic-txn does not apply to a shaped output/);
    assert.match(oneLine(await runCli(["run", "--routing", "--samples", "1"])), /--routing applies to a scenario with an output section/);
  });

  it("run --sample refuses every flag it would ignore (an output, faults, a wire format, live endpoints), naming it", async () => {
    for (const [flag, ...value] of [["--routing"], ["--format", "avro"], ["--delivery", "{drop: {prob: 1}}"], ["-o", join(dir, "never.jsonl")], ["--truth", join(dir, "never.jsonl")], ["--kafka-bootstrap", "127.0.0.1:1"], ["--metrics", "127.0.0.1:0"]]) {
      const name = flag === "-o" ? "--output" : flag!;
      assert.match(oneLine(await runCli(["run", "--scenario", PAYMENTS, "--sample", flag!, ...value])), new RegExp(`^wfsim: --sample .* takes no ${name} `));
    }
    // What shapes the records is taken: the seed and blindness change what the sample shows.
    assert.notEqual(await wfsim(["run", "--scenario", PAYMENTS, "--sample", "--seed", "3"]), await wfsim(["run", "--scenario", PAYMENTS, "--sample", "--seed", "4"]));
  });
});
