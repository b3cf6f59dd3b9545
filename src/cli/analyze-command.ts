import { once } from "node:events";
import { stat } from "node:fs/promises";
import { resolveOutlierOptions } from "../analyze/options.ts";
import { analyze, analyzeWithWindows, type AnalyzeOptions } from "../analyze/analyze.ts";
import { parseWindowSize, WINDOW_GROUPINGS, type WindowOptions } from "../analyze/score/golden-windows.ts";
import { windowFormatOf, windowParts, WINDOW_FORMATS, type WindowFormat } from "../analyze/render/windows.ts";
import { resolveFollowOptions, type FollowOptions } from "../follow/follow-options.ts";
import type { AnalysisReport } from "../analyze/report.ts";
import { renderHtml } from "../analyze/render/html.ts";
import { deletedBeforeRead, renderJson, renderText } from "../analyze/render/text.ts";
import { checkReadable, fileSource, type EventSource } from "../analyze/read/source.ts";
import { kafkaAlertsTopic, openKafkaAlerts } from "../analyze/read/kafka-alerts.ts";
import { TruthFile } from "../analyze/score/truth-file.ts";
import { clockOffsetsOf } from "../analyze/score/truth.ts";
import { checkRegistryInput, registryDecoderFromFlags } from "./registry-flags.ts";
import type { RegistryValueDecoder } from "../analyze/read/registry-values.ts";
import { resolveKafkaConnection, type KafkaConnection, type KafkaOptionsInput } from "../config/kafka-options.ts";
import { invalidOption } from "../config/sim-options.ts";
import { number, oneOf, timeZone } from "../config/values.ts";
import { AnalyzeStatus } from "./analyze-status.ts";
import { WfsimError } from "../errors.ts";
import { checkWritable, writeResult } from "./output.ts";
import { analyzeFlagName, ANALYZE_KAFKA_FLAGS, FOLLOW_FLAGS } from "./analyze-flags.ts";
import { shapedInput } from "./shaped-input.ts";
import { alertFieldsFromFlags } from "./alert-field-flags.ts";
import { shapedTopics } from "../analyze/read/shaped/topics.ts";
import { formatFollowSummary } from "./follow-feedback.ts";
import type { FollowSummary } from "../follow/follow.ts";
import type { StuckAlert } from "../follow/stuck-detector.ts";
import { openFollowLive } from "./live-flags.ts";
import type { CommandContext } from "./run-command.ts";

/** What the command line gave `wfsim analyze`: raw text (and switches), validated here and where the options are resolved. */
export type AnalyzeFlags = { readonly [key: string]: string | boolean | undefined };

export const ANALYZE_FLAG_NAMES: Record<string, string> = {
  format: "--format",
  html: "--html",
  alerts: "--alerts",
  truth: "--truth",
  thresholdMs: "--threshold-ms",
  madK: "--mad-k",
  measure: "--outlier-measure",
  rule: "--outlier-rule",
  listLimit: "--list",
  windows: "--windows",
  interval: "--interval",
};

const FORMATS = oneOf(["text", "json"] as const);
/** Seconds between status lines when stderr is not a terminal; 0 turns them off. */
export const STATUS_EVERY_SECONDS = 10;
const STATUS_EVERY = number(0, 86_400);

/** The inputs' total size, when they are all files (stdin's is not known). */
async function sizeOf(paths: readonly string[]): Promise<number | undefined> {
  if (paths.includes("-")) return undefined;
  try {
    const sizes = await Promise.all(paths.map(async (path) => (await stat(path)).size));
    return sizes.reduce((sum, size) => sum + size, 0);
  } catch {
    return undefined;
  }
}

type AnalyzeContext = CommandContext & { readonly stdout: NodeJS.WritableStream; readonly stdinIsTTY: boolean };

const text = (value: string | boolean | undefined): string | undefined => (typeof value === "string" ? value : undefined);

/**
 * `wfsim analyze [FILE...]`: reads events from files, stdin or Kafka, writes the report on stdout.
 * With --follow, follows Kafka: alerts on stdout, the report on stderr (or --report) when stopped.
 * Returns the exit code.
 */
