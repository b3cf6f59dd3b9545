import { setFlagsFromString } from "node:v8";
import { Command, CommanderError, Option } from "commander";
import { isWfsimError, printable, WfsimError } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { CommandContext, RunFlags } from "./run-command.ts";
import { KAFKA_FLAGS, OUTPUT_FLAGS, SCENARIO_FLAGS, SIM_FLAGS, type FlagSpec } from "./run-flags.ts";
import type { AnalyzeFlags } from "./analyze-command.ts";
import { ANALYZE_DEFAULTS } from "../analyze/options.ts";
import { ANALYZE_KAFKA_FLAGS, COMPARE_KAFKA_FLAGS, FOLLOW_FLAGS } from "./analyze-flags.ts";
import { TOPIC_FLAGS } from "./topics-command.ts";
import { REGISTRY_CONNECTION_FLAGS, REGISTRY_FLAGS } from "./registry-flags.ts";
import { LIVE_FLAGS } from "./live-flags.ts";
import { alertFieldFlags } from "./alert-field-flags.ts";
import type { CompareFlags } from "./compare-command.ts";

export interface Io {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

const COMMANDS = ["run", "validate", "schema", "analyze", "compare", "topics", "help"];

function addFlags(command: Command, specs: Record<string, FlagSpec>): void {
  for (const spec of Object.values(specs)) {
    const help = spec.defaultText === undefined ? spec.help : `${spec.help} (default: ${spec.defaultText})`;
    const option = new Option(spec.syntax, help);
    if (spec.group !== undefined) option.helpGroup(spec.group);
    command.addOption(option);
  }
}

function buildProgram(io: Io, context: CommandContext, setExit: (code: number) => void): Command {
  const program = new Command("wfsim")
    .description(
      "Simulate multi-step business transactions and emit their lifecycle events as JSON Lines or into Kafka.\n" +
        "With flags and no command, wfsim runs `wfsim run`; with nothing at all, it prints this help.",
    )
    .version(VERSION, "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => {},
    });

  const run = program
    .command("run", { isDefault: true })
    .description("simulate transactions and write their events (JSON Lines on stdout by default, or to Kafka)")
    .allowExcessArguments(false);
  addFlags(run, SCENARIO_FLAGS);
  addFlags(run, SIM_FLAGS);
  addFlags(run, OUTPUT_FLAGS);
  addFlags(run, KAFKA_FLAGS);
  addFlags(run, REGISTRY_FLAGS);
  addFlags(run, LIVE_FLAGS);
  // Commands are loaded when they run: the Kafka client alone takes a third of a second to load, and
  // `wfsim --help` or a JSON Lines run should not pay for it.
  run.action(async (flags: RunFlags) => {
    const { runCommand } = await import("./run-command.ts");
    setExit(await runCommand(flags, context));
  });

  program
    .command("validate")
    .description("check a scenario file (YAML or JSON) without running it; exit 2 with the first problem")
    .argument("<file>", "the scenario file")
    .allowExcessArguments(false)
    .action(async (file: string) => {
      const { validateCommand } = await import("./validate-command.ts");
      setExit(await validateCommand(file, io.stdout));
    });

  program
    .command("schema")
    .description("print the JSON Schema of wfsim's events, or of a scenario file, or of a truth file's lines; or the Avro or Protobuf schema of wfsim run's files")
    .option("--scenario [file]", "the JSON Schema of scenario files, for editors; with a FILE, of the records that scenario writes")
    .option("--truth", "the JSON Schema of the lines of a truth file (wfsim run --truth)")
    .option("--format <format>", "json (a JSON Schema), or the schema of wfsim run --format avro|protobuf files: avro (.avsc), protobuf (.proto)", "json")
    .allowExcessArguments(false)
    .action(async (options: { scenario?: boolean | string; truth?: boolean; format?: string }) => {
      const { schemaCommand } = await import("./schema-command.ts");
      setExit(await schemaCommand(io.stdout, options));
    });

