/**
 * Where an alert says which transaction it is about and when: by default wfsim's own alert format
 * (`txn_id`, `ts_ms` in epoch milliseconds); a pipeline that reads shaped records writes alerts in
 * its own shape, and the user names the fields (`--alert-txn-field data.order.txn`,
 * `--alert-time-field detectedAt --alert-time-format iso`).
 */
import { WfsimError } from "../../errors.ts";

/** How an alert's time is written: epoch milliseconds, epoch seconds, or ISO-8601 text with a zone. */
export type AlertTimeFormat = "ms" | "s" | "iso";

const TIME_FORMATS: readonly AlertTimeFormat[] = ["ms", "s", "iso"];

export interface AlertField {
  /** The names from the top of the alert's JSON object. */
  readonly path: readonly string[];
  /** As the user wrote it, for messages. */
  readonly name: string;
}

export interface AlertFields {
  readonly txnId: AlertField;
  readonly time: AlertField;
  readonly timeFormat: AlertTimeFormat;
}

export const DEFAULT_ALERT_FIELDS: AlertFields = {
  txnId: { path: ["txn_id"], name: "txn_id" },
  time: { path: ["ts_ms"], name: "ts_ms" },
  timeFormat: "ms",
};

export interface AlertFieldsInput {
  readonly txnField?: string | undefined;
  readonly timeField?: string | undefined;
  readonly timeFormat?: string | undefined;
}

/** What the flags name each option: `--alert-txn-field`, ... */
export type AlertFieldNames = Readonly<Record<keyof AlertFieldsInput, string>>;

/** Checks the options; a bad one is a one-line INVALID_OPTION error naming it. */
export function resolveAlertFields(input: AlertFieldsInput, names: AlertFieldNames): AlertFields {
  const field = (key: "txnField" | "timeField", fallback: AlertField): AlertField => {
    const text = input[key];
    if (text === undefined) return fallback;
    const path = text.split(".");
    if (text.trim() === "" || path.some((name) => name === "" || name.trim() !== name)) {
      throw new WfsimError(
        "INVALID_OPTION",
        `${names[key]} must be a field path: names separated by dots, such as txn_id or data.order.txn, got ${JSON.stringify(text)}`,
      );
    }
    return { path, name: text };
  };
  const format = input.timeFormat;
  if (format !== undefined && !(TIME_FORMATS as readonly string[]).includes(format)) {
    throw new WfsimError("INVALID_OPTION", `${names.timeFormat} must be ms (epoch milliseconds), s (epoch seconds) or iso (ISO-8601 text with a zone), got ${JSON.stringify(format)}`);
  }
  return {
    txnId: field("txnField", DEFAULT_ALERT_FIELDS.txnId),
    time: field("timeField", DEFAULT_ALERT_FIELDS.time),
    timeFormat: (format as AlertTimeFormat | undefined) ?? "ms",
  };
}

/** The value at `field` in an alert (undefined when some name on the way is missing or not an object). */
export function alertValue(alert: object, field: AlertField): unknown {
  let node: unknown = alert;
  for (const name of field.path) {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[name];
  }
  return node;
}

/** ISO-8601 date and time with a zone (Z or an offset), as {time:iso} writes it. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** An alert time in epoch ms, or the reason it cannot be read. */
export function alertTime(raw: unknown, fields: AlertFields): number | { readonly invalid: string } {
  const name = fields.time.name;
  switch (fields.timeFormat) {
    case "ms":
      return typeof raw === "number" && Number.isFinite(raw) ? raw : { invalid: `${name} must be a number when present` };
    case "s":
      return typeof raw === "number" && Number.isFinite(raw) ? raw * 1000 : { invalid: `${name} must be a number of epoch seconds when present` };
    case "iso": {
      const ms = typeof raw === "string" && ISO_TIME.test(raw) ? Date.parse(raw) : NaN;
      return Number.isFinite(ms) ? ms : { invalid: `${name} must be ISO-8601 text with a zone (2026-01-31T12:00:00.000Z) when present` };
    }
  }
}
