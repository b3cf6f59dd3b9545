/**
 * One error class for everything wfsim reports on purpose. The code says what kind of failure it is;
 * `isUserError` decides how the CLI shows it: user errors become one line on stderr and exit code 2
 * (or the code's own `exit`), anything else is a bug and keeps its stack.
 */
export const ERROR_CODES = {
  /** A flag or option has a bad value, or flags contradict each other. */
  INVALID_OPTION: { user: true },
  /** The command line itself is malformed: unknown flag, missing value, unknown command. */
  USAGE: { user: true },
  /** A scenario file does not say what wfsim can run: bad YAML, a wrong value, an unknown key. */
  SCENARIO: { user: true },
  /** A file named by the user cannot be read or written. */
  FILE: { user: true },
  /** The output stream failed while writing (disk full, device gone). */
  OUTPUT: { user: true },
  /** Kafka cannot be reached: refused, unknown host, no answer within --kafka-timeout. */
  KAFKA_CONNECT: { user: true },
  /** Kafka refused the SASL login. */
  KAFKA_AUTH: { user: true },
  /** The TLS handshake with Kafka failed (untrusted certificate, not a TLS listener, bad key). */
  KAFKA_TLS: { user: true },
  /** Kafka refused to create or describe wfsim's topics. */
  KAFKA_TOPIC: { user: true },
  /** Fetched record batches do not read as Kafka wrote them: a CRC-32C mismatch, a format or codec wfsim does not know. */
  KAFKA_RECORDS: { user: true },
  /** The Schema Registry cannot be reached, or its URL is not a registry's Confluent-compatible API. */
  REGISTRY_CONNECT: { user: true },
  /** The Schema Registry refused the credentials (401, 403). */
  REGISTRY_AUTH: { user: true },
  /** The Schema Registry refused a schema (incompatible under the subject's rule, or invalid), or has no schema asked for. */
  REGISTRY_SCHEMA: { user: true },
  /** Events were emitted that Kafka did not acknowledge: the run's output is incomplete. */
  KAFKA_DELIVERY: { user: true, exit: 3 },
  /** Something that should not happen; always a bug in wfsim. */
  INTERNAL: { user: false },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class WfsimError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WfsimError";
    this.code = code;
  }

  get isUserError(): boolean {
    return ERROR_CODES[this.code].user;
  }

  /** The CLI's exit code for it: 2 for a user's mistake unless the code says otherwise, 1 for a bug. */
  get exitCode(): number {
    const spec: { readonly user: boolean; readonly exit?: number } = ERROR_CODES[this.code];
    return spec.exit ?? (spec.user ? 2 : 1);
  }
}

export function isWfsimError(value: unknown): value is WfsimError {
  return value instanceof WfsimError;
}

/** "no such file or directory" for ENOENT and the like: what a user can act on, without the errno noise. */
export function describeSystemError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    case "ENOSPC":
      return "no space left on device";
    case "EROFS":
      return "read-only file system";
    case "ENOTDIR":
      return "a part of the path is not a directory";
    case "EPIPE":
      return "the reader closed the pipe";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/**
 * `text` fit for one line of a terminal: control characters (a line break, an escape sequence, NUL)
 * and the replacement character of bytes that are not UTF-8 are written as escapes, so that a
 * message quoting a garbage file shows what is there without acting on the terminal.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, (c) => (c === "\ufffd" ? "\\ufffd" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
}
