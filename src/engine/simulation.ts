import type { EventType, WfEvent } from "../events/schema.ts";
import type { Clock } from "./clock.ts";
import { LatenessRecorder, type LatenessStats } from "./lateness.ts";
import { RandomStreams } from "./random.ts";
import { TimerQueue } from "./timer-queue.ts";
import { CLOSED, type Emit, type SimTransaction, type TransactionFactory } from "./transaction.ts";

/** Where events go. A sink may buffer; it says when it is full and the engine waits for it. */
export interface EventSink {
  write(event: WfEvent): void;
  /** True when the sink wants the engine to stop producing until `drain()` resolves. */
  readonly backpressured: boolean;
  drain(): Promise<void>;
  /** Hands buffered events on; the engine calls it before it sleeps so events leave on time. */
  flush(): void;
}

export interface SimulationParameters {
  /** Transactions to run, indices 0 .. samples-1 (those of `stride` only, when given). */
  readonly samples: number;
  /**
   * Runs only the indices first, first+step, first+2*step, ... below `samples`: one process's part of
   * a workload shared by `step` processes. Each transaction is the same as in a whole run.
   */
  readonly stride?: { readonly first: number; readonly step: number };
  /** Transactions in flight at once. */
  readonly concurrency: number;
  readonly seed: number;
  readonly factory: TransactionFactory;
  readonly clock: Clock;
  readonly sink: EventSink;
  /** Stops the run: no new transactions, every one in flight gets transaction_aborted with the reason. */
  readonly signal?: AbortSignal;
}

export interface Progress {
  readonly opened: number;
  readonly closed: number;
  readonly aborted: number;
  readonly inFlight: number;
  readonly events: number;
}

export interface RunSummary extends Progress {
  readonly eventsByType: Readonly<Record<EventType, number>>;
  readonly outliersInjected: number;
  readonly seed: number;
  /** Simulated time of the first and the last event, epoch ms. */
  readonly startMs: number;
  readonly endMs: number;
  /** Why the run ended early, if it did. */
  readonly stopReason?: string;
  /** Real-clock runs only: how late transactions were woken. */
  readonly lateness?: LatenessStats;
}

/** Events emitted between two turns given back to the event loop, so signals and I/O get their say. */
const EVENTS_PER_TURN = 8192;
/** Transactions opened at a time when a real clock starts a run. */
const OPEN_SLICE = 1024;

/**
 * The discrete-event engine. Transactions wait in a timer queue; the clock decides whether reaching
 * the next due time takes real waiting or none at all. At most `concurrency` transactions are in flight
 * and a new one opens in the same millisecond another closes.
 */
export class Simulation {
  private readonly params: SimulationParameters;
  private readonly queue = new TimerQueue<SimTransaction>();
  private readonly streams: RandomStreams;
  private readonly lateness = new LatenessRecorder();
  private readonly counts: Record<EventType, number> = {
    transaction_open: 0,
    step_open: 0,
    step_done: 0,
    inter_step_wait: 0,
    transaction_close: 0,
    transaction_aborted: 0,
  };
  private events = 0;
  private outliers = 0;
  private nextIndex: number;
  private readonly indexStep: number;
  private readonly emit: Emit;

  constructor(params: SimulationParameters) {
    this.params = params;
    this.nextIndex = params.stride?.first ?? 0;
    this.indexStep = params.stride?.step ?? 1;
    this.streams = new RandomStreams(params.seed);
    const sink = params.sink;
    const counts = this.counts;
    this.emit = (event) => {
      this.events++;
      switch (event.type) {
        case "inter_step_wait":
          counts.inter_step_wait++;
          if (event.outlier_injected) this.outliers++;
          break;
        case "step_open":
          counts.step_open++;
          break;
        case "step_done":
          counts.step_done++;
          break;
        default:
          counts[event.type]++;
      }
      sink.write(event);
    };
  }

  progress(): Progress {
    return {
      opened: this.counts.transaction_open,
      closed: this.counts.transaction_close,
      aborted: this.counts.transaction_aborted,
      inFlight: this.queue.size,
      events: this.events,
    };
  }

  async run(): Promise<RunSummary> {
    const { clock, sink, concurrency, samples } = this.params;
    const signal = this.params.signal ?? new AbortController().signal;
    const queue = this.queue;
    const realMsPerSimMs = clock.realMsPerSimMs;
    const startMs = Math.floor(clock.now());
    let endMs = startMs;
    let eventsAtLastTurn = 0;

    // On a clock that does not move by itself every first transaction opens at the start. On a real
    // clock they open in slices, each at the time it really opens, with the wakes that come due in
    // between handled between slices: opening 100,000 at once takes a while, and the transactions
    // opened first must not wait for the last ones.
    let toOpen = Math.min(concurrency, samples);
    if (realMsPerSimMs === 0) {
      for (; toOpen > 0 && !signal.aborted; toOpen--) this.openNext(startMs);
    }

    while ((queue.size > 0 || toOpen > 0) && !signal.aborted) {
      if (toOpen > 0) {
        const openMs = Math.floor(clock.now());
        for (let i = 0; i < OPEN_SLICE && toOpen > 0; i++, toOpen--) this.openNext(openMs);
        // Transactions that closed meanwhile have already handed their slot on.
        if (this.nextIndex >= samples) toOpen = 0;
      }
      let now = clock.now();
      if (queue.peekDue() > now && toOpen === 0) {
        const waiting = clock.waitUntil(queue.peekDue(), signal);
        if (waiting !== undefined) {
          // About to sleep for real: let what is buffered leave now, not after the nap.
          sink.flush();
          await waiting;
          if (signal.aborted) break;
        }
        now = clock.now();
      }
      const nowMs = Math.floor(now);
      endMs = nowMs;
      while (queue.peekDue() <= now) {
        const txn = queue.pop()!;
        if (realMsPerSimMs > 0) this.lateness.record((now - txn.due) * realMsPerSimMs);
        const delay = txn.wake(nowMs, this.emit);
        if (delay === CLOSED) {
          this.openNext(nowMs);
        } else {
          queue.push(txn, nowMs + delay);
        }
      }
      if (sink.backpressured) {
        await sink.drain();
        eventsAtLastTurn = this.events;
      } else if (this.events - eventsAtLastTurn >= EVENTS_PER_TURN) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        eventsAtLastTurn = this.events;
      }
    }

    let stopReason: string | undefined;
    if (signal.aborted) {
      stopReason = describeReason(signal.reason);
      endMs = Math.max(endMs, Math.floor(clock.now()));
      const inFlight = [...queue.items()].sort((a, b) => a.index - b.index);
      queue.clear();
      for (const txn of inFlight) txn.abort(endMs, stopReason, this.emit);
    }
    sink.flush();

    return {
      ...this.progress(),
      eventsByType: { ...this.counts },
      outliersInjected: this.outliers,
      seed: this.params.seed,
      startMs,
      endMs,
      ...(stopReason === undefined ? {} : { stopReason }),
      ...(realMsPerSimMs > 0 ? { lateness: this.lateness.stats() } : {}),
    };
  }

  private openNext(now: number): void {
    if (this.nextIndex >= this.params.samples) return;
    const index = this.nextIndex;
    this.nextIndex += this.indexStep;
    const txn = this.params.factory.create(index, this.streams.forTransaction(index));
    const delay = txn.open(now, this.emit);
    if (delay !== CLOSED) this.queue.push(txn, now + delay);
  }
}

function describeReason(reason: unknown): string {
  if (typeof reason === "string" && reason !== "") return reason;
  if (reason instanceof Error && reason.name !== "AbortError") return reason.message;
  return "aborted";
}
