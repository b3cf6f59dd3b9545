import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { EventType } from "../events/schema.ts";
import type { BrokerErrorEvent } from "../kafka/sender.ts";
import type { TruthKind } from "../events/truth.ts";
import type { LatenessRecorder } from "../engine/lateness.ts";
import type { Progress } from "../engine/simulation.ts";
import { LatenessHistogram } from "./lateness-histogram.ts";
import type { LiveScores } from "./live-scorer.ts";

/** What a running simulation shows (Simulation has both). */
export interface RunProbe {
  progress(): Progress;
  tallies(): {
    readonly eventsByType: Readonly<Record<EventType, number>>;
    readonly labels: Readonly<Record<TruthKind, number>>;
    readonly lateness: LatenessRecorder;
  };
}

/** What a Kafka output shows (KafkaSink has it), and where it tells of each acknowledged request. */
export interface KafkaProbe {
  readonly buffered: { readonly records: number; readonly bytes: number };
  report(): { readonly deliveredTotal: number; readonly undelivered: number };
  onAcknowledged: ((ms: number, records: number) => void) | undefined;
  /** Where it tells of each error a broker brought (KafkaSink.onBrokerError). */
  onBrokerError?: ((error: BrokerErrorEvent) => void) | undefined;
}

const DELIVERY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The Prometheus metrics of `wfsim run`. Tallies the engine keeps anyway (events, transactions,
 * labels, lateness) are read when Prometheus scrapes, so a run pays nothing per event for them; only
 * Kafka requests (a few per second) and errors are observed as they happen. Names follow
 * Prometheus' conventions: wfsim_ prefix, _total for counters, seconds and bytes as base units.
 */
export class RunMetrics {
  readonly registry = new Registry();
  private run: RunProbe | undefined;
  private kafka: KafkaProbe | undefined;
  private readonly delivery: Histogram;
  private readonly brokerRetries: Counter;
  private readonly brokerErrors: Counter;
  private scores: (() => LiveScores | undefined) | undefined;

