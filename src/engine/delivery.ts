/**
 * Delivery faults: what happens to records between the lifecycle and the output (a scenario's
 * `delivery` section, `wfsim run --delivery`). The lifecycle is untouched; each record the engine
 * emits may be dropped, emitted twice, emitted late, stamped by a producer whose clock is off, or
 * replaced by a malformed line, and every such fault is told to the truth.
 *
 * Draws come from a stream of their own per transaction (a xoshiro128** state hashed from four keys
 * drawn from the seed's DELIVERY_DOMAIN family and the transaction's index, see `faultState`: one
 * cheap hash per transaction, no allocation), never from the transaction's stream: a run with no
 * delivery section draws exactly what it always did, and a transaction's faults depend on nothing but
 * the seed, its index and the section: not on clock, speed, concurrency or --instance.
 *
 * Draw order on a transaction's delivery stream (part of the output contract, like the seed's):
 *  1. first (at its first record, or when it begins where that changes nothing: see `early`), when a
 *     skew fault applies to its workflow: one float; if it hits, the
 *     offset (its distribution's draws), then with direction `either` one float (below 0.5: ahead);
 *     a skew is one offset for all the transaction's records (cut at its first record so that none
 *     goes before the epoch), told to the truth once, with the first record;
 *  2. for each record, when any of drop, duplicate, delay, corrupt is set: one 32-bit draw (u =
 *     nextU32 / 2^32), which picks at most one of them (each takes its probability's share of [0, 1), in that order, among those
 *     whose filters the record passes); then duplicate: the copy's delay; delay: the delay;
 *     corrupt: with `either` one float (below 0.5: truncated), and when truncated, the cut
 *     (Random.int over 1 .. length - 1 of the JSON text).
 *
 * With a shaped output (a scenario's output section) the records are the shape's: each lifecycle
 * event makes any number (each a record type at that moment), and the per-record draws above are
 * made for each of them, after its record attributes are drawn (so a record's values are those of
 * the run without faults). A skew shifts the event time before the shape renders it, so every time
 * field carries the error. A held record keeps a copy of what it renders (its transaction goes on
 * changing), and the writers are handed one record at a time (Shaper.pin).
 */
import { FAULT_KINDS, type DeliverySpec, type FaultKind, type FaultSpec } from "../config/scenario/model.ts";
import type { EventType, WfEvent } from "../events/schema.ts";
import { serializeEvent } from "../events/serialize.ts";
import type { FaultRecord } from "../events/truth.ts";
import { samplerOf, type Sampler } from "./distributions.ts";
import type { Emission, Shaper, TxnContext } from "./shape/shaper.ts";
import { Random, RandomStreams } from "./random.ts";
import { HeldQueue } from "./held-queue.ts";

/** The RandomStreams family the delivery faults' keys come from: `new RandomStreams(seed).derived(DELIVERY_DOMAIN)`. */
export const DELIVERY_DOMAIN = 1_000_000;

/** Where records go: an EventSink, which writes a malformed record only if it can. */
export interface FaultOutput {
  write(event: WfEvent): void;
  /**
   * Writes `text` (no newline) where `event`'s record would have gone, as it is: a malformed record.
   * Absent: the output cannot carry one (the library's iterator of typed events).
   */
  writeMalformed?(event: WfEvent, text: string): void;
  /**
   * Writes `event`'s JSON text (no newline) cut to its `cut(length)` first characters of `length`,
   * made from the line's bytes where the output writes them itself (no string, no serializeEvent).
   * False when it cannot: nothing written and `cut` not called (writeMalformed is then used).
   */
  writeTruncated?(event: WfEvent, cut: (length: number) => number): boolean;
  /** Writes notJsonText(event) from the event's fields, without the string; false when it cannot (nothing written). */
  writeNotJson?(event: WfEvent): boolean;
}

export type FaultCounts = Record<FaultKind, number>;

