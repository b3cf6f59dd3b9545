/**
 * Setting up a Kafka client within --kafka-timeout, and saying in one line what failed: shared by the
 * Kafka output (`wfsim run`) and the Kafka input (`wfsim analyze`). A broker that cannot be reached
 * is retried until the deadline (it may be starting); a refused login, a failed TLS handshake or an
 * unknown host fail at once. Messages name the bootstrap address and never the password.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { KafkaConnection, KafkaOptionsInput } from "../config/kafka-options.ts";
import { WfsimError } from "../errors.ts";
import { describeKafkaFailure, TLS_REQUIRED, UNTRUSTED_CERTIFICATE_CODES, type KafkaFailure } from "./errors.ts";
import { saslMechanismsAt } from "./sasl-probe.ts";

export type NameOf = (key: keyof KafkaOptionsInput) => string;

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1_000;

/** The deadline passed; `last` is the last failure seen before, if any. */
export class DeadlineError extends Error {
  readonly last: unknown;
  constructor(last: unknown) {
    super("deadline reached");
    this.last = last;
  }
}

/** The last failure an attempt met, so that a deadline that cuts an attempt short can still name it. */
export interface LastFailure {
  error: unknown;
  /**
   * Asked (once) when a connection closed without a Kafka answer, before it is retried: throws when
   * it finds why (a listener that wants a SASL login), so that the user hears it at once.
   */
  explainDropped?: (() => Promise<void>) | undefined;
}

/**
 * Runs `operation` until it succeeds, fails in a way retrying cannot cure, or the deadline passes.
 * `transient` names failures that are worth retrying here though they are not in general.
 */
export async function retrying<T>(
  deadline: number,
  signal: AbortSignal | undefined,
  seen: LastFailure,
  operation: () => Promise<T>,
  transient: (error: unknown) => boolean = () => false,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      seen.error = error;
      const failure = describeKafkaFailure(error);
      if (!failure.retriable && !transient(error)) throw error;
      if (seen.explainDropped !== undefined && droppedByBroker(failure)) {
        const explain = seen.explainDropped;
        seen.explainDropped = undefined;
        await explain();
      }
      const wait = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
      if (performance.now() + wait >= deadline) throw new DeadlineError(error);
      await sleep(wait, undefined, signal === undefined ? {} : { signal });
    }
  }
}

