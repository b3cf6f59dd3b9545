/**
 * Readable durations, the one parser behind scenario files and `--duration`: `250ms`, `1.5s`, `10m`,
 * `2h`, `1d`, or a plain number of milliseconds (`250`, `"250"`). Rates are transactions per second.
 */
import type { ValueKind } from "./values.ts";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_TEXT = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)?$/;

/** The pattern a duration written as text must match; the scenario's JSON Schema carries it too. */
export const DURATION_PATTERN = "^(\\d+(\\.\\d+)?|\\.\\d+)\\s*(ms|s|m|h|d)?$";

export const DURATION_EXPECTED = "a duration such as 250ms, 1.5s, 10m, 2h, or a number of milliseconds";

/** Milliseconds in `raw`, or undefined when it is not a duration; never negative, never infinite. */
export function parseDuration(raw: unknown): number | undefined {
  if (typeof raw === "number") return Number.isFinite(raw) && raw >= 0 ? raw : undefined;
  if (typeof raw !== "string") return undefined;
  const match = DURATION_TEXT.exec(raw.trim());
  if (match === null) return undefined;
  const value = Number(match[1]) * UNIT_MS[(match[2] ?? "ms") as keyof typeof UNIT_MS];
  return Number.isFinite(value) ? value : undefined;
}

/** A duration option whose value must come to a whole number of milliseconds greater than 0. */
export const positiveDuration: ValueKind<number> = {
  expected: `${DURATION_EXPECTED}, greater than 0`,
  parse(raw) {
    const ms = parseDuration(raw);
    return ms !== undefined && ms > 0 ? Math.round(ms) : undefined;
  },
};

/** "10m" for 600000: how wfsim writes a duration back (summaries, validate). */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  if (ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}
