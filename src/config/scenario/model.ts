/**
 * A scenario resolved: units turned into milliseconds, defaults filled in, names checked. This is
 * what the engine runs; the file's own shape is in schema.ts.
 */

import type { Shape } from "../shape/model.ts";

/** A delay distribution; every parameter in milliseconds. */
export type DistributionSpec =
  | { readonly kind: "constant"; readonly value: number }
  | { readonly kind: "uniform"; readonly min: number; readonly max: number }
  /** Normal(mean, sd) truncated at 0: negative draws are redrawn. */
  | { readonly kind: "normal"; readonly mean: number; readonly sd: number }
  /** exp(N(mu, sigma)): median e^mu. */
  | { readonly kind: "lognormal"; readonly mu: number; readonly sigma: number }
  | { readonly kind: "exponential"; readonly mean: number }
  | { readonly kind: "empirical"; readonly values: readonly number[] };

export interface FailureSpec {
  /** Probability that one attempt fails. */
  readonly prob: number;
  readonly reasons: readonly string[];
  /** Attempts after the first. */
  readonly retries: number;
  /** Wait before the first retry; the n-th waits backoff · factor^(n-1), at most maxBackoff. */
  readonly backoff: DistributionSpec;
  readonly backoffFactor: number;
  readonly maxBackoff: number;
}

export interface OutlierSpec {
  readonly prob: number;
  readonly extra: DistributionSpec;
  /** gap: each wait between steps, independently; transaction: once per transaction, on one gap. */
  readonly per: "gap" | "transaction";
}

export interface StuckSpec {
  readonly prob: number;
  /** 0-based index of the step that never completes; undefined: drawn uniformly. */
  readonly at: number | undefined;
}

export interface StepSpec {
  readonly name: string;
  readonly pre: DistributionSpec;
  readonly work: DistributionSpec;
  /** Wait after this step, before the next step's pre-step wait; unused on the last step. */
  readonly inter: DistributionSpec;
  readonly failure: FailureSpec | undefined;
}

export interface WorkflowSpec {
  readonly name: string;
  readonly weight: number;
  readonly steps: readonly StepSpec[];
  readonly outlier: OutlierSpec | undefined;
  readonly stuck: StuckSpec | undefined;
}

/** A piece of the arrival rate: linear from the previous piece's end rate to `toRate` over `durationMs`. */
export interface StageSpec {
  readonly toRate: number;
  readonly durationMs: number;
}

export type LoadSpec =
  | { readonly model: "closed"; readonly concurrency: number | undefined }
  | {
      readonly model: "open";
      readonly arrivals: "poisson" | "fixed";
      /** Transactions per second at the start. */
      readonly rate: number;
      /** Empty: the start rate holds for ever. Otherwise arrivals end with the last stage. */
      readonly stages: readonly StageSpec[];
      readonly maxInFlight: number | undefined;
    };

export interface Scenario {
  /** Where it came from, for messages and summaries: a file name, or "scenario". */
  readonly source: string;
  readonly name: string | undefined;
  readonly description: string | undefined;
  readonly seed: number | undefined;
  readonly timezone: string | undefined;
  readonly startTime: number | undefined;
  readonly load: LoadSpec;
  /** Transactions to open; Infinity for unlimited; undefined when the file does not say. */
  readonly samples: number | undefined;
  /** Simulated ms after which no transaction opens; undefined when the file does not say. */
  readonly durationMs: number | undefined;
  readonly workflows: readonly WorkflowSpec[];
  /** The records its transactions produce instead of wfsim's events, compiled; undefined: wfsim's events. */
  readonly output: Shape | undefined;
  /** Faults injected between the lifecycle and the output; undefined: none. */
  readonly delivery: DeliverySpec | undefined;
}

export const FAULT_KINDS = ["drop", "duplicate", "delay", "skew", "corrupt"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which records a fault may hit; undefined: all. Event types by name. */
export interface FaultFilter {
  readonly workflows: readonly string[] | undefined;
  readonly types: readonly string[] | undefined;
  /** A shaped output's record types, by name. */
  readonly records?: readonly string[] | undefined;
}

/** One fault: its probability, what it draws, which records it may hit. */
export type FaultSpec =
  | ({ readonly kind: "drop"; readonly prob: number } & FaultFilter)
  | ({ readonly kind: "duplicate"; readonly prob: number; readonly after: DistributionSpec } & FaultFilter)
  | ({ readonly kind: "delay"; readonly prob: number; readonly by: DistributionSpec } & FaultFilter)
  | ({ readonly kind: "skew"; readonly prob: number; readonly offset: DistributionSpec; readonly direction: "ahead" | "behind" | "either" } & FaultFilter)
  | ({ readonly kind: "corrupt"; readonly prob: number; readonly as: "truncated" | "not_json" | "either" } & FaultFilter);

/** A delivery section resolved: its faults in FAULT_KINDS order (those given). */
export interface DeliverySpec {
  readonly source: string;
  readonly faults: readonly FaultSpec[];
}

/** The default in-flight cap of the open model, which needs one to keep memory bounded. */
export const DEFAULT_MAX_IN_FLIGHT = 10_000;
