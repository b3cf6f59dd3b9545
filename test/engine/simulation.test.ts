import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSimulation } from "../../src/api/simulate.ts";
import { resolveSimOptions } from "../../src/config/sim-options.ts";
import { ManualClock, type Clock } from "../../src/engine/clock.ts";
import type { InterStepWait, StepOpen, WfEvent } from "../../src/events/schema.ts";
import { byTransaction, CollectingSink, eventValidator, simulateVirtual } from "../helpers/events.ts";
import { mean, meanBound, uniformIntMoments, Z } from "../helpers/stats.ts";

/** What identifies a transaction's behaviour: its id and everything it drew, without times. */
function fingerprint(events: readonly WfEvent[]): string[] {
  return [...byTransaction(events).entries()]
    .map(([id, list]) =>
      [
        id,
        ...list.map((e) =>
          e.type === "step_open" ? `p${e.pre_delay_ms}` : e.type === "inter_step_wait" ? `w${e.planned_wait_ms}${e.outlier_injected ? "!" : ""}` : "",
        ),
      ].join(" "),
    )
    .sort();
}

describe("simulation on the virtual clock", () => {
  it("emits each transaction's lifecycle in the reference's order, with consistent fields", async () => {
    const { events, summary } = await simulateVirtual({ samples: 200, steps: 4 });
    assert.equal(summary.opened, 200);
    assert.equal(summary.closed, 200);
    assert.equal(events.length, 200 * (1 + 4 * 2 + 3 + 1));
    for (const [id, list] of byTransaction(events)) {
      assert.match(id, /^txn_[a-z0-9]{12}$/);
      const types = list.map((e) => e.type);
      assert.deepEqual(types, [
        "transaction_open",
        ...[1, 2, 3].flatMap(() => ["step_open", "step_done", "inter_step_wait"]),
        "step_open",
        "step_done",
        "transaction_close",
      ]);
      const open = list[0]!;
      const close = list.at(-1)!;
      assert.ok(close.type === "transaction_close");
      assert.equal(close.duration_ms, close.ts_ms - open.ts_ms);
      assert.equal(close.steps, 4);
      // Each step_open comes exactly the announced waits after the event that began them.
      let waitStart = open.ts_ms;
      let pendingWait = 0;
      let step = 0;
      for (const event of list) {
        if (event.type === "step_open") {
          step++;
          assert.equal(event.step, step);
          assert.equal(event.ts_ms, waitStart + pendingWait + event.pre_delay_ms!);
        } else if (event.type === "step_done") {
          assert.equal(event.step, step);
        } else if (event.type === "inter_step_wait") {
          assert.equal(event.from_step, step);
          assert.equal(event.to_step, step + 1);
          waitStart = event.ts_ms;
          pendingWait = event.planned_wait_ms;
        }
      }
    }
    for (const event of events) assert.ok(eventValidator.Check(event), JSON.stringify(event));
  });

  it("orders output by ts_ms", async () => {
    const { events } = await simulateVirtual({ samples: 500, concurrency: 37 });
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.ts_ms >= events[i - 1]!.ts_ms, `event ${i}`);
  });

  it("never has more than `concurrency` transactions in flight and opens the next one as one closes", async () => {
    const concurrency = 13;
    const { events } = await simulateVirtual({ samples: 300, concurrency });
    let inFlight = 0;
    let peak = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (event.type === "transaction_open") {
        inFlight++;
        if (i >= concurrency) {
          // Past the first batch, an open follows the close that made room, in the same millisecond.
          const previous = events[i - 1]!;
          assert.equal(previous.type, "transaction_close");
          assert.equal(previous.ts_ms, event.ts_ms);
        }
      }
      if (event.type === "transaction_close") inFlight--;
      peak = Math.max(peak, inFlight);
      assert.ok(inFlight <= concurrency);
    }
    assert.equal(peak, concurrency);
  });

  it("gives every transaction the same id, delays and outliers whatever the concurrency", async () => {
    const options = { samples: 300, outlierProb: 0.2 };
    const reference = fingerprint((await simulateVirtual({ ...options, concurrency: 1 })).events);
    for (const concurrency of [7, 300]) {
      assert.deepEqual(fingerprint((await simulateVirtual({ ...options, concurrency })).events), reference);
    }
  });

  it("changes only which gaps carry outliers when only the outlier probability changes", async () => {
    const without = (await simulateVirtual({ samples: 100, outlierProb: 0 })).events;
    const withOutliers = (await simulateVirtual({ samples: 100, outlierProb: 0.5 })).events;
    const base = (events: WfEvent[]) =>
      events.map((e) =>
        e.type === "inter_step_wait" ? `${e.txn_id}:${e.planned_wait_ms - (e.outlier_injected ? 15_000 : 0)}` : e.type === "step_open" ? `${e.txn_id}:${e.pre_delay_ms}` : "",
      ).filter((x) => x !== "").sort();
    assert.deepEqual(base(withOutliers), base(without));
  });

  it("draws delays uniformly from the whole range, ends included, within statistical bounds", async () => {
    const { events } = await simulateVirtual({ samples: 4000, concurrency: 500, outlierProb: 0 });
    const pre = events.filter((e): e is StepOpen => e.type === "step_open").map((e) => e.pre_delay_ms!);
    const inter = events.filter((e): e is InterStepWait => e.type === "inter_step_wait").map((e) => e.planned_wait_ms);
    for (const [values, min, max] of [
      [pre, 100, 2000],
      [inter, 200, 1200],
    ] as const) {
      assert.equal(Math.min(...values) >= min && Math.max(...values) <= max, true);
      const { mean: expected, sd } = uniformIntMoments(min, max);
      assert.ok(Math.abs(mean(values) - expected) < meanBound(sd, values.length), `mean ${mean(values)} vs ${expected}`);
    }
    // Both ends are reachable: a 3-value range over many draws shows all three values.
    const narrow = (await simulateVirtual({ samples: 50, preMin: 5, preMax: 7 })).events;
    const seen = new Set(narrow.filter((e): e is StepOpen => e.type === "step_open").map((e) => e.pre_delay_ms));
    assert.deepEqual([...seen].sort(), [5, 6, 7]);
  });

  it("injects outliers in each gap with the given probability and adds exactly outlier-ms", async () => {
    const p = 0.05;
    const { events, summary } = await simulateVirtual({ samples: 5000, concurrency: 1000, outlierProb: p, outlierMs: 15_000 });
    const gaps = events.filter((e): e is InterStepWait => e.type === "inter_step_wait");
    const outliers = gaps.filter((e) => e.outlier_injected);
    assert.equal(summary.outliersInjected, outliers.length);
    const n = gaps.length;
    assert.ok(Math.abs(outliers.length - n * p) < Z * Math.sqrt(n * p * (1 - p)), `${outliers.length} of ${n}`);
    for (const gap of gaps) {
      const base = gap.planned_wait_ms - (gap.outlier_injected ? 15_000 : 0);
      assert.ok(base >= 200 && base <= 1200, JSON.stringify(gap));
    }
  });

  it("is the same, event for event, for the same seed and start time, and differs for another seed", async () => {
    const a = await simulateVirtual({ samples: 100, seed: 9 });
    const b = await simulateVirtual({ samples: 100, seed: 9 });
    const c = await simulateVirtual({ samples: 100, seed: 10 });
    assert.deepEqual(a.events, b.events);
    assert.notDeepEqual(a.events, c.events);
  });

  it("handles zero-length waits and a single step", async () => {
    const { events } = await simulateVirtual({ samples: 5, steps: 1, preMin: 0, preMax: 0, concurrency: 2 });
    assert.equal(events.length, 5 * 4);
    assert.ok(events.every((e) => e.ts_ms === 1_767_225_600_000));
    assert.ok(events.filter((e) => e.type === "transaction_close").every((e) => e.type === "transaction_close" && e.duration_ms === 0));
  });
});

