/**
 * Which open transactions have been open for longer than --stuck-ms: one alert each, at most.
 *
 * "Open since" is the ts_ms of the transaction's first event read (its transaction_open, normally).
 * "Now" is, per slot (partition p of both topics), either its event time, the largest record
 * timestamp released from it (--stuck-clock event, the default: it means the same thing for a live
 * run and for a virtual-clock backfill read at full speed, and it does not depend on when the
 * records are read), or the wall clock (--stuck-clock wall: for a live run on the real clock, it
 * also catches transactions on partitions where nothing happens any more).
 *
 * Each slot keeps its open transactions in a heap by open time, so a check costs O(log n) per
 * transaction that crosses the threshold, and nothing per transaction that does not.
 */
import type { TransactionState } from "../analyze/measure/transaction-state.ts";
import { describePosition } from "../analyze/measure/transaction-state.ts";
import type { TransactionObserver } from "../analyze/stream-analysis.ts";
import type { StuckClock } from "./follow-options.ts";

/** One alert line on stdout (JSON): `analyze --alerts` scores a file of them (it reads txn_id and ts_ms). */
export interface StuckAlert {
  readonly type: "stuck_transaction_alert";
  readonly txn_id: string;
  /** When it was found open too long: the partition's event time, or the wall clock (see `clock`). */
  readonly ts_ms: number;
  /** ts_ms of the transaction's first event. */
  readonly open_since_ms: number;
  /** ts_ms - open_since_ms: more than stuck_ms. */
  readonly open_for_ms: number;
  readonly stuck_ms: number;
  readonly clock: StuckClock;
  /** The partition (of both topics) the transaction is on; null when the topics are not co-partitioned. */
  readonly partition: number | null;
  /** The furthest event seen, e.g. "inter_step_wait 2→3", and when it happened. */
  readonly last_event: string;
  readonly last_event_ts_ms: number;
}

/** Where the record being analysed comes from: its slot, and where that slot's inputs stood before it. */
export interface RecordPlace {
  readonly slot: number;
  readonly from: readonly number[];
}

export class Watch {
  readonly txn: TransactionState;
  readonly slot: number;
  readonly since: number;
  /** Offsets of the slot's inputs from which every record of the transaction can be read again. */
  readonly from: readonly number[];
  alerted = false;
  ended = false;
  /** Position in its slot's heap, -1 when out of it. */
  index = -1;

  constructor(txn: TransactionState, slot: number, since: number, from: readonly number[]) {
    this.txn = txn;
    this.slot = slot;
    this.since = since;
    this.from = from;
  }
}

/** A binary min-heap of watches by open time. */
class WatchHeap {
  private readonly items: Watch[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Watch | undefined {
    return this.items[0];
  }

  push(watch: Watch): void {
    watch.index = this.items.length;
    this.items.push(watch);
    this.up(watch.index);
  }

  pop(): Watch | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop()!;
    top.index = -1;
    if (items.length > 0) {
      items[0] = last;
      last.index = 0;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.since <= items[i]!.since) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const items = this.items;
    for (;;) {
      const left = 2 * i + 1;
      let smallest = i;
      if (left < items.length && items[left]!.since < items[smallest]!.since) smallest = left;
      if (left + 1 < items.length && items[left + 1]!.since < items[smallest]!.since) smallest = left + 1;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const items = this.items;
    const x = items[a]!;
    const y = items[b]!;
    items[a] = y;
    items[b] = x;
    x.index = b;
    y.index = a;
  }
}

export class StuckDetector implements TransactionObserver {
  readonly stuckMs: number;
  readonly clock: StuckClock;
  /** Alerts found so far. */
  alerts = 0;
  private readonly place: () => RecordPlace;
  private readonly byKey = new Map<string, Watch>();
  private readonly slots = new Map<number, { heap: WatchHeap; open: Set<Watch> }>();

  /** `place` says where the record being analysed comes from (called when a transaction opens). */
  constructor(stuckMs: number, clock: StuckClock, place: () => RecordPlace) {
    this.stuckMs = stuckMs;
    this.clock = clock;
    this.place = place;
  }

  opened(txn: TransactionState): void {
    const { slot, from } = this.place();
    const watch = new Watch(txn, slot, Number.isNaN(txn.opened) ? txn.firstTs : Math.min(txn.opened, txn.firstTs), from);
    this.byKey.set(txn.key, watch);
    const state = this.slotState(slot);
    state.open.add(watch);
    state.heap.push(watch);
  }

  ended(txn: TransactionState): void {
    const watch = this.byKey.get(txn.key);
    if (watch === undefined) return;
    watch.ended = true;
    this.byKey.delete(txn.key);
    this.slots.get(watch.slot)?.open.delete(watch);
  }

  /**
   * The transactions of `slot` open for longer than stuck_ms at `now` (on the detector's clock) that
   * were not alerted yet: each is returned once. With `silently`, they are only marked as alerted
   * (another follower alerted on them before this one took their partition over).
   */
  check(slot: number, now: number, silently = false): StuckAlert[] {
    const state = this.slots.get(slot);
    const found: StuckAlert[] = [];
    if (state === undefined) return found;
    const heap = state.heap;
    for (;;) {
      const top = heap.peek();
      if (top === undefined) break;
      if (!top.ended && !(now - top.since > this.stuckMs)) break;
      heap.pop();
      if (top.ended || top.alerted) continue;
      top.alerted = true;
      if (silently) continue;
      this.alerts++;
      found.push({
        type: "stuck_transaction_alert",
        txn_id: top.txn.id,
        ts_ms: now,
        open_since_ms: top.since,
        open_for_ms: now - top.since,
        stuck_ms: this.stuckMs,
        clock: this.clock,
        partition: slot < 0 ? null : slot,
        last_event: describePosition(top.txn.position),
        last_event_ts_ms: top.txn.lastTs,
      });
    }
    return found;
  }

  /** Whether `check(slot, now)` has something to do: a transaction of the slot crossed the threshold or ended. */
  due(slot: number, now: number): boolean {
    const top = this.slots.get(slot)?.heap.peek();
    return top !== undefined && (top.ended || now - top.since > this.stuckMs);
  }

  /** Forgets the transactions of a slot whose partition went to another follower. */
  drop(slot: number): void {
    const state = this.slots.get(slot);
    if (state === undefined) return;
    for (const watch of state.open) this.byKey.delete(watch.txn.key);
    this.slots.delete(slot);
  }

  /** Whether the transaction keyed `key` (see TransactionState.key) is followed in `slot`. */
  follows(key: string, slot: number): boolean {
    return this.byKey.get(key)?.slot === slot;
  }

  /**
   * Per input of `slot`, the offset from which the records of every transaction still open can be
   * read again (never beyond `positions`, where reading stands).
   */
  replayFrom(slot: number, positions: readonly number[]): number[] {
    const from = [...positions];
    for (const watch of this.slots.get(slot)?.open ?? []) {
      for (let i = 0; i < from.length; i++) {
        const offset = watch.from[i];
        if (offset !== undefined && offset < from[i]!) from[i] = offset;
      }
    }
    return from;
  }

  /** Transactions followed in `slot` (all slots when omitted). */
  openIn(slot?: number): number {
    if (slot === undefined) return this.byKey.size;
    return this.slots.get(slot)?.open.size ?? 0;
  }

  private slotState(slot: number): { heap: WatchHeap; open: Set<Watch> } {
    let state = this.slots.get(slot);
    if (state === undefined) this.slots.set(slot, (state = { heap: new WatchHeap(), open: new Set() }));
    return state;
  }
}
