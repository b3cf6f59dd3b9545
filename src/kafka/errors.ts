/**
 * From @platformatic/kafka's errors (and those of wfsim's own connections, connection-error.ts) to
 * what a user can act on. The client nests its errors (a MultipleErrors of retries, each a
 * NetworkError whose `cause` is Node's socket or TLS error, or a ResponseError whose `errors` carry
 * Kafka's protocol error ids), so the facts are gathered from the whole tree and the most specific
 * one speaks. No import of the client here: a read over wfsim's own connections does not load it
 * (kafka-client.ts), and its errors are told apart by their codes.
 */
import { BrokerConnectionError, TlsRequiredError } from "./connection-error.ts";

export type KafkaFailureKind =
  /** The network: refused, reset, timed out, unknown host. */
  | "connect"
  /** The SASL login was refused, or the listener does not do SASL. */
  | "auth"
  /** The TLS handshake failed. */
  | "tls"
  /** Kafka answered and refused: authorization, invalid timestamp, configuration. */
  | "refused"
  /** Anything else. */
  | "other";

export interface KafkaFailure {
  readonly kind: KafkaFailureKind;
  /** Short, lower-case, for "...: <reason>". Never contains credentials. */
  readonly reason: string;
  /** Whether waiting and trying again may help (the broker may come up). */
  readonly retriable: boolean;
  /** Kafka's protocol error ids found, e.g. TOPIC_ALREADY_EXISTS. */
  readonly apiIds: readonly string[];
  /** The code the reason rests on, when there is one: ECONNREFUSED, SELF_SIGNED_CERT_IN_CHAIN, ... */
  readonly code?: string;
}

interface Facts {
  /** `code` of every error in the tree: Node's (ECONNREFUSED, SELF_SIGNED_CERT_IN_CHAIN) and the client's (PLT_KFK_*). */
  readonly codes: string[];
  readonly apiIds: string[];
  readonly serverMessages: string[];
  /** Messages, outermost first. */
  readonly messages: string[];
  /** Messages of the client's UserErrors: it refuses to go on, and says why. */
  readonly userMessages: string[];
  readonly hostnames: string[];
  /** A connection or a request timed out (the client's TimeoutError carries PLT_KFK_NETWORK as code). */
  readonly timedOut: boolean;
  /** A network failure of the client's (PLT_KFK_NETWORK) or of wfsim's own connection. */
  readonly network: boolean;
  /** wfsim's own connection made without TLS met a listener that speaks it. */
  readonly tlsRequired: boolean;
  /** Some error in the tree says it cannot be retried. */
  readonly notRetriable: boolean;
}

function gather(error: unknown): Facts {
  const facts: Facts = {
    codes: [],
    apiIds: [],
    serverMessages: [],
    messages: [],
    userMessages: [],
    hostnames: [],
    timedOut: false,
    network: false,
    tlsRequired: false,
    notRetriable: false,
  };
  const seen = new Set<unknown>();
  let notRetriable = false;
  let timedOut = false;
  let network = false;
  let tlsRequired = false;
  const visit = (e: unknown): void => {
    if (typeof e !== "object" || e === null || seen.has(e)) return;
    seen.add(e);
    // The client's TimeoutError: its class names PLT_KFK_TIMEOUT, its instances PLT_KFK_NETWORK.
    if ((e.constructor as { code?: unknown } | undefined)?.code === "PLT_KFK_TIMEOUT") timedOut = true;
    if (e instanceof BrokerConnectionError) {
      network = true;
      if (e.timedOut) timedOut = true;
    }
    if (e instanceof TlsRequiredError) tlsRequired = true;
    const fields = e as {
      code?: unknown;
      apiId?: unknown;
      serverErrorMessage?: unknown;
      message?: unknown;
      hostname?: unknown;
      canRetry?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof fields.code === "string") facts.codes.push(fields.code);
    if (fields.code === "PLT_KFK_NETWORK") network = true;
    if (typeof fields.apiId === "string") facts.apiIds.push(fields.apiId);
    if (typeof fields.serverErrorMessage === "string" && fields.serverErrorMessage !== "") facts.serverMessages.push(fields.serverErrorMessage);
    if (typeof fields.message === "string" && fields.message !== "") {
      facts.messages.push(fields.message);
      if (fields.code === "PLT_KFK_USER") facts.userMessages.push(fields.message);
    }
    if (typeof fields.hostname === "string") facts.hostnames.push(fields.hostname);
    if (fields.canRetry === false && fields.code !== "PLT_KFK_MULTIPLE") notRetriable = true;
    visit(fields.cause);
    if (Array.isArray(fields.errors)) fields.errors.forEach(visit);
  };
  visit(error);
  return { ...facts, timedOut, network, tlsRequired, notRetriable };
}