/** Where fault records go (the truth output). */
export interface FaultTruth {
  write(record: FaultRecord): void;
  /**
   * Records with every field present (`undefined` where absent), in one shape: a sink that encodes
   * their fields at once (the truth file's line writer) then reads objects of one shape, not of a
   * dozen. Off: each record has only its fields (what the library's callers get).
   */
  readonly fullRecords: boolean;
  /**
   * A fault record of wfsim's own events (not a shaped output's: no `record`, no `attempt`) given as
   * its fields, with no object made: the truth file's line writer puts them in its record at once.
   * `kind` is the kind's index in FAULT_KINDS; an absent number is NaN, an absent string undefined.
   * False when it cannot take them so (a delay or offset that is not a whole number): nothing is
   * written, and the record is made and goes to `write`. Optional.
   */
  writeFields?(
    kind: number, txnId: string, type: string, step: number, workflow: string | undefined, seq: number,
    tsMs: number, dueMs: number, emittedMs: number, delayMs: number, offsetMs: number, as: string | undefined,
  ): boolean;
}

/** The kinds' indices in FAULT_KINDS (FaultTruth.writeFields). */
const DROP = FAULT_KINDS.indexOf("drop");
const DUPLICATE = FAULT_KINDS.indexOf("duplicate");
const DELAY = FAULT_KINDS.indexOf("delay");
const SKEW = FAULT_KINDS.indexOf("skew");
const CORRUPT = FAULT_KINDS.indexOf("corrupt");

/** A shaped output's part in delivery faults: its shaper, and (for corrupt) a record's JSON text. */
export interface ShapedFaultOutput {
  readonly shaper: Shaper;
  /** The JSON text (no newline) of `emission`'s record for `event`, rendered from `context`. */
  readonly json?: (emission: Emission, event: WfEvent, context: TxnContext) => string;
}

interface CompiledFault {
  readonly kind: FaultKind;
  /** Its index in FAULT_KINDS: what the per-record path switches on and counts by (no string compared, no keyed store). */
  readonly code: number;
  readonly prob: number;
  /** undefined: every workflow. */
  readonly workflows: ReadonlySet<string | undefined> | undefined;
  /** undefined: every type. */
  readonly types: ReadonlySet<EventType> | undefined;
  /** undefined: every record type (a shaped output's). */
  readonly records: ReadonlySet<string> | undefined;
  readonly sampler: Sampler | undefined;
  readonly choice: "truncated" | "not_json" | "either" | "ahead" | "behind" | undefined;
}

/** What the engine hands over of a transaction: its index, and a slot to keep its fault state in. */
export interface FaultHolder {
  readonly index: number;
  faults: unknown;
}

/** One transaction's delivery state (kept in its FaultHolder's slot, and started over when the object is). */
class TxnFaults {
  random: Random;
  /** Records so far. */
  seq = 0;
  /** ms its producer's clock is off; 0: not skewed. */
  skew = 0;
  skewed = false;
  /** Lifecycle events so far (a shaped output: records are counted by `seq`). */
  events = 0;
  /** Past its first record, not skewed, wfsim's own events, per-record faults: a record needs its draw only. */
  plain = false;
  /** Records ahead whose draws are made and hit no fault (DeliveryFaults.clear while the transaction is current). */
  clear = 0;
  /** The draw made ahead for the record after those, which falls where the faults are; -1: not made yet. */
  drawn = -1;

  constructor(random: Random) {
    this.random = random;
  }
}

/**
 * How far ahead a plain transaction's draws are made: its expected records left (the mean number of
 * records of the transactions so far, at first this), at most DRAWS_AHEAD_MAX. Draws past a
 * transaction's last record are wasted (its stream is its own), and draws too few cost calls.
 */
const DRAWS_AHEAD_FIRST = 16;
const DRAWS_AHEAD_MAX = 64;

/** A record held back (delay) or to be emitted again (duplicate). */
class Held {
  /** When it goes out (set when it is held). */
  due = 0;
  readonly event: WfEvent;
  /**
   * Its truth record, emitted_ms set when it goes out; undefined when the truth takes fields
   * (FaultTruth.writeFields), told from those below then: no object kept while it waits.
   */
  readonly record: Omit<FaultRecord, "emitted_ms"> | undefined;
  /** DUPLICATE or DELAY; the record's place, event time, and the delay drawn. */
  readonly code: number;
  readonly seq: number;
  readonly eventDue: number;
  readonly delay: number;
  /** A shaped output's record: which, and what it renders (a copy). */
  readonly emission: Emission | undefined;
  readonly context: TxnContext | undefined;

