import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DistributionSpec } from "../../src/config/scenario/model.ts";
import { samplerOf } from "../../src/engine/distributions.ts";
import { RandomStreams } from "../../src/engine/random.ts";
import { integrate, mean, meanBound, normalCdf, normalPdf, uniformIntMoments, variance, varianceBound } from "../helpers/stats.ts";

const N = 200_000;

function draw(spec: DistributionSpec, n = N, seed = 1): number[] {
  const random = new RandomStreams(seed).forTransaction(0);
  const sample = samplerOf(spec);
  return Array.from({ length: n }, () => sample(random));
}

interface Moments {
  readonly mean: number;
  readonly sd: number;
  /** Fourth central moment, for the bound on the sample variance. */
  readonly mu4: number;
}

/**
 * Asserts the sample's mean and variance lie within 5-sigma bounds of the distribution's, widened by
 * what rounding draws to whole milliseconds can move them: at most 0.5 for the mean, and at most
 * σ + 1/4 for the variance (2·|cov(x, e)| + var(e) with |e| ≤ 1/2).
 */
function assertMoments(values: readonly number[], expected: Moments, rounded: boolean): void {
  const n = values.length;
  const m = mean(values);
  const v = variance(values);
  const meanSlack = meanBound(expected.sd, n) + (rounded ? 0.5 : 0);
  const varSlack = varianceBound(expected.sd, expected.mu4, n) + (rounded ? expected.sd + 0.25 : 0);
  assert.ok(Math.abs(m - expected.mean) < meanSlack, `mean ${m} vs ${expected.mean} ± ${meanSlack}`);
  assert.ok(Math.abs(v - expected.sd ** 2) < varSlack, `variance ${v} vs ${expected.sd ** 2} ± ${varSlack}`);
}

/** Moments of a density on [a, b] by numerical integration, for checks of closed forms and for μ4. */
function numericMoments(pdf: (x: number) => number, a: number, b: number): Moments {
  const m = integrate((x) => x * pdf(x), a, b);
  const v = integrate((x) => (x - m) ** 2 * pdf(x), a, b);
  return { mean: m, sd: Math.sqrt(v), mu4: integrate((x) => (x - m) ** 4 * pdf(x), a, b) };
}

describe("delay distributions", () => {
  it("constant: always the value, and no draw from the stream", () => {
    const random = new RandomStreams(3).forTransaction(0);
    const fresh = new RandomStreams(3).forTransaction(0);
    const sample = samplerOf({ kind: "constant", value: 250 });
    for (let i = 0; i < 10; i++) assert.equal(sample(random), 250);
    assert.equal(random.nextU32(), fresh.nextU32());
  });

  it("uniform: the seed's whole milliseconds from min to max, both ends reached", () => {
    const values = draw({ kind: "uniform", min: 100, max: 2000 });
    assert.ok(values.every((v) => Number.isInteger(v) && v >= 100 && v <= 2000));
    assert.ok(values.includes(100) && values.includes(2000));
    const count = 1901;
    const { mean: mu, sd } = uniformIntMoments(100, 2000);
    assertMoments(values, { mean: mu, sd, mu4: ((count ** 2 - 1) * (3 * count ** 2 - 7)) / 240 }, false);
  });

  it("normal: mean and spread of N(mean, sd), where truncation at 0 does not bite", () => {
    const values = draw({ kind: "normal", mean: 1000, sd: 150 });
    assertMoments(values, { mean: 1000, sd: 150, mu4: 3 * 150 ** 4 }, true);
  });

  it("normal truncated at 0: the truncated distribution's moments, and never below 0", () => {
    const mu = 100;
    const sigma = 150;
    const alpha = -mu / sigma;
    const lambda = normalPdf(alpha) / (1 - normalCdf(alpha));
    const truncatedMean = mu + sigma * lambda;
    const truncatedSd = sigma * Math.sqrt(1 + alpha * lambda - lambda ** 2);
    // The fourth moment has no short closed form: integrate the truncated density, and check that
    // integration against the closed-form mean and spread first.
    const pdf = (x: number) => normalPdf((x - mu) / sigma) / sigma / (1 - normalCdf(alpha));
    const numeric = numericMoments(pdf, 0, mu + 12 * sigma);
    assert.ok(Math.abs(numeric.mean - truncatedMean) < 1e-3 && Math.abs(numeric.sd - truncatedSd) < 1e-3);
    const values = draw({ kind: "normal", mean: mu, sd: sigma });
    assert.ok(values.every((v) => v >= 0));
    assertMoments(values, { mean: truncatedMean, sd: truncatedSd, mu4: numeric.mu4 }, true);
  });

  it("lognormal: exact moments of exp(N(mu, sigma))", () => {
    const mu = Math.log(200);
    const sigma = 0.5;
    const s2 = sigma ** 2;
    const m = Math.exp(mu + s2 / 2);
    const variance_ = (Math.exp(s2) - 1) * Math.exp(2 * mu + s2);
    const excessKurtosis = Math.exp(4 * s2) + 2 * Math.exp(3 * s2) + 3 * Math.exp(2 * s2) - 6;
    const values = draw({ kind: "lognormal", mu, sigma });
    assertMoments(values, { mean: m, sd: Math.sqrt(variance_), mu4: (excessKurtosis + 3) * variance_ ** 2 }, true);
    // The median is exp(mu): half the draws on each side, within a binomial bound.
    const below = values.filter((v) => v < 200).length;
    assert.ok(Math.abs(below - N / 2) < 5 * Math.sqrt(N / 4) + values.filter((v) => v === 200).length);
  });

  it("exponential: mean and sd both the mean", () => {
    const values = draw({ kind: "exponential", mean: 400 });
    assertMoments(values, { mean: 400, sd: 400, mu4: 9 * 400 ** 4 }, true);
  });

  it("empirical: each listed value equally likely, and nothing else", () => {
    const list = [5, 5, 6, 8, 12, 40];
    const values = draw({ kind: "empirical", values: list });
    assert.ok(values.every((v) => list.includes(v)));
    const m = mean(list);
    const v = list.reduce((sum, x) => sum + (x - m) ** 2, 0) / list.length;
    const mu4 = list.reduce((sum, x) => sum + (x - m) ** 4, 0) / list.length;
    assertMoments(values, { mean: m, sd: Math.sqrt(v), mu4 }, false);
    // 5 is listed twice: drawn about twice as often as 6.
    const fives = values.filter((x) => x === 5).length;
    const p = 2 / 6;
    assert.ok(Math.abs(fives - N * p) < 5 * Math.sqrt(N * p * (1 - p)));
  });

  it("caps a far tail at the largest delay an event can hold", () => {
    const values = draw({ kind: "lognormal", mu: Math.log(1e9), sigma: 3 }, 2000);
    assert.ok(values.every((v) => v <= 2 ** 32 - 1));
    assert.ok(values.includes(2 ** 32 - 1));
  });
});
