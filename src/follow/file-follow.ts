/**
 * `wfsim analyze --follow FILE`: a JSON Lines file that grows (a run writing it, a consumer dumping a
 * topic into it), followed like `tail -f` from its first line: its events analysed as they come,
 * one alert on each transaction open for longer than --stuck-ms (stuck-detector.ts, as the Kafka
 * follower alerts), and when stopped (the signal) the report of what was read, the one a bounded
 * analysis of the same lines gives. With a scenario whose output section is shaped, the file holds
 * its records, read back into the lifecycle as a bounded analysis reads them (a file is in the order
 * wfsim wrote it: nothing is reordered).
 *
 * A file has no partitions: its transactions are one slot (-1), and event time is the newest
 * `ts_ms` read. A file that shrinks was replaced: it is read again from its start (its lines counted
 * again), as the alert follower does.
 */
import type { AnalyzeOptions } from "../analyze/analyze.ts";
import { resolveOutlierOptions } from "../analyze/options.ts";
import { tsOf } from "../analyze/read/merged-source.ts";
import { ShapedRebuilder } from "../analyze/read/shaped/rebuild.ts";
import { shapedReadPlan } from "../analyze/read/shaped/source.ts";
import type { LineLocator } from "../analyze/read/source.ts";
import type { AnalysisReport } from "../analyze/report.ts";
import { AlertScorer } from "../analyze/score/alerts.ts";
import { IN_STREAM_TRUTH } from "../analyze/score/truth.ts";
import { StreamAnalysis } from "../analyze/stream-analysis.ts";
import { FileFollower } from "../live/file-follower.ts";
import type { FollowSummary } from "./follow.ts";
import type { FollowOptions } from "./follow-options.ts";
import { StuckDetector, type StuckAlert } from "./stuck-detector.ts";

/** How often the file is looked at for new lines, and wall-clock alerts are checked. */
const LOOK_EVERY_MS = 200;

export interface FileFollowSettings {
  readonly path: string;
  readonly options: FollowOptions;
  readonly analysis?: Omit<AnalyzeOptions, "signal" | "nameOf">;
  /** Stops following; the report covers what was read until then. */
  readonly signal: AbortSignal;
  readonly nameOf?: (key: string) => string;
  readonly onAlert: (alert: StuckAlert) => void;
  readonly onSummary?: (summary: FollowSummary) => void;
  readonly onReady?: (summary: () => FollowSummary) => void;
}

/** Rebuilt lines → the file's lines they come from (a shaped record may stand for several events). */
class FileLines implements LineLocator {
  private readonly lines: number[] = [];
  private offset = 0;
  private readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  add(fileLine: number): void {
    if (this.lines.length >= 1 << 20) {
      this.offset += this.lines.length;
      this.lines.length = 0;
    }
    this.lines.push(fileLine);
  }

  sourceOf(): string {
    return this.name;
  }

  lineOf(line: number): number {
    return this.lines[line - 1 - this.offset] ?? line;
  }
}

/** Follows until the signal; resolves with the report. A file that cannot be read is a one-line WfsimError. */
export async function followFile(settings: FileFollowSettings): Promise<AnalysisReport> {
  const { options, signal } = settings;
  const nameOf = settings.nameOf ?? ((key: string) => key);
  const analysisSettings = settings.analysis ?? {};
  const outliers = resolveOutlierOptions(analysisSettings, nameOf);
  const file = await FileFollower.open(settings.path, "input");
  const alerts = analysisSettings.alerts === undefined ? undefined : await AlertScorer.load(analysisSettings.alerts, undefined, analysisSettings.alertFields);
  const detector = new StuckDetector(options.stuckMs, options.stuckClock, () => ({ slot: -1, from: [] }));
  const analysis = new StreamAnalysis({ ...outliers, truth: analysisSettings.truth ?? IN_STREAM_TRUTH, alerts, charts: analysisSettings.charts === true, observer: detector });
  const plan = shapedReadPlan(analysisSettings.scenario);
  const rebuilder = plan === undefined ? undefined : new ShapedRebuilder(plan, { blind: analysisSettings.blind ?? analysisSettings.truth !== undefined });
  const locator = rebuilder === undefined ? undefined : new FileLines(settings.path);
  analysis.beginSource(settings.path, locator);

  const event = options.stuckClock === "event";
  let alerted = 0;
  let eventTime = -Infinity;
  let fileLine = 0;
  const deliver = (found: readonly StuckAlert[]) => {
    for (const alert of found) settings.onAlert(alert);
    alerted += found.length;
  };
  const analyse = (text: string) => {
    const bytes = Buffer.from(text.endsWith("\n") ? text : `${text}\n`, "utf8");
    const ts = tsOf(bytes);
    if (Number.isFinite(ts)) {
      if (event && detector.due(-1, ts)) deliver(detector.check(-1, ts));
      if (ts > eventTime) eventTime = ts;
    }
    locator?.add(fileLine);
    analysis.push(bytes);
  };
  const onLine = (line: string) => {
    fileLine++;
    if (rebuilder === undefined) analyse(line);
    else rebuilder.record(line, analyse);
  };

  let last = { at: performance.now(), events: 0 };
  const summary = (roll = true): FollowSummary => {
    const now = performance.now();
    const events = analysis.eventsRead;
    const seconds = (now - last.at) / 1000;
    const rate = seconds > 0 ? (events - last.events) / seconds : 0;
    if (roll) last = { at: now, events };
    return { events, eventsPerSecond: rate, open: analysis.openTransactions, alerts: alerted, lag: null, eventTime: Number.isFinite(eventTime) ? eventTime : null, partitions: [], partitionCount: 0, group: undefined };
  };

  file.follow(onLine, LOOK_EVERY_MS);
  settings.onReady?.(() => summary(false));
  const timers: NodeJS.Timeout[] = [];
  if (!event) timers.push(setInterval(() => deliver(detector.check(-1, Date.now())), LOOK_EVERY_MS));
  if (options.summaryMs > 0 && settings.onSummary !== undefined) timers.push(setInterval(() => settings.onSummary?.(summary()), options.summaryMs));
  try {
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  } finally {
    for (const timer of timers) clearInterval(timer);
    // What was written up to the stop is read and analysed: the report covers it.
    await file.close();
  }
  return analysis.finish();
}
