/**
 * `analyze(sources, options)`: reads JSON Lines events from one or more sources, in order (or merged
 * by time with `merge`), as one stream, and returns the report as data.
 *
 * ```ts
 * import { analyze, fileSource } from "wfsim";
 * const report = await analyze(fileSource("events.jsonl"));
 * console.log(report.outliers.recall);
 * ```
 */
import { AlertScorer } from "./score/alerts.ts";
import type { AlertFields } from "./score/alert-fields.ts";
import { resolveOutlierOptions, type AnalyzeOptionsInput } from "./options.ts";
import type { AnalysisReport } from "./report.ts";
import type { EventSource, LineRanges } from "./read/source.ts";
import { StreamAnalysis } from "./stream-analysis.ts";
import { IN_STREAM_TRUTH, type FaultTruth, type GroundTruth } from "./score/truth.ts";
import { ShapedFaultRepair } from "./read/shaped/fault-repair.ts";
import type { Scenario } from "../config/scenario/model.ts";
import { shapedReadPlan, shapedSource } from "./read/shaped/source.ts";
import { ShapedRebuilder } from "./read/shaped/rebuild.ts";
import { mergedSource } from "./read/merged-source.ts";
import { checkWindowsFitRun, type WindowOptions, type WindowsResult } from "./score/golden-windows.ts";

export interface AnalyzeOptions extends AnalyzeOptionsInput {
  /** Someone else's alerts to score against the ground truth. */
  readonly alerts?: EventSource | undefined;
  /** Where the alerts hold the transaction id and the time (txn_id and ts_ms unless given). */
  readonly alertFields?: AlertFields | undefined;
  /** Where the ground truth comes from; by default, `outlier_injected` in the stream. */
  readonly truth?: GroundTruth | undefined;
  /** Also collect what the HTML report draws (`report.charts`). */
  readonly charts?: boolean | undefined;
  /**
   * Several sources are merged by `ts_ms` into one stream (the outputs of `--instance` runs) rather
   * than read one after the other (read/merged-source.ts).
   */
  readonly merge?: boolean | undefined;
  /** Told after each chunk read: what was read so far (a caller's progress line, see cli/analyze-status.ts). */
  readonly progress?: ((progress: AnalyzeProgress) => void) | undefined;
  /** Stops reading: the report covers what was read until then. */
  readonly signal?: AbortSignal | undefined;
  /** Names options in error messages (the CLI passes its flag names). */
  readonly nameOf?: ((key: string) => string) | undefined;
  /**
   * The scenario the stream comes from: with an output section, the sources hold its shaped records,
   * read back into the lifecycle (the report is the one the same run without the section gets).
   */
  readonly scenario?: Scenario | undefined;
  /**
   * With `scenario`: the shaped records come from a blind run, which announces no wait (see
   * RunOptions.blind). Default: blind when `truth` is given, as `wfsim run --truth` is.
   */
  readonly blind?: boolean | undefined;
}

/** What an analysis has read so far. */
export interface AnalyzeProgress {
  /** The source being read. */
  readonly source: string;
  /** Bytes read from all sources. */
  readonly bytes: number;
  readonly events: number;
  readonly openTransactions: number;
}

const STOPPED = Symbol("stopped");

/**
 * `pending`, or STOPPED as soon as `signal` aborts: stopping must not wait for a quiet source (a
 * terminal, an idle pipe) to say something. The listener goes with each read, so that nothing
 * long-lived holds on to the chunks read (a race against one promise for the whole run would).
 */
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T | typeof STOPPED> {
  if (signal.aborted) return Promise.resolve(STOPPED);
  return new Promise((resolve, reject) => {
    const stop = () => resolve(STOPPED);
    signal.addEventListener("abort", stop, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener("abort", stop);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", stop);
        reject(error);
      },
    );
  });
}

export async function analyze(sources: EventSource | readonly EventSource[], options: AnalyzeOptions = {}): Promise<AnalysisReport> {
  return (await analyzeStream(sources, options, undefined)).report;
}

/**
 * `analyzeWithWindows(sources, { windows: { sizeMs: 60_000, by: "workflow" } })`: the report and, from
 * the same single pass, the golden windowed results (score/golden-windows.ts). Throws when the windows
 * are longer than the stream's span.
 */