/**
 * The code wfsim gives the client's "Broker requires TLS.": it saw a TLS record in the first answer
 * of a connection made without TLS. The client gives that refusal no code of its own, so its words
 * are matched here, in this one place.
 */
export const TLS_REQUIRED = "TLS_REQUIRED";
const TLS_REQUIRED_MESSAGE = /^Broker requires TLS\.?$/;

/**
 * A topic a broker's metadata does not hold (UNKNOWN_TOPIC_OR_PARTITION, Kafka's error 3, retriable
 * in its protocol): a topic just created is in the controller's metadata before every broker's. A
 * Produce answer carries the error id; the client's metadata call turns it into a UserError
 * "Unknown topic NAME." with no code of its own, whose words are matched here, in this one place.
 * Callers retry it only for topics they know exist (they created or listed them), until a deadline.
 */
export function isUnknownTopic(error: unknown): boolean {
  const { apiIds, userMessages } = gather(error);
  return apiIds.includes("UNKNOWN_TOPIC_OR_PARTITION") || userMessages.some((message) => UNKNOWN_TOPIC_MESSAGE.test(message));
}
const UNKNOWN_TOPIC_MESSAGE = /^Unknown topic /;

/** Node's TLS verification codes that mean: the broker's certificate chain is not trusted. */
export const UNTRUSTED_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
]);

const NETWORK: Record<string, { reason: string; retriable: boolean }> = {
  ECONNREFUSED: { reason: "connection refused", retriable: true },
  ECONNRESET: { reason: "connection reset by the broker", retriable: true },
  EPIPE: { reason: "connection closed by the broker", retriable: true },
  ETIMEDOUT: { reason: "connection timed out", retriable: true },
  EHOSTUNREACH: { reason: "host unreachable", retriable: true },
  ENETUNREACH: { reason: "network unreachable", retriable: true },
  EAI_AGAIN: { reason: "host name lookup failed for now (EAI_AGAIN)", retriable: true },
  ENOTFOUND: { reason: "unknown host", retriable: false },
};

const REFUSALS: Record<string, string> = {
  TOPIC_AUTHORIZATION_FAILED: "not authorized for the topic (TOPIC_AUTHORIZATION_FAILED)",
  CLUSTER_AUTHORIZATION_FAILED: "not authorized on the cluster (CLUSTER_AUTHORIZATION_FAILED)",
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "not authorized for idempotent writes (TRANSACTIONAL_ID_AUTHORIZATION_FAILED)",
  INVALID_TIMESTAMP:
    "the broker refused the events' timestamps (INVALID_TIMESTAMP): they lie outside the topic's " +
    "message.timestamp.before.max.ms / message.timestamp.after.max.ms window around the broker's clock " +
    "(Kafka 4 refuses more than 1 hour ahead by default); move --start-time back or widen that window",
  MESSAGE_TOO_LARGE: "a batch is larger than the topic's max.message.bytes (MESSAGE_TOO_LARGE)",
  RECORD_LIST_TOO_LARGE: "a batch is larger than the topic's max.message.bytes (RECORD_LIST_TOO_LARGE)",
  UNKNOWN_TOPIC_OR_PARTITION: "the topic does not exist (UNKNOWN_TOPIC_OR_PARTITION)",
  POLICY_VIOLATION: "the cluster's topic policy refused it (POLICY_VIOLATION)",
  INVALID_REPLICATION_FACTOR: "the replication factor is larger than the number of brokers (INVALID_REPLICATION_FACTOR)",
  INVALID_PARTITIONS: "invalid number of partitions (INVALID_PARTITIONS)",
  UNSUPPORTED_COMPRESSION_TYPE: "the broker does not accept this compression (UNSUPPORTED_COMPRESSION_TYPE)",
};