  constructor(
    event: WfEvent, record: Omit<FaultRecord, "emitted_ms"> | undefined, code: number, seq: number, eventDue: number, delay: number,
    emission?: Emission, context?: TxnContext,
  ) {
    this.event = event;
    this.record = record;
    this.code = code;
    this.seq = seq;
    this.eventDue = eventDue;
    this.delay = delay;
    this.emission = emission;
    this.context = context;
  }
}

export class DeliveryFaults {
  /** Faults so far by kind, indexed as FAULT_KINDS. */
  private readonly tally = new Float64Array(FAULT_KINDS.length);
  /** Four 32-bit keys from the seed: a transaction's fault state is hashed from them and its index. */
  private readonly keys: readonly [number, number, number, number];
  private readonly perRecord: readonly CompiledFault[];
  /** Without filters: the share of [0, 1) that hits some per-record fault (a draw above it is a clean record). */
  private readonly hitEdge: number;
  private readonly skew: CompiledFault | undefined;
  /**
   * Per-record faults on wfsim's own events, and a skew (if any) that does not hang on the first
   * record's workflow: a transaction's skew is drawn when it begins, and an unskewed one's draws are
   * made ahead at once, so that its first record too goes out on the count (no call of `pass`).
   */
  private readonly early: boolean;
  private readonly held = new HeldQueue<Held>();
  /** When the next held record is due (Infinity: none is): read by the engine at every turn, so a field. */
  nextDue = Infinity;
  /**
   * The current transaction's next records that go out as they are: their draws are made ahead and
   * hit no fault. The engine counts them down itself (`clear-- > 0 || pass(event)`), so that such a
   * record costs it a decrement, where a call of `pass` is too big for the wake to take in.
   */
  clear = 0;
  /** Records of the transactions ended so far (counted when their objects start over), and how many: see drawAhead. */
  private recordsEnded = 0;
  private transactionsEnded = 0;
  private typicalRecords = DRAWS_AHEAD_FIRST;
  private current: TxnFaults | undefined;
  private readonly output: FaultOutput;
  private readonly truth: ((record: FaultRecord) => void) | undefined;
  /** The truth when it takes fault records as fields (FaultTruth.writeFields) and the records are wfsim's events (no shaped output). */
  private readonly truthFields: FaultTruth | undefined;
  private readonly fullRecords: boolean;
  private readonly shaped: ShapedFaultOutput | undefined;

  constructor(spec: DeliverySpec, seed: number, output: FaultOutput, truth?: FaultTruth, shaped?: ShapedFaultOutput) {
    const root = new RandomStreams(seed).derived(DELIVERY_DOMAIN).forDomain(0);
    this.keys = [root.nextU32(), root.nextU32(), root.nextU32(), root.nextU32()];
    const compiled = spec.faults.map(compile);
    this.perRecord = compiled.filter((fault) => fault.kind !== "skew" && fault.prob > 0);
    this.skew = compiled.find((fault) => fault.kind === "skew" && fault.prob > 0);
    const filtered = this.perRecord.some((fault) => fault.workflows !== undefined || fault.types !== undefined || fault.records !== undefined);
    this.hitEdge = filtered ? 1 : this.perRecord.reduce((sum, fault) => sum + fault.prob, 0);
    this.early = shaped === undefined && this.perRecord.length > 0 && (this.skew === undefined || (this.skew.workflows === undefined && this.skew.types === undefined));
    if (compiled.some((fault) => fault.kind === "corrupt" && fault.prob > 0) && output.writeMalformed === undefined) {
      throw new TypeError("delivery: corrupt needs an output that can write a malformed record (JSON Lines or Kafka)");
    }
    if (compiled.some((fault) => fault.records !== undefined) && shaped === undefined) {
      throw new TypeError("delivery: a records filter needs a shaped output (a scenario's output section)");
    }
    if (shaped !== undefined && shaped.json === undefined && compiled.some((fault) => fault.kind === "corrupt" && fault.prob > 0)) {
      throw new TypeError("delivery: corrupt on a shaped output needs its records' JSON text");
    }
    this.output = output;
    this.truth = truth === undefined ? undefined : (record) => truth.write(record);
    this.truthFields = truth?.writeFields !== undefined && shaped === undefined ? truth : undefined;
    this.fullRecords = truth?.fullRecords === true;
    this.shaped = shaped;
  }

