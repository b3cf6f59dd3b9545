import { scenarioJsonSchema } from "../config/scenario/schema.ts";
import { WfEvent } from "../events/schema.ts";
import { TruthRecord } from "../events/truth.ts";

/**
 * `wfsim schema`: a JSON Schema on stdout: the events' (default), a scenario file's (--scenario),
 * or a truth file line's (--truth).
 */
export function schemaCommand(stdout: NodeJS.WritableStream, which: { scenario?: boolean; truth?: boolean } = {}): number {
  const schema = which.scenario ? scenarioJsonSchema() : which.truth ? TruthRecord : WfEvent;
  stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
  return 0;
}
