/**
 * A compiled shape at work: follows each transaction's lifecycle events, draws its attributes, and
 * says which records each event's moment produces. Writers (JSON Lines, Kafka) turn those into bytes.
 *
 * Events carry no transaction index and no attributes, so the shaper keeps a context per transaction.
 * It learns which transaction an event belongs to without a lookup: `wrap` puts a thin transaction
 * around each of the factory's that makes its context the current one before the engine's every call
 * (open, wake, abort). The engine runs one transaction at a time and its events are emitted during
 * that call, so every event a sink sees belongs to the current context.
 */
import type { Moment, RecordType, Shape } from "../../config/shape/model.ts";
import { EVENT_TYPES, type EventType, type WfEvent } from "../../events/schema.ts";
import { ZonedTime } from "../../events/iso-time.ts";
import type { Random } from "../random.ts";
import type { Timed } from "../timer-queue.ts";
import type { Emit, Label, SimTransaction, TransactionFactory } from "../transaction.ts";
import { AttributeDrawers, type AttributeValue, type DrawContext, type Drawer } from "./attributes.ts";

export interface ShaperSettings {
  readonly seed: number;
  /** The run's start: faker's reference date. */
  readonly startTime: number;
  /** The scenario's time zone: {time:iso}. */
  readonly timezone: string;
  /** Whether the labels ride on the events (no truth file): then {outlier_injected} and {stuck} are known. */
  readonly inlineLabels: boolean;
  /** Whether the stream is blind: then the announcing values are not known (they are left out). */
  readonly blind: boolean;
}

/** One record type at one moment: what a writer compiles a serializer for. */
export interface Emission {
  readonly index: number;
  readonly record: RecordType;
  readonly moment: Moment;
}

// enter() numbers event types by their place in EVENT_TYPES.
if (EVENT_TYPES.join() !== "transaction_open,step_open,step_done,inter_step_wait,transaction_close,transaction_aborted,step_failed,step_retry,transaction_failed") {
  throw new Error("shaper: EVENT_TYPES changed order");
}

/** A transaction's state as the shaper follows it; also what attributes are drawn against. */
export class TxnContext implements DrawContext {
  random: Random;
  readonly values: AttributeValue[] = [];
  index = 0;
  txnId = "";
  workflow = 0;
  workflowName = "";
  time = 0;
  openedAt = 0;
  stepName: string | undefined = undefined;
  stepNumber = 0;
  record = "";
  event = "";
  eventSeq = 0;
  /** Lifecycle events so far. */
  events = 0;
  /** What a writer works out once per transaction and keeps here (a Kafka key's bytes); emptied for each transaction. */
  readonly writerCache: unknown[] = [];

  constructor(random: Random) {
    this.random = random;
  }

  /**
   * A copy of what its records render now, for a record written later (a delivery fault holds it
   * while the transaction goes on changing). Its writer cache starts empty; it draws nothing.
   */
  snapshot(): TxnContext {
    const copy = new TxnContext(this.random);
    for (let i = 0; i < this.values.length; i++) copy.values[i] = this.values[i]!;
    copy.index = this.index;
    copy.txnId = this.txnId;
    copy.workflow = this.workflow;
    copy.workflowName = this.workflowName;
    copy.time = this.time;
    copy.openedAt = this.openedAt;
    copy.stepName = this.stepName;
    copy.stepNumber = this.stepNumber;
    copy.record = this.record;
    copy.event = this.event;
    copy.eventSeq = this.eventSeq;
    copy.events = this.events;
    return copy;
  }
}

export class Shaper {
  readonly shape: Shape;
  readonly settings: ShaperSettings;
  readonly zone: ZonedTime;
  /** Every (record type, moment) pair, in record order. */
  readonly emissions: readonly Emission[];
  /** The context of the transaction the engine is running now. */
  current: TxnContext;
  /**
   * Set while delivery faults hand a writer one record (see `pin`): the writer's enter() returns
   * that record's emission alone and nothing is drawn.
   */
  private pinned: Emission[] | undefined;
  private readonly pinnedOne: Emission[] = [];
  private unpinned: TxnContext | undefined;
  private readonly drawers: AttributeDrawers;
  /** [(workflow · event types + event type code) · slots + step + 1] → emissions, in record order. */
  private readonly table: readonly (readonly Emission[])[];
  /** Steps of the longest workflow + 1. */
  private readonly slots: number;
  private readonly workflowIndex: Map<string, number>;
  private readonly drawTransaction: ScopeDraw;
  private readonly drawStep: ScopeDraw;
  /** The record-scope attributes (all of them: record attributes are drawn for every record). */
  private readonly drawRecord: ScopeDraw;
  /** Whether the shape draws record attributes (writers skip `beforeRecord` otherwise). */
  readonly drawsPerRecord: boolean;

