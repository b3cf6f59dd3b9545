/**
 * `compareWindows(expected, actual, mapping)`: a pipeline's windowed results (JSON Lines, one record
 * per window and group) against wfsim's golden windows (`wfsim analyze --windows`), figure by figure,
 * within a tolerance per figure. A result, not an exception: `verdict` says whether everything was
 * within tolerance; only bad input (unreadable records, a mapped field no record has) throws.
 *
 * Windows are matched by their start (and group); the last record of a window counts, so a pipeline
 * that emits updates of a window as it fills (Kafka Streams without suppression) is judged on its
 * final word.
 */
import { WINDOW_FIGURES, type WindowFigure, type WindowGrouping } from "../analyze/score/golden-windows.ts";
import { linesOf } from "../analyze/read/lines.ts";
import type { EventSource } from "../analyze/read/source.ts";
import { WfsimError } from "../errors.ts";
import type { Tolerance, WindowMapping } from "./mapping.ts";

export const COMPARE_VERSION = 1;

/** Figures no pipeline is expected to match exactly without being told so: a tolerance must be given. */
export const APPROXIMATE_FIGURES: readonly WindowFigure[] = ["duration_p50_ms", "duration_p95_ms", "duration_p99_ms"];

const EXACT: Tolerance = { absolute: 0, relative: 0 };

export type Verdict = "exact" | "within" | "off";

export interface WindowKey {
  readonly window_start_ms: number;
  readonly window_start: string;
  readonly workflow?: string | null;
  readonly step?: number;
}

export type Difference =
  | (WindowKey & { readonly kind: "off"; readonly figure: WindowFigure; readonly expected: number | null; readonly actual: number | null; readonly difference: number | null })
  | (WindowKey & { readonly kind: "missing" | "extra" });

export interface FigureTally {
  readonly tolerance: Tolerance;
  compared: number;
  exact: number;
  within: number;
  off: number;
}

export interface CompareReport {
  readonly compare_version: number;
  readonly expected: string;
  readonly actual: string;
  readonly window_size_ms: number | null;
  readonly by: WindowGrouping | null;
  readonly windows: {
    expected: number;
    actual: number;
    matched: number;
    missing: number;
    extra: number;
    /** Windows on one side only whose compared figures are all 0 (or null): a pipeline that writes nothing for an empty window, or a zero row for one, is right. */
    empty_missing: number;
    empty_extra: number;
    actual_records: number;
    replaced_updates: number;
  };
  readonly figures: Partial<Record<WindowFigure, FigureTally>>;
  readonly differences: readonly Difference[];
  readonly verdict: "pass" | "differences";
}

/** Expected and actual values of each compared figure per window and group, for the HTML page. */
export interface CompareSeries {
  readonly groups: readonly string[];
  /** By figure: rows of [window_start_ms, group index, expected, actual, verdict or null when a side is missing]. */
  readonly points: Partial<Record<WindowFigure, [number, number, number | null, number | null, Verdict | "missing" | "extra"][]>>;
}

interface Row {
  readonly key: WindowKey;
  readonly values: Partial<Record<WindowFigure, number | null>>;
}

export interface CompareResult {
  readonly report: CompareReport;
  readonly series: CompareSeries;
}

const keyText = (start: number, workflow: string | null | undefined, step: number | undefined) => `${start}\u0000${workflow ?? "\u0001"}\u0000${step ?? ""}`;