  /** Faults injected so far, by kind (skew: transactions stamped off). */
  get counts(): FaultCounts {
    const tally = this.tally;
    return { drop: tally[DROP]!, duplicate: tally[DUPLICATE]!, delay: tally[DELAY]!, skew: tally[SKEW]!, corrupt: tally[CORRUPT]! };
  }

  /** A transaction opens and is about to emit: its fault state starts (over, on a recycled object). */
  begin(txn: FaultHolder): void {
    this.leave();
    let state = txn.faults as TxnFaults | undefined;
    if (state === undefined) txn.faults = state = new TxnFaults(faultState(this.keys, txn.index, undefined));
    else {
      // The transaction it held has ended: its records (drawn ahead and not made left out) tell how far ahead to draw.
      this.recordsEnded += state.seq - state.clear - (state.drawn >= 0 ? 1 : 0);
      this.transactionsEnded++;
      this.typicalRecords = Math.min(DRAWS_AHEAD_MAX, Math.ceil(this.recordsEnded / this.transactionsEnded));
      faultState(this.keys, txn.index, state.random);
      state.seq = 0;
      state.skew = 0;
      state.skewed = false;
      state.events = 0;
      state.plain = false;
      state.clear = 0;
      state.drawn = -1;
    }
    this.current = state;
    this.clear = 0;
    if (this.early) {
      // The draws its first record would make (see passOther), in their order, made now.
      if (this.skew !== undefined) this.drawSkew(state, this.skew);
      if (!state.skewed) {
        state.plain = true;
        this.drawAhead(state);
      }
    }
  }

  /** The transaction is about to emit again (the engine runs one at a time). */
  enter(txn: FaultHolder): void {
    this.leave();
    const state = txn.faults as TxnFaults;
    this.current = state;
    this.clear = state.clear;
  }

  /** The current transaction keeps its records drawn ahead for its next turn. */
  private leave(): void {
    const state = this.current;
    if (state !== undefined) state.clear = this.clear;
  }

  /** Records held for later. */
  get pending(): number {
    return this.held.size;
  }

  /** Emits the held records due at or before `now`; `at` says what time they were emitted at (null: their due time). */
  release(now: number, at: number | null): void {
    const held = this.held;
    // size first: an empty queue's next due time is Infinity, and releaseAll's `now` is Infinity too.
    while (held.size > 0 && held.peekDue() <= now) {
      const item = held.pop()!;
      if (item.emission === undefined) this.output.write(item.event);
      else this.writeRecord(item.event, item.emission, item.context!);
      const emitted = at ?? Math.floor(item.due);
      const record = item.record as FaultRecord | undefined;
      if (record === undefined) {
        const event = item.event;
        if (this.truthFields === undefined) continue;
        if (this.truthFields.writeFields!(item.code, event.txn_id, event.type, stepNumber(event), event.workflow, item.seq, event.ts_ms, item.eventDue, emitted, item.delay, NaN, undefined)) continue;
        const made = this.heldRecord(item.code === DUPLICATE ? "duplicate" : "delay", event, item.eventDue, item.seq, item.delay);
        made.emitted_ms = emitted;
        this.truth!(made);
        continue;
      }
      // In place (the record is the held item's alone): its fields as a copy with emitted_ms last would have them.
      record.emitted_ms = emitted;
      this.truth?.(record);
    }
    this.nextDue = held.peekDue();
  }

  /** Emits every held record now (the run is stopping). */
  releaseAll(at: number): void {
    this.release(Infinity, at);
  }

