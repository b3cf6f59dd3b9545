/** The wake lateness histogram Prometheus scrapes, from the engine's own recorder: exact bucket counts. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LatenessRecorder } from "../../src/engine/lateness.ts";
import { LatenessHistogram, LATENESS_BUCKETS_S } from "../../src/live/lateness-histogram.ts";

describe("LatenessHistogram", () => {
  it("counts wakes at most each bound late, cumulatively, with the sum and count", () => {
    const recorder = new LatenessRecorder();
    // ms: two under 100 µs, one in (0.25, 0.5], one in (1, 2.5], one past 1 s (under +Inf only).
    for (const ms of [0, 0.05, 0.3, 2, 5000]) recorder.record(ms);
    const metric = new LatenessHistogram(() => recorder).get();
    const buckets = metric.values.filter((value) => value.metricName === "wfsim_wake_lateness_seconds_bucket");
    assert.deepEqual(buckets.map((value) => value.labels.le), [...LATENESS_BUCKETS_S, "+Inf"]);
    //                     0.1ms 0.25 0.5 1ms 2.5 5  10 25 50 100 250 500 1s  +Inf
    assert.deepEqual(buckets.map((value) => value.value), [2, 2, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5]);
    const sum = metric.values.find((value) => value.metricName === "wfsim_wake_lateness_seconds_sum");
    const count = metric.values.find((value) => value.metricName === "wfsim_wake_lateness_seconds_count");
    assert.equal(count?.value, 5);
    assert.ok(Math.abs(sum!.value - 5002.35 / 1000) < 1e-9);
  });

  it("is empty, not missing, before the run exists", () => {
    const metric = new LatenessHistogram(() => undefined).get();
    assert.ok(metric.values.every((value) => value.value === 0));
    assert.equal(metric.values.length, LATENESS_BUCKETS_S.length + 3);
  });
});