  constructor(shape: Shape, settings: ShaperSettings) {
    this.shape = shape;
    this.settings = settings;
    this.zone = new ZonedTime(settings.timezone);
    this.drawers = new AttributeDrawers(shape, { seed: settings.seed, startTime: settings.startTime, zone: this.zone });
    const byScope = (scope: string) =>
      scopeDraw(shape.attributes.filter((a) => a.scope === scope).map((a) => [a.index, this.drawers.drawers[a.index]!] as const));
    this.drawTransaction = byScope("transaction");
    this.drawStep = byScope("step");
    this.drawRecord = byScope("record");
    this.drawsPerRecord = shape.attributes.some((a) => a.scope === "record");
    this.workflowIndex = new Map(shape.workflows.map((w, i) => [w.name, i]));
    const emissions: Emission[] = [];
    for (const record of shape.records) for (const moment of record.moments) emissions.push({ index: emissions.length, record, moment });
    this.emissions = emissions;
    this.slots = Math.max(...shape.workflows.map((w) => w.steps.length)) + 1;
    const table: Emission[][] = [];
    shape.workflows.forEach((_, w) =>
      EVENT_TYPES.forEach((event, code) => {
        for (let slot = 0; slot < this.slots; slot++) {
          table[(w * EVENT_TYPES.length + code) * this.slots + slot] = emissions.filter(
            (e) => e.moment.workflow === w && e.moment.event === event && e.moment.step === slot - 1,
          );
        }
      }),
    );
    this.table = table;
    this.current = new TxnContext(this.drawers.streams.forTransaction(0));
  }

  /** The factory's transactions, each making its context current before the engine's calls. */
  wrap(factory: TransactionFactory): TransactionFactory {
    return new ShapedFactory(factory, this);
  }

  /** A fresh context for the transaction with `index` (its attribute stream started over). */
  startContext(index: number, txnId: string, reuse: TxnContext | undefined): TxnContext {
    const context = reuse ?? new TxnContext(this.drawers.streams.forTransaction(index));
    if (reuse !== undefined) this.drawers.streams.forTransaction(index, reuse.random);
    context.index = index;
    context.txnId = txnId;
    context.events = 0;
    context.stepName = undefined;
    context.stepNumber = 0;
    context.writerCache.length = 0;
    return context;
  }

  /**
   * Follows `event` (of the current transaction): draws what its moment draws, and returns the
   * emissions of its moment (often none).
   */
  enter(event: WfEvent): readonly Emission[] {
    if (this.pinned !== undefined) return this.pinned;
    const c = this.current;
    c.eventSeq = c.events++;
    const type = event.type;
    c.event = type;
    // Each case reads the event's time itself: events of each type have a shape of their own, so a
    // read there sees one shape, where one read before the switch sees them all. Cases in the order
    // of how often they come (five steps: 5, 5, 4, 1, 1). The gain of both is small (within the
    // noise of a shared machine); they cost nothing to read.
    let row: number;
    switch (type) {
      case "step_open":
        c.time = event.ts_ms;
        if (event.attempt === undefined) {
          c.stepNumber = event.step;
          c.stepName = event.step_name;
          this.drawStep(c);
        }
        row = this.slots + event.step;
        break;
      case "step_done":
        c.time = event.ts_ms;
        row = 2 * this.slots + event.step;
        break;
      case "inter_step_wait":
        c.time = event.ts_ms;
        row = 3 * this.slots + event.from_step;
        break;
      case "transaction_open":
        c.time = c.openedAt = event.ts_ms;
        c.txnId = event.txn_id;
        c.workflowName = event.workflow ?? this.shape.workflows[0]!.name;
        c.workflow = this.workflowIndex.get(c.workflowName) ?? 0;
        this.drawTransaction(c);
        row = 0;
        break;
      case "transaction_close":
        c.time = event.ts_ms;
        row = 4 * this.slots;
        break;
      case "transaction_aborted":
        c.time = event.ts_ms;
        row = 5 * this.slots;
        break;
      case "step_failed":
        c.time = event.ts_ms;
        row = 6 * this.slots + event.step;
        break;
      case "step_retry":
        c.time = event.ts_ms;
        row = 7 * this.slots + event.step;
        break;
      case "transaction_failed":
        c.time = event.ts_ms;
        row = 8 * this.slots;
        break;
    }
    return this.table[c.workflow * EVENT_TYPES.length * this.slots + row]!;
  }

