import type { ValueKind } from "./values.ts";

/**
 * This process's part of a workload shared by `count` processes (`--instance index/count`). Instance
 * I runs the transactions whose index is congruent to I modulo N: together the N instances run
 * exactly the transactions of one process with the same seed, each with the same id, delays and
 * outliers, since a transaction's randomness depends only on the seed and its index.
 */
export interface Instance {
  /** 0-based: 0 <= index < count. */
  readonly index: number;
  readonly count: number;
}

export const SINGLE_INSTANCE: Instance = Object.freeze({ index: 0, count: 1 });

const MAX_INSTANCES = 1_000_000;

export const instanceKind: ValueKind<Instance> = {
  expected: "I/N, this process's number I from 0 to N-1 among N processes sharing the workload (for example 0/4)",
  parse(raw) {
    let index: number;
    let count: number;
    if (typeof raw === "string") {
      const match = /^\s*(\d{1,7})\s*\/\s*(\d{1,7})\s*$/.exec(raw);
      if (match === null) return undefined;
      index = Number(match[1]);
      count = Number(match[2]);
    } else if (typeof raw === "object" && raw !== null) {
      ({ index, count } = raw as Instance);
    } else {
      return undefined;
    }
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count)) return undefined;
    if (count < 1 || count > MAX_INSTANCES || index < 0 || index >= count) return undefined;
    return { index, count };
  },
};

/** How many of `samples` transactions (indices 0..samples-1) fall to this instance. */
export function samplesShare(samples: number, instance: Instance): number {
  return instance.index >= samples ? 0 : Math.ceil((samples - instance.index) / instance.count);
}

/**
 * This instance's share of the transactions in flight at once: `concurrency` split as evenly as
 * possible, and at least one, so that together the instances keep `concurrency` in flight (more when
 * there are more instances than `concurrency`).
 */
export function concurrencyShare(concurrency: number, instance: Instance): number {
  const base = Math.floor(concurrency / instance.count);
  return Math.max(1, base + (instance.index < concurrency % instance.count ? 1 : 0));
}
