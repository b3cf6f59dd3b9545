/**
 * Delivery faults on a shaped stream, undone before its records are rebuilt into the lifecycle
 * (`wfsim analyze --scenario FILE --truth TRUTH`). The rebuilder works a transaction's missing
 * values out from its earlier records, so it must see them as the lifecycle made them: a dropped
 * open would leave a close without a start (a NaN duration), a duplicated open or step open would
 * start the transaction again or read as a retry, a lost step open would fail step 0. So, per
 * transaction the truth names, before the rebuild:
 *  - a skew: its records' time put back by the offset;
 *  - a duplicate: the second copy of the record left out;
 *  - a dropped or corrupted record (its malformed line still goes on, an invalid line): put back,
 *    a record with no field of its own, at its place (the rebuilder works its values out as it does
 *    for moments without a record; a failure's reason comes from the truth's step_failure record);
 *  - a delayed record: the transaction's later records wait for it.
 * Records are handed on in each transaction's lifecycle order (time, then moment). A lost record
 * goes on once a later record of its transaction has come, or the stream has passed its time. A
 * stream merged from several partitions (or files) by their timestamps comes out of event-time order
 * by up to the largest skew ahead plus the largest behind (a partition waits behind a record skewed
 * ahead; a record skewed behind comes early): there the stream must pass a lost record's time by
 * that much, or it could go before its transaction's earlier records.
 * The rebuilt stream is then the run's without faults; the stream checks see it repaired, so the
 * found figures for duplicates and delays are counted here, as the records come.
 */
import type { FaultRecord } from "../../../events/truth.ts";
import { ordinal, type TimedMoment } from "./order.ts";
import type { Candidate, Path, ReadPlan } from "./plan.ts";
import { isLifecycleRecord, type ParsedRecord } from "./rebuild.ts";

/** Where a record goes in its transaction's life: time, then moment. */
interface Item {
  readonly ts: number;
  readonly order: number;
  readonly parsed: ParsedRecord;
  /** Put back from the truth (it never came). */
  readonly lost: boolean;
}

interface Awaited {
  readonly key: string;
  readonly ts: number;
  readonly order: number;
}

/** One transaction's faults as the truth tells them, and the state of undoing them. */
interface TxnRepair {
  readonly skewMs: number;
  /** Lost records not handed on yet, and records read that wait, in lifecycle order. */
  readonly items: Item[];
  /** Delayed records not read yet. */
  readonly delayed: Awaited[];
  /** Duplicated records (by identity) → copies read so far. */
  readonly duplicates: Map<string, number>;
  /** The latest place of a record read. */
  readTs: number;
  readOrder: number;
}

export interface ShapedFaultFindings {
  /** Records read a second time (a duplicate's copy), left out. */
  readonly duplicate: number;
  /** Records read after a later record of their transaction (delayed). */
  readonly delay: number;
}

export class ShapedFaultRepair {
  private readonly byTxn = new Map<string, TxnRepair>();
  /** Lost records of every transaction, in time order: handed on once the stream has passed them. */
  private readonly lostInOrder: { readonly txnId: string; readonly ts: number }[] = [];
  private lostNext = 0;
  /** Per transaction, the moments whose records were lost, at their time as the stream has it (skew included). */
  private readonly lost = new Map<string, TimedMoment[]>();
  /** How far (ms) the stream's time may run ahead of a record still to come: on a merged stream, the skews' spread. */
  readonly slackMs: number;
  /** The latest time (skew undone) of a record read. */
  private streamTs = -Infinity;
  private duplicates = 0;
  private delays = 0;

  /**
   * `faults`: the truth's fault records; `reasons`: step_failure reasons by `txn_id/step/attempt`
   * (a lost failure's reason); `merged`: the stream is merged from several partitions or files by time.
   */
  constructor(plan: ReadPlan, faults: readonly FaultRecord[], reasons: ReadonlyMap<string, string>, { merged = false }: { merged?: boolean } = {}) {
    const primaries = new Map<string, Candidate>();
    for (const candidate of plan.candidates) {
      const moment = candidate.moment;
      if (candidate.primary) primaries.set(`${candidate.record.name}/${moment.workflow}/${moment.event}/${moment.step}`, candidate);
    }
    const workflows = new Map(plan.scenario.workflows.map((w, i) => [w.name, i]));
    let ahead = 0;
    let behind = 0;
    for (const fault of faults) {
      const repair = this.repairOf(fault.txn_id);
      if (fault.kind === "skew") {
        const offset = fault.offset_ms ?? 0;
        (repair as { skewMs: number }).skewMs = offset;
        ahead = Math.max(ahead, offset);
        behind = Math.max(behind, -offset);
        continue;
      }
      if (fault.record === undefined) continue;
      const step = stepOf(fault);
      const workflow = fault.workflow === undefined ? 0 : workflows.get(fault.workflow);
      const candidate = primaries.get(`${fault.record}/${workflow}/${fault.type}/${step}`);
      // A record that stands for no moment (not its moment's first record type) is skipped on reading anyway.
      if (candidate === undefined) continue;
      const key = identity(fault.record, fault.type, step, fault.due_ms);
      const order = ordinal(candidate.moment.event, step);
      switch (fault.kind) {
        case "duplicate":
          repair.duplicates.set(key, 0);
          break;
        case "delay":
          repair.delayed.push({ key, ts: fault.due_ms, order });
          break;
        case "drop":
        case "corrupt": {
          const value = {};
          if (candidate.fields.attempt !== undefined && fault.attempt !== undefined) setPath(value, candidate.fields.attempt, fault.attempt);
          const reason = fault.type === "step_failed" ? reasons.get(`${fault.txn_id}/${fault.step}/${fault.attempt ?? 1}`) : undefined;
          if (candidate.fields.reason !== undefined && reason !== undefined) setPath(value, candidate.fields.reason, reason);
          const parsed: ParsedRecord = { line: "", value, candidate, txnId: fault.txn_id, ts: fault.due_ms };
          insert(repair.items, { ts: fault.due_ms, order, parsed, lost: true });
          this.lostInOrder.push({ txnId: fault.txn_id, ts: fault.due_ms });
          let moments = this.lost.get(fault.txn_id);
          if (moments === undefined) this.lost.set(fault.txn_id, (moments = []));
          moments.push({ event: candidate.moment.event, step, ts: fault.ts_ms });
          break;
        }
      }
    }
    this.lostInOrder.sort((a, b) => a.ts - b.ts);
    for (const moments of this.lost.values()) moments.sort((a, b) => a.ts - b.ts || ordinal(a.event, a.step) - ordinal(b.event, b.step));
    this.slackMs = merged ? ahead + behind : 0;
  }