  /**
   * Does what the faults do to one record of the current transaction, once `clear` is counted down
   * (`clear-- > 0 || pass(event)`: the records drawn ahead that hit no fault pass without a call);
   * true when it then goes out as it is, which the caller does (the engine: so that its call of the
   * output is the one it makes without faults, inlined as deep).
   */
  pass(event: WfEvent): boolean {
    this.clear = 0;
    const state = this.current!;
    if (!state.plain) {
      const passed = this.passOther(event, state);
      if (state.plain) this.drawAhead(state);
      return passed;
    }
    const seq = state.seq++;
    let u = state.drawn;
    state.drawn = -1;
    if (u < 0) u = state.random.nextU32() / 4294967296;
    const passed = u >= this.hitEdge || this.writeDrawn(event, state, seq, event.ts_ms, u);
    // After the fault's own draws, if any: the next record's draw comes next on the stream.
    this.drawAhead(state);
    return passed;
  }

  /**
   * Makes the draws of a plain transaction's next records, in their order on its stream, up to the
   * first that falls where the faults are (kept for its record) or as many as it is expected to
   * have left (at least one): those before it go out as they are, counted by `clear` (and by `seq`
   * at once). How many are made changes no draw, only when they are made.
   */
  private drawAhead(state: TxnFaults): void {
    const random = state.random;
    const edge = this.hitEdge;
    const ahead = Math.max(1, this.typicalRecords - state.seq);
    let clear = 0;
    while (clear < ahead) {
      const u = random.nextU32() / 4294967296;
      if (u < edge) {
        state.drawn = u;
        break;
      }
      clear++;
    }
    state.seq += clear;
    this.clear = clear;
  }

  /** `pass` for a transaction's first record, a skewed transaction's, a shaped output's. */
  private passOther(event: WfEvent, state: TxnFaults): boolean {
    if (this.shaped !== undefined) {
      this.writeShaped(event, state, this.shaped.shaper);
      return false;
    }
    const seq = state.seq++;
    if (seq === 0 && !this.early && this.skew !== undefined && passes(this.skew, event)) this.drawSkew(state, this.skew);
    // The event time (when the record is due, whatever its producer's clock says) is read only when
    // needed: events of many shapes make the read a slow one.
    const due = state.skewed ? this.stamp(event, state, seq) : -1;
    if (this.perRecord.length === 0) return true;
    // The skew is settled at the first record: the others of an unskewed transaction take the short way.
    if (!state.skewed) state.plain = true;
    const u = state.random.nextU32() / 4294967296;
    if (u >= this.hitEdge) return true;
    return this.writeDrawn(event, state, seq, due < 0 ? event.ts_ms : due, u);
  }

  /** A skewed transaction's record: its ts_ms off by the offset (the offset cut, and told, at its first record); returns its event time. */
  private stamp(out: WfEvent, state: TxnFaults, seq: number): number {
    const due = out.ts_ms;
    if (seq === 0) {
      // Cut once, at the first record (the transaction's earliest): one offset for all its records,
      // so one truth record tells them all and analyze can put every ts_ms back.
      if (state.skew < -due) state.skew = -due;
      this.tally[SKEW] = this.tally[SKEW]! + 1;
    }
    // In place: events are made fresh for each emit, and a copy of another shape would make the
    // writers' field reads polymorphic for every event after it. The max: a record before the
    // first in event time (none the engine emits) never goes before the epoch either.
    const ts = (out as { ts_ms: number }).ts_ms = Math.max(0, due + state.skew);
    if (seq === 0) {
      const fields = this.truthFields;
      if (fields === undefined || !fields.writeFields!(SKEW, out.txn_id, out.type, stepNumber(out), out.workflow, seq, ts, due, due, NaN, state.skew, undefined)) {
        this.truth?.(this.skewRecord(out, due, seq, state.skew));
      }
    }
    return due;
  }

