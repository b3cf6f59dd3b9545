/**
 * `wfsim run --sample`: one transaction of each workflow, as the run writes it, without running the
 * scenario. Transactions are made one at a time on a virtual clock, from index 0 on, and the first of
 * each workflow is kept: with the same seed it has the same id, attributes, delays and anomalies as
 * the transaction of that index in a real run (only its times differ, since it opens at the start).
 */
import type { SimOptions } from "../config/sim-options.ts";
import { VirtualClock } from "../engine/clock.ts";
import { ScenarioWorkflow } from "../engine/scenario-workflow.ts";
import { SeedWorkflow } from "../engine/seed-workflow.ts";
import type { Shaper } from "../engine/shape/shaper.ts";
import { Simulation, type EventSink } from "../engine/simulation.ts";
import type { WfEvent } from "../events/schema.ts";
import { serializeEvent } from "../events/serialize.ts";
import { ShapedPlans } from "../sinks/shaped/plans.ts";

/** Transactions tried before giving up on a workflow too rare to show up. */
const MAX_TRIED = 100_000;

/**
 * The JSON lines of one transaction per workflow, in the scenario's order of workflows (with
 * `shaper`, its records; else wfsim's events). A workflow none of the first 100,000 transactions
 * picked is left out.
 */
export async function sampleTransactions(options: SimOptions, shaper: Shaper | undefined): Promise<string[]> {
  const workflowNames = options.scenario?.workflows.map((w) => w.name) ?? [""];
  const inlineLabels = shaper?.settings.inlineLabels ?? true;
  const blind = shaper?.settings.blind ?? false;
  const scenario = options.scenario;
  const inner =
    scenario === undefined ? new SeedWorkflow(options, { inlineLabels, blind }) : new ScenarioWorkflow(scenario, { timezone: options.timezone, inlineLabels, blind });
  const plans = shaper === undefined ? undefined : new ShapedPlans(shaper);
  const kept = new Map<string, string[]>();
  let lines: string[] = [];
  let workflow = "";
  const controller = new AbortController();
  const sink: EventSink = {
    backpressured: false,
    drain: () => Promise.resolve(),
    flush: () => {},
    write(event: WfEvent) {
      if (event.type === "transaction_open") {
        lines = [];
        workflow = event.workflow ?? "";
      }
      if (plans === undefined) {
        lines.push(serializeEvent(event).trimEnd());
      } else {
        for (const emission of plans.shaper.enter(event)) {
          if (plans.shaper.drawsPerRecord) plans.shaper.beforeRecord(emission);
          lines.push(plans.json(plans.plans[emission.index]!, event, plans.shaper.current));
        }
      }
      const ended = event.type === "transaction_close" || event.type === "transaction_failed" || event.type === "transaction_aborted";
      if (ended && !kept.has(workflow)) {
        kept.set(workflow, lines);
        if (kept.size === workflowNames.length) controller.abort("sampled");
      }
    },
  };
  const simulation = new Simulation({
    samples: MAX_TRIED,
    concurrency: 1,
    seed: options.seed,
    factory: shaper === undefined ? inner : shaper.wrap(inner),
    clock: new VirtualClock(options.startTime),
    sink,
    signal: controller.signal,
  });
  await simulation.run();
  return workflowNames.flatMap((name) => kept.get(name) ?? []);
}
