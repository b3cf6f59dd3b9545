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
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * An ISO-8601 date or date-time, read the same on every machine: without an offset it is UTC (not the
 * machine's zone), and a day or time that does not exist (February 30th, 24:30) is refused rather
 * than rolled over.
 */
function parseIsoInstant(text: string): number | undefined {
  const match = ISO_INSTANT.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h = "0", mi = "0", sec = "0", fraction = "", zone = "Z"] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, sec].map(Number) as [number, number, number, number, number, number];
  const millis = Number(fraction.slice(0, 3).padEnd(3, "0"));
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const date = new Date(local);
  const exists =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
  if (!exists) return undefined;
  if (zone === "Z") return local;
  const offset = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  const offsetHours = Number(offset[2]);
  const offsetMinutes = Number(offset[3]);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  return local - (offset[1] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
}

export const instant: ValueKind<number> = {
  expected: "an ISO-8601 date or date-time (2026-01-31T09:00:00Z; UTC unless an offset is given) or milliseconds since the Unix epoch",
  parse(raw) {
    if (typeof raw === "number") return Number.isSafeInteger(raw) && raw >= 0 ? raw : undefined;
    if (typeof raw !== "string" || raw.trim() === "") return undefined;
    const trimmed = raw.trim();
    if (INTEGER_TEXT.test(trimmed)) {
      const value = Number(trimmed);
      return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
    }
    const value = parseIsoInstant(trimmed);
    return value !== undefined && value >= 0 ? value : undefined;
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