export async function analyzeCommand(files: readonly string[], flags: AnalyzeFlags, context: AnalyzeContext): Promise<number> {
  const nameOf = (key: string) => ANALYZE_FLAG_NAMES[key] ?? analyzeFlagName(key);
  const statusEvery = flags.statusEvery === undefined ? STATUS_EVERY_SECONDS : STATUS_EVERY.parse(flags.statusEvery);
  if (statusEvery === undefined) throw invalidOption("--status-every", STATUS_EVERY.expected, flags.statusEvery);
  const zone = flags.timezone === undefined ? undefined : timeZone.parse(flags.timezone);
  if (flags.timezone !== undefined && zone === undefined) throw invalidOption("--timezone", timeZone.expected, flags.timezone);
  const format = flags.format === undefined ? "text" : FORMATS.parse(flags.format);
  if (format === undefined) throw invalidOption("--format", FORMATS.expected, flags.format);
  const alertsTopic = kafkaAlertsTopic(text(flags.alerts));
  const connection = kafkaInput(files, flags, alertsTopic !== undefined);
  // With FILE arguments, --kafka-bootstrap is there for --alerts kafka:TOPIC only.
  const kafka = files.length === 0 ? connection : undefined;
  const followOptions = followInput(flags, kafka !== undefined, files, nameOf);
  const scenario = await shapedInput(flags);
  const alertFields = alertFieldsFromFlags(flags, flags.alerts !== undefined, "--alerts");
  if (scenario?.output !== undefined && kafka !== undefined) {
    const topicFlag = (["topicTxn", "topicSteps"] as const).find((key) => flags[key] !== undefined);
    if (topicFlag !== undefined) {
      throw new WfsimError(
        "INVALID_OPTION",
        `${analyzeFlagName(topicFlag)} names wfsim's own topics, and --scenario ${String(flags.scenario)} has an output section that names the topics read (${scenario.output.topics.join(", ")}): drop ${analyzeFlagName(topicFlag)}`,
      );
    }
    if (followOptions?.group !== undefined) {
      throw new WfsimError(
        "INVALID_OPTION",
        `${analyzeFlagName("group")} does not read shaped topics yet: --scenario ${String(flags.scenario)} has an output section; follow its topics without ${analyzeFlagName("group")}`,
      );
    }
  }
  checkRegistryInput(flags, kafka !== undefined);
  const windows = windowsInput(flags, followOptions !== undefined);
  if (flags.dryRun === true) {
    resolveOutlierOptions({ measure: text(flags.outlierMeasure), rule: text(flags.outlierRule), thresholdMs: text(flags.thresholdMs), madK: text(flags.madK), listLimit: text(flags.list), interval: text(flags.interval) }, nameOf);
    const from = kafka !== undefined ? `Kafka at ${kafka.bootstrap.join(",")}` : files.length === 0 ? "stdin" : files.join(" ");
    const what = followOptions !== undefined ? `follow ${from}${followOptions.group === undefined ? "" : ` in group ${followOptions.group}`}` : `analyze ${from}`;
    context.stderr.write(`wfsim: --dry-run: the flags are valid; would ${what}; nothing was opened or read\n`);
    return 0;
  }

  const paths = kafka !== undefined ? [] : files.length === 0 ? ["-"] : files;
  const alertsPath = alertsTopic === undefined ? text(flags.alerts) : undefined;
  const truthPath = text(flags.truth);
  const inputs: NamedPath[] = [
    ...paths.map((path) => ({ path, what: "input" })),
    ...(alertsPath === undefined ? [] : [{ path: alertsPath, what: "--alerts" }]),
    ...(truthPath === undefined ? [] : [{ path: truthPath, what: "--truth" }]),
  ];
  const fromStdin = inputs.filter((input) => input.path === "-");
  if (fromStdin.length > 1) {
    const names = fromStdin.map((input) => (input.what === "input" ? "the events" : input.what)).join(" and ");
    throw new WfsimError("INVALID_OPTION", `stdin (-) can be read only once, got it for ${names}`);
  }
  for (const input of inputs) await checkReadable(input.path, input.what);
  const htmlOutput = flags.html === undefined ? undefined : { path: String(flags.html), what: "--html" };
  const reportOutput = flags.report === undefined ? undefined : { path: String(flags.report), what: "--report" };
  const windowsOutput = windows === undefined || windows.path === "-" ? undefined : { path: windows.path, what: "--windows-out" };
  const outputs = [htmlOutput, reportOutput, windowsOutput].filter((output) => output !== undefined);
  await refuseOverwriting(outputs, inputs);
  // Checked now, so that a bad path fails at once and not after reading 10 GB; opened (emptied) only
  // when what goes in is there: a refused analysis (a bad flag, windows longer than the run) leaves them as they were.
  for (const output of outputs) await checkWritable({ flag: output.what, path: output.path });
  try {
    const truth = truthPath === undefined ? undefined : await TruthFile.load(fileSource(truthPath));
    if (truth !== undefined && truth.file.invalid_lines > 0) {
      const first = truth.file.invalid_examples[0]!;
      context.stderr.write(
        `wfsim: --truth ${truthPath}: ${truth.file.invalid_lines} lines are not truth records and were skipped (first: line ${first.line}: ${first.reason})\n`,
      );
    }
    let alerts: EventSource | undefined = alertsPath === undefined ? undefined : fileSource(alertsPath);
    if (alertsTopic !== undefined) {
      const source = await openKafkaAlerts(connection!, alertsTopic, { signal: context.signal, nameOf: analyzeFlagName as (key: keyof KafkaOptionsInput) => string });
      if (source.deletedBeforeRead > 0) {
        context.stderr.write(
          `wfsim: --alerts kafka:${alertsTopic}: ${source.deletedBeforeRead} records were deleted from the topic before it was read (retention.ms): those alerts are not scored\n`,
        );
      }
      alerts = source;
    }
    const options = {
      alertFields,
      measure: text(flags.outlierMeasure),
      rule: text(flags.outlierRule),
      thresholdMs: text(flags.thresholdMs),
      madK: text(flags.madK),
      listLimit: text(flags.list),
      interval: text(flags.interval),
      alerts,
      truth,
      charts: htmlOutput !== undefined,
      nameOf,
      scenario,
    };
    let report: AnalysisReport;
    // A scenario with an output section: the values are its shaped records, decoded as its JSON Lines writes them.
    const decodedRecords = scenario?.output === undefined ? "events" : "shaped";
    if (kafka !== undefined && followOptions !== undefined) {
      const registry = await registryDecoderFromFlags(flags, kafka.timeoutMs, process.env, decodedRecords);
      report = await followStream({ kafka, registry }, followOptions, options, flags.quiet === true, context, { metrics: flags.metrics, ui: flags.ui });
    } else if (followOptions !== undefined) {
      report = await followStream({ path: paths[0]! }, followOptions, options, flags.quiet === true, context, { metrics: flags.metrics, ui: flags.ui });
    } else {
      if (paths.includes("-") && context.stdinIsTTY) context.stderr.write("wfsim: reading events from stdin (end with Ctrl-D)\n");
      // The Kafka client is loaded only when it is used: it takes a third of a second to load.
      const openKafkaSource = kafka === undefined ? undefined : (await import("../analyze/read/kafka-source.ts")).openKafkaSource;
      const sources =
        kafka !== undefined && openKafkaSource !== undefined
          ? [
              await openKafkaSource(kafka, {
                topics: scenario?.output === undefined ? undefined : shapedTopics(scenario),
                signal: context.signal,
                nameOf: analyzeFlagName as (key: keyof KafkaOptionsInput) => string,
                registry: await registryDecoderFromFlags(flags, kafka.timeoutMs, process.env, decodedRecords),
                // A shaped stream's faults are undone transaction by transaction (read/shaped/fault-repair.ts), its keys are the shape's.
                clockOffsets: scenario?.output === undefined ? clockOffsetsOf(truth?.faultRecords) : undefined,
              }),
            ]
          : paths.map(fileSource);
      const status = new AnalyzeStatus({
        stream: context.stderr,
        everySeconds: statusEvery,
        now: () => performance.now(),
        totalBytes: kafka === undefined ? await sizeOf(paths) : undefined,
      });
      try {
        const given = { ...options, merge: flags.concat !== true, signal: context.signal, progress: status.progress };
        if (windows === undefined) report = await analyze(sources, given);
        else {
          const result = await analyzeWithWindows(sources, { ...given, windows: windows.options });
          report = result.report;
          const parts = windowParts(result.windows.rows, result.windows.by, windows.format);
          if (windowsOutput === undefined) {
            for (const part of parts) if (!context.stdout.write(part)) await once(context.stdout, "drain");
          } else {
            await writeResult({ flag: windowsOutput.what, path: windowsOutput.path }, parts);
            context.stderr.write(`wfsim: ${result.windows.rows.length} windows written to ${windowsOutput.path}\n`);
          }
          if (result.windows.late_completions > 0) {
            context.stderr.write(
              `wfsim: warning: --windows: ${result.windows.late_completions} transactions completed more than ${result.windows.size_ms}ms (or a minute) after their window had closed in the stream: counted, but their durations are not in the percentiles\n`,
            );
          }
        }
      } finally {
        status.done();
      }
    }
    for (const warning of report.warnings) context.stderr.write(`wfsim: warning: ${warning}\n`);
    if (report.kafka !== undefined && report.kafka.deleted_before_read > 0) context.stderr.write(`wfsim: warning: ${deletedBeforeRead(report.kafka)}\n`);
    if (htmlOutput !== undefined) {
      await writeResult({ flag: htmlOutput.what, path: htmlOutput.path }, await renderHtml(report, { timeZone: zone }));
      context.stderr.write(`wfsim: HTML report written to ${htmlOutput.path}\n`);
    }
    const rendered = format === "json" ? renderJson(report) : renderText(report);
    if (windows?.path === "-" && reportOutput === undefined) {
      // stdout carried the windows: the report is not mixed into them.
    } else if (reportOutput !== undefined) {
      await writeResult({ flag: reportOutput.what, path: reportOutput.path }, rendered);
      context.stderr.write(`wfsim: report written to ${reportOutput.path}\n`);
    } else if (followOptions !== undefined) {
      context.stderr.write(rendered);
    } else {
      context.stdout.write(rendered);
    }
    if (context.signal.aborted) context.stderr.write(`wfsim: stopped by ${String(context.signal.reason)}; the report covers what was read until then\n`);
    return 0;
  } catch (error) {
    // Stopped while connecting to Kafka: nothing was read, there is nothing to report.
    if (context.signal.aborted && !(error instanceof WfsimError)) return 0;
    throw error;
  }
}

