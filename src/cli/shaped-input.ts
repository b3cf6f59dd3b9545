/** `wfsim analyze --scenario FILE`: the scenario whose shaped records the stream holds. */
import { shapedReadPlan } from "../analyze/read/shaped/source.ts";
import { loadScenario } from "../config/scenario/load.ts";
import type { Scenario } from "../config/scenario/model.ts";
import { WfsimError } from "../errors.ts";

type Flags = { readonly [key: string]: string | boolean | undefined };

/**
 * Loads --scenario and checks, before anything is read, that its records can be read back into the
 * lifecycle (a one-line error says what is missing where). Undefined without --scenario.
 */
export async function shapedInput(flags: Flags): Promise<Scenario | undefined> {
  if (flags.scenario === undefined) return undefined;
  if (typeof flags.scenario !== "string" || flags.scenario.trim() === "") {
    throw new WfsimError("INVALID_OPTION", "--scenario must be a scenario file (YAML or JSON), got an empty value");
  }
  const scenario = await loadScenario(flags.scenario);
  shapedReadPlan(scenario);
  return scenario;
}
