import { loadScenario } from "../config/scenario/load.ts";
import { scenarioJsonSchema } from "../config/scenario/schema.ts";
import { shapeJsonSchema } from "../config/shape/json-schema.ts";
import { WfsimError } from "../errors.ts";
import { WfEvent } from "../events/schema.ts";
import { TruthLineSchema } from "../events/truth.ts";

/**
 * `wfsim schema`: a JSON Schema on stdout: the events' (default), a scenario file's (--scenario),
 * the records of a scenario with an output section (--scenario FILE), or a truth file line's (--truth).
 */
export async function schemaCommand(stdout: NodeJS.WritableStream, which: { scenario?: boolean | string; truth?: boolean; format?: string } = {}): Promise<number> {
  if (which.format !== undefined && which.format !== "json") return binarySchema(stdout, which.format, which);
  let schema: unknown;
  if (typeof which.scenario === "string") {
    const scenario = await loadScenario(which.scenario);
    // Without an output section its records are wfsim's events.
    schema = scenario.output === undefined ? WfEvent : shapeJsonSchema(scenario.output, which.scenario);
  } else {
    schema = which.scenario ? scenarioJsonSchema() : which.truth ? TruthLineSchema : WfEvent;
  }
  if (which.truth && which.scenario !== undefined) throw new WfsimError("INVALID_OPTION", "--scenario and --truth exclude each other: one schema at a time");
  stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
  return 0;
}

/**
 * `wfsim schema --format avro|protobuf [--scenario FILE]`: the schema of `wfsim run --format avro|protobuf`'s
 * files (the Avro schema a container file's header holds; the .proto of a length-delimited file's Records).
 */
async function binarySchema(stdout: NodeJS.WritableStream, format: string, which: { scenario?: boolean | string; truth?: boolean }): Promise<number> {
  if (format !== "avro" && format !== "protobuf") throw new WfsimError("INVALID_OPTION", `--format must be one of json, avro, protobuf, got ${JSON.stringify(format)}`);
  if (which.truth === true || which.scenario === true) {
    throw new WfsimError("INVALID_OPTION", `--format ${format} gives the schema of wfsim run's records: of wfsim's events, or with --scenario FILE of that scenario's`);
  }
  const output = typeof which.scenario === "string" ? (await loadScenario(which.scenario)).output : undefined;
  const { avroSchema } = await import("../events/wire/avro.ts");
  const { EVENT_SHAPES } = await import("../events/wire/event-shapes.ts");
  const { shapedAvroSchema } = await import("../config/shape/wire-schema.ts");
  const { eventFileProto, shapedFileProto } = await import("../sinks/binary-file/file-records.ts");
  if (format === "avro") stdout.write(`${JSON.stringify(output === undefined ? avroSchema(EVENT_SHAPES) : shapedAvroSchema(output.records, output), null, 2)}\n`);
  else stdout.write(output === undefined ? eventFileProto() : shapedFileProto(output));
  return 0;
}
