import type { ServerResponse } from "node:http";
import { listen, type HttpEndpoint } from "./http-endpoint.ts";
import type { ListenAddress } from "./listen-address.ts";
import type { LiveSnapshot } from "./live-view.ts";
import { UI_PAGE } from "./ui-page.ts";

/** How often the page gets a snapshot: the issue asks for at least once a second. */
export const UI_EVERY_MS = 1000;

/**
 * Serves the live page at / and its Server-Sent Events at /events: a snapshot when a viewer connects
 * and then every UI_EVERY_MS, one snapshot for all viewers. A viewer that reads slowly is skipped
 * until its socket drains (nothing piles up for it); the run never waits for viewers.
 */
export async function serveUi(view: { snapshot(): LiveSnapshot }, address: ListenAddress, flag: string): Promise<HttpEndpoint> {
  const viewers = new Set<ServerResponse>();
  const send = (response: ServerResponse, data: string) => {
    if (response.writableNeedDrain) return;
    response.write(data);
  };
  const endpoint = await listen(address, flag, {
    "/": (_request, response) => {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      response.end(UI_PAGE);
    },
    "/events": (request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      viewers.add(response);
      request.on("close", () => viewers.delete(response));
      send(response, `data: ${JSON.stringify(view.snapshot())}\n\n`);
    },
    "/snapshot.json": (_request, response) => {
      response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      response.end(JSON.stringify(view.snapshot()));
    },
  });
  const timer = setInterval(() => {
    if (viewers.size === 0) return;
    const data = `data: ${JSON.stringify(view.snapshot())}\n\n`;
    for (const response of viewers) send(response, data);
  }, UI_EVERY_MS);
  timer.unref();
  return {
    address: endpoint.address,
    url: endpoint.url,
    close: async () => {
      clearInterval(timer);
      for (const response of viewers) response.end();
      viewers.clear();
      await endpoint.close();
    },
  };
}