function parseLine(line: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new WfsimError("FILE", `${where}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new WfsimError("FILE", `${where}: expected a JSON object`);
  return value as Record<string, unknown>;
}

/** Reads golden windows (wfsim analyze --windows ... --windows-out FILE.jsonl). */
async function readExpected(source: EventSource) {
  const rows = new Map<string, Row>();
  let by: WindowGrouping | null = null;
  let size: number | null = null;
  let line = 0;
  for await (const text of linesOf(source)) {
    line++;
    if (text.trim() === "") continue;
    const where = `--expected ${source.name} line ${line}`;
    const record = parseLine(text, where);
    const start = record.window_start_ms;
    const end = record.window_end_ms;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) {
      throw new WfsimError("FILE", `${where}: not a golden window (window_start_ms and window_end_ms, whole ms): the file written by wfsim analyze --windows --windows-out FILE.jsonl`);
    }
    if (rows.size === 0) {
      by = "step" in record ? "step" : "workflow" in record ? "workflow" : null;
      size = (end as number) - (start as number);
    }
    const workflow = by === null ? undefined : ((record.workflow ?? null) as string | null);
    const step = by === "step" ? (record.step as number) : undefined;
    const values: Partial<Record<WindowFigure, number | null>> = {};
    for (const figure of WINDOW_FIGURES) {
      const value = record[figure];
      if (value !== null && typeof value !== "number") throw new WfsimError("FILE", `${where}: ${figure} must be a number or null, got ${JSON.stringify(value)}`);
      values[figure] = value;
    }
    const key = windowKey(start as number, workflow, step);
    rows.set(keyText(key.window_start_ms, workflow, step), { key, values });
  }
  if (rows.size === 0) throw new WfsimError("FILE", `--expected ${source.name}: no golden window in it`);
  return { rows, by, size };
}

function windowKey(start: number, workflow: string | null | undefined, step: number | undefined): WindowKey {
  return {
    window_start_ms: start,
    window_start: new Date(start).toISOString(),
    ...(workflow === undefined ? {} : { workflow }),
    ...(step === undefined ? {} : { step }),
  };
}

const ISO = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?(Z|[+-]\d\d:?\d\d)?$/i;

function windowStartOf(value: unknown, mapping: WindowMapping, where: string): number {
  const field = `${mapping.windowField} (the window's start)`;
  const unit = mapping.windowUnit ?? (typeof value === "string" && !/^\d+$/.test(value.trim()) ? "iso" : "ms");
  if (unit === "iso") {
    const ms = typeof value === "string" && ISO.test(value.trim()) ? Date.parse(value.trim().replace(" ", "T")) : NaN;
    if (!Number.isFinite(ms)) throw new WfsimError("FILE", `${where}: ${field} must be an ISO-8601 date-time, got ${JSON.stringify(value)}`);
    return ms;
  }
  const number = typeof value === "number" ? value : typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(number)) throw new WfsimError("FILE", `${where}: ${field} must be epoch ${unit === "s" ? "seconds" : "milliseconds"}, got ${JSON.stringify(value)}`);
  return Math.round(unit === "s" ? number * 1000 : number);
}

function figureValue(value: unknown, where: string, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  throw new WfsimError("FILE", `${where}: ${field} must be a number, got ${JSON.stringify(value)}`);
}

/** Within tolerance: |actual − expected| ≤ max(absolute, relative × |expected|). */
export function judge(expected: number | null, actual: number | null, tolerance: Tolerance): Verdict {
  if (expected === null || actual === null) return expected === actual ? "exact" : "off";
  const difference = Math.abs(actual - expected);
  if (difference === 0) return "exact";
  return difference <= Math.max(tolerance.absolute, tolerance.relative * Math.abs(expected)) ? "within" : "off";
}

export async function compareWindows(expectedSource: EventSource, actualSource: EventSource, mapping: WindowMapping): Promise<CompareResult> {
  const expected = await readExpected(expectedSource);
  const by = expected.by;

  // The pipeline's records, read whole first: which figures they hold decides what is compared.
  const records: { record: Record<string, unknown>; where: string }[] = [];
  const seenFields = new Set<string>();
  let line = 0;
  for await (const text of linesOf(actualSource)) {
    line++;
    if (text.trim() === "") continue;
    const where = `--actual ${actualSource.name} line ${line}`;
    const record = parseLine(text, where);
    for (const field of Object.keys(record)) seenFields.add(field);
    records.push({ record, where });
  }
  const lacking = (field: string, what: string) =>
    new WfsimError("INVALID_OPTION", `--actual ${actualSource.name}: no record has the field ${JSON.stringify(field)} (${what})${records.length === 0 ? ": it holds no record" : ""}`);
  if (!seenFields.has(mapping.windowField)) throw lacking(mapping.windowField, "the window's start, --window-field");
  if (by !== null && !seenFields.has(mapping.workflowField)) throw lacking(mapping.workflowField, `the workflow, --workflow-field; the golden windows are by ${by}`);
  if (by === "step" && !seenFields.has(mapping.stepField)) throw lacking(mapping.stepField, "the step, --step-field; the golden windows are by step");

  let figures: [WindowFigure, string][];
  if (mapping.figures.size > 0) {
    figures = [...mapping.figures];
    for (const [figure, field] of figures) if (!seenFields.has(field)) throw lacking(field, `mapped to ${figure}`);
  } else {
    figures = WINDOW_FIGURES.filter((figure) => seenFields.has(figure)).map((figure) => [figure, figure]);
    if (figures.length === 0) {
      throw new WfsimError("INVALID_OPTION", `--actual ${actualSource.name}: no field named after a golden figure (${WINDOW_FIGURES.join(", ")}): map yours with --field FIGURE=FIELD or --mapping FILE`);
    }
  }
  figures.sort((a, b) => WINDOW_FIGURES.indexOf(a[0]) - WINDOW_FIGURES.indexOf(b[0]));
  for (const [figure] of figures) {
    if (APPROXIMATE_FIGURES.includes(figure) && !mapping.tolerances.has(figure)) {
      throw new WfsimError(
        "INVALID_OPTION",
        `${figure} needs a tolerance (--tolerance ${figure}=ABS,REL%, e.g. 50,5%; 0 to demand the exact nearest-rank value): a pipeline's percentiles come from sketches or other percentile methods`,
      );
    }
  }

  const actual = new Map<string, Row>();
  let replaced = 0;
  for (const { record, where } of records) {
    if (!(mapping.windowField in record)) throw new WfsimError("FILE", `${where}: no field ${JSON.stringify(mapping.windowField)} (the window's start, --window-field)`);
    const start = windowStartOf(record[mapping.windowField], mapping, where);
    let workflow: string | null | undefined;
    let step: number | undefined;
    if (by !== null) {
      const value = record[mapping.workflowField];
      if (value !== undefined && value !== null && typeof value !== "string") throw new WfsimError("FILE", `${where}: ${mapping.workflowField} (the workflow) must be a string, got ${JSON.stringify(value)}`);
      workflow = value ?? null;
    }
    if (by === "step") {
      const value = figureValue(record[mapping.stepField], where, `${mapping.stepField} (the step)`);
      if (value === null || !Number.isInteger(value)) throw new WfsimError("FILE", `${where}: ${mapping.stepField} (the step) must be a step number, got ${JSON.stringify(record[mapping.stepField])}`);
      step = value;
    }
    const values: Partial<Record<WindowFigure, number | null>> = {};
    for (const [figure, field] of figures) values[figure] = figureValue(record[field], where, field);
    const key = keyText(start, workflow, step);
    if (actual.has(key)) replaced++;
    actual.set(key, { key: windowKey(start, workflow, step), values });
  }

  const tallies: Partial<Record<WindowFigure, FigureTally>> = {};
  for (const [figure] of figures) tallies[figure] = { tolerance: mapping.tolerances.get(figure) ?? EXACT, compared: 0, exact: 0, within: 0, off: 0 };
  const groups: string[] = [];
  const groupIndex = new Map<string, number>();
  const groupOf = (key: WindowKey) => {
    const name = by === null ? "all" : `${key.workflow ?? "(no workflow)"}${by === "step" ? ` step ${key.step}` : ""}`;
    let index = groupIndex.get(name);
    if (index === undefined) {
      index = groups.length;
      groups.push(name);
      groupIndex.set(name, index);
    }
    return index;
  };
  const points: CompareSeries["points"] = {};
  for (const [figure] of figures) points[figure] = [];
  const differences: Difference[] = [];
  let matched = 0;
  let missing = 0;
  let emptyMissing = 0;
  let emptyExtra = 0;
  const empty = (row: Row) => figures.every(([figure]) => !row.values[figure]);
  for (const [text, row] of expected.rows) {
    const other = actual.get(text);
    const group = groupOf(row.key);
    if (other === undefined) {
      if (empty(row)) {
        emptyMissing++;
        continue;
      }
      missing++;
      differences.push({ ...row.key, kind: "missing" });
      for (const [figure] of figures) points[figure]!.push([row.key.window_start_ms, group, row.values[figure] ?? null, null, "missing"]);
      continue;
    }
    matched++;
    for (const [figure] of figures) {
      const tally = tallies[figure]!;
      const e = row.values[figure] ?? null;
      const a = other.values[figure] ?? null;
      const verdict = judge(e, a, tally.tolerance);
      tally.compared++;
      tally[verdict]++;
      points[figure]!.push([row.key.window_start_ms, group, e, a, verdict]);
      if (verdict === "off") differences.push({ ...row.key, kind: "off", figure, expected: e, actual: a, difference: e === null || a === null ? null : a - e });
    }
  }
  let extra = 0;
  for (const [text, row] of actual) {
    if (expected.rows.has(text)) continue;
    if (empty(row)) {
      emptyExtra++;
      continue;
    }
    extra++;
    differences.push({ ...row.key, kind: "extra" });
    const group = groupOf(row.key);
    for (const [figure] of figures) points[figure]!.push([row.key.window_start_ms, group, null, row.values[figure] ?? null, "extra"]);
  }
  const order = (d: Difference) => (d.kind === "off" ? WINDOW_FIGURES.indexOf(d.figure) : -1);
  differences.sort(
    (a, b) =>
      a.window_start_ms - b.window_start_ms ||
      String(a.workflow ?? "").localeCompare(String(b.workflow ?? "")) ||
      (a.step ?? 0) - (b.step ?? 0) ||
      order(a) - order(b),
  );
  for (const list of Object.values(points)) list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);

  const report: CompareReport = {
    compare_version: COMPARE_VERSION,
    expected: expectedSource.name,
    actual: actualSource.name,
    window_size_ms: expected.size,
    by,
    windows: {
      expected: expected.rows.size,
      actual: actual.size,
      matched,
      missing,
      extra,
      empty_missing: emptyMissing,
      empty_extra: emptyExtra,
      actual_records: records.length,
      replaced_updates: replaced,
    },
    figures: tallies,
    differences,
    verdict: differences.length === 0 ? "pass" : "differences",
  };
  return { report, series: { groups, points } };
}
