import { createWriteStream } from "node:fs";
import { isatty } from "node:tty";
import { concurrencyShare, samplesShare } from "../config/instance.ts";
import { loadDelivery, loadScenario } from "../config/scenario/load.ts";
import type { DeliverySpec, Scenario } from "../config/scenario/model.ts";
import { invalidOption, resolveSimOptions, type SimOptionsInput } from "../config/sim-options.ts";
import { number } from "../config/values.ts";
import { createShaper, createSimulation } from "../api/simulate.ts";
import type { EventSink } from "../engine/simulation.ts";
import type { DeliveryReport } from "../sinks/kafka/delivery.ts";
import type { KafkaSink } from "../sinks/kafka/kafka-sink.ts";
import { WfsimError } from "../errors.ts";
import { FdJsonlSink } from "../sinks/fast-jsonl/fd-jsonl-sink.ts";
import { TruthSink } from "../sinks/truth-sink.ts";
import { formatSummary, ProgressLine } from "./feedback.ts";
import { checkDelivery, formatDelivery, kafkaOptionsFromFlags, openKafkaDestination, writeUndelivered } from "./kafka-output.ts";
import { describeSystemError, openOutput, type OutputTarget } from "./output.ts";
import { describeRun } from "./dry-run.ts";
import { onForcedExit } from "./forced-exit.ts";
import { STALL_DEFAULTS, StallWatch } from "./kafka-stall.ts";
import { flagName, SIM_FLAGS } from "./run-flags.ts";
import { openRegistryRecords, registryOutputFromFlags } from "./registry-flags.ts";
import { checkLiveFlags, openLive } from "./live-flags.ts";
import { checkRunPaths, runPathsOf } from "./run-paths.ts";
import { stoppedDuringStartup } from "./startup-signal.ts";
import { checkShapeFlags, printSample, shapedKafkaRecords, shapedLines, withShapePartitions } from "./shaped-output.ts";

/** Bytes of truth lines waiting to be written above which the engine waits (as for events). */
const TRUTH_HIGH_WATER_BYTES = 8 * 1024 * 1024;

/** What the command line gave `wfsim run`: raw text, validated here. */
export type RunFlags = { readonly [key: string]: string | boolean | undefined };

export interface CommandContext {
  /** Aborted by SIGINT/SIGTERM (reason: the signal's name). */
  readonly signal: AbortSignal;
  readonly stderr: NodeJS.WriteStream;
}

/**
 * `wfsim run`: simulate and write JSON Lines, or publish to Kafka. Returns the process exit code.
 * With Kafka, connection problems are user errors (exit 2) before any event is made; events Kafka did
 * not acknowledge fail the run (exit 3) after the summary, which counts what was delivered per topic.
 * A first SIGINT/SIGTERM stops the simulation and still waits until everything emitted
 * (transaction_aborted included) is written or acknowledged.
 */
export async function runCommand(flags: RunFlags, context: CommandContext): Promise<number> {
  // What watches the run (endpoints, an alert source's Kafka connection) is closed however the run ends.
  const watching: Closable[] = [];
  try {
    return await runWatched(flags, context, watching);
  } finally {
    for (const live of watching) await live.close();
  }
}

/** Seconds between status lines on a stderr that is no terminal (--status-every). */
const STATUS_EVERY_SECONDS = 10;
const STATUS_EVERY = number(0, 86_400);

/** What watches a run and is closed when it ends, however it ends. */
type Closable = { close(): Promise<void> | void };

