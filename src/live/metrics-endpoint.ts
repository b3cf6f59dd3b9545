import { listen, type HttpEndpoint } from "./http-endpoint.ts";
import type { ListenAddress } from "./listen-address.ts";
import type { RunMetrics } from "./run-metrics.ts";

/** Serves `metrics` at /metrics for Prometheus; listening before it resolves. */
export function serveMetrics(metrics: RunMetrics, address: ListenAddress, flag: string): Promise<HttpEndpoint> {
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
