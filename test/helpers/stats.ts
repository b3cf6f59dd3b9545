/**
 * Bounds for statistical assertions. A sample mean of n draws from a distribution with standard
 * deviation σ lies within z·σ/√n of the true mean except with probability about 2·(1-Φ(z)); with
 * z = 5 that is 6e-7 per assertion, so a failure means a bug, not bad luck.
 */
export const Z = 5;

export function meanBound(sd: number, n: number): number {
  return (Z * sd) / Math.sqrt(n);
}

/** Mean and standard deviation of the uniform distribution over the integers min..max. */
export function uniformIntMoments(min: number, max: number): { mean: number; sd: number } {
  const n = max - min + 1;
  return { mean: (min + max) / 2, sd: Math.sqrt((n * n - 1) / 12) };
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Sample variance (n - 1 in the denominator). */
export function variance(values: readonly number[]): number {
  const m = mean(values);
  return values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1);
}

/**
 * Bound on |s² - σ²| for n draws: the sample variance has standard deviation about
 * sqrt((μ4 - σ⁴) / n), with μ4 the fourth central moment of the distribution.
 */
export function varianceBound(sd: number, mu4: number, n: number): number {
  return Z * Math.sqrt((mu4 - sd ** 4) / n);
}

/** Φ, the standard normal CDF (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export function normalPdf(x: number): number {
  return Math.exp(-(x * x) / 2) / Math.sqrt(2 * Math.PI);
}

/** ∫ f over [a, b] by Simpson's rule with `steps` (even) intervals. */
export function integrate(f: (x: number) => number, a: number, b: number, steps = 20_000): number {
  const h = (b - a) / steps;
  let sum = f(a) + f(b);
  for (let i = 1; i < steps; i++) sum += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (sum * h) / 3;
}
