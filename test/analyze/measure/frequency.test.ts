import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EMPTY_SUMMARY, FrequencyTable, medianAbsoluteDeviation, percentile } from "../../../src/analyze/measure/frequency.ts";

function tableOf(values: readonly number[]): FrequencyTable {
  const table = new FrequencyTable();
  for (const value of values) table.add(value);
  return table;
}

describe("FrequencyTable", () => {
  it("gives nearest-rank percentiles of 1..10 exactly (rank ⌈p·n/100⌉)", () => {
    const summary = tableOf([7, 3, 10, 1, 5, 2, 9, 4, 8, 6]).summary();
    // n = 10: p50 → rank 5, p90 → rank 9, p95 → rank ⌈9.5⌉ = 10, p99 → rank ⌈9.9⌉ = 10.
    assert.deepEqual(summary, { count: 10, min: 1, mean: 5.5, p50: 5, p90: 9, p95: 10, p99: 10, max: 10 });
  });

  it("counts repeated values by rank, not by distinct value", () => {
    // Sorted: 100 ×7, 200 ×2, 5000 ×1; mean 6100 / 10. p50 → rank 5 → 100; p90 → rank 9 → 200; p95, p99 → rank 10 → 5000.
    const summary = tableOf([100, 200, 100, 100, 5000, 100, 100, 200, 100, 100]).summary();
    assert.deepEqual(summary, { count: 10, min: 100, mean: 610, p50: 100, p90: 200, p95: 5000, p99: 5000, max: 5000 });
  });

  it("keeps negative and very large values exact (outside the dense range)", () => {
    const summary = tableOf([-5, 0, 70_000, 1e12, 3]).summary();
    // Sorted: −5, 0, 3, 70000, 1e12. p50 → rank 3 → 3; p90, p95, p99 → rank 5.
    assert.deepEqual(summary, { count: 5, min: -5, mean: (-5 + 0 + 70_000 + 1e12 + 3) / 5, p50: 3, p90: 1e12, p95: 1e12, p99: 1e12, max: 1e12 });
  });

  it("summarises an empty sample with nulls and refuses its percentiles", () => {
    assert.deepEqual(new FrequencyTable().summary(), EMPTY_SUMMARY);
    assert.throws(() => percentile(new FrequencyTable().sorted(), 50), RangeError);
  });

  it("takes the p1 and p100 of one value as that value", () => {
    const sorted = tableOf([42]).sorted();
    assert.equal(percentile(sorted, 1), 42);
    assert.equal(percentile(sorted, 100), 42);
  });

  it("computes the MAD exactly from distinct values", () => {
    // 1 1 2 2 4 6 9: median (rank 4) = 2; |x − 2| = 1 1 0 0 2 4 7 → sorted 0 0 1 1 2 4 7, rank 4 → 1.
    const odd = tableOf([1, 1, 2, 2, 4, 6, 9]).sorted();
    assert.equal(percentile(odd, 50), 2);
    assert.equal(medianAbsoluteDeviation(odd, 2), 1);
    // 10 20 30 1000: median (rank 2) = 20; deviations 10 0 10 980 → 0 10 10 980, rank 2 → 10.
    const even = tableOf([10, 20, 30, 1000]).sorted();
    assert.equal(percentile(even, 50), 20);
    assert.equal(medianAbsoluteDeviation(even, 20), 10);
  });

  it("counts values above a threshold", () => {
    const table = tableOf([1, 2, 2, 3, 70_000, -4]);
    assert.equal(table.countAbove(2), 2);
    assert.equal(table.countAbove(2.5), 2);
    assert.equal(table.countAbove(-10), 6);
    assert.equal(table.countAbove(70_000), 0);
  });
});
