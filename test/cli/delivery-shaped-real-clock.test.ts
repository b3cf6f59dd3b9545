/**
 * Delivery faults on a shaped output on the real clock (a high --speed, a bounded run; nothing here
 * waits on a timer of its own). With planned timestamps a run lives the virtual clock's life, so
 * everything compares with the virtual run without faults: the records (less drops and corruptions,
 * plus copies, skewed by their offsets), the truth that tells them, and analyze --truth's figures.
 * With actual timestamps the times are the engine's, and what is compared is what does not depend on
 * them: each fault against the records, and the transactions and events analyze finds.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { isJson } from "../helpers/json.ts";

// shop-orders: a record is known by its transaction, its record type (eventType) and its time, as a
// fault record's txn_id, record and due_ms (or with a skew, ts_ms) tell it; stuck orders and retries.
const SCENARIO = "examples/shop-orders.yaml";
const WORKLOAD = ["--scenario", SCENARIO, "--samples", "400", "--seed", "8", "--start-time", "2026-03-02T00:00:00Z"];
const REAL = ["--clock", "real", "--speed", "500"];
const ALL =
  "{drop: {prob: 0.05}, duplicate: {prob: 0.05, after: 2s}, delay: {prob: 0.05, by: {dist: uniform, min: 1s, max: 30s}}, " +
  "skew: {prob: 0.05, offset: {dist: uniform, min: 1s, max: 60s}}, corrupt: {prob: 0.05}}";
const FIGURES = ["events", "events_by_type", "transactions", "duration_ms", "first_event_to_close_ms", "gap_ms", "workflows", "step_baselines", "outliers", "violations"];

interface Fault {
  kind: string;
  txn_id: string;
  record: string;
  ts_ms: number;
  due_ms: number;
  offset_ms?: number;
}

interface ShopRecord {
  eventType: string;
  txn_id: string;
  occurredAt: string;
}

/** A record with its time as epoch ms, moved by `offset`: how records of two runs compare, a skew undone or done. */
function normalized(line: string, offset = 0): string {
  const record = JSON.parse(line) as ShopRecord;
  return JSON.stringify({ ...record, occurredAt: Date.parse(record.occurredAt) + offset });
}


