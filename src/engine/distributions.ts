/**
 * Delay samplers: a scenario's distributions turned into functions of a transaction's random stream.
 * Every sampler returns whole milliseconds from 0 to MAX_DELAY_MS (continuous draws are rounded to
 * the nearest ms and capped, so a lognormal's far tail cannot overflow an event field).
 *
 * Draws per sample, part of the documented draw order:
 * - constant, a normal with sd 0, an empirical list of one value: none;
 * - uniform: one 32-bit draw, rarely more (Random.int's rejection), as the seed's delays;
 * - exponential: one float (two 32-bit draws);
 * - normal: two floats per try (Box–Muller, one value per pair); a negative value is redrawn;
 * - lognormal: two floats (Box–Muller);
 * - empirical: one Random.int over the list's positions (rarely more).
 */
import type { DistributionSpec } from "../config/scenario/model.ts";
import { MAX_DELAY_MS } from "../config/sim-options.ts";
import type { Random } from "./random.ts";

export type Sampler = (random: Random) => number;

const TWO_PI = 2 * Math.PI;

function toMs(value: number): number {
  const ms = Math.round(value);
  return ms > MAX_DELAY_MS ? MAX_DELAY_MS : ms;
}

/** A standard normal value from two floats (the cosine half of Box–Muller). */
export function standardNormal(random: Random): number {
  const u1 = random.float();
  const u2 = random.float();
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(TWO_PI * u2);
}

export function samplerOf(spec: DistributionSpec): Sampler {
  switch (spec.kind) {
    case "constant": {
      const value = spec.value;
      return () => value;
    }
    case "uniform": {
      const { min, max } = spec;
      return (random) => random.int(min, max);
    }
    case "normal": {
      const { mean, sd } = spec;
      if (sd === 0) return () => toMs(mean);
      return (random) => {
        for (;;) {
          const value = mean + sd * standardNormal(random);
          if (value >= 0) return toMs(value);
        }
      };
    }
    case "lognormal": {
      const { mu, sigma } = spec;
      return (random) => toMs(Math.exp(mu + sigma * standardNormal(random)));
    }
    case "exponential": {
      const mean = spec.mean;
      return (random) => toMs(-mean * Math.log(1 - random.float()));
    }
    case "empirical": {
      const values = spec.values;
      if (values.length === 1) {
        const only = values[0]!;
        return () => only;
      }
      const last = values.length - 1;
      return (random) => values[random.int(0, last)]!;
    }
  }
}
