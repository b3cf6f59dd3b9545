/**
 * How a pipeline's windowed output maps onto wfsim's golden windows: which of its fields holds the
 * window's start (epoch ms, epoch s or ISO-8601), which the group (workflow, step), which each figure;
 * and how far each figure may be off. Given by flags or a small mapping file (YAML or JSON):
 *
 * ```yaml
 * window_start: { field: minute, unit: iso }
 * workflow: wf                      # with golden windows --by workflow (or step)
 * step: step_no                     # with golden windows --by step
 * figures: { completed: orders_done, duration_p95_ms: p95 }
 * tolerance: { completed: 0, duration_p95_ms: "50, 5%" }
 * ```
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { WINDOW_FIGURES, type WindowFigure } from "../analyze/score/golden-windows.ts";
import { describeSystemError, WfsimError } from "../errors.ts";

export const WINDOW_UNITS = ["ms", "s", "iso"] as const;
export type WindowUnit = (typeof WINDOW_UNITS)[number];

/** Within tolerance: |actual − expected| ≤ max(absolute, relative × |expected|). */
export interface Tolerance {
  readonly absolute: number;
  readonly relative: number;
}

export interface WindowMapping {
  readonly windowField: string;
  /** undefined: numbers are epoch ms, strings ISO-8601. */
  readonly windowUnit: WindowUnit | undefined;
  readonly workflowField: string;
  readonly stepField: string;
  /** The figures to compare and the pipeline's field for each; empty: every golden figure the output has under its own name. */
  readonly figures: ReadonlyMap<WindowFigure, string>;
  readonly tolerances: ReadonlyMap<WindowFigure, Tolerance>;
}

/** What a caller may give: a mapping file's content and flags (flags win). */
export interface MappingInput {
  /** A mapping file's path (YAML or JSON). */
  readonly file?: string | undefined;
  readonly windowField?: string | undefined;
  readonly windowUnit?: string | undefined;
  readonly workflowField?: string | undefined;
  readonly stepField?: string | undefined;
  /** FIGURE=FIELD */
  readonly fields?: readonly string[] | undefined;
  /** FIGURE=ABS, FIGURE=REL%, FIGURE=ABS,REL% */
  readonly tolerances?: readonly string[] | undefined;
}

export const MAPPING_DEFAULTS = { windowField: "window_start_ms", workflowField: "workflow", stepField: "step" } as const;

const FIGURES = new Set<string>(WINDOW_FIGURES);

function figureOf(name: string, where: string): WindowFigure {
  if (!FIGURES.has(name)) throw new WfsimError("INVALID_OPTION", `${where}: ${JSON.stringify(name)} is not a figure of the golden windows (${WINDOW_FIGURES.join(", ")})`);
  return name as WindowFigure;
}

function fieldName(value: unknown, where: string): string {
  if (typeof value !== "string" || value.trim() === "") throw new WfsimError("INVALID_OPTION", `${where} must be a field name, got ${JSON.stringify(value)}`);
  return value.trim();
}

/** "5" (absolute), "2%" (relative), "5,2%" or "5, 2%" (either), or {absolute, relative} from a file. */
export function parseTolerance(raw: unknown, where: string): Tolerance {
  const expected = `${where} must be an absolute amount (5), a relative one (2%), or both (5,2%), not negative`;
  if (typeof raw === "number") raw = String(raw);
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    const { absolute = 0, relative = 0, ...rest } = raw as Record<string, unknown>;
    if (Object.keys(rest).length > 0 || typeof absolute !== "number" || typeof relative !== "number" || !(absolute >= 0) || !(relative >= 0)) {
      throw new WfsimError("INVALID_OPTION", `${where} must be { absolute: N, relative: FRACTION }, both numbers from 0 up, got ${JSON.stringify(raw)}`);
    }
    return { absolute, relative };
  }
  if (typeof raw !== "string") throw new WfsimError("INVALID_OPTION", `${expected}, got ${JSON.stringify(raw)}`);
  let absolute = 0;
  let relative = 0;
  const parts = raw.split(",").map((part) => part.trim());
  if (parts.length > 2 || parts.some((part) => part === "")) throw new WfsimError("INVALID_OPTION", `${expected}, got ${JSON.stringify(raw)}`);
  for (const part of parts) {
    const percent = part.endsWith("%");
    const text = percent ? part.slice(0, -1).trim() : part;
    const value = /^\d+(\.\d+)?$|^\.\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isFinite(value)) throw new WfsimError("INVALID_OPTION", `${expected}, got ${JSON.stringify(raw)}`);
    if (percent) relative = value / 100;
    else absolute = value;
  }
  return { absolute, relative };
}

