/**
 * Failures of wfsim's own connections to a broker (src/kafka/read/broker-socket.ts), read by
 * describeKafkaFailure (errors.ts) as it reads the client's network errors: retriable, with Node's
 * socket or TLS error as `cause`, and the same messages ("Connection closed", "Request timed out"),
 * so that a user reads the same line whichever connection failed.
 */
export class BrokerConnectionError extends Error {
  /** A broker may come back: waiting and trying again may help. */
  readonly canRetry = true;
  /** No connect within the connect timeout, or no answer within the request timeout. */
  readonly timedOut: boolean;

  constructor(message: string, options: { readonly cause?: unknown; readonly timedOut?: boolean } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "BrokerConnectionError";
    this.timedOut = options.timedOut ?? false;
  }
}

/** A connection made without TLS got a TLS record as its first answer: the listener speaks TLS. */
export class TlsRequiredError extends Error {
  readonly canRetry = false;

  constructor() {
    super("Broker requires TLS.");
    this.name = "TlsRequiredError";
  }
}