describe("delivery faults on a shaped output, on the real clock", () => {
  let dir: string;
  const path = (name: string) => join(dir, name);
  const lines = async (name: string) => (await readFile(path(name), "utf8")).split("\n").filter((line) => line !== "");
  const faults = async (name: string) =>
    (await lines(name)).map((line) => JSON.parse(line) as Fault).filter((f) => ["drop", "duplicate", "delay", "skew", "corrupt"].includes(f.kind));
  const run = async (name: string, args: readonly string[]) => {
    const ran = await runCli(["run", ...WORKLOAD, ...args, "-o", path(`${name}.jsonl`), "--truth", path(`${name}-truth.jsonl`), "--quiet"], { timeoutMs: 60_000 });
    assert.equal(ran.code, 0, ran.stderr);
  };
  const analyze = async (name: string) => {
    const result = await runCli(["analyze", path(`${name}.jsonl`), "--scenario", SCENARIO, "--truth", path(`${name}-truth.jsonl`), "--format", "json"]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wfsim-shaped-faults-real-"));
    await run("clean", ["--clock", "virtual"]);
    await run("planned", [...REAL, "--timestamps", "planned", "--delivery", ALL]);
    await run("actual", [...REAL, "--delivery", ALL]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** Each fault against the records as they came: how many of its record there are, and where. */
  async function checkAgainstRecords(name: string): Promise<void> {
    const records = await lines(`${name}.jsonl`);
    const truth = await faults(`${name}-truth.jsonl`);
    const count = (kind: string) => truth.filter((f) => f.kind === kind).length;
    for (const kind of ["drop", "duplicate", "delay", "corrupt", "skew"]) assert.ok(count(kind) > 5, `${kind}: ${count(kind)}`);
    assert.equal(records.filter((line) => !isJson(line)).length, count("corrupt"));
    const parsed = records.map((line) => (isJson(line) ? (JSON.parse(line) as ShopRecord) : undefined));
    const at = new Map<string, number[]>();
    parsed.forEach((r, i) => {
      if (r === undefined) return;
      const key = `${r.txn_id}/${r.eventType}/${Date.parse(r.occurredAt)}`;
      at.set(key, [...(at.get(key) ?? []), i]);
    });
    for (const fault of truth) {
      if (fault.kind === "skew") continue;
      // As emitted: with its transaction's skew, if any.
      const places = at.get(`${fault.txn_id}/${fault.record}/${fault.ts_ms}`) ?? [];
      const what = JSON.stringify(fault);
      if (fault.kind === "drop" || fault.kind === "corrupt") assert.equal(places.length, 0, what);
      if (fault.kind === "duplicate") {
        assert.equal(places.length, 2, what);
        assert.equal(records[places[0]!], records[places[1]!], what);
      }
      if (fault.kind === "delay") {
        // Late and out of order: a record of a later time came before it.
        assert.equal(places.length, 1, what);
        assert.ok(parsed.slice(0, places[0]).some((r) => r !== undefined && Date.parse(r.occurredAt) > fault.ts_ms), what);
      }
    }
  }

  it("with planned timestamps: the records are the run without faults' less drops and corruptions, plus copies, skewed by their offsets", async () => {
    await checkAgainstRecords("planned");
    const truth = await faults("planned-truth.jsonl");
    const offsets = new Map(truth.filter((f) => f.kind === "skew").map((f) => [f.txn_id, f.offset_ms!]));
    assert.ok(offsets.size > 5);
    const expected = new Map<string, number>();
    const byKey = new Map<string, string>();
    for (const line of await lines("clean.jsonl")) {
      const record = JSON.parse(line) as ShopRecord;
      const emitted = normalized(line, offsets.get(record.txn_id) ?? 0);
      byKey.set(`${record.txn_id}/${record.eventType}/${Date.parse(record.occurredAt)}`, emitted);
      expected.set(emitted, (expected.get(emitted) ?? 0) + 1);
    }
    for (const fault of truth) {
      if (fault.kind === "skew") continue;
      const emitted = byKey.get(`${fault.txn_id}/${fault.record}/${fault.due_ms}`);
      assert.ok(emitted !== undefined, `the record of ${JSON.stringify(fault)} is in the run without faults`);
      const change = fault.kind === "duplicate" ? 1 : fault.kind === "drop" || fault.kind === "corrupt" ? -1 : 0;
      expected.set(emitted, expected.get(emitted)! + change);
    }
    const got = new Map<string, number>();
    for (const line of await lines("planned.jsonl")) if (isJson(line)) got.set(normalized(line), (got.get(normalized(line)) ?? 0) + 1);
    assert.deepEqual(got, new Map([...expected].filter(([, n]) => n > 0)));
  });

  it("with planned timestamps: analyze --truth gives the figures of the virtual run without faults", async () => {
    const clean = await analyze("clean");
    const faulty = await analyze("planned");
    for (const figure of FIGURES) assert.deepEqual(faulty[figure], clean[figure], figure);
    assert.ok((clean.transactions as { completed: number }).completed > 350);
  });

  it("with actual timestamps: every fault is where the truth says, and analyze --truth finds the transactions and events of the run without faults", async () => {
    await checkAgainstRecords("actual");
    const clean = await analyze("clean");
    const faulty = await analyze("actual");
    for (const figure of ["events", "events_by_type", "transactions", "violations"]) assert.deepEqual(faulty[figure], clean[figure], figure);
    const found = faulty.delivery_faults as Record<string, { injected: number; found: number | null }>;
    assert.equal(found.duplicate!.found, found.duplicate!.injected);
    assert.equal(found.corrupt!.found, found.corrupt!.injected);
  });
});
