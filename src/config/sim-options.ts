import { didYouMean } from "./scenario/check.ts";
import { WfsimError } from "../errors.ts";
import { DEFAULT_MAX_IN_FLIGHT, type OutlierSpec, type Scenario, type WorkflowSpec } from "./scenario/model.ts";
import { positiveDuration } from "./units.ts";
import { instanceKind, SINGLE_INSTANCE, type Instance } from "./instance.ts";
import { describeReceived, instant, integer, number, oneOf, timeZone, type ValueKind } from "./values.ts";

export const CLOCKS = ["real", "virtual"] as const;
export type ClockKind = (typeof CLOCKS)[number];

/** How events are stamped on the real clock: when emitted, or when due (see Simulation). */
export const TIMESTAMPS = ["actual", "planned"] as const;
export type TimestampKind = (typeof TIMESTAMPS)[number];

/** The largest delay wfsim accepts, in ms: uniform draws are made from 32-bit integers. */
export const MAX_DELAY_MS = 2 ** 32 - 1;

/** Everything that decides what a simulation produces, fully resolved and validated. */
export interface SimOptions {
  /** Transactions to simulate; Infinity: until stopped (or until `duration`). */
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
  /**
   * Closed model: transactions in flight at once; a new one opens as soon as one ends. Open model
   * (a scenario's): the cap on transactions in flight.
   */
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
  /**
   * Real clock: "actual" stamps each event with the time it is emitted, so the engine's lateness adds
   * to the gaps; "planned" with the time it was due, so the gaps are exactly the drawn ones. The same
   * on the virtual clock.
   */
  readonly timestamps: TimestampKind;
  /** Simulated ms after the start at which no transaction opens any more; those in flight finish. */
  readonly duration: number | undefined;
  /**
   * The workload, when it comes from a scenario (with flags' overrides applied): then steps, preMin,
   * preMax, interMin, interMax, outlierMs and outlierProb describe nothing that runs.
   */
  readonly scenario?: Scenario | undefined;
  /** This process's share of a workload run by several processes (`--instance I/N`). */
  readonly instance: Instance;
}

/** The options a command-line flag sets. */
export type FlagOptionKey = Exclude<keyof SimOptions, "scenario">;

/** What a caller may pass: any subset, values typed or as text (command line), `seed` may be "random". */
export type SimOptionsInput = { readonly [K in FlagOptionKey]?: SimOptions[K] | string } & {
  readonly seed?: number | "random" | string;
  /** A loaded scenario (loadScenario, parseScenario); the other options override its values. */
  readonly scenario?: Scenario | undefined;
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
  timestamps: "actual",
  instance: SINGLE_INSTANCE,
} as const satisfies Omit<SimOptions, "startTime" | "duration" | "scenario">;

const wholeSamples = integer(1);
const samplesKind: ValueKind<number> = {
  expected: `${wholeSamples.expected}, or unlimited`,
  parse: (raw) => (raw === "unlimited" || raw === Infinity ? Infinity : wholeSamples.parse(raw)),
};

const KINDS = {
  samples: samplesKind,
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
  startTime: { expected: `${instant.expected}, or now`, parse: instant.parse },
  speed: number(0, 1_000_000, { minExclusive: true }),
  timestamps: oneOf(TIMESTAMPS),
  duration: positiveDuration,
  instance: instanceKind,
} satisfies { [K in FlagOptionKey]: ValueKind<NonNullable<SimOptions[K]>> };

/** Options that shape the seed's one workflow: a scenario describes its workflows itself. */
const SEED_WORKFLOW_KEYS = ["steps", "preMin", "preMax", "interMin", "interMax"] as const;

export interface ResolveContext {
  /** How an option is named in messages: a flag on the command line, a key in the library. */
  readonly nameOf?: (key: FlagOptionKey) => string;
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

  function read<K extends FlagOptionKey>(key: K, fallback: () => SimOptions[K]): SimOptions[K] {
    const raw = input[key];
    if (raw === undefined) return fallback();
    const value = (KINDS[key] as ValueKind<SimOptions[K]>).parse(raw);
    if (value === undefined) throw invalidOption(nameOf(key), KINDS[key].expected, raw);
    return value;
  }

