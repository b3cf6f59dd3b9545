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
export async function schemaCommand(stdout: NodeJS.WritableStream, which: { scenario?: boolean | string; truth?: boolean } = {}): Promise<number> {
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