/** --windows and its companions, validated; undefined without --windows. */
function windowsInput(flags: AnalyzeFlags, following: boolean): { options: WindowOptions; path: string; format: WindowFormat } | undefined {
  if (flags.windows === undefined) {
    const orphan = ["by", "windowsOut", "windowsFormat"].find((key) => flags[key] !== undefined);
    if (orphan !== undefined) throw new WfsimError("INVALID_OPTION", `${analyzeFlagName(orphan)} applies to --windows SIZE`);
    return undefined;
  }
  if (following) throw new WfsimError("INVALID_OPTION", "--windows reads a stream to its end: it does not go with --follow");
  const sizeMs = parseWindowSize(flags.windows, "--windows");
  const by = flags.by === undefined ? undefined : GROUPINGS.parse(flags.by);
  if (flags.by !== undefined && by === undefined) throw invalidOption("--by", GROUPINGS.expected, flags.by);
  const path = text(flags.windowsOut);
  if (path === undefined || path.trim() === "") {
    throw new WfsimError("INVALID_OPTION", "--windows needs --windows-out FILE (.jsonl or .csv), or --windows-out - for stdout (then stdout carries the windows, not the report)");
  }
  const format = flags.windowsFormat === undefined ? (path === "-" ? "jsonl" : windowFormatOf(path)) : WINDOW_FORMAT.parse(flags.windowsFormat);
  if (format === undefined) throw invalidOption("--windows-format", WINDOW_FORMAT.expected, flags.windowsFormat);
  return { options: { sizeMs, by }, path, format };
}