/** What went wrong, in words a user can act on, and whether trying again may help. */
export function describeKafkaFailure(error: unknown): KafkaFailure {
  const facts = gather(error);
  const { codes, apiIds } = facts;
  const server = facts.serverMessages[0];
  const withServer = (reason: string) => (server === undefined ? reason : `${reason}: ${server}`);

  const sasl = apiIds.find((id) => id === "SASL_AUTHENTICATION_FAILED" || id === "ILLEGAL_SASL_STATE" || id === "UNSUPPORTED_SASL_MECHANISM");
  if (codes.includes("PLT_KFK_AUTHENTICATION") || sasl !== undefined) {
    const reason =
      sasl === "UNSUPPORTED_SASL_MECHANISM"
        ? "the listener does not offer this SASL mechanism (UNSUPPORTED_SASL_MECHANISM)"
        : sasl === "ILLEGAL_SASL_STATE"
          ? "the listener does not expect a SASL login (ILLEGAL_SASL_STATE)"
          : withServer("authentication failed");
    return { kind: "auth", reason, retriable: false, apiIds };
  }

  const untrusted = codes.find((code) => UNTRUSTED_CERTIFICATE_CODES.has(code));
  if (untrusted !== undefined) {
    return {
      kind: "tls",
      reason: `the broker's certificate is not signed by a trusted CA (${untrusted})`,
      retriable: false,
      apiIds,
      code: untrusted,
    };
  }
  const tlsCode = codes.find(
    (code) => code === "ERR_TLS_CERT_ALTNAME_INVALID" || code.startsWith("CERT_") || code.startsWith("ERR_SSL_") || code.startsWith("ERR_OSSL_"),
  );
  if (tlsCode !== undefined) {
    const reason =
      tlsCode === "ERR_TLS_CERT_ALTNAME_INVALID"
        ? "the broker's certificate does not name the host connected to (ERR_TLS_CERT_ALTNAME_INVALID)"
        : tlsCode === "CERT_HAS_EXPIRED"
          ? "the broker's certificate has expired (CERT_HAS_EXPIRED)"
          : tlsCode === "ERR_SSL_WRONG_VERSION_NUMBER"
            ? "the listener does not speak TLS (ERR_SSL_WRONG_VERSION_NUMBER)"
            : `TLS error ${tlsCode}`;
    return { kind: "tls", reason, retriable: false, apiIds, code: tlsCode };
  }

  const refusal = apiIds.find((id) => id in REFUSALS);
  if (refusal !== undefined) {
    return { kind: "refused", reason: withServer(REFUSALS[refusal]!), retriable: false, apiIds, code: refusal };
  }

  const userMessage = facts.userMessages[0];
  if (facts.tlsRequired || (userMessage !== undefined && TLS_REQUIRED_MESSAGE.test(userMessage))) {
    return { kind: "tls", reason: "the listener speaks TLS and the connection did not", retriable: false, apiIds, code: TLS_REQUIRED };
  }
  if (userMessage !== undefined) {
    return { kind: "other", reason: sentence(userMessage), retriable: false, apiIds };
  }

  const network = codes.find((code) => code in NETWORK);
  if (network !== undefined) {
    const { reason, retriable } = NETWORK[network]!;
    const host = network === "ENOTFOUND" ? facts.hostnames[0] : undefined;
    return { kind: "connect", reason: host === undefined ? reason : `${reason} ${host}`, retriable, apiIds, code: network };
  }
  if (facts.timedOut) {
    return { kind: "connect", reason: "no answer in time", retriable: true, apiIds, code: "TIMEOUT" };
  }
  if (facts.network && !facts.notRetriable) {
    return { kind: "connect", reason: `the connection failed (${innermost(facts)})`, retriable: true, apiIds };
  }
  const apiId = apiIds[0];
  if (apiId !== undefined) {
    return { kind: "other", reason: withServer(`Kafka answered ${apiId}`), retriable: !facts.notRetriable, apiIds };
  }
  return { kind: "other", reason: innermost(facts), retriable: !facts.notRetriable, apiIds };
}

/** The most specific message: the innermost one that is not a wrapper's generic summary. */
function innermost(facts: Facts): string {
  const specific = facts.messages.filter((m) => !/failed \d+ times|^Producing messages failed|^Connection to .* failed\.$/.test(m));
  return sentence(specific.at(-1) ?? facts.messages.at(-1) ?? "unknown error");
}

/** "Broker requires TLS." as it reads after a colon: "broker requires TLS". */
function sentence(message: string): string {
  const text = message.replace(/\.$/, "");
  // Lower-case a capitalised word, not an acronym (TLS).
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}
