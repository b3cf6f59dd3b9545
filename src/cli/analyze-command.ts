import { open, type FileHandle } from "node:fs/promises";
import { analyze } from "../analyze/analyze.ts";
import { renderHtml } from "../analyze/render-html.ts";
import { renderJson, renderText } from "../analyze/render-text.ts";
import { checkReadable, fileSource } from "../analyze/source.ts";
import { invalidOption } from "../config/sim-options.ts";
import { oneOf } from "../config/values.ts";
import { describeSystemError, WfsimError } from "../errors.ts";
import type { CommandContext } from "./run-command.ts";

/** What the command line gave `wfsim analyze`: raw text, validated here and in resolveOutlierOptions. */
export type AnalyzeFlags = { readonly [key: string]: string | undefined };

export const ANALYZE_FLAG_NAMES: Record<string, string> = {
  format: "--format",
  html: "--html",
  alerts: "--alerts",
  thresholdMs: "--threshold-ms",
  madK: "--mad-k",
  measure: "--outlier-measure",
  listLimit: "--list",
};

const FORMATS = oneOf(["text", "json"] as const);

/** `wfsim analyze [FILE...]`: reads events, writes the report on stdout. Returns the exit code. */
export async function analyzeCommand(
  files: readonly string[],
  flags: AnalyzeFlags,
  context: CommandContext & { readonly stdout: NodeJS.WritableStream; readonly stdinIsTTY: boolean },
): Promise<number> {
  const nameOf = (key: string) => ANALYZE_FLAG_NAMES[key] ?? key;
  const format = flags.format === undefined ? "text" : FORMATS.parse(flags.format);
  if (format === undefined) throw invalidOption("--format", FORMATS.expected, flags.format);
  const paths = files.length === 0 ? ["-"] : files;
  if (paths.filter((path) => path === "-").length > 1) {
    throw new WfsimError("INVALID_OPTION", "stdin (-) can be read only once, got it more than once");
  }
  for (const path of paths) await checkReadable(path);
  if (flags.alerts !== undefined) await checkReadable(flags.alerts, "--alerts");
  // Opened before the analysis, so a bad path fails at once and not after reading 10 GB.
  const html = flags.html === undefined ? undefined : await openForWriting(flags.html);
  try {
    if (paths.includes("-") && context.stdinIsTTY) context.stderr.write("wfsim: reading events from stdin (end with Ctrl-D)\n");
    const report = await analyze(paths.map(fileSource), {
      measure: flags.outlierMeasure,
      thresholdMs: flags.thresholdMs,
      madK: flags.madK,
      listLimit: flags.list,
      alerts: flags.alerts === undefined ? undefined : fileSource(flags.alerts),
      charts: html !== undefined,
      signal: context.signal,
      nameOf,
    });
    if (html !== undefined) {
      await html.handle.writeFile(await renderHtml(report));
      context.stderr.write(`wfsim: HTML report written to ${html.path}\n`);
    }
    context.stdout.write(format === "json" ? renderJson(report) : renderText(report));
    if (context.signal.aborted) context.stderr.write(`wfsim: stopped by ${String(context.signal.reason)}; the report covers what was read until then\n`);
    return 0;
  } finally {
    await html?.handle.close();
  }
}

async function openForWriting(path: string): Promise<{ handle: FileHandle; path: string }> {
  if (path.trim() === "") throw new WfsimError("INVALID_OPTION", "--html must be a file path, got an empty value");
  try {
    return { handle: await open(path, "w"), path };
  } catch (error) {
    throw new WfsimError("FILE", `--html ${path}: cannot open for writing (${describeSystemError(error)})`, { cause: error });
  }
}
