import { loadScenario } from "../config/scenario/load.ts";
import type { Scenario } from "../config/scenario/model.ts";
import { formatMs } from "../config/units.ts";

/**
 * `wfsim validate FILE`: loads a scenario without running it. A valid one gets one line on stdout
 * saying what it would run; a bad one the same one-line message `wfsim run --scenario` gives (exit 2).
 */
export async function validateCommand(path: string, stdout: NodeJS.WritableStream): Promise<number> {
  const scenario = await loadScenario(path);
  stdout.write(`${path}: valid: ${describeScenario(scenario)}\n`);
  return 0;
}

export function describeScenario(scenario: Scenario): string {
  const total = scenario.workflows.reduce((sum, w) => sum + w.weight, 0);
  const workflows = scenario.workflows
    .map((w) => `${w.name} (${w.steps.length} step${w.steps.length === 1 ? "" : "s"}, ${formatShare(w.weight / total)})`)
    .join(", ");
  const load = scenario.load;
  const model =
    load.model === "closed"
      ? `closed model${load.concurrency === undefined ? "" : `, ${load.concurrency} in flight`}`
      : `open model, ${load.arrivals} arrivals from ${load.rate}/s` +
        (load.stages.length === 0
          ? ""
          : ` through ${load.stages.length} stage${load.stages.length === 1 ? "" : "s"} (${formatMs(load.stages.reduce((sum, s) => sum + s.durationMs, 0))}) to ${load.stages.at(-1)!.toRate}/s`) +
        (load.maxInFlight === undefined ? "" : `, at most ${load.maxInFlight} in flight`);
  const bounds = [
    ...(scenario.samples === undefined ? [] : [Number.isFinite(scenario.samples) ? `${scenario.samples} transactions` : "unlimited transactions"]),
    ...(scenario.durationMs === undefined ? [] : [`for ${formatMs(scenario.durationMs)}`]),
  ];
  const output = scenario.output;
  const shaped =
    output === undefined
      ? ""
      : `; output: ${output.records.length} record type${output.records.length === 1 ? "" : "s"}, ${output.attributes.length} attribute${output.attributes.length === 1 ? "" : "s"}, topic${output.topics.length === 1 ? "" : "s"} ${output.topics.join(", ")}`;
  return `${scenario.workflows.length} workflow${scenario.workflows.length === 1 ? "" : "s"}: ${workflows}; ${model}${bounds.length === 0 ? "" : `; ${bounds.join(", ")}`}${shaped}`;
}

function formatShare(share: number): string {
  const percent = share * 100;
  return `${Number.isInteger(percent) ? percent : percent.toFixed(1)}%`;
}
