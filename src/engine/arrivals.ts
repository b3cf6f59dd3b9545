/**
 * Arrival times of the open model. The rate is piecewise linear in time (a start rate, then stages
 * that ramp to a new rate or hold it); Λ(t), the expected number of arrivals by time t, is then
 * piecewise quadratic and can be inverted exactly. Arrival k happens when Λ reaches y_k:
 *
 * - poisson: y_k = E_1 + ... + E_k with E_i ~ Exp(1) (one float each): a Poisson process with that
 *   rate, by time rescaling (the rate may change; the counts in any window stay Poisson);
 * - fixed: y_k = k - 1: the first arrival when the run starts, then one per 1/rate seconds, evenly
 *   spaced however the rate moves.
 *
 * The draws come from their own stream (RandomStreams.forDomain), so arrival times never depend on
 * what the transactions draw, and a transaction depends on nothing but its arrival number.
 */
import type { StageSpec } from "../config/scenario/model.ts";
import type { Random } from "./random.ts";

/** The RandomStreams domain of arrival times: `streams.forDomain(ARRIVAL_DOMAIN)`. */
export const ARRIVAL_DOMAIN = 0;

/** The arrival process as the engine sees it: offsets in ms from the start of the run, in order. */
export interface ArrivalProcess {
  /** Offset of the next arrival; Infinity when there are no more. */
  next(): number;
}

interface Segment {
  /** Start, in ms from the start of the run. */
  readonly start: number;
  readonly length: number;
  /** Rates at the start and the end, per ms. */
  readonly from: number;
  readonly to: number;
  /** Λ at the segment's start, and its growth over the segment. */
  readonly before: number;
  readonly mass: number;
}

/** Λ and its inverse for a piecewise linear rate given in transactions per second. */
export class RateCurve {
  private readonly segments: Segment[] = [];
  private cursor = 0;

  /** `stages` empty: `rate` holds for ever. Otherwise the curve ends with the last stage. */
  constructor(rate: number, stages: readonly StageSpec[]) {
    let start = 0;
    let before = 0;
    let from = rate / 1000;
    if (stages.length === 0) {
      this.segments.push({ start, length: Infinity, from, to: from, before, mass: from > 0 ? Infinity : 0 });
      return;
    }
    for (const stage of stages) {
      const to = stage.toRate / 1000;
      const mass = ((from + to) / 2) * stage.durationMs;
      this.segments.push({ start, length: stage.durationMs, from, to, before, mass });
      start += stage.durationMs;
      before += mass;
      from = to;
    }
  }

  /** Expected arrivals from the start to `t` ms. */
  expectedBy(t: number): number {
    let total = 0;
    for (const segment of this.segments) {
      if (t <= segment.start) break;
      const dt = Math.min(t - segment.start, segment.length);
      const slope = segment.length === Infinity ? 0 : (segment.to - segment.from) / segment.length;
      total += segment.from * dt + (slope * dt * dt) / 2;
    }
    return total;
  }

  /**
   * The earliest time at which Λ reaches `y`, or Infinity when it never does. Successive calls must
   * not go down in `y` (the curve keeps a cursor, so a run's arrivals cost O(1) each).
   */
  timeAt(y: number): number {
    const segments = this.segments;
    while (this.cursor < segments.length) {
      const segment = segments[this.cursor]!;
      const into = y - segment.before;
      if (segment.mass > 0 && into < segment.mass) {
        if (into <= 0) return segment.start;
        const { from, to, length } = segment;
        if (from === to) return segment.start + into / from;
        // Solve from·t + (to-from)/(2·length)·t² = into; this form stays exact when to-from is tiny.
        const slope = (to - from) / length;
        const t = (2 * into) / (from + Math.sqrt(from * from + 2 * slope * into));
        return segment.start + Math.min(t, length);
      }
      this.cursor++;
    }
    return Infinity;
  }
}

export class PoissonArrivals implements ArrivalProcess {
  private readonly curve: RateCurve;
  private readonly random: Random;
  private y = 0;

  constructor(curve: RateCurve, random: Random) {
    this.curve = curve;
    this.random = random;
  }

  next(): number {
    this.y -= Math.log(1 - this.random.float());
    return this.curve.timeAt(this.y);
  }
}

export class FixedArrivals implements ArrivalProcess {
  private readonly curve: RateCurve;
  private k = 0;

  constructor(curve: RateCurve) {
    this.curve = curve;
  }

  next(): number {
    return this.curve.timeAt(this.k++);
  }
}
