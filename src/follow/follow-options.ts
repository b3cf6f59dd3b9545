/**
 * Options of `analyze --follow`, validated where they enter, with messages in the shape every wfsim
 * option uses: `--stuck-ms must be a whole number from 1 to 2592000000, got 0`.
 */
import { invalidOption } from "../config/sim-options.ts";
import { integer, oneOf, text, type ValueKind } from "../config/values.ts";

export const STUCK_CLOCKS = ["event", "wall"] as const;
export type StuckClock = (typeof STUCK_CLOCKS)[number];

export const FOLLOW_DEFAULTS = {
  /** Twice the longest transaction of the default workload (5 steps of up to 3.2 s, one 15 s outlier). */
  stuckMs: 60_000,
  stuckClock: "event",
  summaryMs: 5_000,
} as const;

export interface FollowOptions {
  /** Alert on a transaction open for longer than this. */
  readonly stuckMs: number;
  /** What "open for longer" is measured against: event time (record timestamps) or the wall clock. */
  readonly stuckClock: StuckClock;
  /** Kafka consumer group to share the partitions with, or undefined to read them all. */
  readonly group: string | undefined;
  /** Rolling summary period (0: none). */
  readonly summaryMs: number;
}

export interface FollowOptionsInput {
  readonly stuckMs?: number | string | undefined;
  readonly stuckClock?: string | undefined;
  readonly group?: string | undefined;
  readonly summaryMs?: number | string | undefined;
}

const KINDS = {
  stuckMs: integer(1, 30 * 86_400_000),
  stuckClock: oneOf(STUCK_CLOCKS),
  group: text(/^[\x21-\x7e]{1,255}$/, "a Kafka consumer group name: 1 to 255 printable ASCII characters, no spaces"),
  summaryMs: integer(0, 86_400_000),
} satisfies { [K in keyof FollowOptionsInput]-?: ValueKind<unknown> };

export function resolveFollowOptions(input: FollowOptionsInput, nameOf: (key: string) => string = (key) => key): FollowOptions {
  function read<K extends keyof typeof KINDS>(key: K): ReturnType<(typeof KINDS)[K]["parse"]> {
    const raw = input[key];
    if (raw === undefined) return undefined as ReturnType<(typeof KINDS)[K]["parse"]>;
    const value = KINDS[key].parse(raw);
    if (value === undefined) throw invalidOption(nameOf(key), KINDS[key].expected, raw);
    return value as ReturnType<(typeof KINDS)[K]["parse"]>;
  }
  return {
    stuckMs: read("stuckMs") ?? FOLLOW_DEFAULTS.stuckMs,
    stuckClock: read("stuckClock") ?? FOLLOW_DEFAULTS.stuckClock,
    group: read("group"),
    summaryMs: read("summaryMs") ?? FOLLOW_DEFAULTS.summaryMs,
  };
}