export async function analyzeWithWindows(
  sources: EventSource | readonly EventSource[],
  options: AnalyzeOptions & { readonly windows: WindowOptions },
): Promise<{ report: AnalysisReport; windows: WindowsResult }> {
  const { report, windows } = await analyzeStream(sources, options, options.windows);
  checkWindowsFitRun(options.windows.sizeMs, report.time_span.span_ms, options.nameOf?.("windows"));
  return { report, windows: windows! };
}

/** `truth` with its faults already undone (a shaped stream's, by `repair`): only their counts are left to report. */
function repairedTruth(truth: GroundTruth, faults: FaultTruth, repair: ShapedFaultRepair): GroundTruth {
  return {
    description: truth.description,
    labelsOf: (txn) => truth.labelsOf(txn),
    ...(truth.recorded === undefined ? {} : { recorded: truth.recorded }),
    ...(truth.file === undefined ? {} : { file: truth.file }),
    faults: {
      injected: faults.injected,
      endLost: () => false,
      repairOf: () => undefined,
      // A merged stream's records come up to the skews' spread late too.
      maxDelayMs: faults.maxDelayMs + repair.slackMs,
      lostInOrder: [],
      shapedFound: () => repair.findings,
    },
  };
}

async function analyzeStream(
  sources: EventSource | readonly EventSource[],
  options: AnalyzeOptions,
  windows: WindowOptions | undefined,
): Promise<{ report: AnalysisReport; windows: WindowsResult | undefined }> {
  const outlierOptions = resolveOutlierOptions(options, options.nameOf);
  const alerts = options.alerts === undefined ? undefined : await AlertScorer.load(options.alerts, outlierOptions.listLimit, options.alertFields);
  const plan = shapedReadPlan(options.scenario);
  const faultTruth = options.truth?.faults;
  // A shaped stream's faults are undone record by record, before the rebuild; the analysis then
  // reads the lifecycle repaired and has nothing left to undo.
  const given = Array.isArray(sources) ? (sources as readonly EventSource[]) : [sources as EventSource];
  // Merged by record time from several partitions or files: skews take records out of event-time order.
  const merged = given.some((source) => source.kafka !== undefined) || (options.merge === true && given.length > 1);
  const repair = plan === undefined || faultTruth === undefined || options.truth?.faultRecords === undefined
    ? undefined
    : new ShapedFaultRepair(plan, options.truth.faultRecords, options.truth.failureReasons ?? new Map(), { merged });
  const truth = options.truth === undefined || repair === undefined ? options.truth : repairedTruth(options.truth, faultTruth!, repair);
  const analysis = new StreamAnalysis({
    ...outlierOptions,
    truth: truth ?? IN_STREAM_TRUTH,
    alerts,
    charts: options.charts === true,
    windows,
  });
  const signal = options.signal;
  const rebuilder = plan === undefined ? undefined : new ShapedRebuilder(plan, { blind: options.blind ?? options.truth !== undefined, ...(repair === undefined ? {} : { repair }) });
  const shaped = rebuilder === undefined ? given : given.map((source) => shapedSource(source, rebuilder));
  const list = options.merge === true && shaped.length > 1 ? [mergedSource(shaped)] : shaped;
  let bytes = 0;
  for (const source of list) {
    if (signal?.aborted) break;
    analysis.beginSource(source.name, source.locator, source.parts);
    // Lines in place where the source has them (Kafka), else chunks of bytes.
    const reads: AsyncIterator<Uint8Array | LineRanges> = (source.lines?.(signal) ?? source.chunks(signal))[Symbol.asyncIterator]();
    for (;;) {
      const next = signal === undefined ? await reads.next() : await untilAborted(reads.next(), signal);
      if (next === STOPPED) {
        // Not awaited: a source blocked in a read finishes it in the background.
        void reads.return?.();
        break;
      }
      if (next.done === true) break;
      const read = next.value;
      bytes += read.byteLength;
      if (read instanceof Uint8Array) analysis.push(read);
      else analysis.pushLines(read);
      options.progress?.({ source: source.name, bytes, events: analysis.eventsRead, openTransactions: analysis.openTransactions });
    }
    analysis.endSource();
  }
  const report = analysis.finish();
  const kafka = list.find((source) => source.kafka !== undefined)?.kafka?.();
  return { report: kafka === undefined ? report : { ...report, kafka }, windows: analysis.windowsResult() };
}
