/**
 * `wfsim compare --expected GOLDEN --actual OUTPUT`: a pipeline's windowed results against the golden
 * windows of `wfsim analyze --windows`. The text report on stdout, --report FILE (JSON), --html FILE.
 * Exit 0: every window and figure within tolerance; 1: differences; 2: bad input.
 */
import { compareWindows } from "../compare/compare.ts";
import { resolveMapping } from "../compare/mapping.ts";
import { renderCompareHtml, renderCompareJson, renderCompareText } from "../compare/render.ts";
import { checkReadable, fileSource, type EventSource } from "../analyze/read/source.ts";
import { kafkaAlertsTopic, openKafkaAlerts } from "../analyze/read/kafka-alerts.ts";
import { resolveKafkaConnection, type KafkaOptionsInput } from "../config/kafka-options.ts";
import { WfsimError } from "../errors.ts";
import { writeResult } from "./output.ts";
import { checkRunPaths } from "./run-paths.ts";
import { analyzeFlagName, COMPARE_KAFKA_FLAGS } from "./analyze-flags.ts";
import type { CommandContext } from "./run-command.ts";

export type CompareFlags = { readonly [key: string]: string | boolean | readonly string[] | undefined };

const text = (value: CompareFlags[string]): string | undefined => (typeof value === "string" ? value : undefined);
const list = (value: CompareFlags[string]): readonly string[] | undefined => (Array.isArray(value) ? (value as readonly string[]) : undefined);

export async function compareCommand(flags: CompareFlags, context: CommandContext & { readonly stdout: NodeJS.WritableStream }): Promise<number> {
  const expectedPath = text(flags.expected);
  const actualRaw = text(flags.actual);
  if (expectedPath === undefined) throw new WfsimError("INVALID_OPTION", "--expected GOLDEN is needed: the windows written by wfsim analyze --windows SIZE --windows-out GOLDEN.jsonl");
  if (actualRaw === undefined) throw new WfsimError("INVALID_OPTION", "--actual is needed: the pipeline's windowed results, a JSON Lines FILE or kafka:TOPIC");
  const topic = kafkaAlertsTopic(actualRaw, "--actual");
  const given = Object.keys(COMPARE_KAFKA_FLAGS).filter((key) => flags[key] !== undefined);
  if (topic === undefined && given.length > 0) throw new WfsimError("INVALID_OPTION", `${analyzeFlagName(given[0]!)} applies to --actual kafka:TOPIC`);
  if (topic !== undefined && flags.kafkaBootstrap === undefined) throw new WfsimError("INVALID_OPTION", `--actual ${actualRaw} reads a Kafka topic: add --kafka-bootstrap HOST:PORT`);
  const connection =
    topic === undefined
      ? undefined
      : resolveKafkaConnection(Object.fromEntries(given.map((key) => [key, flags[key]])) as KafkaOptionsInput, { nameOf: analyzeFlagName }, "reading --actual kafka:TOPIC");
  const mapping = await resolveMapping({
    file: text(flags.mapping),
    windowField: text(flags.windowField),
    windowUnit: text(flags.windowUnit),
    workflowField: text(flags.workflowField),
    stepField: text(flags.stepField),
    fields: list(flags.field),
    tolerances: list(flags.tolerance),
  });
  await checkReadable(expectedPath, "--expected");
  if (topic === undefined) await checkReadable(actualRaw, "--actual");
  const reportPath = text(flags.report);
  const htmlPath = text(flags.html);
  // Checked now (writable, not one of the inputs), written when the comparison is done: a refused
  // comparison (a figure with no tolerance, a window start in another unit, found while reading)
  // leaves existing files as they were.
  await checkRunPaths(
    [...(reportPath === undefined ? [] : [{ flag: "--report", path: reportPath }]), ...(htmlPath === undefined ? [] : [{ flag: "--html", path: htmlPath }])],
    [{ flag: "--expected", path: expectedPath }, ...(topic === undefined ? [{ flag: "--actual", path: actualRaw }] : []), ...(typeof flags.mapping === "string" ? [{ flag: "--mapping", path: flags.mapping }] : [])],
  );
  let actual: EventSource = fileSource(actualRaw);
  if (topic !== undefined) {
    const source = await openKafkaAlerts(connection!, topic, { signal: context.signal, flag: "--actual", nameOf: analyzeFlagName as (key: keyof KafkaOptionsInput) => string });
    if (source.deletedBeforeRead > 0) context.stderr.write(`wfsim: warning: --actual kafka:${topic}: ${source.deletedBeforeRead} records were deleted from the topic before it was read (retention.ms)\n`);
    actual = source;
  }
  const { report, series } = await compareWindows(fileSource(expectedPath), actual, mapping);
  if (reportPath !== undefined) {
    await writeResult({ flag: "--report", path: reportPath }, renderCompareJson(report));
    context.stderr.write(`wfsim: comparison written to ${reportPath}\n`);
  }
  if (htmlPath !== undefined) {
    await writeResult({ flag: "--html", path: htmlPath }, await renderCompareHtml(report, series));
    context.stderr.write(`wfsim: HTML comparison written to ${htmlPath}\n`);
  }
  context.stdout.write(renderCompareText(report));
  return report.verdict === "pass" ? 0 : 1;
}
