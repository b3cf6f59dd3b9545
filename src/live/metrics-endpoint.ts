import { listen, type HttpEndpoint } from "./http-endpoint.ts";
import type { ListenAddress } from "./listen-address.ts";
/** Metrics in Prometheus' text format (a prom-client registry's). */
export interface MetricsText {
  text(): Promise<string>;
  readonly contentType: string;
}

/** Serves `metrics` at /metrics for Prometheus; listening before it resolves. */
export function serveMetrics(metrics: MetricsText, address: ListenAddress, flag: string): Promise<HttpEndpoint> {
  return listen(address, flag, {
    "/metrics": (_request, response) => {
      metrics.text().then(
        (text) => {
          response.writeHead(200, { "content-type": metrics.contentType });
          response.end(text);
        },
        (error: unknown) => {
          response.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
          response.end(`${error instanceof Error ? error.message : String(error)}\n`);
        },
      );
    },
  });
}
