/**
 * What a shape cannot do in a blind run (`wfsim run --blind`, implied by `--truth`): fields that hold
 * an announcing value are left out of a record body (lifecycle.ts), but a record type that only an
 * inter_step_wait produces would never be written, and a header that holds one would be written
 * without the value the pipeline reads it for. Those are refused before the run.
 */
import { ANNOUNCING_VALUES } from "./lifecycle.ts";
import type { Shape } from "./model.ts";
import { placeholdersOf } from "./template.ts";

/** The first thing in `shape` a blind run cannot write, as a sentence; undefined when there is none. */
export function blindShapeProblem(shape: Shape): string | undefined {
  for (const record of shape.records) {
    if (record.moments.every((moment) => moment.event === "inter_step_wait")) {
      return `${record.path} is produced only at inter_step_wait, which a blind run does not have`;
    }
    for (const header of record.headers) {
      const announcing = placeholdersOf(header.value).find((p) => p.source === "lifecycle" && ANNOUNCING_VALUES.includes(p.name));
      if (announcing !== undefined) {
        return `${record.path}'s header ${header.name} holds {${(announcing as { name: string }).name}}, which a blind run leaves out`;
      }
    }
  }
  return undefined;
}
