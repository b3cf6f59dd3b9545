import type { KafkaSink } from "../sinks/kafka/kafka-sink.ts";
import type { Simulation } from "../engine/simulation.ts";
import { parseListenAddress } from "../live/listen-address.ts";
import type { HttpEndpoint } from "../live/http-endpoint.ts";
import type { FlagSpec } from "./run-flags.ts";

const LIVE = "Live metrics and scores:";

/** The flags of `wfsim run` that watch the run while it goes on. */
export const LIVE_FLAGS = {
  metrics: {
    syntax: "--metrics <host:port>",
    help: "serve Prometheus metrics at http://HOST:PORT/metrics while the run goes on (HOST defaults to 127.0.0.1; port 0 picks a free one, named on stderr)",
    group: LIVE,
  },
} as const satisfies Record<string, FlagSpec>;

type Flags = { readonly [key: string]: string | boolean | undefined };

/** What watches a run: attached once the simulation exists, closed when it is done. */
export interface LiveRun {
  attach(simulation: Simulation, kafka?: KafkaSink): void;
  close(): Promise<void>;
}

/**
 * Starts what the live flags ask for, before the run's first event; undefined when none is given.
 * A bad address or a port in use is the user's flag: one line, exit 2, before any output is opened.
 */
export async function openLive(flags: Flags, io: { readonly stderr: NodeJS.WritableStream; readonly quiet: boolean }): Promise<LiveRun | undefined> {
  if (flags.metrics === undefined) return undefined;
  const address = parseListenAddress(String(flags.metrics), "--metrics");
  // Loaded here: prom-client is only worth its load time when metrics are asked for.
  const { RunMetrics } = await import("../live/run-metrics.ts");
  const { serveMetrics } = await import("../live/metrics-endpoint.ts");
  const metrics = new RunMetrics();
  const endpoints: HttpEndpoint[] = [await serveMetrics(metrics, address, "--metrics")];
  if (!io.quiet) io.stderr.write(`wfsim: metrics at ${endpoints[0]!.url}/metrics\n`);
  return {
    attach(simulation, kafka) {
      metrics.attach(simulation, kafka);
      if (kafka !== undefined) kafka.onAcknowledged = (ms) => metrics.observeDelivery(ms);
    },
    close: async () => {
      await Promise.all(endpoints.map((endpoint) => endpoint.close()));
    },
  };
}
