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
