import {
  resolveSimOptions,
  type ResolveContext,
  type SimOptions,
  type SimOptionsInput,
} from "../config/sim-options.ts";
import type { DeliverySpec, Scenario } from "../config/scenario/model.ts";
import { WfsimError } from "../errors.ts";
import { ARRIVAL_DOMAIN, FixedArrivals, PoissonArrivals, RateCurve, type ArrivalProcess } from "../engine/arrivals.ts";
import { concurrencyShare } from "../config/instance.ts";
import { RealClock, VirtualClock, type Clock } from "../engine/clock.ts";
import { RandomStreams } from "../engine/random.ts";
import { ScenarioWorkflow } from "../engine/scenario-workflow.ts";
import { SeedWorkflow } from "../engine/seed-workflow.ts";
import { Simulation, type EventSink, type LabelSink, type RunSummary } from "../engine/simulation.ts";
import type { WfEvent } from "../events/schema.ts";
import type { TruthRecord } from "../events/truth.ts";
import { QueueSink } from "../sinks/queue-sink.ts";
import { Shaper } from "../engine/shape/shaper.ts";
import type { ShapedFaultOutput } from "../engine/delivery.ts";
import { ShapedPlans } from "../sinks/shaped/plans.ts";

export interface RunOptions {
  /** Where events go. */
  readonly sink: EventSink;
  /** Aborting stops the run: in-flight transactions get transaction_aborted with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Replaces the clock `options.clock` names (tests drive a ManualClock). */
  readonly clock?: Clock;
  /**
   * Where ground-truth labels go. Given, the events carry no inline labels (no outlier_injected, no
   * stuck): the stream a pipeline under test should see. Absent, labels go inline, the seed's way.
   */
  readonly truth?: LabelSink;
  /**
   * Leave out every field and event that announces a wait before it ends (inter_step_wait,
   * pre_delay_ms, work_ms, backoff_ms) and the inline labels; transaction_open carries
   * steps_planned. Default: blind when `truth` is given.
   */
  readonly blind?: boolean;
  /**
   * The shaped output the sink writes through (createShaper): given, the scenario's transactions make
   * their contexts known to it. Absent, a scenario's output section is not applied.
   */
  readonly shaper?: Shaper;
  /** Told of every ground-truth label as it is made, whether the labels go inline or to `truth`. */
  readonly onLabel?: (record: TruthRecord) => void;
  /**
   * Delivery faults (parseDelivery, loadDelivery); default: the scenario's delivery section. Their
   * truth records go to `truth`. With a shaped output they act on its records.
   */
  readonly delivery?: DeliverySpec;
}

/**
 * The shaper of a scenario's output section, or undefined when there is none (wfsim's own events).
 * Its writers: ShapedPlans for JSON text and Kafka records, the JSON Lines writers, shapedKafkaRecords.
 */
export function createShaper(
  options: SimOptions,
  { inlineLabels, blind = !inlineLabels }: { inlineLabels: boolean; blind?: boolean },
): Shaper | undefined {
  const shape = options.scenario?.output;
  if (shape === undefined) return undefined;
  return new Shaper(shape, { seed: options.seed, startTime: options.startTime, timezone: options.timezone, inlineLabels, blind });
}

/** The clock a set of options asks for, starting now. */
export function createClock(options: SimOptions): Clock {
  return options.clock === "virtual"
    ? new VirtualClock(options.startTime)
    : new RealClock(options.startTime, options.speed);
}

/**
 * Builds the engine for resolved options; `run()` on the result starts it. With `options.instance`
 * I/N it runs instance I's transactions (indices congruent to I mod N) with its share of concurrency.
 */
export function createSimulation(options: SimOptions, run: RunOptions): Simulation {
  const inlineLabels = run.truth === undefined;
  const blind = run.blind ?? !inlineLabels;
  if (run.shaper !== undefined && (run.shaper.settings.blind !== blind || run.shaper.settings.inlineLabels !== inlineLabels)) {
    throw new Error(
      `createSimulation: the shaper was made for a ${run.shaper.settings.blind ? "blind" : "full"} stream with${run.shaper.settings.inlineLabels ? "" : "out"} inline labels, the run writes a ${blind ? "blind" : "full"} one with${inlineLabels ? "" : "out"}; give createShaper the same truth and blind settings`,
    );
  }
  const scenario = options.scenario;
  const delivery = run.delivery ?? scenario?.delivery;
  if (delivery?.faults.some((fault) => fault.kind === "corrupt" && fault.prob > 0) === true && run.sink.writeMalformed === undefined) {
    throw new WfsimError("INVALID_OPTION", `${delivery.source}: corrupt needs an output that can write a malformed record (JSON Lines or Kafka); this one takes typed events only`);
  }
  const workflows =
    scenario === undefined
      ? new SeedWorkflow(options, { inlineLabels, blind })
      : new ScenarioWorkflow(scenario, { timezone: options.timezone, inlineLabels, blind });
  const factory = run.shaper === undefined ? workflows : run.shaper.wrap(workflows);
  const arrivals = scenario === undefined ? undefined : arrivalsOf(scenario, options.seed);
  const { instance } = options;
  return new Simulation({
    samples: options.samples,
    ...(instance.count > 1 ? { stride: { first: instance.index, step: instance.count } } : {}),
    concurrency: concurrencyShare(options.concurrency, instance),
    seed: options.seed,
    factory,
    clock: run.clock ?? createClock(options),
    sink: run.sink,
    ...(run.signal === undefined ? {} : { signal: run.signal }),
    ...(arrivals === undefined ? {} : { arrivals }),
    ...(options.duration === undefined ? {} : { durationMs: options.duration }),
    ...(run.truth === undefined ? {} : { truth: run.truth }),
    ...(run.onLabel === undefined ? {} : { onLabel: run.onLabel }),
    timestamps: options.timestamps,
    plannedStartMs: options.startTime,
    ...(delivery === undefined ? {} : { delivery }),
    ...(delivery === undefined || run.shaper === undefined ? {} : { shaped: shapedFaultOutput(run.shaper, delivery) }),
  });
}