/** `operation`'s result, or a DeadlineError once the deadline passes, or the signal's abort. */
export async function bounded<T>(deadline: number, signal: AbortSignal | undefined, operation: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      operation(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineError(undefined)), Math.max(0, deadline - performance.now()));
      }),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(signal?.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Runs `setup` (which retries with `retrying`, recording failures in `seen`) within the connection's
 * timeout, and turns whatever stops it into a one-line WfsimError. `lastResort` names a failure when
 * the deadline cut the first attempt short (e.g. a client's last connection error).
 */
export async function setUpWithin<T>(
  connection: KafkaConnection,
  settings: { readonly signal?: AbortSignal | undefined; readonly nameOf?: NameOf | undefined; readonly lastResort?: () => unknown },
  setup: (deadline: number, seen: LastFailure) => Promise<T>,
): Promise<T> {
  const { signal, nameOf = (key) => key } = settings;
  signal?.throwIfAborted();
  const deadline = performance.now() + connection.timeoutMs;
  const seen: LastFailure = { error: undefined };
  if (connection.sasl === undefined && connection.tls === undefined) seen.explainDropped = () => askForSasl(connection, nameOf, deadline);
  try {
    return await bounded(deadline, signal, () => setup(deadline, seen));
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof WfsimError) throw error;
    if (error instanceof DeadlineError && error.last === undefined) {
      // The deadline passed during an attempt: say what the attempts before it met.
      throw kafkaError(new DeadlineError(seen.error ?? settings.lastResort?.()), connection, nameOf);
    }
    throw kafkaError(error, connection, nameOf);
  }
}

/** Throws KAFKA_AUTH when a bootstrap address wants a SASL login that the connection does not give. */
async function askForSasl(connection: KafkaConnection, nameOf: NameOf, deadline: number): Promise<void> {
  for (const address of connection.bootstrap) {
    const colon = address.lastIndexOf(":");
    const host = address.slice(0, colon).replace(/^\[|\]$/g, "");
    const port = Number(address.slice(colon + 1));
    const wait = Math.min(PROBE_MS, deadline - performance.now());
    if (wait <= 0) return;
    const mechanisms = await saslMechanismsAt(host, port, connection.clientId, wait);
    if (mechanisms !== undefined) {
      throw new WfsimError(
        "KAFKA_AUTH",
        `Kafka at ${connection.bootstrap.join(",")} closed the connection: its listener at ${address} wants a SASL login` +
          `${mechanisms.length > 0 ? ` (it offers ${mechanisms.join(", ")})` : ""}; give ${nameOf("kafkaSaslMechanism")}, ${nameOf("kafkaUser")} and the password`,
      );
    }
  }
}

/** How long the SASL question may take per address. */
const PROBE_MS = 2_000;

/**
 * A failure to reach or use Kafka, as the one line a user reads (KAFKA_CONNECT, KAFKA_AUTH, KAFKA_TLS).
 * `during`: what was under way on a connection made before ("the read, 120,000 records in"): the
 * broker was lost then, not unreachable from the start.
 */
export function kafkaError(error: unknown, connection: KafkaConnection, nameOf: NameOf, during?: string): WfsimError {
  const at = `Kafka at ${connection.bootstrap.join(",")}`;
  const unreachable = during === undefined ? `cannot connect to ${at}` : `lost ${at} during ${during}`;
  if (error instanceof DeadlineError) {
    const failure = error.last === undefined ? undefined : describeKafkaFailure(error.last);
    const seconds = connection.timeoutMs / 1000;
    return new WfsimError(
      "KAFKA_CONNECT",
      `${unreachable}: ${failure?.reason ?? "no answer"} (gave up after ${seconds} s, see ${nameOf("kafkaTimeout")})` +
        (during === undefined && failure !== undefined && droppedByBroker(failure) ? securityHint(connection, nameOf) : ""),
      { cause: error.last },
    );
  }
  const failure = describeKafkaFailure(error);
  switch (failure.kind) {
    case "auth": {
      const sasl = connection.sasl;
      const what = sasl === undefined ? "the connection" : `the SASL ${sasl.mechanism} login of user ${sasl.username}`;
      const hint = sasl === undefined ? ` (does this listener need ${nameOf("kafkaSaslMechanism")}?)` : "";
      return new WfsimError("KAFKA_AUTH", `${at} refused ${what}: ${failure.reason}${hint}`, { cause: error });
    }
    case "tls":
      if (failure.code === TLS_REQUIRED) {
        return new WfsimError("KAFKA_TLS", `cannot connect to ${at}: its listener speaks TLS; add ${nameOf("kafkaSsl")} (and ${nameOf("kafkaCa")} FILE unless the system's CAs trust the broker's certificate)`, { cause: error });
      }
      return new WfsimError("KAFKA_TLS", `TLS handshake with ${at} failed: ${failure.reason}${tlsHint(failure, connection, nameOf)}`, {
        cause: error,
      });
    case "connect":
      return new WfsimError("KAFKA_CONNECT", `${unreachable}: ${failure.reason}`, { cause: error });
    default:
      return new WfsimError("KAFKA_CONNECT", `cannot use ${at}: ${failure.reason}`, { cause: error });
  }
}

/**
 * The connection closed without a Kafka answer and without a network error: a listener of another
 * security protocol drops it so, and so does a host that never answers (the client gives up on it).
 */
function droppedByBroker(failure: KafkaFailure): boolean {
  return failure.kind === "connect" && (failure.code === undefined || failure.code === "ECONNRESET" || failure.code === "EPIPE");
}

function securityHint(connection: KafkaConnection, nameOf: NameOf): string {
  const protocol = `${connection.sasl === undefined ? "" : "SASL_"}${connection.tls === undefined ? "PLAINTEXT" : "SSL"}`;
  return `; no Kafka answer on the connection: is the address right, and is its listener ${protocol} as wfsim assumed (${nameOf("kafkaSsl")}, ${nameOf("kafkaSaslMechanism")})?`;
}

function tlsHint(failure: KafkaFailure, connection: KafkaConnection, nameOf: NameOf): string {
  if (failure.code === undefined || !UNTRUSTED_CERTIFICATE_CODES.has(failure.code)) return "";
  const caFile = connection.tls?.caFile;
  return caFile === undefined ? `; give the CA that signed it with ${nameOf("kafkaCa")}` : ` (trusted: ${nameOf("kafkaCa")} ${caFile})`;
}