  constructor() {
    const registers = [this.registry];
    const metrics = this;
    collectDefaultMetrics({ register: this.registry });

    new Counter({
      name: "wfsim_events_total",
      help: "Events emitted, by event type",
      labelNames: ["type"],
      registers,
      collect() {
        const tallies = metrics.run?.tallies();
        if (tallies === undefined) return;
        this.reset();
        for (const [type, count] of Object.entries(tallies.eventsByType)) this.inc({ type }, count);
      },
    });
    const progressCounter = (name: string, help: string, read: (progress: Progress) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const progress = metrics.run?.progress();
          if (progress === undefined) return;
          this.reset();
          this.inc(read(progress));
        },
      });
    progressCounter("wfsim_transactions_opened_total", "Transactions opened", (p) => p.opened);
    progressCounter("wfsim_transactions_closed_total", "Transactions that ended with transaction_close", (p) => p.closed);
    progressCounter("wfsim_transactions_failed_total", "Transactions that ended with transaction_failed", (p) => p.failed);
    progressCounter("wfsim_transactions_aborted_total", "Transactions aborted when the run was stopped", (p) => p.aborted);
    progressCounter("wfsim_transactions_stuck_total", "Transactions that went silent for good (injected stuck anomalies)", (p) => p.stuck);
    progressCounter("wfsim_arrivals_dropped_total", "Open model: arrivals dropped because the cap on transactions in flight was reached", (p) => p.dropped);
    new Gauge({
      name: "wfsim_transactions_in_flight",
      help: "Transactions open now",
      registers,
      collect() {
        const progress = metrics.run?.progress();
        if (progress !== undefined) this.set(progress.inFlight);
      },
    });
    new Counter({
      name: "wfsim_anomalies_injected_total",
      help: "Anomalies injected (ground-truth labels), by kind: outlier, stuck, step_failure",
      labelNames: ["kind"],
      registers,
      collect() {
        const tallies = metrics.run?.tallies();
        if (tallies === undefined) return;
        this.reset();
        for (const [kind, count] of Object.entries(tallies.labels)) this.inc({ kind }, count);
      },
    });
    this.registry.registerMetric(new LatenessHistogram(() => metrics.run?.tallies().lateness).asMetric());

    this.delivery = new Histogram({
      name: "wfsim_kafka_delivery_latency_seconds",
      help: "Time from sending a produce request to Kafka's acknowledgement of it (retries included)",
      buckets: DELIVERY_BUCKETS_S,
      registers,
    });
    // Per broker: which one is in trouble, and with what. A few label sets (brokers times error names).
    const brokerLabels = ["broker", "address", "error"];
    this.brokerRetries = new Counter({
      name: "wfsim_kafka_retries_total",
      help: "Record batches sent to Kafka again, by broker (node id, host:port; -1 and \"\" before one was picked) and the error that made it necessary (Kafka's error name, or the connection's: ECONNREFUSED, TIMEOUT, NETWORK)",
      labelNames: brokerLabels,
      registers,
    });
    this.brokerErrors = new Counter({
      name: "wfsim_kafka_broker_errors_total",
      help: "Errors a broker's answers or connection brought to the Kafka output, by broker and error name, whether the batches were retried or not",
      labelNames: brokerLabels,
      registers,
    });
    const kafkaGauge = (name: string, help: string, read: (kafka: KafkaProbe) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          if (metrics.kafka !== undefined) this.set(read(metrics.kafka));
        },
      });
    kafkaGauge("wfsim_kafka_records_in_flight", "Records given to the Kafka output and not yet acknowledged", (k) => k.buffered.records);
    kafkaGauge("wfsim_kafka_bytes_in_flight", "Bytes of records given to the Kafka output and not yet acknowledged", (k) => k.buffered.bytes);
    // The sink's own running totals, read when scraped.
    const kafkaCounter = (name: string, help: string, read: (report: ReturnType<KafkaProbe["report"]>) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          if (metrics.kafka === undefined) return;
          this.reset();
          this.inc(read(metrics.kafka.report()));
        },
      });
    kafkaCounter("wfsim_kafka_records_delivered_total", "Records Kafka acknowledged", (r) => r.deliveredTotal);
    kafkaCounter("wfsim_kafka_records_undelivered_total", "Records Kafka will never acknowledge: those of a failed request and all after it", (r) => r.undelivered);
    new Counter({
      name: "wfsim_errors_total",
      help: "Errors, by kind: kafka_delivery (records Kafka will never acknowledge), alert_line (alert lines that could not be read, skipped)",
      labelNames: ["kind"],
      registers,
      collect() {
        this.reset();
        this.inc({ kind: "kafka_delivery" }, metrics.kafka?.report().undelivered ?? 0);
        this.inc({ kind: "alert_line" }, metrics.scores?.()?.alerts.invalid_lines ?? 0);
      },
    });
    this.addScoreMetrics(registers);
  }

  /** Live scoring's figures, from its latest scores (computed about once a second, not per scrape). */
  private addScoreMetrics(registers: Registry[]): void {
    const metrics = this;
    const KINDS = ["all", "outlier", "stuck"] as const;
    const figure = (scores: LiveScores, kind: (typeof KINDS)[number]) => {
      const alerts = scores.alerts;
      return kind === "all" ? { precision: alerts.precision, recall: alerts.recall, delay: alerts.detection_delay_ms } : {
        precision: alerts.by_kind[kind].precision,
        recall: alerts.by_kind[kind].recall,
        delay: alerts.by_kind[kind].detection_delay_ms,
      };
    };
    const scoreGauge = (name: string, help: string, read: (scores: LiveScores, kind: (typeof KINDS)[number]) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ["kind"],
        registers,
        collect() {
          const scores = metrics.scores?.();
          if (scores === undefined) return;
          this.reset();
          for (const kind of KINDS) {
            const value = read(scores, kind);
            if (value !== null) this.set({ kind }, value);
          }
        },
      });
    scoreGauge("wfsim_alert_precision", "Live scoring: alerted transactions that had an anomaly (kind all: any alert; outlier, stuck: alerts of that kind, when alerts carry kind)", (s, k) => figure(s, k).precision);
    scoreGauge("wfsim_alert_recall", "Live scoring: anomalies found by an alert so far, of those injected so far", (s, k) => figure(s, k).recall);
    new Gauge({
      name: "wfsim_alert_detection_delay_seconds",
      help: "Live scoring: alert time minus anomaly start, nearest-rank percentiles of the detections so far",
      labelNames: ["kind", "quantile"],
      registers,
      collect() {
        const scores = metrics.scores?.();
        if (scores === undefined) return;
        this.reset();
        for (const kind of KINDS) {
          const delay = figure(scores, kind).delay;
          if (delay.p50 === null || delay.p90 === null || delay.p99 === null) continue;
          this.set({ kind, quantile: "0.5" }, delay.p50 / 1000);
          this.set({ kind, quantile: "0.9" }, delay.p90 / 1000);
          this.set({ kind, quantile: "0.99" }, delay.p99 / 1000);
        }
      },
    });
    const scoreCounter = (name: string, help: string, read: (scores: LiveScores) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const scores = metrics.scores?.();
          if (scores === undefined) return;
          this.reset();
          this.inc(read(scores));
        },
      });
    scoreCounter("wfsim_alert_lines_total", "Live scoring: alert lines read from the alert source", (s) => s.alerts.lines);
    new Gauge({
      name: "wfsim_alert_anomalies_labelled",
      help: "Live scoring: transactions with an injected outlier or stuck anomaly so far, what the alerts should find",
      registers,
      collect() {
        const scores = metrics.scores?.();
        if (scores !== undefined) this.set(scores.alerts.labelled);
      },
    });
    new Gauge({
      name: "wfsim_alert_false_positives",
      help: "Live scoring: alerted transactions with no anomaly (so far: one may yet turn out to have one)",
      registers,
      collect() {
        const scores = metrics.scores?.();
        if (scores !== undefined) this.set(scores.alerts.false_positives);
      },
    });
    new Counter({
      name: "wfsim_anomalies_overdue_total",
      help: "Live scoring: anomalies no alert found within --alert-deadline of their start, by kind",
      labelNames: ["kind"],
      registers,
      collect() {
        const scores = metrics.scores?.();
        if (scores === undefined) return;
        this.reset();
        this.inc({ kind: "outlier" }, scores.overdue.outlier);
        this.inc({ kind: "stuck" }, scores.overdue.stuck);
      },
    });
  }

  /** From now on the score metrics read these scores. */
  attachScores(read: () => LiveScores | undefined): void {
    this.scores = read;
  }

  /** From now on the metrics read this run (and its Kafka output). */
  attach(run: RunProbe, kafka?: KafkaProbe): void {
    this.run = run;
    this.kafka = kafka;
  }

  /** A broker's error as the Kafka output met it. */
  observeBrokerError(error: BrokerErrorEvent): void {
    const labels = { broker: String(error.nodeId), address: error.address, error: error.error };
    this.brokerErrors.inc(labels);
    if (error.retried) this.brokerRetries.inc(labels, error.batches);
  }

  /** A produce request acknowledged after `ms` real milliseconds. */
  observeDelivery(ms: number): void {
    this.delivery.observe(ms / 1000);
  }

  /** The text exposition format Prometheus scrapes. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
