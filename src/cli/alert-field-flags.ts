/**
 * Where alerts hold the transaction id and the time, for `analyze --alerts` and `run --score-alerts`:
 * the same three flags, the same checks (analyze/score/alert-fields.ts).
 */
import { resolveAlertFields, type AlertFieldNames, type AlertFields } from "../analyze/score/alert-fields.ts";
import { WfsimError } from "../errors.ts";
import type { FlagSpec } from "./run-flags.ts";

export const ALERT_FIELD_NAMES: AlertFieldNames = { txnField: "--alert-txn-field", timeField: "--alert-time-field", timeFormat: "--alert-time-format" };

/** The flags, for a command whose alert flag is `alertsFlag` (--alerts, --score-alerts). */
export function alertFieldFlags(alertsFlag: string, group?: string) {
  return {
    alertTxnField: {
      syntax: "--alert-txn-field <path>",
      help: `with ${alertsFlag}: the alert field that holds the transaction id, a dotted path into the alert's JSON (data.order.txn): alerts in a shaped pipeline's own format`,
      defaultText: "txn_id",
      ...(group === undefined ? {} : { group }),
    },
    alertTimeField: {
      syntax: "--alert-time-field <path>",
      help: `with ${alertsFlag}: the alert field that holds when the alert was raised, a dotted path (detection delays are measured to it)`,
      defaultText: "ts_ms",
      ...(group === undefined ? {} : { group }),
    },
    alertTimeFormat: {
      syntax: "--alert-time-format <ms|s|iso>",
      help: `with ${alertsFlag}: how that time is written: epoch milliseconds, epoch seconds, or ISO-8601 text with a zone`,
      defaultText: "ms",
      ...(group === undefined ? {} : { group }),
    },
  } as const satisfies Record<string, FlagSpec>;
}

type Flags = { readonly [key: string]: string | boolean | undefined };

/**
 * The alert fields the flags name; undefined when none is given. Refused in one line: a flag without
 * `alertsFlag`, a bad path or format.
 */
export function alertFieldsFromFlags(flags: Flags, alertsGiven: boolean, alertsFlag: string): AlertFields | undefined {
  const keys = ["alertTxnField", "alertTimeField", "alertTimeFormat"] as const;
  const given = keys.find((key) => flags[key] !== undefined);
  if (given === undefined) return undefined;
  const name = { alertTxnField: ALERT_FIELD_NAMES.txnField, alertTimeField: ALERT_FIELD_NAMES.timeField, alertTimeFormat: ALERT_FIELD_NAMES.timeFormat }[given];
  if (!alertsGiven) throw new WfsimError("INVALID_OPTION", `${name} applies to ${alertsFlag}`);
  const text = (key: (typeof keys)[number]) => {
    const value = flags[key];
    return typeof value === "string" ? value : undefined;
  };
  return resolveAlertFields({ txnField: text("alertTxnField"), timeField: text("alertTimeField"), timeFormat: text("alertTimeFormat") }, ALERT_FIELD_NAMES);
}