  const analyze = program
    .command("analyze")
    .description("analyse JSON Lines events (wfsim's or the reference script's, from files, stdin or Kafka): figures, outliers against ground truth, stream checks; --follow: live alerts")
    .argument("[files...]", "JSON Lines files merged by ts_ms into one stream (the outputs of --instance runs); - or none for stdin")
    .addOption(new Option("--concat", "read several files one after the other instead of merging them by ts_ms"))
    .addOption(new Option("--status-every <seconds>", "with stderr not a terminal, a status line (bytes and events read, rate, ETA) this often; 0: none (default: 10; a terminal gets one line redrawn in place)"))
    .addOption(new Option("--format <text|json>", "report on stdout: text or json (default: text)"))
    .addOption(new Option("--html <file>", "also write a self-contained HTML report with charts to this file"))
    .addOption(new Option("--timezone <zone>", "the zone the HTML report shows stream times in, an IANA name (default: UTC)"))
    .addOption(new Option("--truth <file>", "take the ground truth from this truth file (written by wfsim run --truth) instead of the labels in the stream; delivery faults it records are undone before measuring (the stream checks still describe the stream as read)"))
    .addOption(new Option("--scenario <file>", "the scenario the stream comes from: with an output section, read its shaped records back into the lifecycle"))
    .addOption(new Option("--alerts <file|kafka:topic>", "score these alerts (JSON Lines with txn_id, optionally ts_ms and kind: outlier or stuck) against the ground truth: injected outliers and stuck transactions; kafka:TOPIC reads them from that topic (with --kafka-bootstrap and the other connection flags)"))
    .addOption(new Option("--outlier-measure <gap|duration>", `what is judged per transaction: its largest gap between steps, or its duration (default: ${ANALYZE_DEFAULTS.measure})`))
    .addOption(new Option("--outlier-rule <grouped|pooled>", `grouped: a baseline per workflow and gap (from_step -> to_step), or per workflow for durations; pooled: one baseline for every gap of every workflow (default: ${ANALYZE_DEFAULTS.rule})`))
    .addOption(new Option("--mad-k <k>", `flag above k robust standard deviations: grouped, ln(1 + ms) > median + k × 1.4826 × MAD of the group's ln(1 + ms); pooled, ms > median + k × 1.4826 × MAD (default: ${ANALYZE_DEFAULTS.madK})`))
    .addOption(new Option("--threshold-ms <ms>", "flag above this fixed threshold instead"))
    .addOption(new Option("--list <n>", `flagged and missed transactions listed by name (default: ${ANALYZE_DEFAULTS.listLimit})`))
    .addOption(new Option("--interval <auto|duration>", "the breakdown over time: one row per interval (30s, 1m, 1h, ...); auto: the smallest of 1s, 10s, 1m, 5m, 15m, 1h, 6h, 1d, 7d giving at most 200 rows (default: auto)"))
    .addOption(new Option("--dry-run", "check every flag and the scenario, say in one line on stderr what would be read, and exit 0 without opening a file or connecting"))
    .addOption(new Option("--windows <size>", "also compute golden windowed results: tumbling event-time windows of this size (500ms, 30s, 1m, 5m, 1h), aligned on the epoch; see below").helpGroup("Golden windows:"))
    .addOption(new Option("--by <workflow|step>", "one row per window and workflow, or per window, workflow and step (default: one row per window)").helpGroup("Golden windows:"))
    .addOption(new Option("--windows-out <file>", "where the windows go (required with --windows): FILE, or - for stdout (which then carries the windows instead of the report)").helpGroup("Golden windows:"))
    .addOption(new Option("--windows-format <jsonl|csv>", "JSON Lines or CSV (default: from the file's extension, .csv for CSV, else JSON Lines)").helpGroup("Golden windows:"));
  addFlags(analyze, alertFieldFlags("--alerts"));
  addFlags(analyze, ANALYZE_KAFKA_FLAGS);
  addFlags(analyze, REGISTRY_CONNECTION_FLAGS);
  addFlags(analyze, FOLLOW_FLAGS);
  analyze
    .addHelpText(
      "after",
      "\nPercentiles are nearest-rank: the p-th percentile is the smallest observed value v such that at least\n" +
        "p% of the values are <= v. A gap runs from step_done of one step to step_open of the next.\n" +
        "Outliers (grouped, the default): each gap is judged against the baseline of its workflow and gap\n" +
        "(from_step -> to_step), each duration against its workflow's; groups under 30 measurements borrow their\n" +
        "workflow's baseline (or the stream's); flagged, true positives and recall count gaps (or durations).\n" +
        "--outlier-rule pooled: a transaction is flagged when its largest gap (or duration) exceeds one threshold. Ground truth:\n" +
        "the labels in the stream (outlier_injected, stuck, the failure events), or --truth FILE for a stream\n" +
        "without them. Memory grows with the transactions open at once, not with the input.\n" +
        "Kafka: partition p of both topics holds the same transactions (keyed by txn_id); they are merged by record\n" +
        "timestamp. With --scenario FILE whose output section is shaped, FILE's topics are read instead (every name\n" +
        "its topic templates give) and merged the same way. --follow (Kafka, or one FILE that grows, like tail -f)\n" +
        "alerts once per transaction open longer than --stuck-ms, as JSON lines on stdout:\n" +
        '  {"type":"stuck_transaction_alert","txn_id":...,"ts_ms":...,"open_since_ms":...,"open_for_ms":...,...}\n' +
        "which analyze --alerts FILE can score afterwards.\n" +
        "Golden windows (--windows): window k holds ts_ms in [k*size, (k+1)*size). Per window: opened (by\n" +
        "transaction_open's ts_ms), completed / failed / aborted (by the ts_ms of the event that ends it), stuck (in the\n" +
        "window it opened in, when the truth, --truth or the stream's labels, says it was made to go silent), in_flight\n" +
        "(opened before the window's end, not ended before it), duration_p50/p95/p99/max_ms of those completed in the\n" +
        "window (duration_ms, nearest-rank). --by step: the same for each step (first step_open to step_done). Compare a\n" +
        "pipeline's windowed output with them: wfsim compare --expected GOLDEN --actual OUTPUT.",
    )
    .allowExcessArguments(false)
    .action(async (files: string[], flags: AnalyzeFlags) => {
      keepYoungGenerationSmall();
      // A bounded read of Kafka topics runs in a worker thread (analyze/read/kafka-worker-source.ts):
      // started now, it gets going while the analysis's modules load.
      if (boundedKafkaRead(files, flags)) {
        const worker = await import("../analyze/read/kafka-worker-source.ts");
        if (worker.readsInWorker(flags.schemaRegistry !== undefined, flags.kafkaSaslMechanism !== undefined)) worker.prestartWorkerRead();
      }
      const { analyzeCommand } = await import("./analyze-command.ts");
      setExit(await analyzeCommand(files, flags, { ...context, stdout: io.stdout, stdinIsTTY: process.stdin.isTTY === true }));
    });