async function runWatched(flags: RunFlags, context: CommandContext, watching: Closable[]): Promise<number> {
  // Before anything is opened: a refused run leaves every existing file as it was.
  const paths = runPathsOf(flags, flagName);
  await checkRunPaths(paths.outputs, paths.inputs);
  const simInput: Record<string, unknown> = {};
  for (const key of Object.keys(SIM_FLAGS)) if (flags[key] !== undefined) simInput[key] = flags[key];
  if (flags.scenario !== undefined) {
    if (typeof flags.scenario !== "string" || flags.scenario.trim() === "") {
      throw new WfsimError("INVALID_OPTION", `${flagName("scenario")} must be a scenario file (YAML or JSON), got an empty value`);
    }
    simInput.scenario = await loadScenario(flags.scenario);
  }
  checkShapeFlags(flags, simInput.scenario as Scenario | undefined);
  const delivery = await deliveryOf(flags, simInput.scenario as Scenario | undefined);
  // A sample is a preview, made at once: it shows the times a virtual run would, unless a clock is asked for.
  if (flags.sample === true && simInput.clock === undefined && simInput.speed === undefined) simInput.clock = "virtual";
  const options = resolveSimOptions(simInput as SimOptionsInput, { nameOf: flagName });
  const quiet = flags.quiet === true;
  if (stoppedDuringStartup(context)) return 0; // runMain turns the signal into its exit code
  const statusEvery = flags.statusEvery === undefined ? STATUS_EVERY_SECONDS : STATUS_EVERY.parse(flags.statusEvery);
  if (statusEvery === undefined) throw invalidOption(flagName("statusEvery"), STATUS_EVERY.expected, flags.statusEvery);
  if (flags.sample === true) return printSample(options, flags);
  const kafka = withShapePartitions(kafkaOptionsFromFlags(flags), options);
  const registry = registryOutputFromFlags(flags, kafka, options.scenario?.output !== undefined);
  if (delivery !== undefined && registry !== undefined && delivery.faults.some((fault) => fault.kind === "corrupt")) {
    throw new WfsimError("INVALID_OPTION", `${delivery.source}: corrupt: not with a schema registry output (its records are encoded by the registry's schema); leave corrupt out or write JSON`);
  }
  // Refused here, before --dry-run's verdict and before any file is opened (emptied).
  if (kafka === undefined && (flags.format === "avro" || flags.format === "protobuf") && delivery?.faults.some((fault) => fault.kind === "corrupt" && fault.prob > 0) === true) {
    throw new WfsimError("INVALID_OPTION", `${delivery.source}: corrupt needs an output that can write a malformed record (JSON Lines or Kafka); ${flagName("format")} ${flags.format} writes typed records only`);
  }
  if (kafka === undefined && (flags.format === "avro" || flags.format === "protobuf")) {
    (await import("./binary-file.ts")).checkFileShape(flags.format, options.scenario?.output);
  }
  if (flags.dryRun === true) {
    checkLiveFlags(flags, kafka !== undefined);
    context.stderr.write(`wfsim: --dry-run: the flags are valid; ${describeRun(options, kafka, flags)}; nothing was opened or sent\n`);
    return 0;
  }
  if (flags.truth === "-") throw new WfsimError("INVALID_OPTION", `${flagName("truth")} must be a file: stdout carries the events`);
  const live = await openLive(flags, { stderr: context.stderr, quiet, signal: context.signal, kafka });
  if (live !== undefined) watching.push(live);
  const output = kafka === undefined ? await openOutput(flags.output as string | undefined, flagName("output")) : undefined;
  const shaper = createShaper(options, { inlineLabels: flags.truth === undefined, ...(typeof flags.blind === "boolean" ? { blind: flags.blind } : {}) });

  // Even with --quiet: without it, the run cannot be repeated.
  if (flags.seed === "random") {
    context.stderr.write(`wfsim: seed ${options.seed} (pass --seed ${options.seed} to repeat this run)\n`);
  }

  const controller = new AbortController();
  const stop = (reason: string) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  // A signal that came while the outputs were opened has already fired: it stops the run before its first event.
  if (context.signal.aborted) stop(String(context.signal.reason));
  else context.signal.addEventListener("abort", () => stop(String(context.signal.reason)), { once: true });

  let kafkaSink: KafkaSink | undefined;
  let stalls: Closable | undefined;
  let sink: EventSink;
  let close: () => Promise<DeliveryReport | undefined>;
  let destination: string;
  let outputError: Error | undefined;
  if (kafka !== undefined) {
    const plan = { startMs: options.startTime, clock: options.clock, speed: options.speed, durationMs: options.duration };
    const opened = await openKafkaDestination(
      kafka,
      { signal: context.signal, stderr: context.stderr, quiet },
      () => stop("Kafka delivery failed"),
      shaper !== undefined
        ? await shapedKafkaRecords(shaper, registry === undefined ? undefined : { output: registry, io: { stderr: context.stderr, quiet } })
        : registry === undefined
          ? undefined
          : await openRegistryRecords(registry, kafka, { stderr: context.stderr, quiet }),
      plan,
    );
    if (opened === undefined) {
      // Stopped by a signal while connecting: runMain turns it into its exit code.
      context.stderr.write(`wfsim: stopped by ${String(context.signal.reason)} while connecting to Kafka: nothing was sent\n`);
      return 0;
    }
    const openedSink = (kafkaSink = opened.sink);
    const undeliveredPath = typeof flags.undelivered === "string" ? flags.undelivered : undefined;
    const forget = onForcedExit(() => lostOnForcedExit(openedSink, undeliveredPath, shaper !== undefined));
    watching.push({ close: () => void forget() });
    stalls = watchStalls(openedSink, kafka.timeoutMs, context.stderr);
    watching.push(stalls);
    sink = openedSink;
    close = () => openedSink.close();
    destination = opened.description;
  } else {
    const target = output!;
    if (flags.format === "avro" || flags.format === "protobuf") {
      if (!target.owned && isatty(target.fd)) {
        throw new WfsimError("INVALID_OPTION", `${flagName("format")} ${flags.format} writes binary records: give ${flagName("output")} FILE, or pipe stdout to a reader`);
      }
      const { openBinaryFile } = await import("./binary-file.ts");
      const fileSink = openBinaryFile(flags.format, target, shaper, (error) => {
        outputError = error;
        stop("output closed");
      });
      sink = fileSink;
      close = () => fileSink.close().then(() => undefined);
      destination = target.description;
    } else {
      const fdSink = new FdJsonlSink(target.fd, {
        closeAtEnd: target.owned,
        ...(shaper === undefined ? {} : { lines: shapedLines(shaper, flags.routing === true) }),
        onError: (error) => {
          outputError = error;
          stop("output closed");
        },
      });
      sink = fdSink;
      close = () => fdSink.close().then(() => undefined);
      destination = target.description;
    }
  }

  // Opened (emptied) only now that the output is set up (the broker reached, the topics ready, the
  // schemas registered): a run refused before its first event leaves an existing truth file as it was.
  let truthTarget: OutputTarget | undefined;
  try {
    truthTarget = flags.truth === undefined ? undefined : await openOutput(flags.truth as string, flagName("truth"));
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  // The truth's bound on bytes waiting is the events' (FdJsonlSink's 8 MiB): at the stream's default
  // 16 KiB every chunk of fault lines (about a megabyte) made the engine wait for its write.
  const truth =
    truthTarget === undefined ? undefined : new TruthSink(createWriteStream(truthTarget.description, { fd: truthTarget.fd, highWaterMark: TRUTH_HIGH_WATER_BYTES }));

  const simulation = createSimulation(options, {
    sink: live?.tap(sink) ?? sink,
    ...(live?.onLabel === undefined ? {} : { onLabel: live.onLabel }),
    signal: controller.signal,
    ...(truth === undefined ? {} : { truth }),
    ...(shaper === undefined ? {} : { shaper }),
    ...(typeof flags.blind === "boolean" ? { blind: flags.blind } : {}),
    ...(delivery === undefined ? {} : { delivery }),
  });
  live?.attach(simulation, kafkaSink);
  const total = samplesShare(options.samples, options.instance);
  // A line redrawn in place on a terminal that the events scroll through too would be torn apart by them.
  const eventsOnTerminal = output !== undefined && isatty(output.fd);
  const terminal = context.stderr.isTTY === true;
  const shown = !quiet && (terminal ? !eventsOnTerminal : statusEvery > 0);
  const progress = shown ? new ProgressLine(context.stderr, total, () => simulation.progress(), { terminal }) : undefined;
  const started = performance.now();
  progress?.start(terminal ? 250 : statusEvery * 1000);
  const summary = await simulation.run().finally(() => progress?.stop());
  const report = await close();
  // Its last word (a delivery that resumed) before the summary, not after it.
  stalls?.close();
  await truth?.close({ end: true });
  await live?.finish(context.signal);
  const wallMs = performance.now() - started;

  if (outputError !== undefined) {
    // The reader went away (`wfsim run | head`): that is how such a run ends, quietly.
    if ((outputError as NodeJS.ErrnoException).code === "EPIPE") return 0;
    throw new WfsimError("OUTPUT", `cannot write to ${destination}: ${describeSystemError(outputError)}`, {
      cause: outputError,
    });
  }
  if (truth?.error !== undefined) {
    throw new WfsimError("OUTPUT", `cannot write to ${truthTarget!.description}: ${describeSystemError(truth.error)}`, { cause: truth.error });
  }
  if (!quiet) {
    context.stderr.write(
      formatSummary(summary, {
        wallMs,
        clock: options.clock,
        destination,
        ...(truthTarget === undefined ? {} : { truth: truthTarget.description }),
        ...(options.scenario === undefined ? {} : { scenario: options.scenario.name ?? options.scenario.source }),
        cap: concurrencyShare(options.concurrency, options.instance),
      }),
    );
  }
  if (kafka !== undefined && report !== undefined) {
    const what = shaper === undefined ? "events" : "records";
    if (!quiet) context.stderr.write(formatDelivery(report, kafka, what));
    // Even with --quiet, as the failure itself: a cut topic is not to be taken for a pipeline's bug.
    const keys = report.undelivered === 0 ? new Set<string>() : kafkaSink!.undeliveredKeys();
    const line = writeUndeliveredOrFail(keys, flags.undelivered, shaper !== undefined);
    if (line !== undefined) context.stderr.write(`${line}\n`);
    checkDelivery(report, kafka, what);
  }
  return 0;
}

/** --undelivered's list (checked writable before the run), as a one-line error if it cannot be written after all. */
function writeUndeliveredOrFail(keys: ReadonlySet<string>, path: string | boolean | undefined, shaped: boolean): string | undefined {
  const file = typeof path === "string" ? path : undefined;
  try {
    return writeUndelivered(keys, file, shaped);
  } catch (error) {
    throw new WfsimError("FILE", `${flagName("undelivered")} ${file}: cannot write (${describeSystemError(error)})`, { cause: error });
  }
}

/** The run's delivery faults: --delivery's, else the scenario's (on a shaped output, they act on its records). */
async function deliveryOf(flags: RunFlags, scenario: Scenario | undefined): Promise<DeliverySpec | undefined> {
  let delivery = scenario?.delivery;
  if (flags.delivery !== undefined) {
    if (typeof flags.delivery !== "string" || flags.delivery.trim() === "") {
      throw new WfsimError("INVALID_OPTION", `${flagName("delivery")} must be a file holding a delivery section or the section inline ({drop: {prob: 0.01}}), got an empty value`);
    }
    delivery = await loadDelivery(flags.delivery, scenario?.workflows.map((w) => w.name) ?? [], flagName("delivery"), scenario?.output?.records.map((r) => r.name));
  }
  return delivery;
}

/**
 * What a second signal loses of a Kafka run: the records emitted and not acknowledged (exit code 3),
 * and the transactions they belong to (listed in --undelivered's file).
 */
function lostOnForcedExit(sink: KafkaSink, undelivered: string | undefined, shaped: boolean): { line: string; exitCode: number } | undefined {
  const { records } = sink.buffered;
  const keys = sink.undeliveredKeys();
  let listed: string | undefined;
  try {
    listed = writeUndelivered(keys, undelivered, shaped);
  } catch (error) {
    listed = `wfsim: ${flagName("undelivered")} ${undelivered}: cannot write (${describeSystemError(error)})`;
  }
  const lost = records + sink.report().undelivered;
  if (lost === 0) return undefined;
  return {
    line:
      `wfsim: stopped at once by a second signal: ${lost.toLocaleString("en-US")} records emitted were not delivered to Kafka (the topics hold what was acknowledged before)` +
      (listed === undefined ? "" : `\n${listed}`),
    exitCode: 3,
  };
}

/** Tells on stderr when delivery stalls and when it resumes (kafka-stall.ts), until closed. */
function watchStalls(sink: KafkaSink, timeoutMs: number, stderr: NodeJS.WritableStream & { isTTY?: boolean }): Closable {
  const write = (line: string) => stderr.write(`${stderr.isTTY === true ? "\r\x1b[2K" : ""}${line}\n`);
  const settings = { ...STALL_DEFAULTS, timeoutMs, timeoutFlag: flagName("kafkaTimeout"), now: () => performance.now(), wallNow: () => Date.now() };
  const watch = new StallWatch(() => (sink.failure !== undefined ? "failed" : sink.waiting), settings, write);
  const timer = setInterval(() => watch.check(), STALL_DEFAULTS.checkEveryMs);
  timer.unref();
  return {
    close: () => {
      clearInterval(timer);
      watch.check();
    },
  };
}
