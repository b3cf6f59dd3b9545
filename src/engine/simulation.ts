import type { EventType, WfEvent } from "../events/schema.ts";
import type { FaultRecord, TruthKind, TruthLine, TruthRecord } from "../events/truth.ts";
import type { ArrivalProcess } from "./arrivals.ts";
import type { Clock } from "./clock.ts";
import { LatenessRecorder, type LatenessStats } from "./lateness.ts";
import type { DeliverySpec } from "../config/scenario/model.ts";
import { DeliveryFaults, type FaultCounts, type FaultTruth, type ShapedFaultOutput } from "./delivery.ts";
import { RandomStreams } from "./random.ts";
import { TimerQueue, type Timed } from "./timer-queue.ts";
import { CLOSED, type Emit, type Label, type SimTransaction, type TransactionFactory } from "./transaction.ts";

/** Where events go. A sink may buffer; it says when it is full and the engine waits for it. */
export interface EventSink {
  write(event: WfEvent): void;
  /** True when the sink wants the engine to stop producing until `drain()` resolves. */
  readonly backpressured: boolean;
  drain(): Promise<void>;
  /** Hands buffered events on; the engine calls it before it sleeps so events leave on time. */
  flush(): void;
  /**
   * Writes `text` (no newline), a malformed record, where `event`'s record would have gone: a
   * delivery fault (corrupt). Optional: a run with corrupt faults refuses a sink without it.
   */
  writeMalformed?(event: WfEvent, text: string): void;
  /** Optional, cheaper ways to write a corrupt fault's line: see FaultOutput (delivery.ts). */
  writeTruncated?(event: WfEvent, cut: (length: number) => number): boolean;
  writeNotJson?(event: WfEvent): boolean;
}

/** Where ground-truth labels go when they do not go inline (a truth file). Same contract as EventSink. */
export interface LabelSink {
  write(record: TruthLine): void;
  /**
   * Writes a delivery fault's record whose every field is present (`undefined` where absent), all
   * records in one shape: cheaper to encode for a sink that reads the fields at once. Optional:
   * without it, fault records come to `write` with their fields only.
   */
  writeFault?(record: FaultRecord): void;
  /** A delivery fault's record as its fields, no object made (see FaultTruth.writeFields, delivery.ts). Optional. */
  writeFaultFields?: FaultTruth["writeFields"];
  readonly backpressured: boolean;
  drain(): Promise<void>;
  flush(): void;
}

export interface SimulationParameters {
  /**
   * Transactions to run: indices 0 .. samples-1 (those of `stride` only, when given); Infinity: no
   * limit. In the open model an index is an arrival's number, so dropped arrivals count too.
   */
  readonly samples: number;
  /**
   * Runs only the indices first, first+step, first+2*step, ... below `samples`: one process's part of
   * a workload shared by `step` processes. Each transaction is the same as in a whole run; in the
   * open model every process follows the same arrivals and opens those of its indices.
   */
  readonly stride?: { readonly first: number; readonly step: number };
  /**
   * Closed model: transactions in flight at once. Open model: the cap on transactions in flight; an
   * arrival that finds the cap reached is dropped (counted in the summary), as k6 drops iterations.
   */
  readonly concurrency: number;
  /**
   * Open model: when transactions arrive, whatever is in flight. The k-th arrival (from 0) is the
   * transaction with index k, dropped or not, so a transaction is the same whatever the cap.
   * Absent: the closed model.
   */
  readonly arrivals?: ArrivalProcess;
  /** Simulated ms from the start after which no transaction opens; those in flight finish. */
  readonly durationMs?: number;
  /** Labels are counted, and written here too when given. */
  readonly truth?: LabelSink;
  /**
   * Told of every label as it is made, inline or not (live scoring joins them with alerts); it
   * changes nothing in the stream.
   */
  readonly onLabel?: (record: TruthRecord) => void;
  readonly seed: number;
  readonly factory: TransactionFactory;
  readonly clock: Clock;
  readonly sink: EventSink;
  /** Stops the run: no new transactions, every one in flight gets transaction_aborted with the reason. */
  readonly signal?: AbortSignal;
  /**
   * How events are stamped on a clock that moves by itself: "actual" (the default) with the time the
   * engine emits them, "planned" with the time they were due, however late the engine woke. Planned,
   * a transaction lives exactly the life the virtual clock gives it (the first ones open at the start,
   * a new one at the planned end of the one it replaces), and lateness shows in the summary only.
   */
  readonly timestamps?: Timestamps;
  /**
   * With planned timestamps, the simulated time the plan starts at (the start time asked for); the
   * clock may have moved on a little by the time the run begins. Else the clock's time then.
   */
  readonly plannedStartMs?: number;
  /**
   * Faults between the lifecycle and the sink (see delivery.ts); absent, every event goes to the
   * sink as it is made. Its truth records go to `truth` when given.
   */
  readonly delivery?: DeliverySpec;
  /** With a shaped output: the delivery faults act on its records (see delivery.ts). */
  readonly shaped?: ShapedFaultOutput;
}

