/**
 * The breakdown over time (`over_time`) and the per-workflow and per-step tables, on small hand-made
 * streams whose figures are worked out by hand.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bucketOf, bucketTop, OverTime } from "../../../src/analyze/measure/over-time.ts";
import { analyzeText, byTime, compact, ev, transaction } from "../helpers.ts";

const T0 = Date.UTC(2026, 0, 31, 9, 0, 0);

describe("analyze: the breakdown over time", () => {
  it("counts opens, ends, events and latency per interval, exactly, on a hand-made stream", async () => {
    // a: 7 events from 09:00:00.000 to its close at 09:00:00.500 (duration 500); b: opens at 09:00:01.200,
    // 4 events in that second, step 2 at 09:00:02.400 and its close at 09:00:02.900 (duration 1700);
    // c: opens at 09:00:02.000 and is aborted at 09:00:02.100.
    const events = byTime(
      transaction("a", T0, [100, 100], [300]),
      transaction("b", T0 + 1200, [200, 500], [1000]),
      [ev.open("c", T0 + 2000), ev.aborted("c", T0 + 2100, 100, 0)],
    );
    const report = await analyzeText(compact(events));
    const o = report.over_time;
    assert.equal(o.interval_ms, 1000, "a 3 s span: 1 s intervals");
    assert.equal(o.chosen_by, "auto");
    assert.deepEqual(
      o.rows.map((r) => [r.start_ts_ms - T0, r.opened, r.completed, r.aborted, r.events, r.duration_p50_ms, r.duration_p99_ms, r.duration_max_ms]),
      [
        [0, 1, 1, 0, 7, 500, 500, 500],
        [1000, 1, 0, 0, 4, null, null, null],
        [2000, 1, 1, 1, 5, 1700, 1700, 1700],
      ],
    );
    assert.equal(o.rows[0]!.events_per_s, 7);
    assert.equal(
      o.rows.reduce((sum, r) => sum + r.events, 0),
      report.events,
    );
  });

  it("chooses the smallest interval of the ladder that gives at most 200 rows, and one asked for with --interval", async () => {
    // Events 0 s to 2,000 s: 1 s would make 2,001 rows, 10 s makes 201, 1 min makes 34.
    const events = Array.from({ length: 21 }, (_, i) => transaction(`t${i}`, T0 + i * 100_000, [1], []));
    const text = compact(byTime(...events));
    const auto = (await analyzeText(text)).over_time;
    assert.equal(auto.interval_ms, 60_000);
    assert.equal(auto.rows.length, 34);
    assert.equal(auto.rows[0]!.start_ts_ms, T0, "aligned on the minute");
    // 1,900 s fits 10 s intervals exactly: 191 rows (the last event at 2,000,001 ms lies past 1,990 s, hence 201 above).
    const shorter = (await analyzeText(compact(byTime(...events.slice(0, 20))))).over_time;
    assert.equal(shorter.interval_ms, 10_000);
    assert.equal(shorter.rows.length, 191);
    const asked = (await analyzeText(text, { interval: "5s" })).over_time;
    assert.deepEqual([asked.interval_ms, asked.chosen_by, asked.coarsened, asked.rows.length], [5000, "asked", false, 401]);
    const tooFine = (await analyzeText(text, { interval: "1s" })).over_time;
    assert.deepEqual([tooFine.interval_ms, tooFine.coarsened, tooFine.asked_ms], [4000, true, 1000], "1 s would make 2,001 rows: 2 s 1,001, 4 s 501");
    assert.equal(
      tooFine.rows.reduce((sum, r) => sum + r.completed, 0),
      21,
    );
  });

  it("refuses an interval that is not a duration", async () => {
    await assert.rejects(analyzeText("", { interval: "soon" }), /interval must be auto or a duration/);
    await assert.rejects(analyzeText("", { interval: "0s" }), /interval must be auto or a duration/);
  });

  it("counts stream-check findings at their time, and takes back a missing step that came late", async () => {
    const events = [
      ev.open("x", T0),
      ev.stepOpen("x", 1, T0 + 10, 10),
      // Its step_done comes after its close, 1.5 s later: missing at first, then late (one finding).
      ev.close("x", T0 + 20, 20, 1),
      ev.stepOpen("orphan", 1, T0 + 1500, 5),
      ev.stepDone("x", 1, T0 + 1600),
    ];
    const report = await analyzeText(compact(events));
    const rows = report.over_time.rows;
    assert.deepEqual(rows[0]!.findings, { out_of_order: 0, missing_steps: 0, duplicates: 0, close_without_open: 0, never_closed: 0 });
    assert.deepEqual(rows[1]!.findings, { out_of_order: 1, missing_steps: 0, duplicates: 0, close_without_open: 0, never_closed: 1 });
    assert.equal(report.violations.missing_steps.count, 0);
  });

  it("reads percentiles from buckets never below the exact value and less than 0.8% above it", () => {
    for (let ms = 0; ms < 200_000; ms += ms < 1000 ? 1 : 37) {
      const top = bucketTop(bucketOf(ms));
      assert.ok(top >= ms && top - ms < ms / 128 + 1, `${ms} -> ${top}`);
      assert.equal(bucketOf(top), bucketOf(ms));
    }
    // The exact nearest-rank p99 of 1..1000 is 990; the bucket's top is within 0.8% of it, p50 (500) too.
    const breakdown = new OverTime();
    for (let ms = 1; ms <= 1000; ms++) breakdown.ended(T0, "completed", ms);
    const row = breakdown.report().rows[0]!;
    assert.ok(row.duration_p99_ms! >= 990 && row.duration_p99_ms! < 990 * 1.008, String(row.duration_p99_ms));
    assert.ok(row.duration_p50_ms! >= 500 && row.duration_p50_ms! < 500 * 1.008, String(row.duration_p50_ms));
    assert.equal(row.duration_max_ms, 1000);
  });

  it("keeps intervals merged into coarser ones whole: counts and latency add up", () => {
    const breakdown = new OverTime();
    // One completed transaction per second for an hour: 1 s, then 10 s, then 1 min intervals (61 rows).
    for (let s = 0; s <= 3600; s++) {
      breakdown.event(T0 + s * 1000);
      breakdown.ended(T0 + s * 1000, "completed", s < 1800 ? 100 : 300);
    }
    const o = breakdown.report();
    assert.equal(o.interval_ms, 60_000);
    assert.equal(o.rows.length, 61);
    assert.deepEqual(
      o.rows.slice(28, 32).map((r) => [r.completed, r.duration_p50_ms, r.duration_p99_ms]),
      [
        [60, 100, 100],
        [60, 100, 100],
        [60, 300, 300],
        [60, 300, 300],
      ],
    );
    assert.equal(o.rows.at(-1)!.completed, 1);
  });
});

describe("analyze: per-workflow and per-step tables", () => {
  it("count failures, retries, the gap to the next step and where stuck transactions went silent", async () => {
    const events = [
      // r: step 1 fails once and is retried; 400 ms from step 1's done to step 2's open.
      { ...ev.open("r", T0), workflow: "w" },
      { ...ev.stepOpen("r", 1, T0 + 10, 10), workflow: "w", step_name: "s1", attempt: 1 },
      ev.stepFailed("r", 1, T0 + 20, 1),
      ev.stepRetry("r", 1, T0 + 20, 2, 30),
      ev.retryOpen("r", 1, T0 + 50, 30, 2),
      { ...ev.stepDone("r", 1, T0 + 60), workflow: "w", step_name: "s1" },
      { ...ev.wait("r", 1, T0 + 60, 300), workflow: "w" },
      { ...ev.stepOpen("r", 2, T0 + 460, 100), workflow: "w", step_name: "s2", attempt: 1 },
      { ...ev.stepDone("r", 2, T0 + 470), workflow: "w", step_name: "s2" },
      { ...ev.close("r", T0 + 470, 470, 2), workflow: "w" },
      // s: labelled stuck, silent after step 2's step_open.
      ev.stuckOpen("s", T0 + 100),
      { ...ev.stepOpen("s", 1, T0 + 110, 10), workflow: "w", step_name: "s1", attempt: 1 },
      { ...ev.stepDone("s", 1, T0 + 120), workflow: "w", step_name: "s1" },
      { ...ev.wait("s", 1, T0 + 120, 5), workflow: "w" },
      { ...ev.stepOpen("s", 2, T0 + 125, 0), workflow: "w", step_name: "s2", attempt: 1 },
    ];
    const report = await analyzeText(compact(byTime(events)));
    const [step1, step2] = report.step_baselines;
    assert.deepEqual([step1!.failures, step1!.retries, step1!.stuck, step1!.gap_ms?.count, step1!.gap_ms?.p50_ms], [1, 1, 0, 2, 5]);
    assert.equal(step1!.gap_ms!.max_ms, 400);
    assert.deepEqual([step2!.failures, step2!.retries, step2!.stuck, step2!.gap_ms], [0, 0, 1, null]);
    const w = report.workflows[0]!;
    assert.deepEqual([w.name, w.step_failures, w.retries, w.transactions.stuck], ["w", 1, 1, 1]);
  });
});
