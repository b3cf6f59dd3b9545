import { SIM_DEFAULTS, type FlagOptionKey } from "../config/sim-options.ts";
import { KAFKA_DEFAULTS, PASSWORD_ENV } from "../config/kafka-options.ts";

export interface FlagSpec {
  /** Commander's flag syntax, e.g. "--samples <n>". */
  readonly syntax: string;
  readonly help: string;
  /** Shown as "(default: ...)"; the value itself comes from the options' defaults. */
  readonly defaultText?: string;
  /** Heading the flag is listed under in --help, when not the command's own options. */
  readonly group?: string;
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
    help: "simulated time of the first event: now, ISO-8601 or epoch ms; on the real clock a scenario's start_time in the past is refused unless given here",
    defaultText: "now",
  },
  speed: {
    syntax: "--speed <k>",
    help: "real clock only: run k times faster, timestamps stay on the simulated timeline",
    defaultText: `${SIM_DEFAULTS.speed}`,
  },
  timestamps: {
    syntax: "--timestamps <actual|planned>",
    help: "real clock: stamp each event when it is emitted (actual), or when it was due (planned: the gaps are exactly the drawn ones, however late the engine wakes)",
    defaultText: SIM_DEFAULTS.timestamps,
  },
  duration: {
    syntax: "--duration <time>",
    help: "open no transaction after this much simulated time (250ms, 30s, 10m, 2h); those in flight finish",
  },
  instance: {
    syntax: "--instance <i/n>",
    help: "run part i (0 to n-1) of the workload shared by n processes: the transactions whose index is i mod n",
    defaultText: "0/1",
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
    help: "write ground-truth labels to this file (JSON Lines) and leave them out of the event stream; implies --blind",
  },
  delivery: {
    syntax: "--delivery <file|spec>",
    help: "inject delivery faults between the lifecycle and the output: a YAML/JSON file holding a delivery section, or the section inline ('{drop: {prob: 0.01}, delay: {prob: 0.01, by: 5s}}'); replaces a scenario's own; faults: drop, duplicate, delay, skew, corrupt, each recorded in --truth; with an output section they act on its records, filtered by records: [types] (docs/faults.md)",
  },
  sample: {
    syntax: "--sample",
    help: "print one transaction of each workflow (shaped, with a scenario's output section: the records' values, before any delivery fault) and exit; it takes the simulation's flags and refuses the others (outputs, faults, formats, live endpoints)",
  },
  routing: {
    syntax: "--routing",
    help: "with a scenario's output section: write each JSON line as {topic, key, headers, timestamp, value}, what Kafka would get",
  },
  blind: {
    syntax: "--blind",
    help: "leave out every field and event that announces a wait before it ends (inter_step_wait, pre_delay_ms, work_ms, backoff_ms) and the inline labels; transaction_open carries steps_planned",
  },
  noBlind: { syntax: "--no-blind", help: "with --truth: keep the fields and events --blind leaves out (the labels still go to the truth file)" },
} as const satisfies Record<string, FlagSpec>;

export const OUTPUT_FLAGS = {
  output: { syntax: "-o, --output <file>", help: "write JSON Lines to this file instead of stdout" },
  quiet: { syntax: "-q, --quiet", help: "no progress line and no summary on stderr" },
  statusEvery: {
    syntax: "--status-every <seconds>",
    help: "with stderr not a terminal, a status line (done, in flight, events/s) this often; 0: none (a terminal gets one line redrawn in place)",
    defaultText: "10",
  },
  dryRun: {
    syntax: "--dry-run",
    help: "check every flag and the scenario, say in one line on stderr what would run, and exit 0 without opening a file or connecting (for command lines in manifests and scripts)",
  },
} as const satisfies Record<string, FlagSpec>;

const KAFKA = "Kafka output:";

