import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { WfsimError } from "../errors.ts";
import { formatAddress, type ListenAddress } from "./listen-address.ts";

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** An HTTP endpoint that listens; `address` is where it really listens (the port chosen for 0). */
export interface HttpEndpoint {
  readonly address: ListenAddress;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Listens at `address` and serves `routes` by path (GET only). A port in use or an address that
 * cannot be bound is the user's flag: one line naming it. The server does not keep the process
 * alive (a run ends when it is done, watched or not); close() ends open connections too (an SSE
 * stream would otherwise hold it forever).
 */
export async function listen(address: ListenAddress, flag: string, routes: Readonly<Record<string, Handler>>): Promise<HttpEndpoint> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://wfsim").pathname;
    const route = routes[path];
    if (route === undefined || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(route === undefined ? 404 : 405, { "content-type": "text/plain; charset=utf-8" });
      response.end(route === undefined ? "not found\n" : "GET only\n");
      return;
    }
    route(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(listenError(error, address, flag)));
    server.listen(address.port, address.host, () => resolve());
  });
  server.unref();
  const bound = server.address();
  const actual = typeof bound === "object" && bound !== null ? { host: address.host, port: bound.port } : address;
  return {
    address: actual,
    url: `http://${formatAddress(actual)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function listenError(error: NodeJS.ErrnoException, address: ListenAddress, flag: string): WfsimError {
  const where = formatAddress(address);
  const why =
    error.code === "EADDRINUSE"
      ? "the port is in use"
      : error.code === "EADDRNOTAVAIL"
        ? "no network interface has that address"
        : error.code === "EACCES"
          ? "permission denied (ports below 1024 need privileges)"
          : error.code === "ENOTFOUND" || error.code === "EAI_AGAIN"
            ? "unknown host"
            : (error.code ?? error.message);
  return new WfsimError("INVALID_OPTION", `${flag} cannot listen on ${where}: ${why}`, { cause: error });
}