describe("simulation on a manually driven clock (real-clock behaviour without sleeping)", () => {
  const start = 1_000_000;

  it("waits for each due time, records lateness, and aborts what is in flight when stopped", async () => {
    const clock = new ManualClock(start);
    const sink = new CollectingSink();
    const controller = new AbortController();
    const options = resolveSimOptions({ samples: 3, concurrency: 2, preMin: 100, preMax: 100, interMin: 50, interMax: 50, outlierProb: 0, steps: 3 });
    const running = createSimulation(options, { sink, clock, signal: controller.signal }).run();

    const settle = async () => {
      for (let i = 0; i < 20 && clock.pendingWaits === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    await settle();
    assert.deepEqual(sink.events.map((e) => e.type), ["transaction_open", "transaction_open"]);
    // Wake 3 ms late: the step opens at the late time, and its lateness is recorded.
    clock.advanceTo(start + 103);
    await settle();
    const stepOpens = sink.events.filter((e) => e.type === "step_open");
    assert.equal(stepOpens.length, 2);
    assert.ok(stepOpens.every((e) => e.ts_ms === start + 103));
    // The next wait starts when it was announced (the late time): 50 + 100 ms from there.
    clock.advanceTo(start + 200);
    await settle();
    assert.equal(sink.events.filter((e) => e.type === "step_open").length, 2);
    controller.abort("SIGTERM");
    const summary = await running;

    const aborted = sink.events.filter((e) => e.type === "transaction_aborted");
    assert.equal(aborted.length, 2);
    for (const event of aborted) {
      assert.ok(event.type === "transaction_aborted");
      assert.equal(event.reason, "SIGTERM");
      assert.equal(event.steps_completed, 1);
      assert.equal(event.ts_ms, start + 200);
      assert.equal(event.duration_ms, 200);
    }
    assert.equal(summary.opened, 2, "no new transaction after the stop");
    assert.equal(summary.aborted, 2);
    assert.equal(summary.stopReason, "SIGTERM");
    assert.equal(summary.lateness?.count, 2);
    assert.ok(Math.abs(summary.lateness!.maxMs - 3) < 1e-9);
  });

  it("opens a large first batch in slices, each at the time it really opens, and wakes early transactions in between", async () => {
    // Real time passes while transactions are being opened: 1 ms at every clock reading.
    let readings = 0;
    const clock: Clock = {
      realMsPerSimMs: 1,
      now: () => start + readings++,
      waitUntil: () => undefined,
    };
    const sink = new CollectingSink();
    const options = resolveSimOptions({ samples: 5000, concurrency: 5000, preMin: 1, preMax: 1, steps: 1 });
    await createSimulation(options, { sink, clock }).run();
    const opens = sink.events.filter((e) => e.type === "transaction_open");
    assert.equal(opens.length, 5000);
    assert.ok(opens.at(-1)!.ts_ms > opens[0]!.ts_ms, "later slices open later");
    // The first transaction's step (due at once) runs before the last transaction opens.
    const firstStep = sink.events.findIndex((e) => e.type === "step_open");
    const lastOpen = sink.events.lastIndexOf(opens.at(-1)!);
    assert.ok(firstStep < lastOpen, `first step_open at ${firstStep}, last open at ${lastOpen}`);
    // Every step still opens exactly its pre-step wait after its own transaction opened.
    const openedAt = new Map(opens.map((e) => [e.txn_id, e.ts_ms]));
    for (const event of sink.events) {
      if (event.type === "step_open") assert.ok(event.ts_ms >= openedAt.get(event.txn_id)! + 1);
    }
  });

  it("names an unexplained abort 'aborted'", async () => {
    const clock = new ManualClock(start);
    const sink = new CollectingSink();
    const controller = new AbortController();
    const running = createSimulation(resolveSimOptions({ samples: 1 }), { sink, clock, signal: controller.signal }).run();
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await running;
    const last = sink.events.at(-1)!;
    assert.ok(last.type === "transaction_aborted");
    assert.equal(last.reason, "aborted");
  });
});
