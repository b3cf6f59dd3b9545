import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSimulation, truthCallback } from "../../src/api/simulate.ts";
import { loadScenario, parseScenario } from "../../src/config/scenario/load.ts";
import { resolveSimOptions, type SimOptionsInput } from "../../src/config/sim-options.ts";
import { ManualClock } from "../../src/engine/clock.ts";
import type { WfEvent } from "../../src/events/schema.ts";
import type { TruthRecord } from "../../src/events/truth.ts";
import { byTransaction, CollectingSink, eventValidator, simulateVirtual, truthValidator } from "../helpers/events.ts";
import { Z } from "../helpers/stats.ts";

const START = 1_767_225_600_000;
const SEED_YAML = new URL("../../examples/seed.yaml", import.meta.url).pathname;

/** A scenario from YAML lines. */
function scenario(...lines: string[]) {
  return parseScenario(lines.join("\n"), "test.yaml");
}

/** Event sequences per transaction, as "type" or "type:detail" strings with times relative to the open. */
function sequences(events: readonly WfEvent[]): string[][] {
  return [...byTransaction(events).values()].map((list) => {
    const opened = list[0]!.ts_ms;
    return list.map((e) => {
      const at = `@${e.ts_ms - opened}`;
      switch (e.type) {
        case "step_open":
          return `step_open ${e.step_name}${e.attempt === undefined ? "" : `#${e.attempt}`} ${at}`;
        case "step_done":
          return `step_done ${e.step_name}${e.attempt === undefined ? "" : `#${e.attempt}`} ${at}`;
        case "step_failed":
          return `step_failed ${e.step_name}#${e.attempt} ${e.reason} ${at}`;
        case "step_retry":
          return `step_retry ${e.step_name}#${e.attempt} +${e.backoff_ms} ${at}`;
        case "transaction_failed":
          return `transaction_failed ${e.step_name} after ${e.attempts} (${e.steps_completed} done) ${at}`;
        default:
          return `${e.type} ${at}`;
      }
    });
  });
}

/** What a transaction is, without times: its id and everything it drew. */
function fingerprint(events: readonly WfEvent[]): string[] {
  return [...byTransaction(events).entries()]
    .map(([id, list]) => [id, ...list.map((e) => { const { ts_ms: _ts, ...rest } = e as WfEvent & { duration_ms?: number }; delete rest.duration_ms; return JSON.stringify(rest); })].join(" "))
    .sort();
}

describe("the seed's workload as a scenario", () => {
  it("opens the same transactions as the flags, event for event, with workflow and step names besides", async () => {
    const seed = await loadScenario(SEED_YAML);
    for (const input of [{}, { outlierProb: 0.3, concurrency: 7, samples: 500 }, { seed: 12345, samples: 300, concurrency: 300 }] satisfies SimOptionsInput[]) {
      const flags = await simulateVirtual(input);
      const asScenario = await simulateVirtual({ ...input, scenario: seed });
      assert.equal(asScenario.events.length, flags.events.length);
      asScenario.events.forEach((event, i) => {
        const { workflow, step_name, ...rest } = event as WfEvent & { workflow?: string; step_name?: string };
        assert.equal(workflow, "seed");
        if (event.type === "step_open" || event.type === "step_done") assert.equal(step_name, `step_${event.step}`);
        assert.deepEqual(rest, flags.events[i], `event ${i}`);
      });
      assert.equal(asScenario.summary.outliersInjected, flags.summary.outliersInjected);
    }
  });
});