  /** A record whose draw `u` falls where per-record faults are: the fault it picks, if any, done; true when none did (it goes out as it is). */
  private writeDrawn(out: WfEvent, state: TxnFaults, seq: number, due: number, u: number): boolean {
    const random = state.random;
    const faults = this.perRecord;
    let edge = 0;
    for (let i = 0; i < faults.length; i++) {
      const fault = faults[i]!;
      if (!passes(fault, out)) continue;
      edge += fault.prob;
      if (u >= edge) continue;
      const code = fault.code;
      this.tally[code] = this.tally[code]! + 1;
      const fields = this.truthFields;
      switch (code) {
        case DROP:
          if (fields === undefined || !fields.writeFields!(DROP, out.txn_id, out.type, stepNumber(out), out.workflow, seq, out.ts_ms, due, NaN, NaN, NaN, undefined)) {
            this.truth?.(this.record("drop", out, due, seq));
          }
          return false;
        case DUPLICATE: {
          const after = fault.sampler!(random);
          this.output.write(out);
          this.push(new Held(out, this.heldTruth("duplicate", out, due, seq, after), DUPLICATE, seq, due, after), due + after);
          return false;
        }
        case DELAY: {
          const by = fault.sampler!(random);
          this.push(new Held(out, this.heldTruth("delay", out, due, seq, by), DELAY, seq, due, by), due + by);
          return false;
        }
        case CORRUPT: {
          const truncated = fault.choice === "either" ? random.float() < 0.5 : fault.choice === "truncated";
          this.writeCorrupt(out, truncated, random);
          const as = truncated ? "truncated" : "not_json";
          if (fields === undefined || !fields.writeFields!(CORRUPT, out.txn_id, out.type, stepNumber(out), out.workflow, seq, out.ts_ms, due, due, NaN, NaN, as)) {
            this.truth?.(this.corruptRecord(out, due, seq, truncated));
          }
          return false;
        }
        default:
          throw new Error(`delivery: ${fault.kind} is not a per-record fault`);
      }
    }
    return true;
  }

  /**
   * A corrupt record's malformed line: by the output's own ways when it has them (the JSON Lines
   * writer makes it from its bytes, with no string), else as text. The cut is drawn the same either way.
   */
  private writeCorrupt(event: WfEvent, truncated: boolean, random: Random): void {
    const output = this.output;
    if (truncated) {
      if (output.writeTruncated?.(event, (length) => random.int(1, length - 1)) !== true) output.writeMalformed!(event, truncate(event, random));
    } else if (output.writeNotJson?.(event) !== true) {
      output.writeMalformed!(event, notJsonText(event));
    }
  }

  /** One lifecycle event of the current transaction, its shaped records on their way out one by one. */
  private writeShaped(event: WfEvent, state: TxnFaults, shaper: Shaper): void {
    const first = state.events++ === 0;
    if (first && this.skew !== undefined && passes(this.skew, event)) this.drawSkew(state, this.skew);
    const due = event.ts_ms;
    if (state.skewed) {
      if (first) {
        if (state.skew < -due) state.skew = -due;
        this.tally[SKEW] = this.tally[SKEW]! + 1;
      }
      // Before the shape renders it: every time field of its records carries the error.
      (event as { ts_ms: number }).ts_ms = Math.max(0, due + state.skew);
      if (first) this.truth?.(this.skewRecord(event, due, state.seq, state.skew));
    }
    const emissions = shaper.enter(event);
    if (emissions.length === 0) return;
    const context = shaper.current;
    const faults = this.perRecord;
    const random = state.random;
    for (let i = 0; i < emissions.length; i++) {
      const emission = emissions[i]!;
      // Drawn whatever happens to the record: the records kept are those of the run without faults.
      if (shaper.drawsPerRecord) shaper.beforeRecord(emission);
      const seq = state.seq++;
      const fault = faults.length === 0 ? undefined : this.pick(random.nextU32() / 4294967296, event, emission.record.name);
      if (fault === undefined) {
        this.writeRecord(event, emission, context);
        continue;
      }
      this.tally[fault.code] = this.tally[fault.code]! + 1;
      const name = emission.record.name;
      switch (fault.kind) {
        case "drop":
          this.truth?.(this.record("drop", event, due, seq, name));
          break;
        case "duplicate": {
          const after = fault.sampler!(random);
          this.writeRecord(event, emission, context);
          this.push(new Held(event, this.heldRecord("duplicate", event, due, seq, after, name), DUPLICATE, seq, due, after, emission, context.snapshot()), due + after);
          break;
        }
        case "delay": {
          const by = fault.sampler!(random);
          this.push(new Held(event, this.heldRecord("delay", event, due, seq, by, name), DELAY, seq, due, by, emission, context.snapshot()), due + by);
          break;
        }
        case "corrupt": {
          const truncated = fault.choice === "either" ? random.float() < 0.5 : fault.choice === "truncated";
          const json = this.shaped!.json!(emission, event, context);
          const text = truncated ? json.slice(0, random.int(1, json.length - 1)) : notJsonRecord(event, name);
          shaper.pin(emission, context);
          try {
            this.output.writeMalformed!(event, text);
          } finally {
            shaper.unpin();
          }
          this.truth?.(this.corruptRecord(event, due, seq, truncated, name));
          break;
        }
        default:
          throw new Error(`delivery: ${fault.kind} is not a per-record fault`);
      }
    }
  }

