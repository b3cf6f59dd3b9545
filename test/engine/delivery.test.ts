/**
 * Delivery faults in the engine: how often each kind hits (bounds from the sample size), truth records
 * that account for every record emitted, and the same faults whatever the clock, concurrency or
 * instance.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSimulation, truthCallback } from "../../src/api/simulate.ts";
import { parseDelivery } from "../../src/config/scenario/load.ts";
import type { DeliverySpec } from "../../src/config/scenario/model.ts";
import { resolveSimOptions, type SimOptionsInput } from "../../src/config/sim-options.ts";
import { ManualClock } from "../../src/engine/clock.ts";
import type { EventSink, RunSummary } from "../../src/engine/simulation.ts";
import type { WfEvent } from "../../src/events/schema.ts";
import { serializeEvent } from "../../src/events/serialize.ts";
import { FaultRecord, type TruthLine } from "../../src/events/truth.ts";
import { Compile } from "typebox/compile";
import { Z } from "../helpers/stats.ts";

const START = 1_767_225_600_000;
const faultValidator = Compile(FaultRecord);

/** What reached the output, in order: an event, or a malformed text in an event's place. */
interface Item {
  readonly event: WfEvent;
  readonly malformed?: string;
}

class RecordingSink implements EventSink {
  readonly items: Item[] = [];
  readonly backpressured = false;
  write(event: WfEvent): void {
    this.items.push({ event });
  }
  writeMalformed(event: WfEvent, text: string): void {
    this.items.push({ event, malformed: text });
  }
  flush(): void {}
  drain(): Promise<void> {
    return Promise.resolve();
  }
}

interface Run {
  readonly items: Item[];
  readonly faults: FaultRecord[];
  readonly summary: RunSummary;
}

async function run(input: SimOptionsInput, delivery: DeliverySpec | undefined, clock?: ManualClock): Promise<Run> {
  const options = resolveSimOptions({ clock: "virtual", startTime: START, ...input });
  const sink = new RecordingSink();
  const lines: TruthLine[] = [];
  const simulation = createSimulation(options, {
    sink,
    truth: truthCallback((record) => lines.push(record)),
    ...(delivery === undefined ? {} : { delivery }),
    ...(clock === undefined ? {} : { clock }),
  });
  let summary: RunSummary;
  if (clock === undefined) summary = await simulation.run();
  else {
    // A clock moved in jumps: every wake (and every held record) comes late, by up to the jump.
    const running = simulation.run();
    let finished = false;
    void running.finally(() => (finished = true));
    while (!finished) {
      for (let i = 0; i < 50 && clock.pendingWaits === 0 && !finished; i++) await new Promise((resolve) => setImmediate(resolve));
      if (!finished) clock.advanceTo(clock.now() + 1_500);
    }
    summary = await running;
  }
  const faults = lines.filter((line): line is FaultRecord => faultValidator.Check(line));
  return { items: sink.items, faults, summary };
}

const ALL = parseDelivery(
  `{drop: {prob: 0.04}, duplicate: {prob: 0.03, after: {dist: uniform, min: 0, max: 4s}}, delay: {prob: 0.05, by: {dist: exponential, mean: 3s}},
    skew: {prob: 0.1, offset: {dist: uniform, min: 1s, max: 9s}}, corrupt: {prob: 0.02}}`,
  "test",
  [],
);
const WORKLOAD = { samples: 3000, concurrency: 40, seed: 11, outlierProb: 0.05 } as const;

/** A binomial count within Z standard deviations of n·p. */
function assertBinomial(count: number, n: number, p: number, what: string): void {
  const sd = Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(count - n * p) <= Z * sd, `${what}: ${count} of ${n}, expected ${n * p} ± ${Z * sd}`);
}

/** A fault's identity: what was decided, without the times the clock gives it. */
const decision = (f: FaultRecord) => [f.kind, f.txn_id, f.seq, f.type, f.step ?? "", f.delay_ms ?? "", f.offset_ms ?? "", f.as ?? ""].join(" ");