  /** Draws the record attributes for a record of `emission` about to be written. */
  beforeRecord(emission: Emission): void {
    if (!this.drawsPerRecord || this.pinned !== undefined) return;
    const c = this.current;
    c.record = emission.record.name;
    this.drawRecord(c);
  }

  /**
   * Until `unpin`, writers see one record: `emission` of the next event they are given, rendered
   * from `context` (drawn already). Delivery faults write a shaped output record by record this way:
   * each one as it comes, or later (held), or never.
   */
  pin(emission: Emission, context: TxnContext): void {
    this.pinnedOne[0] = emission;
    this.pinned = this.pinnedOne;
    this.unpinned = this.current;
    this.current = context;
  }

  unpin(): void {
    this.pinned = undefined;
    this.current = this.unpinned!;
    this.unpinned = undefined;
  }
}

/** Draws one scope's attributes into a context, in order. */
type ScopeDraw = (c: TxnContext) => void;

/**
 * One scope's drawers as one generated function (`v[0] = d0(c); v[2] = d1(c);`): each call site
 * then calls one drawer only, which the engine can inline, where a loop over the list calls them all
 * from one place.
 */
function scopeDraw(drawers: readonly (readonly [number, Drawer])[]): ScopeDraw {
  if (drawers.length === 0) return () => {};
  const names = drawers.map((_, i) => `d${i}`);
  const body = drawers.map(([index], i) => `v[${index}] = d${i}(c);`).join(" ");
  return new Function(...names, `return (c) => { const v = c.values; ${body} };`)(...drawers.map(([, draw]) => draw)) as ScopeDraw;
}

class ShapedFactory implements TransactionFactory {
  private readonly inner: TransactionFactory;
  private readonly shaper: Shaper;

  constructor(inner: TransactionFactory, shaper: Shaper) {
    this.inner = inner;
    this.shaper = shaper;
  }

  create(index: number, random: Random, recycled?: SimTransaction): SimTransaction {
    const old = recycled instanceof ShapedTransaction ? recycled : undefined;
    const inner = this.inner.create(index, random, old?.inner);
    const context = this.shaper.startContext(index, inner.id, old?.context);
    if (old !== undefined) return old.start(inner, context);
    return new ShapedTransaction(inner, context, this.shaper);
  }
}

class ShapedTransaction implements SimTransaction, Timed {
  due = 0;
  seq = 0;
  faults: unknown = undefined;
  inner: SimTransaction;
  context: TxnContext;
  private readonly shaper: Shaper;

  constructor(inner: SimTransaction, context: TxnContext, shaper: Shaper) {
    this.inner = inner;
    this.context = context;
    this.shaper = shaper;
  }

  start(inner: SimTransaction, context: TxnContext): this {
    this.inner = inner;
    this.context = context;
    return this;
  }

  get index(): number {
    return this.inner.index;
  }

  get id(): string {
    return this.inner.id;
  }

  get random(): Random {
    return this.inner.random;
  }

  open(now: number, emit: Emit, label: Label): number {
    this.shaper.current = this.context;
    return this.inner.open(now, emit, label);
  }

  wake(now: number, emit: Emit, label: Label): number {
    this.shaper.current = this.context;
    return this.inner.wake(now, emit, label);
  }

  abort(now: number, reason: string, emit: Emit): void {
    this.shaper.current = this.context;
    this.inner.abort(now, reason, emit);
  }
}

export type { EventType };
