import type { Metric, MetricObjectWithValues, MetricValueWithName } from "prom-client";
import type { LatenessRecorder } from "../engine/lateness.ts";

/** Bucket bounds in seconds: from 100 µs (a good scheduler) to 1 s (a stalled one). */
export const LATENESS_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] as const;

/**
 * The engine's wake lateness as a Prometheus histogram, read from its own recorder when scraped:
 * observing each wake through prom-client as well would cost the engine a call and a bucket search
 * per wake, on the path whose lateness is being measured. prom-client's registry asks a metric only
 * for its name and get(), which this provides (hence the cast where it is registered).
 */
export class LatenessHistogram {
  readonly name = "wfsim_wake_lateness_seconds";
  readonly help = "How late the engine woke transactions on a real clock (actual minus planned wake time), in real seconds";
  private readonly read: () => LatenessRecorder | undefined;

  constructor(read: () => LatenessRecorder | undefined) {
    this.read = read;
  }

  get(): MetricObjectWithValues<MetricValueWithName<string>> {
    const recorder = this.read();
    const total = recorder?.total ?? { count: 0, sumMs: 0 };
    const counts = recorder?.countsAtMost(LATENESS_BUCKETS_S.map((le) => le * 1000));
    const values: MetricValueWithName<string>[] = LATENESS_BUCKETS_S.map((le, i) => ({
      metricName: `${this.name}_bucket`,
      labels: { le },
      value: counts?.[i] ?? 0,
    }));
    values.push(
      { metricName: `${this.name}_bucket`, labels: { le: "+Inf" }, value: total.count },
      { metricName: `${this.name}_sum`, labels: {}, value: total.sumMs / 1000 },
      { metricName: `${this.name}_count`, labels: {}, value: total.count },
    );
    return { name: this.name, help: this.help, type: "histogram" as never, aggregator: "sum", collect: () => {}, values };
  }

  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
