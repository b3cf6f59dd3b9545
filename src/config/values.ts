/**
 * Parsers for option values. Each accepts what a user may hand over (a string from the command line,
 * or an already typed value from the library or a scenario file) and either returns the value or says
 * nothing; the caller words the error, so every message has the same shape:
 * `--outlier-prob must be a number from 0 to 1, got 1.5`.
 */
export interface ValueKind<T> {
  /** What a valid value looks like, phrased to follow "must be". */
  readonly expected: string;
  parse(raw: unknown): T | undefined;
}

const INTEGER_TEXT = /^[+-]?\d+$/;

function toNumber(raw: unknown): number | undefined {
  if (typeof raw === "number") return raw;
  if (typeof raw !== "string" || raw.trim() === "") return undefined;
  const value = Number(raw.trim());
  return Number.isFinite(value) ? value : undefined;
}

export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER): ValueKind<number> {
  const expected =
    max === Number.MAX_SAFE_INTEGER
      ? `a whole number of at least ${min}`
      : `a whole number from ${min} to ${max}`;
  return {
    expected,
    parse(raw) {
      if (typeof raw === "string" && !INTEGER_TEXT.test(raw.trim())) return undefined;
      const value = toNumber(raw);
      if (value === undefined || !Number.isSafeInteger(value)) return undefined;
      return value >= min && value <= max ? value : undefined;
    },
  };
}

export function number(
  min: number,
  max: number,
  { minExclusive = false }: { minExclusive?: boolean } = {},
): ValueKind<number> {
  const lower = minExclusive ? `greater than ${min}` : `at least ${min}`;
  const expected =
    max === Infinity
      ? `a number ${lower}`
      : minExclusive
        ? `a number greater than ${min} and at most ${max}`
        : `a number from ${min} to ${max}`;
  return {
    expected,
    parse(raw) {
      const value = toNumber(raw);
      if (value === undefined || !Number.isFinite(value)) return undefined;
      if (minExclusive ? value <= min : value < min) return undefined;
      return value <= max ? value : undefined;
    },
  };
}

export function oneOf<const T extends string>(choices: readonly T[]): ValueKind<T> {
  return {
    expected: `one of ${choices.join(", ")}`,
    parse(raw) {
      return choices.find((choice) => choice === raw);
    },
  };
}

export function text(pattern: RegExp, expected: string): ValueKind<string> {
  return {
    expected,
    parse(raw) {
      return typeof raw === "string" && pattern.test(raw) ? raw : undefined;
    },
  };
}

/** A point in time: ISO-8601 text, or milliseconds since the Unix epoch (number or digits). */
export const instant: ValueKind<number> = {
  expected: "an ISO-8601 date-time (2026-01-31T09:00:00Z) or milliseconds since the Unix epoch",
  parse(raw) {
    if (typeof raw === "number") return Number.isSafeInteger(raw) && raw >= 0 ? raw : undefined;
    if (typeof raw !== "string" || raw.trim() === "") return undefined;
    const trimmed = raw.trim();
    if (INTEGER_TEXT.test(trimmed)) {
      const value = Number(trimmed);
      return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
    }
    // Date.parse accepts many loose forms; insist on an ISO-8601 shape so "tomorrow" or "5" fail loudly.
    if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
      return undefined;
    }
    const value = Date.parse(trimmed);
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  },
};

/** An IANA time zone name, as the runtime's Intl knows them. */
export const timeZone: ValueKind<string> = {
  expected: "an IANA time zone name such as Europe/Berlin or UTC",
  parse(raw) {
    if (typeof raw !== "string" || raw === "") return undefined;
    try {
      new Intl.DateTimeFormat("en", { timeZone: raw });
      return raw;
    } catch {
      return undefined;
    }
  },
};

/** How a received value is shown in a message: as typed, so the user recognises it. */
export function describeReceived(raw: unknown): string {
  if (raw === undefined) return "nothing";
  if (typeof raw === "string") return raw.trim() === "" ? "an empty value" : raw;
  return JSON.stringify(raw) ?? String(raw);
}
