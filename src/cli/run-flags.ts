import { SIM_DEFAULTS, type FlagOptionKey } from "../config/sim-options.ts";
import { KAFKA_DEFAULTS } from "../config/kafka-options.ts";

export interface FlagSpec {
  /** Commander's flag syntax, e.g. "--samples <n>". */
  readonly syntax: string;
  readonly help: string;
  /** Shown as "(default: ...)"; the value itself comes from the options' defaults. */
  readonly defaultText?: string;
}

/** The flags of `wfsim run` that map one to one onto simulation options; names and defaults are the reference script's. */
export const SIM_FLAGS = {
  samples: {
    syntax: "--samples <n>",
    help: "transactions to simulate, or unlimited; a scenario's own count otherwise, and no limit when a duration is given",
    defaultText: `${SIM_DEFAULTS.samples}`,
  },
  steps: { syntax: "--steps <n>", help: "ordered steps per transaction", defaultText: `${SIM_DEFAULTS.steps}` },
  preMin: { syntax: "--pre-min <ms>", help: "shortest wait before each step", defaultText: `${SIM_DEFAULTS.preMin}` },
  preMax: { syntax: "--pre-max <ms>", help: "longest wait before each step", defaultText: `${SIM_DEFAULTS.preMax}` },
  interMin: { syntax: "--inter-min <ms>", help: "shortest wait between two steps", defaultText: `${SIM_DEFAULTS.interMin}` },
  interMax: { syntax: "--inter-max <ms>", help: "longest wait between two steps", defaultText: `${SIM_DEFAULTS.interMax}` },
  outlierMs: { syntax: "--outlier-ms <ms>", help: "extra wait of an outlier gap", defaultText: `${SIM_DEFAULTS.outlierMs}` },
  outlierProb: {
    syntax: "--outlier-prob <p>",
    help: "probability, per gap between steps, of an outlier (0..1)",
    defaultText: `${SIM_DEFAULTS.outlierProb}`,
  },
  concurrency: {
    syntax: "--concurrency <n>",
    help: "transactions in flight at once (with a scenario's open model: the cap on them)",
    defaultText: `${SIM_DEFAULTS.concurrency}`,
  },
  seed: {
    syntax: "--seed <n|random>",
    help: "root of all randomness; random draws one and reports it on stderr",
    defaultText: `${SIM_DEFAULTS.seed}`,
  },
  timezone: {
    syntax: "--timezone <zone>",
    help: "IANA time zone carried in transaction_open's meta",
    defaultText: SIM_DEFAULTS.timezone,
  },
  clock: {
    syntax: "--clock <real|virtual>",
    help: "real waits for real; virtual runs as a discrete-event simulation with no waiting",
    defaultText: SIM_DEFAULTS.clock,
  },
  startTime: {
    syntax: "--start-time <time>",
    help: "simulated time of the first event: ISO-8601 or epoch ms",
    defaultText: "now",
  },
  speed: {
    syntax: "--speed <k>",
    help: "real clock only: run k times faster, timestamps stay on the simulated timeline",
    defaultText: `${SIM_DEFAULTS.speed}`,
  },
  duration: {
    syntax: "--duration <time>",
    help: "open no transaction after this much simulated time (250ms, 30s, 10m, 2h); those in flight finish",
  },
} as const satisfies { [K in FlagOptionKey]: FlagSpec };

/** Flags of `wfsim run` about scenarios and ground truth. */
export const SCENARIO_FLAGS = {
  scenario: {
    syntax: "--scenario <file>",
    help: "run the workflows and load of this scenario (YAML or JSON); flags given as well override its values",
  },
  truth: {
    syntax: "--truth <file>",
    help: "write ground-truth labels to this file (JSON Lines) and leave them out of the event stream",
  },
} as const satisfies Record<string, FlagSpec>;

export const OUTPUT_FLAGS = {
  output: { syntax: "-o, --output <file>", help: "write JSON Lines to this file instead of stdout" },
  kafkaBootstrap: {
    syntax: "--kafka-bootstrap <host:port,...>",
    help: "publish to Kafka at these brokers instead of writing JSON Lines",
  },
  topicSteps: {
    syntax: "--topic-steps <topic>",
    help: "Kafka topic for step events",
    defaultText: KAFKA_DEFAULTS.topicSteps,
  },
  topicTxn: {
    syntax: "--topic-txn <topic>",
    help: "Kafka topic for transaction events",
    defaultText: KAFKA_DEFAULTS.topicTxn,
  },
  quiet: { syntax: "-q, --quiet", help: "no progress line and no summary on stderr" },
} as const satisfies Record<string, FlagSpec>;

/** "--pre-min" for "preMin": how options are named in messages from the command line. */
export function flagName(key: string): string {
  const spec =
    (SIM_FLAGS as Record<string, FlagSpec>)[key] ??
    (OUTPUT_FLAGS as Record<string, FlagSpec>)[key] ??
    (SCENARIO_FLAGS as Record<string, FlagSpec>)[key];
  const long = spec?.syntax.split(/[ ,]+/).find((part) => part.startsWith("--"));
  return long ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
