/**
 * Says on stderr, terminal or not, when delivery to Kafka stalls (a request not acknowledged for
 * STALL_MS: a broker stopped, unreachable, or refusing for now) and when it resumes, so that an
 * outage is not mistaken for a slow run, and a cut topic for a pipeline's bug.
 */

/** What the watch reads of the sink (KafkaSink.waiting). */
export interface Waiting {
  readonly sinceMs: number;
  readonly records: number;
  readonly lastError: string | undefined;
}

export interface StallWatchSettings {
  /** How long a request may wait before it counts as a stall. */
  readonly stallMs: number;
  /** How often a stall that goes on is told again. */
  readonly repeatMs: number;
  /** The sink gives up a request after this long (--kafka-timeout). */
  readonly timeoutMs: number;
  /** The flag that sets timeoutMs, for the message. */
  readonly timeoutFlag: string;
  /** performance.now(), the clock of Waiting.sinceMs. */
  readonly now: () => number;
  /** Date.now(), to say "until" in wall-clock time. */
  readonly wallNow: () => number;
}

export const STALL_DEFAULTS = { stallMs: 2000, repeatMs: 10_000, checkEveryMs: 500 } as const;

const fmt = (n: number) => n.toLocaleString("en-US");
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export class StallWatch {
  private readonly waiting: () => Waiting | "failed" | undefined;
  private readonly settings: StallWatchSettings;
  private readonly write: (line: string) => void;
  /** sinceMs of the stall told, NaN when none is. */
  private told = NaN;
  private toldAt = 0;

  /** `waiting`: the sink's request out, or "failed" once the sink gave up (its summary says the rest). */
  constructor(waiting: () => Waiting | "failed" | undefined, settings: StallWatchSettings, write: (line: string) => void) {
    this.waiting = waiting;
    this.settings = settings;
    this.write = write;
  }

  /** Looks at the sink now: tells a new stall, a stall that goes on (every repeatMs), or the end of one. */
  check(): void {
    const now = this.settings.now();
    const waiting = this.waiting();
    if (waiting === "failed") {
      this.told = NaN;
      return;
    }
    if (!Number.isNaN(this.told) && (waiting === undefined || waiting.sinceMs !== this.told)) {
      this.write(`wfsim: Kafka delivery resumed after ${seconds(now - this.told)}`);
      this.told = NaN;
    }
    if (waiting === undefined) return;
    const stalled = now - waiting.sinceMs;
    if (stalled < this.settings.stallMs) return;
    if (waiting.sinceMs === this.told && now - this.toldAt < this.settings.repeatMs) return;
    const until = new Date(this.settings.wallNow() + Math.max(0, waiting.sinceMs + this.settings.timeoutMs - now));
    const error = waiting.lastError === undefined ? "no answer" : `last error: ${waiting.lastError}`;
    this.write(
      `wfsim: Kafka delivery stalled for ${seconds(stalled)}: ${fmt(waiting.records)} records waiting (${error}); ` +
        `retrying until ${until.toISOString().slice(11, 19)} UTC (${this.settings.timeoutFlag})`,
    );
    this.told = waiting.sinceMs;
    this.toldAt = now;
  }
}