  const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
  const compare = program
    .command("compare")
    .description("compare a pipeline's windowed results (JSON Lines, a file or a Kafka topic) with golden windows from wfsim analyze --windows; exit 0 within tolerance, 1 differences, 2 bad input")
    .addOption(new Option("--expected <file>", "the golden windows: the JSON Lines file of wfsim analyze --windows SIZE --windows-out FILE.jsonl"))
    .addOption(new Option("--actual <file|kafka:topic>", "the pipeline's windowed results, one JSON object per window (and group); kafka:TOPIC reads that topic (with --kafka-bootstrap); the last record of a window counts"))
    .addOption(new Option("--mapping <file>", "a YAML or JSON file mapping the pipeline's fields: window_start (a name, or {field, unit}), workflow, step, figures {FIGURE: FIELD}, tolerance {FIGURE: SPEC}; flags win over it").helpGroup("Mapping:"))
    .addOption(new Option("--window-field <name>", "the field holding the window's start (default: window_start_ms)").helpGroup("Mapping:"))
    .addOption(new Option("--window-unit <ms|s|iso>", "what that field holds: epoch ms, epoch seconds or ISO-8601 (default: ms for numbers, ISO-8601 for text)").helpGroup("Mapping:"))
    .addOption(new Option("--workflow-field <name>", "the field holding the workflow, with golden windows by workflow or step (default: workflow)").helpGroup("Mapping:"))
    .addOption(new Option("--step-field <name>", "the field holding the step number, with golden windows by step (default: step)").helpGroup("Mapping:"))
    .addOption(new Option("--field <figure=field>", "compare FIGURE (opened, completed, failed, aborted, stuck, in_flight, duration_p50_ms, ...p95, ...p99, duration_max_ms) with the pipeline's FIELD; repeatable (default: every figure the output has under its own name)").argParser(collect).helpGroup("Mapping:"))
    .addOption(new Option("--tolerance <figure=spec>", "how far FIGURE may be off: ABS (5), REL% (2%) or both (5,2%: within either); repeatable; counts default to exact, percentiles need one").argParser(collect).helpGroup("Mapping:"))
    .addOption(new Option("--report <file>", "also write the comparison as JSON: every difference, the tallies per figure"))
    .addOption(new Option("--html <file>", "also write a self-contained HTML page: expected against actual over time, one chart per figure"))
    .allowExcessArguments(false);
  addFlags(compare, COMPARE_KAFKA_FLAGS);
  compare.action(async (flags: CompareFlags) => {
    const { compareCommand } = await import("./compare-command.ts");
    setExit(await compareCommand(flags, { ...context, stdout: io.stdout }));
  });

