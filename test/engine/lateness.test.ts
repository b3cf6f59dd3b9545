/** The engine's wake lateness recorder: quantiles to its buckets' edges, beyond 1 s as well. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LatenessRecorder } from "../../src/engine/lateness.ts";

describe("LatenessRecorder", () => {
  it("reports quantiles below 1 s to the upper edge of their 10 µs bucket", () => {
    const recorder = new LatenessRecorder();
    for (let i = 0; i < 100; i++) recorder.record(i < 99 ? 0.123 : 7.5);
    const stats = recorder.stats();
    assert.ok(Math.abs(stats.p50Ms - 0.13) < 1e-9, `p50 ${stats.p50Ms}`);
    assert.ok(Math.abs(stats.p99Ms - 0.13) < 1e-9, `p99 ${stats.p99Ms}`);
    assert.equal(stats.p999Ms, 7.5); // the bucket's edge, 7.51, capped at the max
    assert.equal(stats.maxMs, 7.5);
  });

  it("reports a run seconds or minutes behind as it is, at most 1/64 above, never below", () => {
    const recorder = new LatenessRecorder();
    // p50 in the 1 s doubling, p90 in the 8 s one, p99 at 3 minutes; the max far beyond.
    for (let i = 0; i < 1000; i++) recorder.record(i < 500 ? 1500 : i < 900 ? 11_000 : i < 995 ? 180_000 : 600_000);
    const stats = recorder.stats();
    for (const [figure, truth] of [
      [stats.p50Ms, 1500],
      [stats.p90Ms, 11_000],
      [stats.p99Ms, 180_000],
    ] as const) {
      assert.ok(figure >= truth && figure <= truth * (1 + 1 / 64), `${figure} for ${truth}`);
    }
    assert.equal(stats.maxMs, 600_000);
  });

  it("reads beyond 68 minutes as the max, the last bucket having no upper edge", () => {
    const recorder = new LatenessRecorder();
    recorder.record(5_000_000);
    recorder.record(9_000_000);
    assert.equal(recorder.stats().p50Ms, 9_000_000);
  });

  it("puts a lateness on a power of two in the doubling it begins", () => {
    const recorder = new LatenessRecorder();
    for (const ms of [1000, 2000, 4000, 8000]) recorder.record(ms);
    const counts = recorder.countsAtMost([1000, 1000 * (1 + 1 / 64), 2000, 2000 * (1 + 1 / 64), 8000 * (1 + 1 / 64)]);
    assert.deepEqual(counts, [0, 1, 1, 2, 4]);
  });
});
