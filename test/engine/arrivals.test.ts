import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FixedArrivals, PoissonArrivals, RateCurve, type ArrivalProcess } from "../../src/engine/arrivals.ts";
import { RandomStreams } from "../../src/engine/random.ts";
import { mean, variance, Z } from "../helpers/stats.ts";

function all(process: ArrivalProcess, limit = 10_000_000): number[] {
  const times: number[] = [];
  for (let t = process.next(); t !== Infinity && times.length < limit; t = process.next()) times.push(t);
  return times;
}

/** Arrivals per window of `width` ms over [0, windows·width). */
function perWindow(times: readonly number[], width: number, windows: number): number[] {
  const counts = new Array<number>(windows).fill(0);
  for (const t of times) {
    const w = Math.floor(t / width);
    if (w < windows) counts[w]!++;
  }
  return counts;
}

function poisson(rate: number, stages: ConstructorParameters<typeof RateCurve>[1] = [], seed = 1): PoissonArrivals {
  return new PoissonArrivals(new RateCurve(rate, stages), new RandomStreams(seed).forDomain(0));
}

describe("rate curve", () => {
  it("inverts the expected count exactly, across holds and ramps up and down", () => {
    const curve = new RateCurve(10, [
      { toRate: 50, durationMs: 60_000 },
      { toRate: 50, durationMs: 30_000 },
      { toRate: 0, durationMs: 20_000 },
    ]);
    const total = curve.expectedBy(110_000);
    assert.ok(Math.abs(total - (30 * 60 + 50 * 30 + 25 * 20)) < 1e-6);
    for (let y = 0; y < total; y += total / 997) {
      const t = curve.timeAt(y);
      assert.ok(Math.abs(curve.expectedBy(t) - y) < 1e-6, `y ${y} t ${t}`);
    }
    assert.equal(curve.timeAt(total + 1), Infinity, "nothing after the last stage");
  });
});

describe("Poisson arrivals", () => {
  it("at a constant rate: counts per window with the rate's mean and variance", () => {
    const rate = 50; // per second
    const windows = 2000;
    const counts = perWindow(all(poisson(rate), rate * windows * 2), 1000, windows);
    // Poisson(λ): mean λ and variance λ; the sample variance's own variance is about (λ + 2λ²)/n.
    assert.ok(Math.abs(mean(counts) - rate) < Z * Math.sqrt(rate / windows), `mean ${mean(counts)}`);
    assert.ok(Math.abs(variance(counts) - rate) < Z * Math.sqrt((rate + 2 * rate ** 2) / windows), `variance ${variance(counts)}`);
  });

  it("have exponential gaps: as many below the median gap ln 2/λ as above", () => {
    const times = all(poisson(20), 100_000);
    const medianGap = (Math.LN2 / 20) * 1000;
    let below = 0;
    for (let i = 1; i < times.length; i++) if (times[i]! - times[i - 1]! < medianGap) below++;
    const n = times.length - 1;
    assert.ok(Math.abs(below - n / 2) < Z * Math.sqrt(n / 4));
  });

  it("show a ramp: each window's count is Poisson around the ramp's expected count, and rises", () => {
    const curve = new RateCurve(0, [{ toRate: 200, durationMs: 100_000 }]);
    const times = all(poisson(0, [{ toRate: 200, durationMs: 100_000 }], 3));
    const counts = perWindow(times, 10_000, 10);
    counts.forEach((count, w) => {
      const expected = curve.expectedBy((w + 1) * 10_000) - curve.expectedBy(w * 10_000);
      assert.ok(Math.abs(count - expected) < Z * Math.sqrt(expected), `window ${w}: ${count} vs ${expected}`);
      if (w > 0) assert.ok(count > counts[w - 1]!, `window ${w} (${count}) above window ${w - 1} (${counts[w - 1]})`);
    });
    assert.ok(Math.abs(times.length - 10_000) < Z * 100, "the ramp's total, 200/s · 100 s / 2");
  });

  it("end with the last stage, after a hold at the ramp's rate", () => {
    const times = all(poisson(5, [{ toRate: 5, durationMs: 60_000 }]));
    assert.ok(times.at(-1)! < 60_000);
    assert.ok(Math.abs(times.length - 300) < Z * Math.sqrt(300));
  });

  it("are the same for the same seed and differ for another", () => {
    assert.deepEqual(all(poisson(10), 1000), all(poisson(10), 1000));
    assert.notDeepEqual(all(poisson(10, [], 1), 1000), all(poisson(10, [], 2), 1000));
  });
});

describe("fixed-interval arrivals", () => {
  it("come exactly 1/rate apart, the first at the start", () => {
    const times = all(new FixedArrivals(new RateCurve(4, [{ toRate: 4, durationMs: 10_000 }])));
    assert.deepEqual(times, Array.from({ length: 40 }, (_, k) => k * 250));
  });

  it("follow a ramp: the k-th comes when the expected count reaches k", () => {
    const curve = new RateCurve(0, [{ toRate: 10, durationMs: 20_000 }]);
    const times = all(new FixedArrivals(new RateCurve(0, [{ toRate: 10, durationMs: 20_000 }])));
    assert.equal(times.length, 100); // Λ(20 s) = 100: arrivals at Λ = 0 .. 99
    // The rate is t/2e6 per ms (t in ms), so Λ(t) = t²/4e6 and arrival k comes at 2000·√k.
    times.forEach((t, k) => assert.ok(Math.abs(t - 2000 * Math.sqrt(k)) < 1e-6, `arrival ${k} at ${t}`));
    assert.ok(Math.abs(curve.expectedBy(times[50]!) - 50) < 1e-9);
  });
});
