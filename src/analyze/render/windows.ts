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

export function renderWindows(rows: readonly WindowRow[], by: WindowGrouping | null, format: WindowFormat): string {
  if (format === "jsonl") return rows.map((row) => `${JSON.stringify(row)}\n`).join("");
  const columns = windowColumns(by);
  const lines = [columns.join(",")];
  for (const row of rows) lines.push(columns.map((column) => csvCell((row as unknown as Record<string, unknown>)[column])).join(","));
  return `${lines.join("\n")}\n`;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
