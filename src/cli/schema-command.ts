import { WfEvent } from "../events/schema.ts";

/** `wfsim schema`: the JSON Schema of wfsim's events, on stdout. */
export function schemaCommand(stdout: NodeJS.WritableStream): number {
  stdout.write(`${JSON.stringify(WfEvent, null, 2)}\n`);
  return 0;
}