describe("delivery faults", () => {
  it("hit records as often as their probabilities say, bounded by the sample size", async () => {
    const { faults, summary } = await run(WORKLOAD, ALL);
    const records = summary.events;
    const count = (kind: string) => faults.filter((f) => f.kind === kind).length;
    assertBinomial(count("drop"), records, 0.04, "drop");
    assertBinomial(count("duplicate"), records, 0.03, "duplicate");
    assertBinomial(count("delay"), records, 0.05, "delay");
    assertBinomial(count("corrupt"), records, 0.02, "corrupt");
    const skewed = new Set(faults.filter((f) => f.kind === "skew").map((f) => f.txn_id));
    assertBinomial(skewed.size, summary.opened, 0.1, "skewed transactions");
    assert.deepEqual(summary.faults, { drop: count("drop"), duplicate: count("duplicate"), delay: count("delay"), skew: count("skew"), corrupt: count("corrupt") });
    for (const f of faults) assert.ok(f.kind !== "skew" || (Math.abs(f.offset_ms!) >= 1000 && Math.abs(f.offset_ms!) <= 9000), JSON.stringify(f));
  });

  it("have a truth record for every record changed, and change nothing else: record for record", async () => {
    const clean = await run(WORKLOAD, undefined);
    const faulty = await run(WORKLOAD, ALL);
    // The lifecycle is the same with or without faults.
    assert.deepEqual(faulty.summary.eventsByType, clean.summary.eventsByType);
    const lifecycle = new Map<string, WfEvent[]>();
    for (const { event } of clean.items) (lifecycle.get(event.txn_id) ?? lifecycle.set(event.txn_id, []).get(event.txn_id)!).push(event);
    const truthOf = new Map<string, FaultRecord[]>();
    for (const f of faulty.faults) {
      const key = `${f.txn_id}#${f.seq}`;
      (truthOf.get(key) ?? truthOf.set(key, []).get(key)!).push(f);
    }
    const skewOf = new Map(faulty.faults.filter((f) => f.kind === "skew").map((f) => [f.txn_id, f]));
    // What each transaction's output should be, in place (delayed records and duplicate copies apart).
    const expectedInPlace = new Map<string, string[]>();
    const expectedLater: string[] = [];
    for (const [id, events] of lifecycle) {
      const inPlace: string[] = [];
      events.forEach((event, seq) => {
        const faults = truthOf.get(`${id}#${seq}`) ?? [];
        // A skew is told once, with the transaction's first record, and holds for all its records.
        const skew = skewOf.get(id);
        const out = skew === undefined ? event : { ...event, ts_ms: event.ts_ms + skew.offset_ms! };
        if (skew !== undefined && seq === 0) assert.equal(skew.ts_ms, out.ts_ms);
        assert.ok(faults.every((f) => f.kind !== "skew" || seq === 0));
        const line = serializeEvent(out);
        const other = faults.find((f) => f.kind !== "skew");
        for (const f of faults) assert.equal(f.due_ms, event.ts_ms, "due at its event time");
        switch (other?.kind) {
          case undefined:
            inPlace.push(line);
            break;
          case "drop":
            break;
          case "corrupt":
            inPlace.push(`CORRUPT ${other.as}`);
            break;
          case "duplicate":
            inPlace.push(line);
            expectedLater.push(line);
            assert.equal(other.emitted_ms, event.ts_ms + other.delay_ms!);
            break;
          case "delay":
            expectedLater.push(line);
            assert.equal(other.emitted_ms, event.ts_ms + other.delay_ms!);
            break;
          default:
            assert.fail(`two faults on one record: ${JSON.stringify(faults)}`);
        }
      });
      expectedInPlace.set(id, inPlace);
    }
    // Split the output: each transaction's records in the order they came, the delayed and copies apart.
    const later = new Set(expectedLater);
    const seen = new Set<string>();
    const actualInPlace = new Map<string, string[]>();
    const actualLater: string[] = [];
    for (const item of faulty.items) {
      let text: string;
      if (item.malformed !== undefined) {
        const line = serializeEvent(item.event).slice(0, -1);
        const truncated = line.startsWith(item.malformed) && item.malformed.length < line.length && item.malformed.length > 0;
        const notJson = item.malformed.startsWith(`txn_id=${item.event.txn_id} type=${item.event.type} `);
        assert.ok(truncated || notJson, item.malformed);
        assert.throws(() => JSON.parse(item.malformed!));
        text = `CORRUPT ${truncated ? "truncated" : "not_json"}`;
      } else {
        text = serializeEvent(item.event);
        // A delayed record, or a duplicate's second copy, is the later one.
        if (later.has(text) && (seen.has(text) || !expectedInPlace.get(item.event.txn_id)!.includes(text))) {
          actualLater.push(text);
          continue;
        }
        seen.add(text);
      }
      (actualInPlace.get(item.event.txn_id) ?? actualInPlace.set(item.event.txn_id, []).get(item.event.txn_id)!).push(text);
    }
    assert.deepEqual(actualLater.sort(), expectedLater.sort());
    for (const [id, inPlace] of expectedInPlace) assert.deepEqual(actualInPlace.get(id) ?? [], inPlace, id);
    assert.equal(faulty.items.length, clean.items.length - faulty.summary.faults!.drop + faulty.summary.faults!.duplicate);
  });

  it("are the same whatever the concurrency, and on a clock that wakes the engine late (planned timestamps)", async () => {
    const base = await run(WORKLOAD, ALL);
    const narrow = await run({ ...WORKLOAD, concurrency: 7 }, ALL);
    assert.deepEqual(narrow.faults.map(decision).sort(), base.faults.map(decision).sort());
    const late = await run({ ...WORKLOAD, clock: "real", speed: 1, timestamps: "planned" }, ALL, new ManualClock(START));
    assert.deepEqual(late.faults.map((f) => JSON.stringify(f)).sort(), base.faults.map((f) => JSON.stringify(f)).sort());
    const lines = (r: Run) => r.items.map((i) => (i.malformed === undefined ? serializeEvent(i.event) : i.malformed)).sort();
    assert.deepEqual(lines(late), lines(base));
  });

  it("are the same when instances share the workload", async () => {
    const base = await run(WORKLOAD, ALL);
    const parts = await Promise.all([0, 1, 2].map((index) => run({ ...WORKLOAD, instance: `${index}/3` }, ALL)));
    assert.deepEqual(parts.flatMap((p) => p.faults.map(decision)).sort(), base.faults.map(decision).sort());
  });

  it("leave the output as it was when every probability is 0, and apply filters by workflow and type", async () => {
    const clean = await run(WORKLOAD, undefined);
    const none = await run(WORKLOAD, parseDelivery("{drop: {prob: 0}, delay: {prob: 0, by: 1s}, skew: {prob: 0, offset: 1s}}", "test", []));
    assert.deepEqual(none.items, clean.items);
    assert.deepEqual(none.faults, []);
    const onlyCloses = await run(WORKLOAD, parseDelivery("{drop: {prob: 1, types: [transaction_close]}}", "test", []));
    assert.equal(onlyCloses.faults.length, WORKLOAD.samples);
    assert.ok(onlyCloses.items.every((item) => item.event.type !== "transaction_close"));
  });
});