/** A shaped output's part in delivery faults; the records' JSON text (for corrupt) by the compiled serializers. */
function shapedFaultOutput(shaper: Shaper, delivery: DeliverySpec): ShapedFaultOutput {
  if (!delivery.faults.some((fault) => fault.kind === "corrupt" && fault.prob > 0)) return { shaper };
  const plans = new ShapedPlans(shaper);
  return { shaper, json: (emission, event, context) => plans.json(plans.plans[emission.index]!, event, context) };
}

/** The open model's arrival process, from its own random stream; undefined for the closed model. */
export function arrivalsOf(scenario: Scenario, seed: number): ArrivalProcess | undefined {
  const load = scenario.load;
  if (load.model === "closed") return undefined;
  const curve = new RateCurve(load.rate, load.stages);
  return load.arrivals === "fixed" ? new FixedArrivals(curve) : new PoissonArrivals(curve, new RandomStreams(seed).forDomain(ARRIVAL_DOMAIN));
}

/** A LabelSink that hands each record to a function: for library callers who want the truth as it comes. */
export function truthCallback(onLabel: (record: TruthRecord) => void): LabelSink {
  return { write: onLabel, backpressured: false, drain: () => Promise.resolve(), flush: () => {} };
}

export interface SimulateOptions extends SimOptionsInput {
  /** Stops the simulation; the iterator then yields the transaction_aborted events and ends. */
  readonly signal?: AbortSignal;
  /** Replaces the clock `clock` names. */
  readonly clockOverride?: Clock;
  /** Receives ground-truth labels; given, the events carry no inline labels (see RunOptions.truth). */
  readonly onTruth?: (record: TruthRecord) => void;
  /** A blind stream (see RunOptions.blind); default: blind when `onTruth` is given. */
  readonly blind?: boolean;
}

/**
 * The simulation as an async iterable of typed events, from the same engine the CLI runs. Options are
 * those of the command line in camelCase (`preMin`, `outlierProb`, ...); bad values throw a WfsimError
 * naming the option. Leaving the loop early (break, throw) stops the simulation.
 *
 * ```ts
 * for await (const event of simulate({ samples: 10, clock: "virtual", startTime: 0 })) console.log(event);
 * ```
 */
export function simulate(input: SimulateOptions = {}, context: ResolveContext = {}): AsyncIterable<WfEvent> {
  const { signal: outerSignal, clockOverride, onTruth, blind, ...simInput } = input;
  const options = resolveSimOptions(simInput, context);
  return {
    async *[Symbol.asyncIterator]() {
      const controller = new AbortController();
      const forward = () => controller.abort(outerSignal?.reason);
      if (outerSignal?.aborted) forward();
      outerSignal?.addEventListener("abort", forward, { once: true });

      const sink = new QueueSink();
      const simulation = createSimulation(options, {
        sink,
        signal: controller.signal,
        ...(clockOverride === undefined ? {} : { clock: clockOverride }),
        ...(onTruth === undefined ? {} : { truth: truthCallback(onTruth) }),
        ...(blind === undefined ? {} : { blind }),
      });
      let finished = false;
      let failure: unknown;
      const done = simulation.run().then(
        () => undefined,
        (error: unknown) => {
          failure = error;
        },
      ).finally(() => {
        finished = true;
        sink.wake();
      });

      try {
        for (;;) {
          const events = sink.take();
          for (const event of events) yield event;
          if (events.length > 0) continue;
          if (finished) break;
          await sink.waitForEvents();
        }
        if (failure !== undefined) throw failure;
      } finally {
        outerSignal?.removeEventListener("abort", forward);
        if (!finished) controller.abort("stopped by consumer");
        // Let the engine finish writing into a sink nobody reads any more.
        while (!finished) {
          sink.take();
          await Promise.race([done, sink.waitForEvents()]);
        }
      }
    },
  };
}

export type { RunSummary };