  /** The per-record fault a draw `u` picks for a record of type `name` at `event`, if any. */
  private pick(u: number, event: WfEvent, name: string): CompiledFault | undefined {
    if (u >= this.hitEdge) return undefined;
    const faults = this.perRecord;
    let edge = 0;
    for (let i = 0; i < faults.length; i++) {
      const fault = faults[i]!;
      if (!passes(fault, event) || (fault.records !== undefined && !fault.records.has(name))) continue;
      edge += fault.prob;
      if (u < edge) return fault;
    }
    return undefined;
  }

  /** Hands the output one shaped record: `emission` of `event`, rendered from `context`. */
  private writeRecord(event: WfEvent, emission: Emission, context: TxnContext): void {
    const shaper = this.shaped!.shaper;
    shaper.pin(emission, context);
    try {
      this.output.write(event);
    } finally {
      shaper.unpin();
    }
  }

  private drawSkew(state: TxnFaults, fault: CompiledFault): void {
    const random = state.random;
    if (!(random.float() < fault.prob)) return;
    const offset = fault.sampler!(random);
    const ahead = fault.choice === "either" ? random.float() < 0.5 : fault.choice === "ahead";
    state.skewed = true;
    state.skew = ahead ? offset : -offset;
  }

  private push(held: Held, due: number): void {
    held.due = due;
    this.held.push(held, due);
    if (due < this.nextDue) this.nextDue = this.held.peekDue();
  }

  /** A skew's truth record: told once, with the transaction's first record. */
  private skewRecord(event: WfEvent, due: number, seq: number, offset: number): FaultRecord {
    const record = this.record("skew", event, due, seq);
    record.emitted_ms = due;
    record.offset_ms = offset;
    return record;
  }

  /** What a held record keeps for its truth: its record, or nothing when the truth takes fields or there is no truth. */
  private heldTruth(kind: "duplicate" | "delay", event: WfEvent, due: number, seq: number, delay: number): FaultRecord | undefined {
    return this.truth === undefined || this.truthFields !== undefined ? undefined : this.heldRecord(kind, event, due, seq, delay);
  }

  /** A duplicate's or a delay's truth record, its emitted_ms set when it goes out. */
  private heldRecord(kind: "duplicate" | "delay", event: WfEvent, due: number, seq: number, delay: number, name?: string): FaultRecord {
    const record = this.record(kind, event, due, seq, name);
    record.delay_ms = delay;
    return record;
  }

  private corruptRecord(event: WfEvent, due: number, seq: number, truncated: boolean, name?: string): FaultRecord {
    const record = this.record("corrupt", event, due, seq, name);
    record.emitted_ms = due;
    record.as = truncated ? "truncated" : "not_json";
    return record;
  }

