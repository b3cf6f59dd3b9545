/**
 * Golden windows written out: JSON Lines (one row per line, fields in WindowRow's order) or CSV (a
 * header, then one row per line; null is an empty cell). The one place their text is made.
 */
import { WINDOW_FIGURES, type WindowGrouping, type WindowRow } from "../score/golden-windows.ts";

export const WINDOW_FORMATS = ["jsonl", "csv"] as const;
export type WindowFormat = (typeof WINDOW_FORMATS)[number];

/** The format a file's name asks for: CSV for .csv, JSON Lines otherwise. */
export function windowFormatOf(path: string): WindowFormat {
  return path.toLowerCase().endsWith(".csv") ? "csv" : "jsonl";
}

export function windowColumns(by: WindowGrouping | null): string[] {
  return ["window_start_ms", "window_end_ms", "window_start", ...(by === null ? [] : ["workflow"]), ...(by === "step" ? ["step"] : []), ...WINDOW_FIGURES];
}

/** The rows as text; `header`: CSV's header line first (leave it out of the second and later parts of a file). */
export function renderWindows(rows: readonly WindowRow[], by: WindowGrouping | null, format: WindowFormat, header = true): string {
  if (format === "jsonl") return rows.map((row) => `${JSON.stringify(row)}\n`).join("");
  const columns = windowColumns(by);
  const lines = header ? [columns.join(",")] : [];
  if (lines.length === 0 && rows.length === 0) return "";
  for (const row of rows) lines.push(columns.map((column) => csvCell((row as unknown as Record<string, unknown>)[column])).join(","));
  return `${lines.join("\n")}\n`;
}

/** Rows rendered this many at a time: millions of 1 ms windows would not fit in one string. */
export const WINDOW_ROWS_PER_PART = 10_000;

/** The rows as text in parts of WINDOW_ROWS_PER_PART rows (the first with CSV's header). */
export function* windowParts(rows: readonly WindowRow[], by: WindowGrouping | null, format: WindowFormat): Generator<string> {
  if (rows.length === 0) {
    yield renderWindows([], by, format);
    return;
  }
  for (let from = 0; from < rows.length; from += WINDOW_ROWS_PER_PART) yield renderWindows(rows.slice(from, from + WINDOW_ROWS_PER_PART), by, format, from === 0);
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
