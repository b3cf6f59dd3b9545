import {
  resolveSimOptions,
  type ResolveContext,
  type SimOptions,
  type SimOptionsInput,
} from "../config/sim-options.ts";
import { concurrencyShare } from "../config/instance.ts";
import { RealClock, VirtualClock, type Clock } from "../engine/clock.ts";
import { SeedWorkflow } from "../engine/seed-workflow.ts";
import { Simulation, type EventSink, type RunSummary } from "../engine/simulation.ts";
import type { WfEvent } from "../events/schema.ts";
import { QueueSink } from "../sinks/queue-sink.ts";

export interface RunOptions {
  /** Where events go. */
  readonly sink: EventSink;
  /** Aborting stops the run: in-flight transactions get transaction_aborted with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Replaces the clock `options.clock` names (tests drive a ManualClock). */
  readonly clock?: Clock;
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
  const { instance } = options;
  return new Simulation({
    samples: options.samples,
    ...(instance.count > 1 ? { stride: { first: instance.index, step: instance.count } } : {}),
    concurrency: concurrencyShare(options.concurrency, instance),
    seed: options.seed,
    factory: new SeedWorkflow(options),
    clock: run.clock ?? createClock(options),
    sink: run.sink,
    ...(run.signal === undefined ? {} : { signal: run.signal }),
  });
}

export interface SimulateOptions extends SimOptionsInput {
  /** Stops the simulation; the iterator then yields the transaction_aborted events and ends. */
  readonly signal?: AbortSignal;
  /** Replaces the clock `clock` names. */
  readonly clockOverride?: Clock;
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
  const { signal: outerSignal, clockOverride, ...simInput } = input;
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
