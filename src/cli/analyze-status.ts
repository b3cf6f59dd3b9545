/**
 * Signs of life while `wfsim analyze` reads: on a terminal, one line redrawn in place (bytes and
 * events read, rate, ETA when the input's size is known); elsewhere (a CI log, a container log) a
 * plain line every `--status-every` seconds, and a last one at the end when any was written.
 *
 * Driven by the analysis's progress callback (after each chunk read), with the time injected, so the
 * lines are decided by the clock given and tests need no sleeping. A source that sends nothing
 * (an idle pipe) gets no line until it does.
 */
import type { AnalyzeProgress } from "../analyze/analyze.ts";

/** The terminal line is redrawn at most this often. */
const TERMINAL_EVERY_MS = 250;

const count = new Intl.NumberFormat("en-US");
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export interface StatusOptions {
  /** Where the lines go (stderr). */
  readonly stream: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  /** Seconds between plain lines; 0: none. */
  readonly everySeconds: number;
  /** ms, monotonic. */
  readonly now: () => number;
  /** Bytes the inputs hold, when known (files): an ETA. */
  readonly totalBytes?: number | undefined;
}

export class AnalyzeStatus {
  private readonly options: StatusOptions;
  private readonly terminal: boolean;
  private readonly started: number;
  private last: number;
  private written = 0;
  private latest: AnalyzeProgress | undefined;

  constructor(options: StatusOptions) {
    this.options = options;
    this.terminal = options.stream.isTTY === true;
    this.started = options.now();
    this.last = this.started;
  }

  private get everyMs(): number {
    return this.terminal ? TERMINAL_EVERY_MS : this.options.everySeconds * 1000;
  }

  /** The analysis read another chunk. */
  readonly progress = (progress: AnalyzeProgress): void => {
    this.latest = progress;
    if (this.everyMs <= 0) return;
    const now = this.options.now();
    if (now - this.last < this.everyMs) return;
    this.last = now;
    this.write(this.line(progress, now));
  };

  /** The reading is over: a terminal's line is cleared; elsewhere a last line if any was written. */
  done(): void {
    if (this.written === 0 || this.latest === undefined) return;
    if (this.terminal) this.options.stream.write("\r\x1b[2K");
    else this.write(`${this.line(this.latest, this.options.now())}, done`);
  }

  /** "wfsim: analyze: 512.0 MiB of 1,700.0 MiB (30%), 4,812,345 events, 530,000 events/s, 1,203 open, ETA 22 s" */
  line(progress: AnalyzeProgress, now: number): string {
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? Math.round(progress.events / seconds) : 0;
    const total = this.options.totalBytes;
    const parts = [
      total !== undefined && total > 0 ? `${mib(progress.bytes)} of ${mib(total)} (${Math.floor((100 * progress.bytes) / total)}%)` : `${mib(progress.bytes)}`,
      `${count.format(progress.events)} events`,
      `${count.format(rate)} events/s`,
      `${count.format(progress.openTransactions)} open`,
    ];
    if (total !== undefined && total > progress.bytes && progress.bytes > 0 && seconds > 0) {
      parts.push(`ETA ${Math.ceil(((total - progress.bytes) * seconds) / progress.bytes)} s`);
    }
    return `wfsim: analyze: ${parts.join(", ")}`;
  }

  private write(line: string): void {
    this.written++;
    if (this.terminal) {
      const width = this.options.stream.columns !== undefined && this.options.stream.columns > 0 ? this.options.stream.columns : 80;
      this.options.stream.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
    } else {
      this.options.stream.write(`${line}\n`);
    }
  }
}