  /**
   * The truth record of a fault on `event` (as emitted), due at `due`, without the fields of its kind
   * (emitted_ms, delay_ms, offset_ms, as), which the callers above add in that order.
   */
  private record(kind: FaultKind, event: WfEvent, due: number, seq: number, name?: string): { -readonly [K in keyof FaultRecord]: FaultRecord[K] } {
    const step = "step" in event ? event.step : "from_step" in event ? event.from_step : undefined;
    const attempt = name !== undefined && "attempt" in event ? event.attempt : undefined;
    if (this.fullRecords) {
      // Every field, in schema order, in one literal: one shape for all (the kind's fields set by the callers).
      return {
        kind,
        txn_id: event.txn_id,
        type: event.type,
        record: name,
        step,
        attempt,
        workflow: event.workflow,
        seq,
        ts_ms: event.ts_ms,
        due_ms: due,
        emitted_ms: undefined,
        delay_ms: undefined,
        offset_ms: undefined,
        as: undefined,
      };
    }
    // Built without spreads and without an object of extras: a run makes one per fault.
    const record: { -readonly [K in keyof FaultRecord]: FaultRecord[K] } = { kind, txn_id: event.txn_id, type: event.type, seq: 0, ts_ms: 0, due_ms: 0 };
    if (name !== undefined) record.record = name;
    if (step !== undefined) record.step = step;
    if (attempt !== undefined) record.attempt = attempt;
    if (event.workflow !== undefined) record.workflow = event.workflow;
    record.seq = seq;
    record.ts_ms = event.ts_ms;
    record.due_ms = due;
    return record;
  }
}

/**
 * A transaction's fault stream: xoshiro128** seeded with the four keys, each mixed with the index
 * (MurmurHash3's finaliser, a bijection: distinct indices below 2^32 get distinct first words).
 * Cheaper than a SplitMix64 stream per transaction (no 64-bit arithmetic in halves, no objects).
 */
function faultState(keys: readonly [number, number, number, number], index: number, reuse: Random | undefined): Random {
  const x = Math.imul(index >>> 0, 0x9e3779b1) ^ Math.imul((index / 4294967296) >>> 0, 0x85ebca6b);
  let s0 = fmix32(keys[0] ^ x);
  const s1 = fmix32(keys[1] ^ (x + 0x632be5ab));
  const s2 = fmix32(keys[2] ^ (x + 0x2c1b3c6d));
  const s3 = fmix32(keys[3] ^ (x + 0x297a2d39));
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  return reuse === undefined ? new Random(s0, s1, s2, s3) : reuse.reseed(s0, s1, s2, s3);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function compile(fault: FaultSpec): CompiledFault {
  const sampler =
    fault.kind === "duplicate" ? samplerOf(fault.after) : fault.kind === "delay" ? samplerOf(fault.by) : fault.kind === "skew" ? samplerOf(fault.offset) : undefined;
  const choice = fault.kind === "corrupt" ? fault.as : fault.kind === "skew" ? (fault.direction === "either" ? "either" : fault.direction) : undefined;
  return {
    kind: fault.kind,
    code: FAULT_KINDS.indexOf(fault.kind),
    prob: fault.prob,
    workflows: fault.workflows === undefined ? undefined : new Set(fault.workflows),
    types: fault.types === undefined ? undefined : new Set(fault.types as EventType[]),
    records: fault.records === undefined ? undefined : new Set(fault.records),
    sampler,
    choice,
  };
}

/** A record's step (`from_step` for inter_step_wait), NaN for a transaction event (FaultTruth.writeFields' absent number). */
function stepNumber(event: WfEvent): number {
  return "step" in event ? event.step : "from_step" in event ? event.from_step : NaN;
}

function passes(fault: CompiledFault, event: WfEvent): boolean {
  return (fault.workflows === undefined || fault.workflows.has(event.workflow)) && (fault.types === undefined || fault.types.has(event.type));
}

/** The record's JSON text cut short: never valid JSON, since an object ends with its last byte. */
function truncate(event: WfEvent, random: Random): string {
  const json = serializeEvent(event).slice(0, -1);
  return json.slice(0, random.int(1, json.length - 1));
}

/** A shaped record as key=value text, as a producer writing the wrong format would. */
function notJsonRecord(event: WfEvent, record: string): string {
  return `txn_id=${event.txn_id} record=${record} ts_ms=${event.ts_ms}`;
}

/** The record as key=value text, as a producer writing the wrong format would (a not_json corrupt record). */
export function notJsonText(event: WfEvent): string {
  const step = "step" in event ? ` step=${event.step}` : "";
  return `txn_id=${event.txn_id} type=${event.type} ts_ms=${event.ts_ms}${step}`;
}
