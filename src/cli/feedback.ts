import type { Progress, RunSummary } from "../engine/simulation.ts";

const numberFormat = new Intl.NumberFormat("en-US");
const fmt = (value: number) => numberFormat.format(value);

/**
 * The live progress of a run on stderr. On a terminal: one line redrawn in place a few times a
 * second, erased at the end so the summary starts on a clean line. Elsewhere (a CI log, a container
 * log, a file): a plain line every `--status-every` seconds, so a long run is not silent until its end.
 */
export class ProgressLine {
  private readonly stream: NodeJS.WriteStream;
  private readonly total: number;
  private readonly read: () => Progress;
  private readonly terminal: boolean;
  private timer: NodeJS.Timeout | undefined;
  private lastEvents = 0;
  private lastTime = 0;
  private rate = 0;

  constructor(stream: NodeJS.WriteStream, total: number, read: () => Progress, { terminal = true }: { terminal?: boolean } = {}) {
    this.stream = stream;
    this.total = total;
    this.read = read;
    this.terminal = terminal;
  }

  start(intervalMs = 250): void {
    this.lastTime = performance.now();
    this.timer = setInterval(() => this.draw(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.terminal) this.stream.write("\r\x1b[2K");
  }

  private draw(): void {
    const progress = this.read();
    const now = performance.now();
    const seconds = (now - this.lastTime) / 1000;
    if (seconds > 0) this.rate = (progress.events - this.lastEvents) / seconds;
    this.lastEvents = progress.events;
    this.lastTime = now;
    const done = progress.closed + progress.aborted + progress.failed + progress.stuck;
    const line = `wfsim: ${fmt(done)}${Number.isFinite(this.total) ? `/${fmt(this.total)}` : ""} done, ${fmt(progress.inFlight)} in flight, ${fmt(Math.round(this.rate))} events/s`;
    if (!this.terminal) {
      this.stream.write(`${line}\n`);
      return;
    }
    // A terminal that reports no width (some ptys say 0) gets the usual 80 columns.
    const width = this.stream.columns > 0 ? this.stream.columns : 80;
    this.stream.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
  }
}

export interface SummaryContext {
  readonly wallMs: number;
  readonly clock: string;
  readonly destination: string;
  /** The truth file, when labels went to one. */
  readonly truth?: string;
  /** The scenario's name, when one ran. */
  readonly scenario?: string;
  /** The open model's cap on transactions in flight, named when arrivals were dropped. */
  readonly cap?: number;
}

/** The end-of-run paragraph on stderr. */
export function formatSummary(summary: RunSummary, context: SummaryContext): string {
  // Outcomes that only scenarios produce are named only when they happened, so a run from flags
  // reports exactly what it always did.
  const outcomes = [
    `${fmt(summary.closed)} closed`,
    ...(summary.failed > 0 ? [`${fmt(summary.failed)} failed`] : []),
    ...(summary.stuck > 0 ? [`${fmt(summary.stuck)} stuck`] : []),
    `${fmt(summary.aborted)} aborted`,
  ];
  const parts = [
    `wfsim: ${context.scenario === undefined ? "" : `scenario ${context.scenario}: `}${fmt(summary.opened)} transactions (${outcomes.join(", ")}), ` +
      `${fmt(summary.events)} events to ${context.destination}, ${fmt(summary.outliersInjected)} outliers injected, ` +
      `in ${formatDuration(context.wallMs)} wall time on the ${context.clock} clock`,
    `simulated ${new Date(summary.startMs).toISOString()} to ${new Date(summary.endMs).toISOString()}`,
    `seed ${summary.seed}`,
  ];
  if (summary.lateness !== undefined && summary.lateness.count > 0) {
    parts.push(
      `wake-up lateness p50 ${summary.lateness.p50Ms.toFixed(2)} ms, p99 ${summary.lateness.p99Ms.toFixed(2)} ms, max ${summary.lateness.maxMs.toFixed(1)} ms`,
    );
  }
  if (summary.labels.step_failure > 0) {
    parts.push(`${fmt(summary.labels.step_failure)} step failures injected, ${fmt(summary.eventsByType.step_retry)} retries`);
  }
  if (summary.dropped > 0) {
    parts.push(`${fmt(summary.dropped)} arrivals dropped at the cap of ${fmt(context.cap ?? 0)} in flight`);
  }
  if (summary.faults !== undefined) {
    const f = summary.faults;
    parts.push(
      `delivery faults: ${fmt(f.drop)} dropped, ${fmt(f.duplicate)} duplicated, ${fmt(f.delay)} delayed, ${fmt(f.corrupt)} corrupted records, ${fmt(f.skew)} skewed transactions`,
    );
  }
  if (context.truth !== undefined) {
    const labels = summary.labels.outlier + summary.labels.stuck + summary.labels.step_failure;
    parts.push(`${fmt(labels)} ground-truth labels to ${context.truth}`);
  }
  if (summary.stopReason !== undefined) parts.push(`stopped early by ${summary.stopReason}`);
  return `${parts.join("; ")}.\n`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${((ms - minutes * 60_000) / 1000).toFixed(0)} s`;
}
