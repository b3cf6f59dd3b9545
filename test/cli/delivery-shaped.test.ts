/**
 * Delivery faults on a shaped output (a scenario's output section): each record a moment produces
 * may be dropped, duplicated, delayed, skewed or corrupted, and the truth tells each one, record by
 * record; `analyze --scenario --truth` undoes them, so its figures and golden windows are those of
 * the run without faults.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";

// shop-orders: one workflow, retried payments, stuck orders, time as ISO text, the record type in eventType.
const SHOP = ["run", "--scenario", "examples/shop-orders.yaml", "--clock", "virtual", "--samples", "2000"];
// payments-cloudevents: two workflows sharing record types, failed transactions with reasons.
const PAYMENTS = ["run", "--scenario", "examples/payments-cloudevents.yaml", "--clock", "virtual", "--samples", "3000"];
const ALL =
  "{drop: {prob: 0.05}, duplicate: {prob: 0.05, after: 2s}, delay: {prob: 0.05, by: {dist: uniform, min: 1s, max: 30s}}, " +
  "skew: {prob: 0.05, offset: {dist: uniform, min: 1s, max: 60s}}, corrupt: {prob: 0.05}}";
const NO_SKEW = "{drop: {prob: 0.05}, duplicate: {prob: 0.05, after: 2s}, delay: {prob: 0.05, by: {dist: uniform, min: 1s, max: 30s}}, corrupt: {prob: 0.05}}";

interface Fault {
  kind: string;
  txn_id: string;
  type: string;
  record?: string;
  step?: number;
  attempt?: number;
  seq: number;
  ts_ms: number;
  due_ms: number;
  delay_ms?: number;
  offset_ms?: number;
}

interface ShopRecord {
  eventType: string;
  txn_id: string;
  occurredAt: string;
}

describe("delivery faults on a shaped output", () => {
  let dir: string;
  const path = (name: string) => join(dir, name);
  const lines = async (name: string) => (await readFile(path(name), "utf8")).split("\n").filter((line) => line !== "");
  const faults = async (name: string) => (await lines(name)).map((line) => JSON.parse(line) as Fault).filter((r) => r.kind !== "outlier" && r.kind !== "stuck" && r.kind !== "step_failure");
  const run = async (name: string, args: readonly string[]) => {
    const ran = await runCli([...args, "-o", path(`${name}.jsonl`), "--truth", path(`${name}-truth.jsonl`)]);
    assert.equal(ran.code, 0, ran.stderr);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wfsim-shaped-faults-"));
    await run("shop-clean", SHOP);
    await run("shop-faulty", [...SHOP, "--delivery", NO_SKEW]);
    await run("shop-skew", [...SHOP, "--delivery", "{skew: {prob: 0.2, offset: {dist: uniform, min: 1s, max: 60s}}}"]);
    await run("pay-clean", PAYMENTS);
    await run("pay-faulty", [...PAYMENTS, "--delivery", ALL]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("tells every fault record by record: the stream is the clean one less drops and corruptions, plus copies", async () => {
    const clean = await lines("shop-clean.jsonl");
    const faulty = await lines("shop-faulty.jsonl");
    const truth = await faults("shop-faulty-truth.jsonl");
    const keyOf = (r: ShopRecord) => `${r.txn_id}/${r.eventType}/${Date.parse(r.occurredAt)}`;
    const cleanByKey = new Map<string, string>();
    for (const line of clean) cleanByKey.set(keyOf(JSON.parse(line) as ShopRecord), line);
    assert.equal(cleanByKey.size, clean.length, "a record is known by its transaction, type and time");
    const counts = new Map<string, number>();
    for (const line of clean) counts.set(line, 1);
    const byKind = (kind: string) => truth.filter((f) => f.kind === kind);
    for (const kind of ["drop", "duplicate", "delay", "corrupt"]) {
      // 5% of about 16,000 records: 800 expected, far from 0 and from all.
      assert.ok(byKind(kind).length > 500 && byKind(kind).length < 1100, `${kind}: ${byKind(kind).length}`);
    }
    for (const fault of truth) {
      assert.equal(typeof fault.record, "string", "a shaped fault names its record type");
      const line = cleanByKey.get(`${fault.txn_id}/${fault.record}/${fault.due_ms}`);
      assert.ok(line !== undefined, `the record of ${JSON.stringify(fault)} is in the clean stream`);
      if (fault.kind === "drop" || fault.kind === "corrupt") counts.set(line, counts.get(line)! - 1);
      if (fault.kind === "duplicate") counts.set(line, counts.get(line)! + 1);
      if (fault.type === "step_failed" || (fault.type === "step_open" && fault.attempt !== undefined)) assert.ok(fault.attempt! >= 1);
    }
    const malformed = faulty.filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    assert.equal(malformed.length, byKind("corrupt").length);
    const got = new Map<string, number>();
    for (const line of faulty) if (!malformed.includes(line)) got.set(line, (got.get(line) ?? 0) + 1);
    const expected = new Map([...counts].filter(([, n]) => n > 0));
    assert.deepEqual(got, expected);
    // A delayed record comes after a record of a later time; its bytes are those of its moment.
    const at = new Map(faulty.map((line, i) => [line, i]));
    let late = 0;
    for (const fault of byKind("delay")) {
      const line = cleanByKey.get(`${fault.txn_id}/${fault.record}/${fault.due_ms}`)!;
      const position = at.get(line)!;
      const before = faulty.slice(0, position).filter((l) => !malformed.includes(l)).map((l) => Date.parse((JSON.parse(l) as ShopRecord).occurredAt));
      if (before.some((ts) => ts > fault.due_ms)) late++;
    }
    assert.equal(late, byKind("delay").length);
  });

  it("skews every time field of a skewed transaction's records by its offset", async () => {
    const clean = (await lines("shop-clean.jsonl")).map((line) => JSON.parse(line) as ShopRecord);
    const skewed = (await lines("shop-skew.jsonl")).map((line) => JSON.parse(line) as ShopRecord);
    const offsets = new Map((await faults("shop-skew-truth.jsonl")).map((f) => [f.txn_id, f.offset_ms!]));
    assert.ok(offsets.size > 200, `skewed transactions: ${offsets.size}`);
    assert.equal(skewed.length, clean.length);
    const times = new Map<string, number[]>();
    for (const r of skewed) times.set(`${r.txn_id}/${r.eventType}`, [...(times.get(`${r.txn_id}/${r.eventType}`) ?? []), Date.parse(r.occurredAt)]);
    let shifted = 0;
    for (const r of clean) {
      const offset = offsets.get(r.txn_id) ?? 0;
      const seen = times.get(`${r.txn_id}/${r.eventType}`)!;
      assert.ok(seen.includes(Date.parse(r.occurredAt) + offset), `${r.txn_id} ${r.eventType}`);
      if (offset !== 0) shifted++;
    }
    assert.ok(shifted > 1000);
  });

  async function analyze(name: string, args: readonly string[]): Promise<Record<string, unknown>> {
    const result = await runCli(["analyze", path(`${name}.jsonl`), "--scenario", "examples/payments-cloudevents.yaml", "--truth", path(`${name}-truth.jsonl`), "--format", "json", ...args]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  it("analyze --truth undoes them: the figures of the run without faults", async () => {
    const clean = await analyze("pay-clean", []);
    const faulty = await analyze("pay-faulty", []);
    for (const figure of ["events", "events_by_type", "transactions", "duration_ms", "first_event_to_close_ms", "gap_ms", "workflows", "step_baselines", "outliers", "violations"]) {
      assert.deepEqual(faulty[figure], clean[figure], figure);
    }
    const transactions = clean.transactions as { failed: number; completed: number };
    assert.ok(transactions.failed > 0 && transactions.completed > 2900);
    const found = faulty.delivery_faults as Record<string, { injected: number; found: number | null }>;
    assert.equal(found.duplicate!.found, found.duplicate!.injected);
    assert.equal(found.corrupt!.found, found.corrupt!.injected);
    assert.equal(faulty.invalid_lines, found.corrupt!.injected);
    assert.ok(found.delay!.found! > 0 && found.delay!.found! <= found.delay!.injected);
  });

  for (const by of [[], ["--by", "workflow"], ["--by", "step"]]) {
    it(`gives the golden windows of the run without faults ${by.join(" ") || "(ungrouped)"}`, async () => {
      await analyze("pay-clean", ["--windows", "10s", ...by, "--windows-out", path("clean-windows.jsonl")]);
      await analyze("pay-faulty", ["--windows", "10s", ...by, "--windows-out", path("faulty-windows.jsonl")]);
      const clean = await readFile(path("clean-windows.jsonl"), "utf8");
      assert.ok(clean.split("\n").length > 10);
      assert.equal(await readFile(path("faulty-windows.jsonl"), "utf8"), clean);
    });
  }

  it("applies a fault to the record types a records filter names only", async () => {
    await run("shop-filtered", [...SHOP, "--delivery", "{drop: {prob: 1, records: [OrderCompleted]}}"]);
    const clean = (await lines("shop-clean.jsonl")).filter((line) => !line.includes('"eventType":"OrderCompleted"'));
    assert.deepEqual(await lines("shop-filtered.jsonl"), clean);
    const truth = await faults("shop-filtered-truth.jsonl");
    assert.ok(truth.length > 1900);
    assert.ok(truth.every((f) => f.kind === "drop" && f.record === "OrderCompleted" && f.type === "transaction_close"));
  });

  it("refuses an unknown record type in one line, with a suggestion and the place in the file", async () => {
    const ran = await runCli([...SHOP, "--delivery", "{drop: {prob: 0.1, records: [OrderComplete]}}", "-o", path("x.jsonl")]);
    assert.equal(ran.code, 2);
    assert.equal(ran.stderr.trim().split("\n").length, 1, ran.stderr);
    assert.match(ran.stderr, /records.*OrderComplete.*did you mean "OrderCompleted"/);
    const scenario = (await readFile("examples/shop-orders.yaml", "utf8")) + "\ndelivery:\n  drop:\n    prob: 0.1\n    records: [OrderPlaced, OrderPlace]\n";
    await writeFile(path("shop.yaml"), scenario);
    const validated = await runCli(["validate", path("shop.yaml")]);
    assert.equal(validated.code, 2);
    assert.equal(validated.stderr.trim().split("\n").length, 1, validated.stderr);
    const line = scenario.split("\n").findIndex((l) => l.includes("OrderPlace]")) + 1;
    assert.match(validated.stderr, new RegExp(`shop\\.yaml:${line}:\\d+: delivery\\.drop\\.records\\[1\\]: .*did you mean "OrderPlaced"`));
  });

  it("refuses a records filter without an output section", async () => {
    const ran = await runCli(["run", "--scenario", "examples/checkout.yaml", "--clock", "virtual", "--samples", "10", "--delivery", "{drop: {prob: 0.1, records: [OrderPlaced]}}", "-o", path("x.jsonl")]);
    assert.equal(ran.code, 2);
    assert.equal(ran.stderr.trim().split("\n").length, 1, ran.stderr);
    assert.match(ran.stderr, /records: expected no records filter/);
  });
});
