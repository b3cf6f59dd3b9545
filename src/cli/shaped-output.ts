/** `wfsim run`'s part in shaped outputs (a scenario's output section): flags, samples, writers. */
import { sampleTransactions } from "../api/sample.ts";
import type { SimOptions } from "../config/sim-options.ts";
import type { Scenario } from "../config/scenario/model.ts";
import { blindShapeProblem } from "../config/shape/blind.ts";
import type { Shaper } from "../engine/shape/shaper.ts";
import { WfsimError } from "../errors.ts";
import type { EventLineWriter } from "../sinks/fast-jsonl/fd-jsonl-sink.ts";
import { ShapedJsLines } from "../sinks/shaped/js-lines.ts";
import { shapedLineProgram, ShapedWasmLines } from "../sinks/shaped/wasm-lines.ts";
import { ShapedPlans } from "../sinks/shaped/plans.ts";
import type { KafkaRecordMapper } from "../sinks/kafka/records.ts";
import type { KafkaOptions } from "../config/kafka-options.ts";
import { flagName, SIM_FLAGS } from "./run-flags.ts";
import { openShapedRegistryRecords, type RegistryOutput } from "./registry-flags.ts";

type Flags = { readonly [key: string]: string | boolean | undefined };

/** Flags that need an output section, or that a shaped output replaces, are refused in one line. */
export function checkShapeFlags(flags: Flags, scenario: Scenario | undefined): void {
  const shaped = scenario?.output !== undefined;
  if (!shaped && flags.routing === true) {
    throw new WfsimError("INVALID_OPTION", `${flagName("routing")} applies to a scenario with an output section, which routes records to topics`);
  }
  if (shaped) {
    for (const key of ["topicTxn", "topicSteps"]) {
      if (flags[key] !== undefined) {
        throw new WfsimError("INVALID_OPTION", `${flagName(key)} does not apply to a shaped output: ${scenario!.source}'s output section names the topics`);
      }
    }
    const blind = typeof flags.blind === "boolean" ? flags.blind : flags.truth !== undefined;
    const problem = blind ? blindShapeProblem(scenario!.output!) : undefined;
    if (problem !== undefined) {
      const flag = flags.blind === true ? flagName("blind") : `${flagName("truth")} (which implies ${flagName("blind")})`;
      throw new WfsimError("INVALID_OPTION", `${flag}: ${scenario!.source}: ${problem}; give ${flagName("noBlind")} to keep it, or change the output section`);
    }
  }
}

/**
 * The JSON Lines writer of a shaped output: the WebAssembly line writer, or the compiled JavaScript
 * serializers for --routing and for records too wide for the line writer's records.
 */
export function shapedLines(shaper: Shaper, routing: boolean): (onChunk: (chunk: Uint8Array) => void) => EventLineWriter {
  return (onChunk) => {
    const plans = new ShapedPlans(shaper);
    const program = routing ? undefined : shapedLineProgram(plans);
    return program === undefined ? new ShapedJsLines(plans, onChunk, { routing }) : new ShapedWasmLines(plans, program, onChunk);
  };
}

/**
 * The Kafka records of a shaped output (loaded here: they bring the Kafka client along), their values
 * in a Schema Registry's wire format when one is given.
 */
export async function shapedKafkaRecords(
  shaper: Shaper,
  registry?: { readonly output: RegistryOutput; readonly io: { readonly stderr: NodeJS.WritableStream; readonly quiet: boolean } },
): Promise<KafkaRecordMapper> {
  const plans = new ShapedPlans(shaper);
  if (registry !== undefined) return openShapedRegistryRecords(registry.output, plans, registry.io);
  const { ShapedKafkaRecords } = await import("../sinks/shaped/kafka-records.ts");
  return new ShapedKafkaRecords(plans);
}

/** The partitions of topics wfsim creates: --partitions, else the output section's. */
export function withShapePartitions(kafka: KafkaOptions | undefined, options: SimOptions): KafkaOptions | undefined {
  const partitions = options.scenario?.output?.partitions;
  if (kafka === undefined || kafka.partitions !== undefined || partitions === undefined) return kafka;
  return { ...kafka, partitions };
}

/** `--sample`: one transaction per workflow on stdout. */
/** The flags a sample takes: the simulation's, the scenario, blindness and quiet. */
const SAMPLE_TAKES: ReadonlySet<string> = new Set([...Object.keys(SIM_FLAGS), "scenario", "sample", "blind", "noBlind", "quiet", "statusEvery"]);

export async function printSample(options: SimOptions, flags: Flags): Promise<number> {
  // Only what shapes the lifecycle and its records: an output, faults, a wire format or live
  // endpoints given here would be ignored, and a preview that ignores a flag misleads.
  const stray = Object.keys(flags).find((key) => flags[key] !== undefined && !SAMPLE_TAKES.has(key));
  if (stray !== undefined) {
    throw new WfsimError("INVALID_OPTION", `${flagName("sample")} prints each workflow's records as shaped to stdout and exits: it takes no ${flagName(stray)} (a run with --samples 1 does)`);
  }
  const { createShaper } = await import("../api/simulate.ts");
  const lines = await sampleTransactions(options, createShaper(options, { inlineLabels: true }));
  // Like the events of a run, straight to stdout.
  await new Promise<void>((resolve) => process.stdout.write(lines.map((line) => `${line}\n`).join(""), () => resolve()));
  return 0;
}
