import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { FollowSummary } from "../follow/follow.ts";

/**
 * The Prometheus metrics of `wfsim analyze --follow`: the follower's figures, read when scraped.
 * Names follow Prometheus' conventions (wfsim_follow_ prefix, _total counters, seconds).
 */
export class FollowMetrics {
  readonly registry = new Registry();
  private read: (() => FollowSummary) | undefined;

  constructor() {
    const registers = [this.registry];
    const metrics = this;
    collectDefaultMetrics({ register: this.registry });
    const counter = (name: string, help: string, value: (summary: FollowSummary) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const summary = metrics.read?.();
          if (summary === undefined) return;
          this.reset();
          this.inc(value(summary));
        },
      });
    const gauge = (name: string, help: string, value: (summary: FollowSummary) => number | null) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const summary = metrics.read?.();
          const figure = summary === undefined ? null : value(summary);
          if (figure !== null) this.set(figure);
        },
      });
    counter("wfsim_follow_events_total", "Events read by the follower", (s) => s.events);
    counter("wfsim_follow_alerts_total", "Stuck-transaction alerts written on stdout", (s) => s.alerts);
    gauge("wfsim_follow_open_transactions", "Transactions open in what the follower has read", (s) => s.open);
    gauge("wfsim_follow_lag_records", "Records written to the followed partitions and not read yet", (s) => s.lag);
    gauge("wfsim_follow_event_time_seconds", "Newest event time read (the stuck detector's clock with --stuck-clock event), Unix seconds", (s) => (s.eventTime === null ? null : s.eventTime / 1000));
    gauge("wfsim_follow_partitions", "Partitions of the transaction topic this follower reads", (s) => s.partitions.length);
  }

  attach(read: () => FollowSummary): void {
    this.read = read;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