  // From JavaScript, a misspelt option would otherwise be ignored without a word.
  for (const key of Object.keys(input)) {
    if (!(key in KINDS) && key !== "scenario") {
      const known = [...Object.keys(KINDS), "scenario"];
      throw new WfsimError("INVALID_OPTION", `unknown option ${JSON.stringify(key)}${didYouMean(key, known)}; options: ${known.join(", ")}`);
    }
  }
  const scenario = input.scenario;
  if (scenario !== undefined) {
    for (const key of SEED_WORKFLOW_KEYS) {
      if (input[key] !== undefined) {
        throw new WfsimError(
          "INVALID_OPTION",
          `${nameOf(key)} does not apply to a scenario (${scenario.source}), whose workflows set their own steps and delays`,
        );
      }
    }
  }
  const now = context.now ?? Date.now;
  const seed =
    input.seed === "random"
      ? (context.randomSeed ?? defaultRandomSeed)()
      : read("seed", () => scenario?.seed ?? SIM_DEFAULTS.seed);
  const duration = read("duration", () => scenario?.durationMs);
  const open = scenario?.load.model === "open";
  // Bounded by nothing else, the closed model runs the seed's 100 transactions; a duration, or an
  // open model (bounded by its stages, or running until stopped), needs no count.
  const samples = read("samples", () => scenario?.samples ?? (duration !== undefined || open ? Infinity : SIM_DEFAULTS.samples));
  const concurrency = read("concurrency", () => {
    if (scenario?.load.model === "open") return scenario.load.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    return scenario?.load.concurrency ?? SIM_DEFAULTS.concurrency;
  });

  const options: SimOptions = {
    samples,
    steps: read("steps", () => SIM_DEFAULTS.steps),
    preMin: read("preMin", () => SIM_DEFAULTS.preMin),
    preMax: read("preMax", () => SIM_DEFAULTS.preMax),
    interMin: read("interMin", () => SIM_DEFAULTS.interMin),
    interMax: read("interMax", () => SIM_DEFAULTS.interMax),
    outlierMs: read("outlierMs", () => SIM_DEFAULTS.outlierMs),
    outlierProb: read("outlierProb", () => SIM_DEFAULTS.outlierProb),
    concurrency,
    seed,
    timezone: read("timezone", () => scenario?.timezone ?? SIM_DEFAULTS.timezone),
    clock: read("clock", () => SIM_DEFAULTS.clock),
    startTime: input.startTime === "now" ? Math.floor(now()) : read("startTime", () => scenario?.startTime ?? Math.floor(now())),
    speed: read("speed", () => SIM_DEFAULTS.speed),
    timestamps: read("timestamps", () => SIM_DEFAULTS.timestamps),
    duration,
    instance: read("instance", () => SIM_DEFAULTS.instance),
  };
  if (scenario !== undefined) {
    refusePastScenarioStart(options, scenario, input.startTime !== undefined, now(), nameOf);
    const overrides = {
      ...(input.outlierProb === undefined ? {} : { prob: options.outlierProb }),
      ...(input.outlierMs === undefined ? {} : { extraMs: options.outlierMs }),
    };
    return { ...options, scenario: overrideOutliers(scenario, overrides) };
  }

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

/**
 * On the real clock, events happen now and are stamped from the start time on: a scenario's
 * start_time in the past would date them months back, silently (and retention would delete them).
 * Taken from the scenario, it is refused; given as an option (`--start-time`), it was asked for.
 */
function refusePastScenarioStart(options: SimOptions, scenario: Scenario, given: boolean, nowMs: number, nameOf: (key: FlagOptionKey) => string): void {
  if (given || options.clock !== "real" || scenario.startTime === undefined || scenario.startTime >= nowMs) return;
  const at = new Date(scenario.startTime).toISOString().replace(".000Z", "Z");
  throw new WfsimError(
    "INVALID_OPTION",
    `${scenario.source}: start_time ${at} is in the past, and on the real clock the events would be stamped from then on while they happen now; ` +
      `give ${nameOf("startTime")} now to start now, or ${nameOf("startTime")} ${at} to keep it (or ${nameOf("clock")} virtual)`,
  );
}

/**
 * --outlier-prob and --outlier-ms on a scenario: the probability replaces every workflow's (a workflow
 * without outliers gets them per gap, of --outlier-ms or the seed's 15000 ms); the size replaces every
 * outlier's extra wait.
 */
function overrideOutliers(scenario: Scenario, overrides: { prob?: number; extraMs?: number }): Scenario {
  if (overrides.prob === undefined && overrides.extraMs === undefined) return scenario;
  const workflows = scenario.workflows.map((workflow): WorkflowSpec => {
    const current = workflow.outlier;
    if (current === undefined && overrides.prob === undefined) return workflow;
    const outlier: OutlierSpec = {
      prob: overrides.prob ?? current!.prob,
      extra:
        overrides.extraMs !== undefined
          ? { kind: "constant", value: overrides.extraMs }
          : (current?.extra ?? { kind: "constant", value: SIM_DEFAULTS.outlierMs }),
      per: current?.per ?? "gap",
    };
    return { ...workflow, outlier };
  });
  return { ...scenario, workflows };
}

function defaultRandomSeed(): number {
  // 48 bits: plenty of distinct runs, and the number stays short enough to retype.
  const words = crypto.getRandomValues(new Uint32Array(2));
  return (words[0]! & 0xffff) * 2 ** 32 + words[1]!;
}