const GROUPINGS = oneOf(WINDOW_GROUPINGS);
const WINDOW_FORMAT = oneOf(WINDOW_FORMATS);

/**
 * The Kafka connection to read events (no FILE arguments) or alerts (`--alerts kafka:TOPIC`) from, or
 * undefined; refuses mixed or orphan flags.
 */
function kafkaInput(files: readonly string[], flags: AnalyzeFlags, alertsFromKafka: boolean): KafkaConnection | undefined {
  const given = Object.keys(ANALYZE_KAFKA_FLAGS).filter((key) => flags[key] !== undefined);
  if (flags.kafkaBootstrap === undefined) {
    if (alertsFromKafka) {
      throw new WfsimError("INVALID_OPTION", `--alerts ${String(flags.alerts)} reads a Kafka topic: add ${analyzeFlagName("kafkaBootstrap")} HOST:PORT`);
    }
    const first = given[0];
    if (first !== undefined) {
      throw new WfsimError("INVALID_OPTION", `${analyzeFlagName(first)} applies to reading Kafka: add ${analyzeFlagName("kafkaBootstrap")} HOST:PORT`);
    }
    return undefined;
  }
  if (files.length > 0 && !alertsFromKafka) {
    throw new WfsimError(
      "INVALID_OPTION",
      `FILE arguments and ${analyzeFlagName("kafkaBootstrap")} exclude each other: events come from files or stdin, or from Kafka (got ${files.join(" ")}; with files, it serves --alerts kafka:TOPIC only)`,
    );
  }
  const input: Record<string, unknown> = {};
  for (const key of given) input[key] = flags[key];
  return resolveKafkaConnection(input as KafkaOptionsInput, { nameOf: analyzeFlagName }, "reading Kafka");
}

