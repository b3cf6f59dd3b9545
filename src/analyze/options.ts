/**
 * Options of an analysis, validated where they enter, with messages in the shape every wfsim option
 * uses: `--mad-k must be a number greater than 0, got -1`.
 */
import { invalidOption } from "../config/sim-options.ts";
import { integer, number, oneOf, type ValueKind } from "../config/values.ts";
import { DURATION_EXPECTED, positiveDuration } from "../config/units.ts";
import { WfsimError } from "../errors.ts";
import { OUTLIER_RULES, type OutlierOptions } from "./score/outliers.ts";

export const MEASURES = ["gap", "duration"] as const;

export const ANALYZE_DEFAULTS = {
  measure: "gap",
  rule: "grouped",
  /** Iglewicz and Hoaglin's cut-off for the modified z-score: 3.5 robust standard deviations. */
  madK: 3.5,
  listLimit: 20,
} as const satisfies Omit<OutlierOptions, "thresholdMs">;

/** What a caller may pass: typed values (library) or text (command line). */
export interface AnalyzeOptionsInput {
  readonly measure?: OutlierOptions["measure"] | string | undefined;
  readonly rule?: OutlierOptions["rule"] | string | undefined;
  readonly thresholdMs?: number | string | undefined;
  readonly madK?: number | string | undefined;
  readonly listLimit?: number | string | undefined;
  /** The over-time breakdown's interval: "auto" (the default) or a duration ("1m", "30s", ms). */
  readonly interval?: number | string | undefined;
}

/** An analysis's options once validated: the outlier rule's, and the breakdown's interval (undefined: automatic). */
export interface AnalysisOptions extends OutlierOptions {
  readonly intervalMs?: number | undefined;
}

const interval: ValueKind<number | "auto"> = {
  expected: `auto or ${DURATION_EXPECTED}, at least 1ms`,
  parse(raw) {
    if (raw === "auto") return "auto";
    const ms = positiveDuration.parse(raw);
    return ms !== undefined && ms >= 1 ? ms : undefined;
  },
};

const KINDS = {
  measure: oneOf(MEASURES),
  rule: oneOf(OUTLIER_RULES),
  thresholdMs: number(0, Number.MAX_SAFE_INTEGER),
  madK: number(0, 1_000_000, { minExclusive: true }),
  listLimit: integer(0, 100_000),
  interval,
} satisfies { [K in keyof AnalyzeOptionsInput]-?: ValueKind<unknown> };

export function resolveOutlierOptions(input: AnalyzeOptionsInput, nameOf: (key: string) => string = (key) => key): AnalysisOptions {
  function read<K extends keyof typeof KINDS>(key: K): ReturnType<(typeof KINDS)[K]["parse"]> {
    const raw = input[key];
    if (raw === undefined) return undefined as ReturnType<(typeof KINDS)[K]["parse"]>;
    const value = KINDS[key].parse(raw);
    if (value === undefined) throw invalidOption(nameOf(key), KINDS[key].expected, raw);
    return value as ReturnType<(typeof KINDS)[K]["parse"]>;
  }
  const thresholdMs = read("thresholdMs");
  const intervalMs = read("interval");
  if (thresholdMs !== undefined && input.madK !== undefined) {
    throw new WfsimError("INVALID_OPTION", `${nameOf("madK")} applies to the median rule, which ${nameOf("thresholdMs")} replaces: give one of them`);
  }
  return {
    measure: read("measure") ?? ANALYZE_DEFAULTS.measure,
    rule: read("rule") ?? ANALYZE_DEFAULTS.rule,
    madK: read("madK") ?? ANALYZE_DEFAULTS.madK,
    listLimit: read("listLimit") ?? ANALYZE_DEFAULTS.listLimit,
    ...(thresholdMs !== undefined ? { thresholdMs } : {}),
    ...(intervalMs !== undefined && intervalMs !== "auto" ? { intervalMs } : {}),
  };
}
