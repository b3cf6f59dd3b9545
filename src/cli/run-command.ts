import { createWriteStream } from "node:fs";
import { parseBootstrap, parseTopic, KAFKA_DEFAULTS } from "../config/kafka-options.ts";
import { loadScenario } from "../config/scenario/load.ts";
import { resolveSimOptions, type SimOptionsInput } from "../config/sim-options.ts";
import { createSimulation } from "../api/simulate.ts";
import { WfsimError } from "../errors.ts";
import { FdJsonlSink } from "../sinks/fast-jsonl/fd-jsonl-sink.ts";
import { TruthSink } from "../sinks/truth-sink.ts";
import { formatSummary, ProgressLine } from "./feedback.ts";
import { describeSystemError, openOutput } from "./output.ts";
import { flagName, SIM_FLAGS } from "./run-flags.ts";

/** What the command line gave `wfsim run`: raw text, validated here. */
export type RunFlags = { readonly [key: string]: string | boolean | undefined };

export interface CommandContext {
  /** Aborted by SIGINT/SIGTERM (reason: the signal's name). */
  readonly signal: AbortSignal;
  readonly stderr: NodeJS.WriteStream;
}

/** `wfsim run`: simulate and write JSON Lines. Returns the process exit code. */
export async function runCommand(flags: RunFlags, context: CommandContext): Promise<number> {
  const simInput: Record<string, unknown> = {};
  for (const key of Object.keys(SIM_FLAGS)) if (flags[key] !== undefined) simInput[key] = flags[key];
  if (flags.scenario !== undefined) {
    if (typeof flags.scenario !== "string" || flags.scenario.trim() === "") {
      throw new WfsimError("INVALID_OPTION", `${flagName("scenario")} must be a scenario file (YAML or JSON), got an empty value`);
    }
    simInput.scenario = await loadScenario(flags.scenario);
  }
  const options = resolveSimOptions(simInput as SimOptionsInput, { nameOf: flagName });
  const quiet = flags.quiet === true;

  if (flags.kafkaBootstrap !== undefined) {
    parseBootstrap(flags.kafkaBootstrap, flagName("kafkaBootstrap"));
    parseTopic(flags.topicSteps ?? KAFKA_DEFAULTS.topicSteps, flagName("topicSteps"));
    parseTopic(flags.topicTxn ?? KAFKA_DEFAULTS.topicTxn, flagName("topicTxn"));
    throw new WfsimError("INVALID_OPTION", `${flagName("kafkaBootstrap")} is not supported by this build of wfsim yet`);
  }
  const output = await openOutput(flags.output as string | undefined, flagName("output"));
  const truthTarget = flags.truth === undefined ? undefined : await openOutput(flags.truth as string, flagName("truth"));
  if (truthTarget !== undefined && !truthTarget.owned) {
    throw new WfsimError("INVALID_OPTION", `${flagName("truth")} must be a file: stdout carries the events`);
  }
  const truth = truthTarget === undefined ? undefined : new TruthSink(createWriteStream(truthTarget.description, { fd: truthTarget.fd }));

  if (flags.seed === "random" && !quiet) {
    context.stderr.write(`wfsim: seed ${options.seed} (pass --seed ${options.seed} to repeat this run)\n`);
  }

  const controller = new AbortController();
  const stop = (reason: string) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  context.signal.addEventListener("abort", () => stop(String(context.signal.reason)), { once: true });
  let outputError: Error | undefined;
  const sink = new FdJsonlSink(output.fd, {
    closeAtEnd: output.owned,
    onError: (error) => {
      outputError = error;
      stop("output closed");
    },
  });

  const simulation = createSimulation(options, { sink, signal: controller.signal, ...(truth === undefined ? {} : { truth }) });
  const progress =
    context.stderr.isTTY && !quiet ? new ProgressLine(context.stderr, options.samples, () => simulation.progress()) : undefined;
  const started = performance.now();
  progress?.start();
  const summary = await simulation.run().finally(() => progress?.stop());
  await sink.close();
  await truth?.close();
  const wallMs = performance.now() - started;
  if (truth?.error !== undefined) {
    throw new WfsimError("OUTPUT", `cannot write to ${truthTarget!.description}: ${describeSystemError(truth.error)}`, { cause: truth.error });
  }

  if (outputError !== undefined) {
    // The reader went away (`wfsim run | head`): that is how such a run ends, quietly.
    if ((outputError as NodeJS.ErrnoException).code === "EPIPE") return 0;
    throw new WfsimError("OUTPUT", `cannot write to ${output.description}: ${describeSystemError(outputError)}`, {
      cause: outputError,
    });
  }
  if (!quiet) {
    context.stderr.write(
      formatSummary(summary, {
        wallMs,
        clock: options.clock,
        destination: output.description,
        ...(truthTarget === undefined ? {} : { truth: truthTarget.description }),
        ...(options.scenario === undefined ? {} : { scenario: options.scenario.name ?? options.scenario.source }),
        cap: options.concurrency,
      }),
    );
  }
  return 0;
}