function pairs(list: readonly string[], flag: string): [string, string][] {
  return list.map((item) => {
    const at = item.indexOf("=");
    if (at <= 0 || at === item.length - 1) throw new WfsimError("INVALID_OPTION", `${flag} must be FIGURE=VALUE, got ${JSON.stringify(item)}`);
    return [item.slice(0, at).trim(), item.slice(at + 1).trim()];
  });
}

async function readMappingFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new WfsimError("FILE", `--mapping ${path}: cannot read (${describeSystemError(error)})`, { cause: error });
  }
  let value: unknown;
  try {
    value = parseYaml(text); // JSON is YAML too
  } catch (error) {
    throw new WfsimError("FILE", `--mapping ${path}: not YAML or JSON (${(error as Error).message.split("\n")[0]})`, { cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new WfsimError("FILE", `--mapping ${path}: expected a mapping of window_start, workflow, step, figures, tolerance`);
  const known = new Set(["window_start", "workflow", "step", "figures", "tolerance"]);
  const unknown = Object.keys(value).find((key) => !known.has(key));
  if (unknown !== undefined) throw new WfsimError("FILE", `--mapping ${path}: unknown key ${JSON.stringify(unknown)} (known: ${[...known].join(", ")})`);
  return value as Record<string, unknown>;
}

function unitOf(raw: unknown, where: string): WindowUnit {
  if (typeof raw === "string" && (WINDOW_UNITS as readonly string[]).includes(raw.trim().toLowerCase())) return raw.trim().toLowerCase() as WindowUnit;
  throw new WfsimError("INVALID_OPTION", `${where} must be one of ${WINDOW_UNITS.join(", ")}, got ${JSON.stringify(raw)}`);
}

function entries(value: unknown, where: string): [string, unknown][] {
  if (value === undefined) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new WfsimError("INVALID_OPTION", `${where} must be a mapping of figure names`);
  return Object.entries(value);
}

/** Validates the mapping file and flags into one mapping (flags win over the file). */
export async function resolveMapping(input: MappingInput): Promise<WindowMapping> {
  const file = input.file === undefined ? {} : await readMappingFile(input.file);
  const inFile = (key: string) => `--mapping ${input.file}: ${key}`;
  let windowField: string = MAPPING_DEFAULTS.windowField;
  let windowUnit: WindowUnit | undefined;
  const start = file.window_start;
  if (typeof start === "string") windowField = fieldName(start, inFile("window_start"));
  else if (typeof start === "object" && start !== null) {
    const { field, unit } = start as Record<string, unknown>;
    windowField = fieldName(field, inFile("window_start.field"));
    if (unit !== undefined) windowUnit = unitOf(unit, inFile("window_start.unit"));
  } else if (start !== undefined) throw new WfsimError("INVALID_OPTION", `${inFile("window_start")} must be a field name or { field, unit }`);
  if (input.windowField !== undefined) windowField = fieldName(input.windowField, "--window-field");
  if (input.windowUnit !== undefined) windowUnit = unitOf(input.windowUnit, "--window-unit");

  const workflowField = input.workflowField !== undefined ? fieldName(input.workflowField, "--workflow-field") : file.workflow !== undefined ? fieldName(file.workflow, inFile("workflow")) : MAPPING_DEFAULTS.workflowField;
  const stepField = input.stepField !== undefined ? fieldName(input.stepField, "--step-field") : file.step !== undefined ? fieldName(file.step, inFile("step")) : MAPPING_DEFAULTS.stepField;

  const figures = new Map<WindowFigure, string>();
  for (const [figure, field] of entries(file.figures, inFile("figures"))) figures.set(figureOf(figure, inFile("figures")), fieldName(field, inFile(`figures.${figure}`)));
  for (const [figure, field] of pairs(input.fields ?? [], "--field")) figures.set(figureOf(figure, "--field"), fieldName(field, `--field ${figure}`));

  const tolerances = new Map<WindowFigure, Tolerance>();
  for (const [figure, raw] of entries(file.tolerance, inFile("tolerance"))) tolerances.set(figureOf(figure, inFile("tolerance")), parseTolerance(raw, inFile(`tolerance.${figure}`)));
  for (const [figure, raw] of pairs(input.tolerances ?? [], "--tolerance")) tolerances.set(figureOf(figure, "--tolerance"), parseTolerance(raw, `--tolerance ${figure}`));
  return { windowField, windowUnit, workflowField, stepField, figures, tolerances };
}