  /** Per transaction, the moments whose records were lost (dropped or corrupted), in lifecycle order: for the millisecond order (order.ts). */
  get lostMoments(): ReadonlyMap<string, readonly TimedMoment[]> {
    return this.lost;
  }

  get findings(): ShapedFaultFindings {
    return { duplicate: this.duplicates, delay: this.delays };
  }

  /** Takes a record read; hands on (to `emit`) the records whose place is settled. */
  push(parsed: ParsedRecord, emit: (parsed: ParsedRecord) => void): void {
    if (!isLifecycleRecord(parsed)) return emit(parsed);
    const repair = this.byTxn.get(parsed.txnId);
    if (repair === undefined) {
      this.advance(parsed.ts, emit);
      return emit(parsed);
    }
    const ts = parsed.ts - repair.skewMs;
    this.advance(ts, emit);
    const moment = parsed.candidate.moment;
    const order = ordinal(moment.event, moment.step);
    const key = identity(parsed.candidate.record.name, moment.event, moment.step, ts);
    const copies = repair.duplicates.get(key);
    if (copies !== undefined) {
      repair.duplicates.set(key, copies + 1);
      if (copies > 0) {
        this.duplicates++;
        return;
      }
    }
    if (before(ts, order, repair.readTs, repair.readOrder)) this.delays++;
    else {
      repair.readTs = ts;
      repair.readOrder = order;
    }
    const awaited = repair.delayed.findIndex((d) => d.key === key);
    if (awaited >= 0) repair.delayed.splice(awaited, 1);
    insert(repair.items, { ts, order, parsed: repair.skewMs === 0 ? parsed : { ...parsed, ts }, lost: false });
    this.flush(repair, emit, false);
  }

  /** Hands on everything held: the stream has ended. */
  finish(emit: (parsed: ParsedRecord) => void): void {
    for (const repair of this.byTxn.values()) this.flush(repair, emit, true);
  }

  private repairOf(txnId: string): TxnRepair {
    let repair = this.byTxn.get(txnId);
    if (repair === undefined) {
      repair = { skewMs: 0, items: [], delayed: [], duplicates: new Map(), readTs: -Infinity, readOrder: -1 };
      this.byTxn.set(txnId, repair);
    }
    return repair;
  }

  /** The stream has reached `ts`: lost records before it are handed on (their transactions may send nothing more). */
  private advance(ts: number, emit: (parsed: ParsedRecord) => void): void {
    if (!(ts > this.streamTs)) return;
    this.streamTs = ts;
    const lost = this.lostInOrder;
    while (this.lostNext < lost.length && lost[this.lostNext]!.ts + this.slackMs < ts) {
      const repair = this.byTxn.get(lost[this.lostNext++]!.txnId);
      if (repair !== undefined) this.flush(repair, emit, false);
    }
  }

  /** Hands on a transaction's records in order, up to the first a delayed record comes before, or a lost one not due yet. */
  private flush(repair: TxnRepair, emit: (parsed: ParsedRecord) => void, all: boolean): void {
    const items = repair.items;
    let taken = 0;
    while (taken < items.length) {
      const item = items[taken]!;
      if (!all) {
        if (repair.delayed.some((d) => before(d.ts, d.order, item.ts, item.order))) break;
        if (item.lost && !(item.ts + this.slackMs < this.streamTs) && !before(item.ts, item.order, repair.readTs, repair.readOrder)) break;
      }
      taken++;
      emit(item.parsed);
    }
    if (taken > 0) items.splice(0, taken);
  }
}

/** A record's identity in its transaction: record type, moment and event time. */
function identity(record: string, event: string, step: number, ts: number): string {
  return `${record}/${event}/${step}/${ts}`;
}

/** 0-based step of a fault's record (-1 for a transaction event), as moments number them. */
function stepOf(fault: FaultRecord): number {
  return fault.step === undefined ? -1 : fault.step - 1;
}

function before(ts: number, order: number, thanTs: number, thanOrder: number): boolean {
  return ts < thanTs || (ts === thanTs && order < thanOrder);
}

/** Into `items` in lifecycle order, after those at the same place. */
function insert(items: Item[], item: Item): void {
  let at = items.length;
  while (at > 0 && before(item.ts, item.order, items[at - 1]!.ts, items[at - 1]!.order)) at--;
  items.splice(at, 0, item);
}

function setPath(target: Record<string, unknown>, path: Path, value: unknown): void {
  let node = target;
  for (let i = 0; i < path.length - 1; i++) node = (node[path[i]!] ??= {}) as Record<string, unknown>;
  node[path.at(-1)!] = value;
}