  const topics = program
    .command("topics")
    .description("create, describe or delete wfsim's topics (and a pipeline's alerts topic) before a run: partitions, replication, retention, timestamp limits")
    .argument("<action>", "create, describe or delete")
    .allowExcessArguments(false);
  addFlags(topics, TOPIC_FLAGS);
  topics.action(async (action: string, flags: RunFlags) => {
    const { topicsCommand } = await import("./topics-command.ts");
    setExit(await topicsCommand(action, flags, { ...context, stdout: io.stdout }));
  });

  return program;
}

/**
 * Runs the command line and returns the exit code: 0 done, 2 a user's mistake (one line on stderr),
 * 3 events Kafka did not acknowledge, 130/143 stopped by SIGINT/SIGTERM, 1 a bug (with its stack).
 * Never exits the process itself.
 */
export async function runMain(argv: readonly string[], io: Io, signal: AbortSignal): Promise<number> {
  let exitCode = 0;
  const context: CommandContext = { signal, stderr: io.stderr };
  try {
    const first = argv[0];
    if (first !== undefined && !first.startsWith("-") && !COMMANDS.includes(first)) {
      throw new WfsimError("USAGE", `unknown command '${first}' (commands: run, validate, schema, analyze, compare, topics; see wfsim --help)`);
    }
    // Bare `wfsim` shows what it can do rather than start a minute-long run on the real clock.
    const args = argv.length === 0 ? ["--help"] : [...argv];
    await buildProgram(io, context, (code) => (exitCode = code)).parseAsync(args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      io.stderr.write(`wfsim: ${oneLine(error.message)}\n`);
      return 2;
    }
    if (isWfsimError(error) && error.isUserError) {
      io.stderr.write(`wfsim: ${printable(error.message)}\n`);
      return error.exitCode;
    }
    io.stderr.write(`wfsim: internal error, please report it: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
  if (signal.aborted) {
    if (signal.reason === "SIGINT") return 130;
    if (signal.reason === "SIGTERM") return 143;
  }
  return exitCode;
}

/** Commander's messages start with "error: " and may carry a second line ("Did you mean ...?"). */
function oneLine(message: string): string {
  return message
    .replace(/^error: /, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line, index) => (index === 0 ? line : `(${line.replace(/^\(|\)$/g, "").replace(/^D/, "d")})`))
    .join(" ");
}

/** Whether `wfsim analyze` is about to read Kafka topics to their end (kafka-source.ts openKafkaSource decides; this only guesses ahead). */
function boundedKafkaRead(files: readonly string[], flags: AnalyzeFlags): boolean {
  return files.length === 0 && flags.kafkaBootstrap !== undefined && flags.follow === undefined && flags.dryRun === undefined;
}

/**
 * The analysis's young generation stays at V8's first size (a 1 MiB semi-space) instead of growing to
 * 32 MiB ones: at the end of a 1.6 million-event analysis the new space held 55 to 64 MiB resident for
 * about 28 MiB of live old data, a third of the peak RSS. Measured (2026-12-06, load about 1, 5
 * alternated pairs): the 1.6M-event file 0.78 to 0.89 s against 0.83 to 0.86 s, peak RSS 117 to 123
 * against 169 to 181 MB; the 16M-event file about 5% slower (5.15 to 5.81 s against 5.18 to 5.36 s, 3
 * pairs), 132 to 158 against 184 to 187 MB. Set at run time, which V8 reads when the new space would
 * grow; left alone when the user chose a size (NODE_OPTIONS or node's own flags).
 */
function keepYoungGenerationSmall(): void {
  const chosen = [...process.execArgv, process.env["NODE_OPTIONS"] ?? ""].some((flag) => flag.includes("semi-space") || flag.includes("semi_space"));
  if (!chosen) setFlagsFromString("--semi-space-growth-factor=1");
}
