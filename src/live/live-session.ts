/**
 * What watches a run while it goes on: the Prometheus endpoint and live scoring of a pipeline's
 * alerts. Started before the run's first event; the run never waits for it (the endpoint answers
 * whoever asks, the alert source is read on a timer). At the end, live scoring waits the grace for
 * late alerts, then gives the final scores.
 */
import type { AlertFields } from "../analyze/score/alert-fields.ts";
import { setTimeout as sleep } from "node:timers/promises";
import type { EventSink } from "../engine/simulation.ts";
import type { TruthRecord } from "../events/truth.ts";
import type { HttpEndpoint } from "./http-endpoint.ts";
import type { LiveView } from "./live-view.ts";
import type { ListenAddress } from "./listen-address.ts";
import { LiveScorer, type LiveScores, type OverdueAnomaly } from "./live-scorer.ts";
import { OpenTap } from "./open-tap.ts";
import type { KafkaProbe, RunMetrics, RunProbe } from "./run-metrics.ts";

/** Where alerts come from while the run goes on. */
export interface AlertFeed {
  /** For the report: the file's path, or kafka://brokers/topic. */
  readonly name: string;
  /** Hands each alert line on as it comes. */
  follow(onLine: (line: string) => void): void;
  /** Reads what is left to read now, hands it on, and stops. */
  close(): Promise<void>;
}

export interface LiveSettings {
  readonly metrics?: { readonly address: ListenAddress; readonly flag: string };
  /** The live page (--ui). */
  readonly ui?: { readonly address: ListenAddress; readonly flag: string };
  readonly scoring?: {
    readonly feed: AlertFeed;
    readonly deadlineMs: number;
    readonly graceMs: number;
    /** Where the alerts hold the transaction id and the time (txn_id and ts_ms unless given). */
    readonly fields?: AlertFields | undefined;
  };
  /** Told of each overdue anomaly as it becomes one. */
  readonly onOverdue?: (anomaly: OverdueAnomaly) => void;
  /** Told of each endpoint once it listens. */
  readonly onListening?: (what: "metrics" | "live page", url: string) => void;
}

/** The run as live scoring sees it: its time, its tallies. */
export interface WatchedRun extends RunProbe {
  now(): number;
}

/** Look for overdue anomalies this often (real ms); scores are recomputed every SCORE_EVERY looks. */
const TICK_MS = 200;
const SCORE_EVERY = 5;

export class LiveSession {
  private readonly settings: LiveSettings;
  private readonly metrics: RunMetrics | undefined;
  private readonly endpoints: HttpEndpoint[] = [];
  private readonly scorer: LiveScorer | undefined;
  private latest: LiveScores | undefined;
  private timer: NodeJS.Timeout | undefined;
  private run: WatchedRun | undefined;
  private view: LiveView | undefined;

  private constructor(settings: LiveSettings, metrics: RunMetrics | undefined) {
    this.settings = settings;
    this.metrics = metrics;
    const scoring = settings.scoring;
    if (scoring !== undefined) {
      this.scorer = new LiveScorer({
        source: scoring.feed.name,
        deadlineMs: scoring.deadlineMs,
        fields: scoring.fields,
        ...(settings.onOverdue === undefined ? {} : { onOverdue: settings.onOverdue }),
      });
    }
  }

  /** Listens and opens what the settings ask for; on failure, closes what was opened and throws. */
  static async start(settings: LiveSettings): Promise<LiveSession> {
    let metrics: RunMetrics | undefined;
    if (settings.metrics !== undefined) {
      // Loaded here: prom-client is only worth its load time when metrics are asked for.
      const { RunMetrics } = await import("./run-metrics.ts");
      metrics = new RunMetrics();
    }
    const session = new LiveSession(settings, metrics);
    try {
      if (metrics !== undefined && settings.metrics !== undefined) {
        const { serveMetrics } = await import("./metrics-endpoint.ts");
        const endpoint = await serveMetrics(metrics, settings.metrics.address, settings.metrics.flag);
        session.endpoints.push(endpoint);
        settings.onListening?.("metrics", `${endpoint.url}/metrics`);
      }
      if (settings.ui !== undefined) {
        const { LiveView } = await import("./live-view.ts");
        const { serveUi } = await import("./ui-endpoint.ts");
        const view = (session.view = new LiveView({ run: () => session.run, scores: () => session.latest }));
        const endpoint = await serveUi(view, settings.ui.address, settings.ui.flag);
        session.endpoints.push(endpoint);
        settings.onListening?.("live page", `${endpoint.url}/`);
      }
    } catch (error) {
      await session.close();
      throw error;
    }
    if (session.scorer !== undefined) {
      const scorer = session.scorer;
      settings.scoring!.feed.follow((line) => scorer.alertLine(line));
      metrics?.attachScores(() => session.latest);
    }
    return session;
  }

  /** The sink the engine should write to: `sink` itself, or with live scoring a tap in front of it. */
  tap(sink: EventSink): EventSink {
    const scorer = this.scorer;
    return scorer === undefined ? sink : new OpenTap(sink, (id) => scorer.transactionOpened(id));
  }

  /** For the engine's onLabel, with live scoring. */
  get onLabel(): ((record: TruthRecord) => void) | undefined {
    const scorer = this.scorer;
    return scorer === undefined ? undefined : (record) => scorer.label(record);
  }

  /** The run exists: metrics read it, live scoring follows its time. */
  attach(run: WatchedRun, kafka?: KafkaProbe): void {
    this.run = run;
    this.view?.runStarted();
    this.metrics?.attach(run, kafka);
    if (kafka !== undefined && this.metrics !== undefined) {
      const metrics = this.metrics;
      kafka.onAcknowledged = (ms) => metrics.observeDelivery(ms);
      kafka.onBrokerError = (error) => metrics.observeBrokerError(error);
    }
    const scorer = this.scorer;
    if (scorer === undefined) return;
    this.latest = scorer.scores();
    let ticks = 0;
    this.timer = setInterval(() => {
      scorer.advance(run.now());
      if (++ticks % SCORE_EVERY === 0) this.latest = scorer.scores();
    }, TICK_MS);
    this.timer.unref();
  }

  /** The scores so far (refreshed about once a second), undefined without live scoring. */
  get scores(): LiveScores | undefined {
    return this.latest;
  }

  /**
   * The run is over: waits the grace for late alerts (cut short by `signal`), reads the alert source
   * to its end, closes, and returns the final scores (the caller writes them where they are asked for).
   */
  async finish(signal: AbortSignal): Promise<LiveScores | undefined> {
    const scoring = this.settings.scoring;
    const scorer = this.scorer;
    if (scoring === undefined || scorer === undefined) {
      await this.close();
      return undefined;
    }
    if (scoring.graceMs > 0 && !signal.aborted) await sleep(scoring.graceMs, undefined, { signal }).catch(() => {});
    clearInterval(this.timer);
    await this.closeFeed();
    if (this.run !== undefined) scorer.advance(this.run.now());
    const scores = (this.latest = scorer.scores());
    await this.close();
    return scores;
  }

  private feedClosed: Promise<void> | undefined;

  /** Reads the alert source to its end and stops reading it (once). */
  private closeFeed(): Promise<void> {
    this.feedClosed ??= this.settings.scoring?.feed.close() ?? Promise.resolve();
    return this.feedClosed;
  }

  /** Stops everything: endpoints, timers, the alert source. Safe to call again. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.closeFeed().catch(() => {});
    await Promise.all(this.endpoints.splice(0).map((endpoint) => endpoint.close()));
  }
}