describe("failures and retries", () => {
  it("fail every attempt with probability 1: step_failed, step_retry with growing backoff, then transaction_failed", async () => {
    const { events, summary, labels } = await simulateVirtual(
      {
        samples: 3,
        scenario: scenario(
          "workflows:",
          "  - name: pay",
          "    pre: 100ms",
          "    steps:",
          "      - name: charge",
          "        work: 10ms",
          "        failure: { prob: 1, reasons: [declined], retries: 2, backoff: 100ms, backoff_factor: 2 }",
          "      - name: ship",
        ),
      },
      { truth: true },
    );
    for (const sequence of sequences(events)) {
      assert.deepEqual(sequence, [
        "transaction_open @0",
        "step_open charge @100",
        "step_failed charge#1 declined @110",
        "step_retry charge#2 +100 @110",
        "step_open charge#2 @210",
        "step_failed charge#2 declined @220",
        "step_retry charge#3 +200 @220",
        "step_open charge#3 @420",
        "step_failed charge#3 declined @430",
        "transaction_failed charge after 3 (0 done) @430",
      ]);
    }
    assert.equal(summary.failed, 3);
    assert.equal(summary.eventsByType.step_retry, 6);
    assert.deepEqual(labels.map((l) => l.kind === "step_failure" && `${l.attempt}${l.final ? "!" : ""}`), ["1", "1", "1", "2", "2", "2", "3!", "3!", "3!"]);
  });

  it("never fail with probability 0, and fail on a later step with its steps before it counted", async () => {
    const never = await simulateVirtual({ samples: 50, scenario: scenario("workflows: [ { name: w, failure: { prob: 0, retries: 3 }, steps: [a, b] } ]") });
    assert.equal(never.summary.closed, 50);
    assert.equal(never.events.filter((e) => e.type === "step_failed" || e.type === "step_retry").length, 0);
    const later = await simulateVirtual({
      samples: 2,
      scenario: scenario("workflows:", "  - name: w", "    steps:", "      - a", "      - { name: b, failure: { prob: 1, reasons: [x, y] } }", "      - c"),
    });
    for (const sequence of sequences(later.events)) {
      assert.equal(sequence.length, 7);
      assert.deepEqual(sequence.slice(0, 5), ["transaction_open @0", "step_open a @0", "step_done a @0", "inter_step_wait @0", "step_open b @0"]);
      assert.match(sequence[5]!, /^step_failed b#1 [xy] @0$/);
      assert.match(sequence[6]!, /^transaction_failed b after 1 \(1 done\) @0$/);
    }
  });

  it("retry a step until an attempt succeeds, each retry a new attempt, and fail with probability p^(retries+1)", async () => {
    const p = 0.5;
    const { events, summary } = await simulateVirtual({
      samples: 4000,
      concurrency: 500,
      scenario: scenario("workflows:", "  - name: w", "    steps:", `      - { name: s, work: 5ms, failure: { prob: ${p}, retries: 2, backoff: 1s, backoff_factor: 3, max_backoff: 2s } }`),
    });
    for (const sequence of sequences(events)) {
      const failures = sequence.filter((s) => s.startsWith("step_failed")).length;
      const last = sequence.at(-1)!;
      if (failures === 3) assert.match(last, /^transaction_failed s after 3/);
      else {
        assert.match(last, /^transaction_close/);
        // The attempt that succeeds carries its number from 2 on; backoff 1 s, then 3 s capped at 2 s.
        const attempt = failures + 1;
        assert.ok(sequence.includes(`step_done s${attempt === 1 ? "" : `#${attempt}`} @${5 * attempt + [0, 1000, 3000][failures]!}`), sequence.join(", "));
      }
    }
    const n = 4000;
    const q = p ** 3;
    assert.ok(Math.abs(summary.failed - n * q) < Z * Math.sqrt(n * q * (1 - q)), `${summary.failed} failed`);
    for (const event of events) assert.ok(eventValidator.Check(event), JSON.stringify(event));
  });
});

describe("stuck transactions", () => {
  const stuck = scenario("workflows:", "  - name: w", "    pre: 10ms", "    stuck: { prob: 1, at: b }", "    steps: [a, b, c]");

  it("open the stuck step and go silent, labelled stuck on their open, and free their place", async () => {
    const { events, summary } = await simulateVirtual({ samples: 30, concurrency: 4, scenario: stuck });
    assert.equal(summary.opened, 30, "every place freed for the next transaction");
    assert.equal(summary.stuck, 30);
    assert.equal(summary.closed, 0);
    for (const [, list] of byTransaction(events)) {
      assert.deepEqual(list.map((e) => e.type), ["transaction_open", "step_open", "step_done", "inter_step_wait", "step_open"]);
      const [open, last] = [list[0]!, list.at(-1)!];
      assert.equal(open.type === "transaction_open" && open.stuck, true);
      assert.equal(last.type === "step_open" && last.step_name, "b");
    }
  });

  it("go silent where a failure would end them before their stuck step, so that the label stays true", async () => {
    const { events, labels, summary } = await simulateVirtual(
      {
        samples: 5,
        scenario: scenario("workflows:", "  - name: w", "    stuck: { prob: 1, at: c }", "    steps: [a, { name: b, failure: { prob: 1, retries: 1, backoff: 1s } }, c]"),
      },
      { truth: true },
    );
    assert.equal(summary.failed, 0);
    assert.equal(summary.stuck, 5);
    for (const sequence of sequences(events)) {
      assert.deepEqual(sequence.slice(4), ["step_open b @0", "step_failed b#1 error @0", "step_retry b#2 +1000 @0", "step_open b#2 @1000"]);
    }
    for (const label of labels.filter((l) => l.kind === "stuck")) {
      assert.ok(label.kind === "stuck");
      assert.deepEqual([label.step, label.step_name, label.silent_since_ms - label.ts_ms], [2, "b", 1000]);
    }
  });

  it("are never aborted at a stop, since they are no longer in flight", async () => {
    const clock = new ManualClock(START);
    const sink = new CollectingSink();
    const controller = new AbortController();
    const options = resolveSimOptions({ samples: 2, concurrency: 2, scenario: stuck });
    const running = createSimulation(options, { sink, clock, signal: controller.signal }).run();
    for (const t of [10, 20]) {
      await settle(clock);
      clock.advanceTo(START + t);
    }
    await settle(clock);
    controller.abort("SIGINT");
    const summary = await running;
    assert.equal(summary.stuck, 2);
    assert.equal(summary.aborted, 0);
    assert.equal(sink.events.filter((e) => e.type === "transaction_aborted").length, 0);
  });

  it("hit the given share of transactions, at a step drawn uniformly when none is named", async () => {
    const p = 0.2;
    const { events, summary } = await simulateVirtual({
      samples: 5000,
      concurrency: 100,
      scenario: scenario(`workflows: [ { name: w, stuck: { prob: ${p} }, steps: [a, b, c, d] } ]`),
    });
    assert.ok(Math.abs(summary.stuck - 5000 * p) < Z * Math.sqrt(5000 * p * (1 - p)));
    const at = new Map<string, number>();
    for (const [, list] of byTransaction(events)) {
      const last = list.at(-1)!;
      if (last.type === "step_open") at.set(last.step_name!, (at.get(last.step_name!) ?? 0) + 1);
    }
    for (const name of ["a", "b", "c", "d"]) {
      const count = at.get(name) ?? 0;
      assert.ok(Math.abs(count - summary.stuck / 4) < Z * Math.sqrt((summary.stuck * 3) / 16), `${name}: ${count}`);
    }
  });
});

describe("ground truth", () => {
  const anomalies = scenario(
    "workflows:",
    "  - name: checkout",
    "    weight: 3",
    "    pre: { dist: exponential, mean: 200ms }",
    "    inter: { dist: uniform, min: 10ms, max: 50ms }",
    "    outlier: { prob: 0.2, extra: { dist: uniform, min: 5s, max: 10s } }",
    "    stuck: { prob: 0.05 }",
    "    steps:",
    "      - cart",
    "      - { name: pay, work: { dist: lognormal, median: 100ms, sigma: 1 }, failure: { prob: 0.3, reasons: [timeout, declined], retries: 1, backoff: 1s } }",
    "      - ship",
    "  - name: refund",
    "    outlier: { prob: 0.5, extra: 1m, per: transaction }",
    "    steps: [ask, approve, pay]",
  );

  it("is the same with labels inline or in a truth file, and every anomaly is labelled", async () => {
    const inline = await simulateVirtual({ samples: 3000, concurrency: 200, scenario: anomalies });
    const separate = await simulateVirtual({ samples: 3000, concurrency: 200, scenario: anomalies }, { truth: true });
    assert.equal(inline.labels.length, 0, "inline: nothing goes to the truth sink");
    // The streams differ only by the inline labels.
    assert.equal(separate.events.length, inline.events.length);
    separate.events.forEach((event, i) => {
      const { outlier_injected, stuck, ...rest } = inline.events[i] as WfEvent & { outlier_injected?: boolean; stuck?: boolean };
      assert.deepEqual(event, rest);
      assert.ok(!("outlier_injected" in event) && !("stuck" in event), "no hints in the stream");
    });
    // Every label matches one thing that happened, and every such thing has its label.
    const key = (r: TruthRecord) => r.kind === "outlier" ? `outlier ${r.txn_id} ${r.ts_ms} ${r.from_step}` : r.kind === "stuck" ? `stuck ${r.txn_id} ${r.ts_ms}` : `failure ${r.txn_id} ${r.ts_ms} ${r.step} ${r.attempt} ${r.reason}`;
    const fromEvents: string[] = [];
    for (const event of inline.events) {
      if (event.type === "inter_step_wait" && event.outlier_injected) fromEvents.push(`outlier ${event.txn_id} ${event.ts_ms} ${event.from_step}`);
      if (event.type === "transaction_open" && event.stuck) fromEvents.push(`stuck ${event.txn_id} ${event.ts_ms}`);
      if (event.type === "step_failed") fromEvents.push(`failure ${event.txn_id} ${event.ts_ms} ${event.step} ${event.attempt} ${event.reason}`);
    }
    assert.deepEqual(separate.labels.map(key).sort(), fromEvents.sort());
    const kinds = new Set(separate.labels.map((l) => l.kind));
    assert.deepEqual([...kinds].sort(), ["outlier", "step_failure", "stuck"]);
    for (const label of separate.labels) assert.ok(truthValidator.Check(label), JSON.stringify(label));
    assert.deepEqual(separate.summary.labels, inline.summary.labels);
    assert.equal(separate.summary.labels.outlier, separate.labels.filter((l) => l.kind === "outlier").length);
  });

  it("labels a stuck transaction's step and a final failure as final", async () => {
    const { events, labels } = await simulateVirtual({ samples: 3000, concurrency: 200, scenario: anomalies }, { truth: true });
    const groups = byTransaction(events);
    for (const label of labels) {
      const list = groups.get(label.txn_id)!;
      if (label.kind === "stuck") {
        const last = list.at(-1)!;
        assert.ok(last.type === "step_open" && last.step === label.step && last.step_name === label.step_name);
        assert.equal(list.some((e) => e.type === "transaction_close" || e.type === "transaction_failed"), false);
      }
      if (label.kind === "step_failure") {
        const failed = list.some((e) => e.type === "transaction_failed" && e.ts_ms === label.ts_ms);
        assert.equal(label.final, failed, JSON.stringify([label, list]));
      }
      if (label.kind === "outlier") {
        const gap = list.find((e) => e.type === "inter_step_wait" && e.ts_ms === label.ts_ms && e.from_step === label.from_step);
        assert.ok(gap?.type === "inter_step_wait" && gap.planned_wait_ms >= label.extra_ms);
      }
    }
  });

  it("puts a per-transaction outlier on exactly one gap of the transactions it hits", async () => {
    const { events } = await simulateVirtual({ samples: 2000, concurrency: 100, scenario: anomalies });
    let hit = 0;
    let refunds = 0;
    for (const [, list] of byTransaction(events)) {
      if (list[0]!.type !== "transaction_open" || list[0]!.workflow !== "refund") continue;
      refunds++;
      const outliers = list.filter((e) => e.type === "inter_step_wait" && e.outlier_injected);
      assert.ok(outliers.length <= 1);
      hit += outliers.length;
      for (const gap of outliers) assert.ok(gap.type === "inter_step_wait" && gap.planned_wait_ms === 60_000);
    }
    assert.ok(Math.abs(hit - refunds / 2) < Z * Math.sqrt(refunds / 4), `${hit} of ${refunds}`);
    // Workflows by weight: 3 to 1.
    assert.ok(Math.abs(refunds - 500) < Z * Math.sqrt(2000 * 0.25 * 0.75), `${refunds} refunds`);
  });
});

describe("the open model", () => {
  const open = (load: string, workflow = "{ name: w, pre: 100ms, work: 500ms, steps: [a, b] }") =>
    scenario(`load: ${load}`, `workflows: [ ${workflow} ]`);

  it("opens transactions at the rate: counts per second are Poisson", async () => {
    const rate = 40;
    const seconds = 500;
    const { events, summary } = await simulateVirtual({ scenario: open(`{ model: open, rate: ${rate}, duration: ${seconds}s }`) });
    const counts = new Array<number>(seconds).fill(0);
    for (const event of events) if (event.type === "transaction_open") counts[Math.floor((event.ts_ms - START) / 1000)]!++;
    const m = counts.reduce((a, b) => a + b, 0) / seconds;
    const v = counts.reduce((a, c) => a + (c - m) ** 2, 0) / (seconds - 1);
    assert.ok(Math.abs(m - rate) < Z * Math.sqrt(rate / seconds), `mean ${m}`);
    assert.ok(Math.abs(v - rate) < Z * Math.sqrt((rate + 2 * rate ** 2) / seconds), `variance ${v}`);
    assert.equal(summary.dropped, 0);
    assert.equal(summary.closed, summary.opened, "a duration lets those in flight finish");
  });

  it("opens at fixed intervals exactly", async () => {
    const { events } = await simulateVirtual({ scenario: open("{ model: open, arrivals: fixed, rate: 4, stages: [ { hold: 5s } ] }") });
    const opens = events.filter((e) => e.type === "transaction_open").map((e) => e.ts_ms - START);
    assert.deepEqual(opens, Array.from({ length: 20 }, (_, k) => k * 250));
  });

  it("shows a ramp in the opening times", async () => {
    const { events } = await simulateVirtual({ scenario: open("{ model: open, arrivals: fixed, rate: 10, stages: [ { to: 100, over: 10s }, { hold: 5s } ] }") });
    const counts = new Array<number>(15).fill(0);
    for (const event of events) if (event.type === "transaction_open") counts[Math.floor((event.ts_ms - START) / 1000)]!++;
    // Second k of the ramp expects 10 + 9·(k + 1/2) arrivals; fixed arrivals land within one of that.
    for (let k = 0; k < 10; k++) assert.ok(Math.abs(counts[k]! - (10 + 9 * (k + 0.5))) <= 1, `second ${k}: ${counts[k]}`);
    for (let k = 10; k < 15; k++) assert.ok(Math.abs(counts[k]! - 100) <= 1, `second ${k}: ${counts[k]}`);
  });

  it("never has more in flight than the cap, and drops and counts the arrivals beyond it", async () => {
    const cap = 30;
    const { events, summary } = await simulateVirtual({ scenario: open(`{ model: open, rate: 200, max_in_flight: ${cap}, duration: 20s }`) });
    let inFlight = 0;
    let peak = 0;
    for (const event of events) {
      if (event.type === "transaction_open") inFlight++;
      if (event.type === "transaction_close") inFlight--;
      peak = Math.max(peak, inFlight);
    }
    assert.equal(peak, cap);
    assert.ok(summary.dropped > 0);
    // About 4000 arrivals in 20 s, of which only about cap / 0.6 s per second fit.
    assert.ok(Math.abs(summary.opened + summary.dropped - 4000) < Z * Math.sqrt(4000));
  });

  it("gives arrival k the transaction of index k, whatever the cap: a capped run's transactions are the uncapped run's", async () => {
    const load = (cap: number) => `{ model: open, rate: 100, max_in_flight: ${cap}, duration: 10s }`;
    const workflow = "{ name: w, pre: { dist: exponential, mean: 300ms }, outlier: { prob: 0.3, extra: 1s }, steps: [a, b, c] }";
    const free = fingerprint((await simulateVirtual({ scenario: open(load(100_000), workflow) })).events);
    const capped = await simulateVirtual({ scenario: open(load(20), workflow) });
    assert.ok(capped.summary.dropped > 0);
    const cappedPrints = fingerprint(capped.events);
    for (const print of cappedPrints) assert.ok(free.includes(print), print.slice(0, 80));
  });

  it("drops the same arrivals whatever the start time", async () => {
    // A cap of 1 and a 1 ms step: an arrival often comes in the very ms a transaction closes, and
    // which comes first decides whether it is dropped. Summing a float offset onto a large epoch
    // start rounded some arrivals onto the close's ms (flash-sale: 17 of 575,000 differed).
    const load = "{ model: open, rate: 20000, max_in_flight: 1, duration: 5s }";
    const workflow = "{ name: w, steps: [ { name: a, work: 1ms } ] }";
    const opened = async (startTime: number) => {
      const { events, summary } = await simulateVirtual({ startTime, scenario: open(load, workflow) });
      return { dropped: summary.dropped, ids: events.filter((e) => e.type === "transaction_open").map((e) => e.txn_id) };
    };
    const reference = await opened(0);
    assert.ok(reference.dropped > 50_000 && reference.ids.length > 4000, `${reference.dropped} dropped`);
    for (const startTime of [1_767_225_600_000, 1_780_317_296_789, 4_102_444_800_123]) assert.deepEqual(await opened(startTime), reference, `start ${startTime}`);
  });

  it("stops opening at the sample count", async () => {
    const { summary } = await simulateVirtual({ samples: 123, scenario: open("{ model: open, rate: 1000 }") });
    assert.equal(summary.opened, 123);
    assert.equal(summary.closed, 123);
  });
});

describe("determinism per transaction", () => {
  const workload = scenario(
    "workflows:",
    "  - { name: a, weight: 2, pre: { dist: lognormal, median: 100ms, sigma: 0.8 }, outlier: { prob: 0.1, extra: 3s }, steps: [x, y, z] }",
    "  - { name: b, pre: { dist: normal, mean: 50ms, sd: 40ms }, steps: [{ name: p, work: 20ms, failure: { prob: 0.3, retries: 1, backoff: { dist: exponential, mean: 100ms } } }], stuck: { prob: 0.1 } }",
  );

  it("gives each transaction the same id and draws whatever the concurrency", async () => {
    const reference = fingerprint((await simulateVirtual({ samples: 400, concurrency: 1, scenario: workload })).events);
    for (const concurrency of [9, 400]) {
      assert.deepEqual(fingerprint((await simulateVirtual({ samples: 400, concurrency, scenario: workload })).events), reference);
    }
  });

  it("is event for event the same for the same seed, and differs for another", async () => {
    const a = await simulateVirtual({ samples: 200, scenario: workload });
    const b = await simulateVirtual({ samples: 200, scenario: workload });
    const c = await simulateVirtual({ samples: 200, seed: 43, scenario: workload });
    assert.deepEqual(a.events, b.events);
    assert.notDeepEqual(a.events, c.events);
  });
});

async function settle(clock: ManualClock): Promise<void> {
  for (let i = 0; i < 50 && clock.pendingWaits === 0; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe("stop conditions on a real clock (driven by hand)", () => {
  it("opens nothing after the duration and lets those in flight finish", async () => {
    const clock = new ManualClock(START);
    const sink = new CollectingSink();
    const options = resolveSimOptions({
      duration: "1s",
      scenario: scenario("load: { model: open, arrivals: fixed, rate: 10 }", "workflows: [ { name: w, work: 500ms, steps: [a, b] } ]"),
    });
    const running = createSimulation(options, { sink, clock }).run();
    for (let t = 0; t <= 3000; t += 50) {
      await settle(clock);
      clock.advanceTo(START + t);
    }
    const summary = await running;
    const opens = sink.events.filter((e) => e.type === "transaction_open");
    assert.equal(opens.length, 10);
    assert.ok(opens.every((e) => e.ts_ms < START + 1000));
    assert.equal(summary.closed, 10);
    assert.equal(sink.events.at(-1)!.ts_ms, START + 1900);
  });

  it("aborts every transaction in flight on SIGINT in the open model, and opens no more", async () => {
    const clock = new ManualClock(START);
    const sink = new CollectingSink();
    const controller = new AbortController();
    const labels: TruthRecord[] = [];
    const options = resolveSimOptions({ scenario: scenario("load: { model: open, arrivals: fixed, rate: 10 }", "workflows: [ { name: w, work: 500ms, steps: [a, b] } ]") });
    const running = createSimulation(options, { sink, clock, signal: controller.signal, truth: truthCallback((r) => labels.push(r)) }).run();
    for (let t = 0; t <= 1500; t += 100) {
      await settle(clock);
      clock.advanceTo(START + t);
    }
    await settle(clock);
    controller.abort("SIGINT");
    const summary = await running;
    const aborted = sink.events.filter((e) => e.type === "transaction_aborted");
    // Opened at 0, 100, ..., 1500 (16); those from 0 to 500 closed at 1000 to 1500 (6 of them).
    assert.equal(summary.opened, 16);
    assert.equal(summary.closed, 6);
    assert.equal(aborted.length, 10);
    for (const event of aborted) {
      assert.ok(event.type === "transaction_aborted");
      assert.equal(event.reason, "SIGINT");
      assert.equal(event.workflow, "w");
      assert.equal(event.ts_ms, START + 1500);
    }
    assert.equal(summary.inFlight, 0);
    assert.equal(summary.stopReason, "SIGINT");
  });
});
