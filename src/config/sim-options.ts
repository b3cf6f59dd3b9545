import { WfsimError } from "../errors.ts";
import { instanceKind, SINGLE_INSTANCE, type Instance } from "./instance.ts";
import { describeReceived, instant, integer, number, oneOf, timeZone, type ValueKind } from "./values.ts";

export const CLOCKS = ["real", "virtual"] as const;
export type ClockKind = (typeof CLOCKS)[number];

/** The largest delay wfsim accepts, in ms: uniform draws are made from 32-bit integers. */
export const MAX_DELAY_MS = 2 ** 32 - 1;

/** Everything that decides what a simulation produces, fully resolved and validated. */
export interface SimOptions {
  /** Transactions to simulate. */
  readonly samples: number;
  /** Ordered steps per transaction. */
  readonly steps: number;
  /** Pre-step wait, drawn uniformly from the whole milliseconds in [preMin, preMax]. */
  readonly preMin: number;
  readonly preMax: number;
  /** Wait between two steps, drawn uniformly from the whole milliseconds in [interMin, interMax]. */
  readonly interMin: number;
  readonly interMax: number;
  /** Extra wait added to a gap between steps with probability outlierProb. */
  readonly outlierMs: number;
  readonly outlierProb: number;
  /** Transactions in flight at once; a new one opens as soon as one closes. */
  readonly concurrency: number;
  /** Root of every transaction's random stream. */
  readonly seed: number;
  /** Carried in each transaction_open event's meta, for the consumer's context. */
  readonly timezone: string;
  readonly clock: ClockKind;
  /** Simulated epoch ms of the first event. */
  readonly startTime: number;
  /** Simulated ms per real ms, on the real clock. */
  readonly speed: number;
  /** This process's share of a workload run by several processes (`--instance I/N`). */
  readonly instance: Instance;
}

/** What a caller may pass: any subset, values typed or as text (command line), `seed` may be "random". */
export type SimOptionsInput = { readonly [K in keyof SimOptions]?: SimOptions[K] | string } & {
  readonly seed?: number | "random" | string;
};

export const SIM_DEFAULTS = {
  samples: 100,
  steps: 5,
  preMin: 100,
  preMax: 2000,
  interMin: 200,
  interMax: 1200,
  outlierMs: 15000,
  outlierProb: 0.01,
  concurrency: 20,
  seed: 42,
  timezone: "Europe/Berlin",
  clock: "real",
  speed: 1,
  instance: SINGLE_INSTANCE,
} as const satisfies Omit<SimOptions, "startTime">;

const KINDS = {
  samples: integer(1),
  steps: integer(1, 100_000),
  preMin: integer(0, MAX_DELAY_MS),
  preMax: integer(0, MAX_DELAY_MS),
  interMin: integer(0, MAX_DELAY_MS),
  interMax: integer(0, MAX_DELAY_MS),
  outlierMs: integer(0, MAX_DELAY_MS),
  outlierProb: number(0, 1),
  concurrency: integer(1, 10_000_000),
  seed: {
    expected: `a whole number from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}, or random`,
    parse: integer(Number.MIN_SAFE_INTEGER).parse,
  },
  timezone: timeZone,
  clock: oneOf(CLOCKS),
  startTime: instant,
  speed: number(0, 1_000_000, { minExclusive: true }),
  instance: instanceKind,
} satisfies { [K in keyof SimOptions]: ValueKind<SimOptions[K]> };

export interface ResolveContext {
  /** How an option is named in messages: a flag on the command line, a key in the library. */
  readonly nameOf?: (key: keyof SimOptions) => string;
  /** Wall-clock epoch ms, the default start time. */
  readonly now?: () => number;
  /** Draws a seed for `seed: "random"`. */
  readonly randomSeed?: () => number;
}

export function invalidOption(name: string, expected: string, received: unknown): WfsimError {
  return new WfsimError("INVALID_OPTION", `${name} must be ${expected}, got ${describeReceived(received)}`);
}

/**
 * Validates every option, fills in defaults, and checks the options against each other. Throws a
 * WfsimError (INVALID_OPTION) naming the first bad option, what was expected and what was received.
 */
export function resolveSimOptions(input: SimOptionsInput = {}, context: ResolveContext = {}): SimOptions {
  const nameOf = context.nameOf ?? ((key) => key);

  function read<K extends keyof SimOptions>(key: K, fallback: () => SimOptions[K]): SimOptions[K] {
    const raw = input[key];
    if (raw === undefined) return fallback();
    const value = (KINDS[key] as ValueKind<SimOptions[K]>).parse(raw);
    if (value === undefined) throw invalidOption(nameOf(key), KINDS[key].expected, raw);
    return value;
  }

  const seed =
    input.seed === "random"
      ? (context.randomSeed ?? defaultRandomSeed)()
      : read("seed", () => SIM_DEFAULTS.seed);

  const options: SimOptions = {
    samples: read("samples", () => SIM_DEFAULTS.samples),
    steps: read("steps", () => SIM_DEFAULTS.steps),
    preMin: read("preMin", () => SIM_DEFAULTS.preMin),
    preMax: read("preMax", () => SIM_DEFAULTS.preMax),
    interMin: read("interMin", () => SIM_DEFAULTS.interMin),
    interMax: read("interMax", () => SIM_DEFAULTS.interMax),
    outlierMs: read("outlierMs", () => SIM_DEFAULTS.outlierMs),
    outlierProb: read("outlierProb", () => SIM_DEFAULTS.outlierProb),
    concurrency: read("concurrency", () => SIM_DEFAULTS.concurrency),
    seed,
    timezone: read("timezone", () => SIM_DEFAULTS.timezone),
    clock: read("clock", () => SIM_DEFAULTS.clock),
    startTime: read("startTime", () => Math.floor((context.now ?? Date.now)())),
    speed: read("speed", () => SIM_DEFAULTS.speed),
    instance: read("instance", () => SIM_DEFAULTS.instance),
  };

  for (const [min, max] of [
    ["preMin", "preMax"],
    ["interMin", "interMax"],
  ] as const) {
    if (options[min] > options[max]) {
      throw new WfsimError(
        "INVALID_OPTION",
        `${nameOf(min)} must not exceed ${nameOf(max)}, got ${options[min]} > ${options[max]}`,
      );
    }
  }
  if (options.clock === "virtual" && input.speed !== undefined) {
    throw new WfsimError(
      "INVALID_OPTION",
      `${nameOf("speed")} applies to the real clock only, got it with ${nameOf("clock")} virtual (which runs as fast as it can)`,
    );
  }
  if (options.instance.count > 1 && input.seed === "random") {
    throw new WfsimError(
      "INVALID_OPTION",
      `${nameOf("seed")} random cannot be combined with ${nameOf("instance")}: every instance must be given the same seed`,
    );
  }
  return options;
}

function defaultRandomSeed(): number {
  // 48 bits: plenty of distinct runs, and the number stays short enough to retype.
  const words = crypto.getRandomValues(new Uint32Array(2));
  return (words[0]! & 0xffff) * 2 ** 32 + words[1]!;
}