export type Timestamps = "actual" | "planned";

export interface Progress {
  readonly opened: number;
  readonly closed: number;
  readonly aborted: number;
  /** Ended by transaction_failed (scenario runs). */
  readonly failed: number;
  /** Gone silent for good (scenario runs). */
  readonly stuck: number;
  readonly inFlight: number;
  readonly events: number;
  /** Open model: arrivals dropped because the cap on transactions in flight was reached. */
  readonly dropped: number;
}

export interface RunSummary extends Progress {
  readonly eventsByType: Readonly<Record<EventType, number>>;
  /** Labels by kind: what was injected, whether the labels went inline or to a truth file. */
  readonly labels: Readonly<Record<TruthKind, number>>;
  readonly outliersInjected: number;
  readonly seed: number;
  /** Simulated time of the first and the last event, epoch ms. */
  readonly startMs: number;
  readonly endMs: number;
  /** Why the run ended early, if it did. */
  readonly stopReason?: string;
  /** Real-clock runs only: how late transactions were woken. */
  readonly lateness?: LatenessStats;
  /** With a delivery section: faults injected, by kind (skew: transactions stamped off, one offset each). */
  readonly faults?: Readonly<FaultCounts>;
}

/** Events emitted between two turns given back to the event loop, so signals and I/O get their say. */
const EVENTS_PER_TURN = 8192;
/** Transactions opened at a time when a real clock starts a run. */
const OPEN_SLICE = 1024;

/** Arrival offsets are rounded to 1/1024 ms (see scheduleArrival): a power of two, so the sums stay exact. */
const ARRIVAL_TICKS_PER_MS = 1024;

/**
 * The discrete-event engine. Transactions wait in a timer queue; the clock decides whether reaching
 * the next due time takes real waiting or none at all. At most `concurrency` transactions are in flight
 * and a new one opens in the same millisecond another closes.
 */
export class Simulation {
  private readonly params: SimulationParameters;
  private readonly queue = new TimerQueue<SimTransaction | Timed>();
  /** Stands in the queue for the next arrival of the open model. */
  private readonly arrivalTick: Timed = { due: 0, seq: 0 };
  private readonly streams: RandomStreams;
  private readonly lateness = new LatenessRecorder();
  private readonly counts: Record<EventType, number> = {
    transaction_open: 0,
    step_open: 0,
    step_done: 0,
    inter_step_wait: 0,
    transaction_close: 0,
    transaction_aborted: 0,
    step_failed: 0,
    step_retry: 0,
    transaction_failed: 0,
  };
  private readonly labelCounts: Record<TruthKind, number> = { outlier: 0, stuck: 0, step_failure: 0 };
  private events = 0;
  private nextIndex: number;
  private readonly indexStep: number;
  /** Open model: arrivals so far, which is the index of the next one. */
  private arrivals = 0;
  private opened = 0;
  private inFlight = 0;
  private dropped = 0;
  private readonly emit: Emit;
  private readonly label: Label;
  /** Transactions that ended, for the factory to start over (see TransactionFactory.create). */
  private readonly recycled: SimTransaction[] = [];
  /** Delivery faults, when the run has them: events go through them to the sink. */
  private readonly delivery: DeliveryFaults | undefined;

