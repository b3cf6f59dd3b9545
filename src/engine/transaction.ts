import type { WfEvent } from "../events/schema.ts";
import type { TruthRecord } from "../events/truth.ts";
import type { Random } from "./random.ts";
import type { Timed } from "./timer-queue.ts";

/** Where a transaction sends its events; the engine counts them on the way to the sink. */
export interface Emit {
  (event: WfEvent): void;
}

/**
 * Where a transaction reports what it injected. The engine counts every label and passes it on to a
 * truth file when there is one; whether labels also go inline is the factory's choice, made when the
 * run is set up.
 */
export interface Label {
  (record: TruthRecord): void;
}

/**
 * Returned by `open`/`wake` when the transaction needs no further wake: it closed, failed, or went
 * silent (stuck). The engine then frees its place.
 */
export const CLOSED = -1;

/**
 * One simulated transaction: a state machine the engine wakes at the times it asks for. It draws every
 * random choice from its own stream, so it behaves the same whatever else is in flight.
 */
export interface SimTransaction extends Timed {
  readonly index: number;
  readonly id: string;
  /** Its random stream; once the transaction has ended, the engine may start it over for another. */
  readonly random: Random;
  /** Emits its opening events at `now`; returns ms until its first wake, or CLOSED. */
  open(now: number, emit: Emit, label: Label): number;
  /** Does what is due at `now`; returns ms until the next wake, or CLOSED. */
  wake(now: number, emit: Emit, label: Label): number;
  /**
   * The engine's slot for this transaction's delivery-fault state (delivery.ts): kept on the object,
   * which a run wakes millions of times, rather than in a map looked up at every wake. The
   * transaction itself never reads it.
   */
  faults: unknown;
  /** Ends the transaction early (the run is stopping): emits transaction_aborted. */
  abort(now: number, reason: string, emit: Emit): void;
}

/** Makes the transactions of a workload: the engine's only view of what is being simulated. */
export interface TransactionFactory {
  /**
   * The transaction with this index, drawing from `random`. `recycled` is a transaction of this
   * factory's that has ended (its `random` is the one passed): a factory may start it over instead of
   * allocating a new one. Long-lived objects made at a high rate are what makes the garbage collector
   * pause; with 100,000 transactions in flight, reusing them keeps a real-clock run's wakes on time.
   */
  create(index: number, random: Random, recycled?: SimTransaction): SimTransaction;
}

const ID_HALF_SPACE = 36 ** 6;
// Same draw as random.int(0, ID_HALF_SPACE - 1), with its rejection limit worked out once.
const ID_HALF_LIMIT = 2 ** 32 - (2 ** 32 % ID_HALF_SPACE);
const BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz";
/** All 1296 two-character base-36 strings, "00" to "zz". */
const BASE36_PAIRS = Array.from({ length: 36 * 36 }, (_, i) => BASE36[Math.floor(i / 36)]! + BASE36[i % 36]!);

function drawIdHalf(random: Random): string {
  let x = random.nextU32();
  while (x >= ID_HALF_LIMIT) x = random.nextU32();
  const value = x % ID_HALF_SPACE;
  const top = Math.floor(value / 1679616); // 36^4
  const rest = value - top * 1679616;
  const middle = Math.floor(rest / 1296);
  return BASE36_PAIRS[top]! + BASE36_PAIRS[middle]! + BASE36_PAIRS[rest - middle * 1296]!;
}

/**
 * A transaction id in the reference's shape: `txn_` and 12 characters from [a-z0-9], taken from two
 * uniform draws so that it is the first thing on the transaction's random stream.
 */
export function drawTransactionId(random: Random): string {
  return `txn_${drawIdHalf(random)}${drawIdHalf(random)}`;
}