/** The flags of the Kafka output; they need --kafka-bootstrap. */
export const KAFKA_FLAGS = {
  kafkaBootstrap: {
    syntax: "--kafka-bootstrap <host:port,...>",
    help: "publish the events to Kafka at these brokers instead of writing JSON Lines",
    group: KAFKA,
  },
  topicTxn: {
    syntax: "--topic-txn <topic>",
    help: "topic for the transaction events (open, close, aborted, failed)",
    defaultText: KAFKA_DEFAULTS.topicTxn,
    group: KAFKA,
  },
  topicSteps: {
    syntax: "--topic-steps <topic>",
    help: "topic for the step events (step_open, step_done, inter_step_wait, step_failed, step_retry)",
    defaultText: KAFKA_DEFAULTS.topicSteps,
    group: KAFKA,
  },
  acks: {
    syntax: "--acks <all|1|0>",
    help: "acknowledgement each batch waits for; all also makes the producer idempotent (no duplicates)",
    defaultText: KAFKA_DEFAULTS.acks,
    group: KAFKA,
  },
  compression: {
    syntax: "--compression <codec>",
    help: "none, gzip, snappy, lz4 or zstd (Node.js 22.15+)",
    defaultText: KAFKA_DEFAULTS.compression,
    group: KAFKA,
  },
  partitions: {
    syntax: "--partitions <n>",
    help: "partitions of topics wfsim creates (existing topics are used as they are)",
    defaultText: "the cluster's num.partitions",
    group: KAFKA,
  },
  replicationFactor: {
    syntax: "--replication-factor <n>",
    help: "replication factor of topics wfsim creates",
    defaultText: "the cluster's default.replication.factor",
    group: KAFKA,
  },
  kafkaTimeout: {
    syntax: "--kafka-timeout <ms>",
    help: "how long to wait for Kafka: to connect at the start, and for each batch to be acknowledged",
    defaultText: `${KAFKA_DEFAULTS.timeoutMs}`,
    group: KAFKA,
  },
  undelivered: {
    syntax: "--undelivered <file>",
    help: "when delivery fails or a second signal cuts it short, list here the transactions (record keys) whose records were not all acknowledged, one per line (written empty when all were)",
    group: KAFKA,
  },
  kafkaSsl: { syntax: "--kafka-ssl", help: "connect with TLS (trusting the system's CAs unless --kafka-ca)", group: KAFKA },
  kafkaCa: { syntax: "--kafka-ca <file>", help: "PEM file of the CA(s) to trust for the brokers' certificates", group: KAFKA },
  kafkaCert: { syntax: "--kafka-cert <file>", help: "PEM client certificate, for brokers that check clients (with --kafka-key)", group: KAFKA },
  kafkaKey: { syntax: "--kafka-key <file>", help: "PEM private key of --kafka-cert", group: KAFKA },
  kafkaSaslMechanism: {
    syntax: "--kafka-sasl-mechanism <name>",
    help: "log in with SASL: plain, scram-sha-256 or scram-sha-512",
    group: KAFKA,
  },
  kafkaUser: { syntax: "--kafka-user <name>", help: "SASL user name", group: KAFKA },
  kafkaPasswordFile: {
    syntax: "--kafka-password-file <file>",
    help: `file holding the SASL password (default: the ${PASSWORD_ENV} environment variable); never given on the command line`,
    group: KAFKA,
  },
} as const satisfies Record<string, FlagSpec>;

/** "--pre-min" for "preMin": how options are named in messages from the command line. */
export function flagName(key: string): string {
  const spec =
    (SIM_FLAGS as Record<string, FlagSpec>)[key] ??
    (OUTPUT_FLAGS as Record<string, FlagSpec>)[key] ??
    (KAFKA_FLAGS as Record<string, FlagSpec>)[key] ??
    (SCENARIO_FLAGS as Record<string, FlagSpec>)[key];
  const long = spec?.syntax.split(/[ ,]+/).find((part) => part.startsWith("--"));
  return long ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