  constructor(params: SimulationParameters) {
    this.params = params;
    this.streams = new RandomStreams(params.seed);
    this.nextIndex = params.stride?.first ?? 0;
    this.indexStep = params.stride?.step ?? 1;
    const truthSink = params.truth;
    this.delivery =
      params.delivery === undefined || params.delivery.faults.length === 0
        ? undefined
        : new DeliveryFaults(params.delivery, params.seed, params.sink, truthSink === undefined ? undefined : faultTruth(truthSink), params.shaped);
    const sink = params.sink;
    const counts = this.counts;
    const count = (event: WfEvent) => {
      this.events++;
      switch (event.type) {
        case "inter_step_wait":
          counts.inter_step_wait++;
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
    };
    const delivery = this.delivery;
    // With faults, the sink is still called from here for the records that pass as they are: the same
    // call as without faults, inlined as deep (through the faults it was not, and cost every event).
    // Most records are known to pass by a count (their draws made ahead), which costs no call.
    this.emit = delivery === undefined
      ? (event) => {
          count(event);
          sink.write(event);
        }
      : (event) => {
          count(event);
          if (delivery.clear-- > 0 || delivery.pass(event)) sink.write(event);
        };
    const labels = this.labelCounts;
    const truth = params.truth;
    const label: Label = truth === undefined
      ? (record) => void labels[record.kind]++
      : (record) => {
          labels[record.kind]++;
          truth.write(record);
        };
    const observe = params.onLabel;
    this.label = observe === undefined ? label : (record) => {
      label(record);
      observe(record);
    };
  }

  progress(): Progress {
    return {
      opened: this.counts.transaction_open,
      closed: this.counts.transaction_close,
      aborted: this.counts.transaction_aborted,
      failed: this.counts.transaction_failed,
      stuck: this.labelCounts.stuck,
      inFlight: this.inFlight,
      events: this.events,
      dropped: this.dropped,
    };
  }

  /**
   * The live tallies, for a metrics endpoint that reads them when scraped (nothing is paid per event):
   * events by type, labels by kind and the wake lateness recorder. Views, not copies: read, never write.
   */
  tallies(): {
    readonly eventsByType: Readonly<Record<EventType, number>>;
    readonly labels: Readonly<Record<TruthKind, number>>;
    readonly lateness: LatenessRecorder;
  } {
    return { eventsByType: this.counts, labels: this.labelCounts, lateness: this.lateness };
  }

  /** The run's clock now: simulated epoch ms. */
  now(): number {
    return this.params.clock.now();
  }

  async run(): Promise<RunSummary> {
    const { clock, sink, concurrency, samples, arrivals, truth } = this.params;
    const signal = this.params.signal ?? new AbortController().signal;
    const queue = this.queue;
    const arrivalTick = this.arrivalTick;
    const realMsPerSimMs = clock.realMsPerSimMs;
    const planned = this.params.timestamps === "planned";
    const origin = planned ? (this.params.plannedStartMs ?? clock.now()) : clock.now();
    const startMs = Math.floor(origin);
    // No transaction opens at or after this time.
    const deadline = startMs + (this.params.durationMs ?? Infinity);
    let endMs = startMs;
    let eventsAtLastTurn = 0;

    if (arrivals !== undefined) this.scheduleArrival(origin, deadline);
    // Closed model: on a clock that does not move by itself every first transaction opens at the
    // start. On a real clock they open in slices, each at the time it really opens, with the wakes
    // that come due in between handled between slices: opening 100,000 at once takes a while, and
    // the transactions opened first must not wait for the last ones.
    let toOpen = arrivals === undefined && startMs < deadline ? Math.min(concurrency, samples) : 0;
    if (realMsPerSimMs === 0) {
      for (; toOpen > 0 && !signal.aborted; toOpen--) this.openNext(startMs);
    }

    const delivery = this.delivery;
    while ((queue.size > 0 || toOpen > 0 || (delivery !== undefined && delivery.pending > 0)) && !signal.aborted) {
      if (toOpen > 0) {
        const openMs = planned ? startMs : Math.floor(clock.now());
        for (let i = 0; i < OPEN_SLICE && toOpen > 0; i++, toOpen--) this.openNext(openMs);
        // Transactions that closed meanwhile have already handed their slot on.
        if (this.nextIndex >= samples) toOpen = 0;
      }
      let now = clock.now();
      // Held records (delivery faults) come due like transactions do.
      const nextDue = delivery === undefined ? queue.peekDue() : Math.min(queue.peekDue(), delivery.nextDue);
      if (nextDue > now && toOpen === 0) {
        const waiting = clock.waitUntil(nextDue, signal);
        if (waiting !== undefined) {
          // About to sleep for real: let what is buffered leave now, not after the nap.
          sink.flush();
          truth?.flush();
          await waiting;
          if (signal.aborted) break;
        }
        now = clock.now();
      }
      const nowMs = Math.floor(now);
      endMs = nowMs;
      if (delivery !== undefined && delivery.nextDue <= now) delivery.release(now, planned ? null : nowMs);
      while (queue.peekDue() <= now) {
        const item = queue.pop()!;
        if (item === arrivalTick) {
          this.arrive(planned ? Math.floor(item.due) : nowMs);
          if (this.arrivals < samples) this.scheduleArrival(origin, deadline);
          continue;
        }
        const txn = item as SimTransaction;
        if (realMsPerSimMs > 0) this.lateness.record((now - txn.due) * realMsPerSimMs);
        const at = planned ? txn.due : nowMs;
        delivery?.enter(txn);
        const delay = txn.wake(at, this.emit, this.label);
        if (delay === CLOSED) {
          this.inFlight--;
          this.recycled.push(txn);
          if (arrivals === undefined && at < deadline) this.openNext(at);
        } else {
          queue.push(txn, at + delay);
        }
      }
      if (sink.backpressured) {
        await sink.drain();
        eventsAtLastTurn = this.events;
      } else if (truth?.backpressured) {
        await truth.drain();
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
      const inFlight = queue.items().filter((item): item is SimTransaction => item !== arrivalTick).sort((a, b) => a.index - b.index);
      queue.clear();
      for (const txn of inFlight) {
        delivery?.enter(txn);
        txn.abort(endMs, stopReason, this.emit);
      }
      delivery?.releaseAll(endMs);
      this.inFlight = 0;
    }
    sink.flush();
    truth?.flush();

    return {
      ...this.progress(),
      eventsByType: { ...this.counts },
      labels: { ...this.labelCounts },
      outliersInjected: this.labelCounts.outlier,
      seed: this.params.seed,
      startMs,
      endMs,
      ...(stopReason === undefined ? {} : { stopReason }),
      ...(realMsPerSimMs > 0 ? { lateness: this.lateness.stats() } : {}),
      ...(delivery === undefined ? {} : { faults: { ...delivery.counts } }),
    };
  }

  /** Queues the next arrival, unless the process has ended or it would come at or after the deadline. */
  private scheduleArrival(origin: number, deadline: number): void {
    // The offset kept to 1/1024 ms: origin + offset is then exact for any epoch start (below 2^42 ms),
    // so whether an arrival comes before or after a wake due in the same ms, and so whether it finds
    // the cap reached, is the same whatever the start time (a float sum would round differently).
    const due = origin + Math.round(this.params.arrivals!.next() * ARRIVAL_TICKS_PER_MS) / ARRIVAL_TICKS_PER_MS;
    if (due < deadline) this.queue.push(this.arrivalTick, due);
  }

  /**
   * An arrival of the open model: when its index is this process's (see `stride`), it opens a
   * transaction, or is dropped if the cap on transactions in flight is reached.
   */
  private arrive(now: number): void {
    const index = this.arrivals++;
    if (index !== this.nextIndex) return;
    this.nextIndex += this.indexStep;
    if (this.inFlight >= this.params.concurrency) this.dropped++;
    else this.open(now, index);
  }

  /** Closed model: opens the transaction with the next index, if the count allows. */
  private openNext(now: number): void {
    if (this.nextIndex >= this.params.samples) return;
    const index = this.nextIndex;
    this.nextIndex += this.indexStep;
    this.open(now, index);
  }

  private open(now: number, index: number): void {
    this.opened++;
    const recycled = this.recycled.pop();
    const txn = this.params.factory.create(index, this.streams.forTransaction(index, recycled?.random), recycled);
    this.delivery?.begin(txn);
    const delay = txn.open(now, this.emit, this.label);
    if (delay !== CLOSED) {
      this.inFlight++;
      this.queue.push(txn, now + delay);
    } else {
      this.recycled.push(txn);
    }
  }
}

/** A label sink as the delivery faults' truth: records of one shape when it takes them. */
function faultTruth(sink: LabelSink): FaultTruth {
  const writeFault = sink.writeFault;
  if (writeFault === undefined) return { write: (record) => sink.write(record), fullRecords: false };
  const writeFields = sink.writeFaultFields;
  return writeFields === undefined
    ? { write: (record) => writeFault.call(sink, record), fullRecords: true }
    : { write: (record) => writeFault.call(sink, record), fullRecords: true, writeFields: writeFields.bind(sink) };
}

function describeReason(reason: unknown): string {
  if (typeof reason === "string" && reason !== "") return reason;
  if (reason instanceof Error && reason.name !== "AbortError") return reason.message;
  return "aborted";
}
