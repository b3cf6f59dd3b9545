import { WfsimError } from "../errors.ts";

/** Where an endpoint of wfsim listens: a host (loopback unless the user names another) and a port. */
export interface ListenAddress {
  readonly host: string;
  /** 0: any free port, chosen by the system (the endpoint says which on stderr). */
  readonly port: number;
}

export const LOOPBACK = "127.0.0.1";

/**
 * "HOST:PORT", ":PORT" or "PORT" (loopback), "[::1]:PORT" for IPv6. Refused with the flag's name,
 * what was expected and what was found.
 */
export function parseListenAddress(text: string, flag: string): ListenAddress {
  const expected = `${flag} must be HOST:PORT, :PORT or PORT (a port from 0 to 65535)`;
  const value = text.trim();
  let host = LOOPBACK;
  let portText = value;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(value);
  if (bracketed !== null) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
  } else if (value.includes(":")) {
    const colon = value.lastIndexOf(":");
    if (value.indexOf(":") !== colon) throw new WfsimError("INVALID_OPTION", `${expected}; an IPv6 host goes in brackets, got '${text}'`);
    host = value.slice(0, colon) === "" ? LOOPBACK : value.slice(0, colon);
    portText = value.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new WfsimError("INVALID_OPTION", `${expected}, got '${text}'`);
  return { host, port: Number(portText) };
}

/** "127.0.0.1:9464", "[::1]:9464": an address as a URL's authority. */
export function formatAddress(address: ListenAddress): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