/** The follower's options with --follow; refuses its flags without it, and --follow without Kafka. */
function followInput(flags: AnalyzeFlags, fromKafka: boolean, files: readonly string[], nameOf: (key: string) => string): FollowOptions | undefined {
  if (flags.follow !== true) {
    const first = Object.keys(FOLLOW_FLAGS).find((key) => key !== "follow" && flags[key] !== undefined);
    if (first !== undefined) throw new WfsimError("INVALID_OPTION", `${analyzeFlagName(first)} applies to --follow`);
    return undefined;
  }
  if (!fromKafka) {
    if (files.length !== 1 || files[0] === "-") {
      const got = files.length === 0 || files[0] === "-" ? "stdin" : `${files.length} files`;
      throw new WfsimError("INVALID_OPTION", `--follow follows Kafka topics (${analyzeFlagName("kafkaBootstrap")}) or one growing FILE, got ${got}`);
    }
    if (flags.group !== undefined) throw new WfsimError("INVALID_OPTION", `${analyzeFlagName("group")} shares Kafka partitions between followers: it does not apply to following a file`);
  }
  return resolveFollowOptions(
    { stuckMs: text(flags.stuckMs), stuckClock: text(flags.stuckClock), group: text(flags.group), summaryMs: text(flags.summaryMs) },
    nameOf,
  );
}

/**
 * Follows Kafka topics or a growing file: alerts on stdout as they come, the rolling summary on
 * stderr, metrics and the live page when asked; the report when stopped.
 */
async function followStream(
  input: { readonly kafka: KafkaConnection; readonly registry: RegistryValueDecoder | undefined } | { readonly path: string },
  options: FollowOptions,
  analysis: Omit<AnalyzeOptions, "signal" | "nameOf">,
  quiet: boolean,
  context: AnalyzeContext,
  live: { readonly metrics: string | boolean | undefined; readonly ui: string | boolean | undefined },
): Promise<AnalysisReport> {
  // A reader of the alerts that goes away (`| head`) stops the follower like a signal would.
  const stop = new AbortController();
  const onStdoutError = () => stop.abort("output closed");
  context.stdout.on("error", onStdoutError);
  const signal = AbortSignal.any([context.signal, stop.signal]);
  const metrics = await openFollowLive(live, context.stderr, quiet);
  try {
    const common = {
      ...(metrics === undefined ? {} : { onReady: metrics.attach }),
      options,
      analysis,
      signal,
      nameOf: analyzeFlagName,
      onAlert: (alert: StuckAlert) => context.stdout.write(`${JSON.stringify(alert)}\n`),
      onSummary: quiet ? undefined : (summary: FollowSummary) => context.stderr.write(formatFollowSummary(summary)),
    };
    if ("path" in input) {
      const { followFile } = await import("../follow/file-follow.ts");
      return await followFile({ ...common, path: input.path });
    }
    const { follow } = await import("../follow/follow.ts");
    return await follow({
      ...common,
      connection: input.kafka,
      registry: input.registry,
      onNotice: quiet ? undefined : (message) => context.stderr.write(`wfsim: ${message}\n`),
    });
  } finally {
    context.stdout.off("error", onStdoutError);
    await metrics?.close();
  }
}

/** A file the command reads or writes, and how messages name it: "input", "--alerts", "--html", ... */
interface NamedPath {
  readonly path: string;
  readonly what: string;
}

/** An output file that is one of the inputs (or the other output) would be emptied before it is read: refused. */
async function refuseOverwriting(outputs: readonly NamedPath[], inputs: readonly NamedPath[]): Promise<void> {
  const identity = async (path: string) => {
    if (path === "-") return undefined;
    try {
      const info = await stat(path);
      return `${info.dev}:${info.ino}`;
    } catch {
      return undefined; // not there yet: it cannot be anything else
    }
  };
  const seen = new Map<string, NamedPath>();
  for (const input of inputs) {
    const id = await identity(input.path);
    if (id !== undefined) seen.set(id, input);
  }
  for (const output of outputs) {
    const id = await identity(output.path);
    if (id === undefined) continue;
    const other = seen.get(id);
    if (other !== undefined) {
      const role = other.what === "input" ? "an input file" : `the ${other.what} file`;
      throw new WfsimError("INVALID_OPTION", `${output.what} ${output.path} is ${role} (${other.path}): refusing to overwrite it`);
    }
    seen.set(id, output);
  }
}
