import type { ConnectionOptions } from "node:tls";
import type { BaseOptions } from "@platformatic/kafka";
import type { KafkaConnection } from "../config/kafka-options.ts";

/** Longest wait before retrying a failed request; backoff doubles from RETRY_MIN_MS up to it. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1_000;

/** Longest a single TCP/TLS connect may take before it counts as failed and is tried again. */
const CONNECT_TIMEOUT_MS = 5_000;

/** The node:tls options of a connection (CA, client certificate and key), or undefined for plain TCP. */
export function tlsOptions(options: KafkaConnection): ConnectionOptions | undefined {
  const tls = options.tls;
  if (tls === undefined) return undefined;
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
  };
}

/**
 * @platformatic/kafka options shared by wfsim's clients (Admin, Producer, Consumer): brokers, TLS (handed to node:tls
 * as they are), SASL, and timeouts bounded by --kafka-timeout.
 */
export function clientOptions(options: KafkaConnection, role: string): BaseOptions {
  const tls = tlsOptions(options);
  const sasl = options.sasl;
  return {
    clientId: `${options.clientId}-${role}`,
    bootstrapBrokers: [...options.bootstrap],
    connectTimeout: Math.min(CONNECT_TIMEOUT_MS, options.timeoutMs),
    // A request without an answer this long fails for good (the client does not retry timeouts).
    requestTimeout: options.timeoutMs,
    // Carried in produce requests: how long the leader may wait for the in-sync replicas (acks=all).
    timeout: options.timeoutMs,
    retryDelay: (_client, _operation, attempt) => Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.max(0, attempt - 1)),
    autocreateTopics: false,
    ...(tls === undefined ? {} : { tls }),
    ...(sasl === undefined ? {} : { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } }),
  };
}
