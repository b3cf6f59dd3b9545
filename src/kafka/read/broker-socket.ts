/**
 * wfsim's own connection to a broker, for the reader's requests (Fetch, and the Metadata,
 * ListOffsets and ApiVersions that find where to fetch: cluster-requests.ts), read straight into
 * pooled buffers: Node's `onread` with a buffer function reads the socket into the buffer it names,
 * so an answer's parser (fetch-answer.ts) is handed its fields a few bytes at a time, and each
 * partition's record bytes are read into a FETCH_BUFFERS buffer of their own, given back when those
 * records are read. Through the client's connection every socket read is a fresh Buffer (garbage,
 * most of a read's memory above a file's, docs/benchmarks.md) and records spanning reads are copied
 * once more; here neither happens. One buffer per partition, not per answer: a partition whose
 * records wait in the merge (the transactions topic's, far ahead in time) holds its own bytes only.
 *
 * Plain TCP and TLS (node:tls takes `onread` too when it dials); not SASL: logging in is the
 * client's (SASL handshakes, SCRAM, re-authentication), so with SASL the reader goes through the
 * client (client-cluster.ts). Requests may wait for their answers several at a time: Kafka answers
 * a connection's requests in the order they were sent.
 */
import { connect as connectTcp, type OnReadOpts, type Socket } from "node:net";
import { connect as connectTls, type ConnectionOptions } from "node:tls";
import { BrokerConnectionError, TlsRequiredError } from "../connection-error.ts";
import { RequestWriter } from "../request-writer.ts";
import type { FetchAnswer } from "./fetched-partition.ts";
import { PooledBytes, parseBody, parseFrame, type Need, type Parse } from "./fetch-answer.ts";
import { FETCH_API_KEY, FETCH_MAX_VERSION, FETCH_MIN_VERSION, writeFetchRequest, type FetchSettings, type FetchTopic } from "./fetch-request.ts";

export interface BrokerSocketOptions {
  readonly host: string;
  readonly port: number;
  /** node:tls options (ca, cert, key), or undefined for plain TCP. */
  readonly tls: ConnectionOptions | undefined;
  readonly clientId: string;
  /** Longest a connect may take. */
  readonly connectTimeoutMs: number;
  /** Longest a request may wait for its answer; then it fails (timed out, retriable) and the connection is closed. */
  readonly requestTimeoutMs: number;
}

/** One request: how its answer is read. */
export interface BrokerRequest<T> {
  readonly apiKey: number;
  readonly version: number;
  /** Writes the request's body after its header. */
  readonly write: (writer: RequestWriter) => void;
  /** The answer's body parser. */
  readonly parse: () => Parse<T>;
  /** Response header v1 (tagged fields after the correlation id): flexible versions but ApiVersions. */
  readonly taggedHeader: boolean;
}

interface Pending {
  readonly correlationId: number;
  readonly parse: () => Parse<unknown>;
  readonly taggedHeader: boolean;
  readonly resolve: (answer: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

const SIZE_BYTES = 4;
/** Larger than any answer a Fetch of FETCH_MAX_BYTES gets (one batch beyond the bound at most): a broken stream. */
const MAX_ANSWER_BYTES = 1 << 30;

export class BrokerSocket {
  readonly host: string;
  readonly port: number;
  private readonly options: BrokerSocketOptions;
  private readonly socket: Socket;
  private readonly connected: Promise<void>;
  private correlationId = 0;
  /** Requests waiting for their answers, in the order they were sent (and are answered). */
  private readonly pending: Pending[] = [];
  /** Why the connection ended, once it has. */
  private ended: Error | undefined;
  /** A plain connection's first bytes are checked for a TLS record (a listener that speaks TLS). */
  private firstAnswer: boolean;
  /** Where fields are read (an answer's size, then what its parser asks for): its parser reads them before it asks again. */
  private scratch = Buffer.allocUnsafe(64);
  /** The answer being read, after its size; undefined between answers. */
  private parse: Parse<unknown> | undefined;
  /** Bytes of the answer its parser has not asked for yet. */
  private remaining = 0;
  /** The pooled buffer a partition's records are being read into. */
  private records: PooledBytes | undefined;
  /** What the socket reads into next, and how much of it is filled. */
  private target: Buffer = this.scratch.subarray(0, SIZE_BYTES);
  private filled = 0;

  constructor(options: BrokerSocketOptions) {
    this.options = options;
    this.host = options.host;
    this.port = options.port;
    this.firstAnswer = options.tls === undefined;
    const onread = {
      buffer: () => this.target.subarray(this.filled),
      callback: (read: number): boolean => {
        this.onRead(read);
        return true;
      },
    };
    const { host, port } = options;
    this.socket =
      options.tls === undefined
        ? connectTcp({ host, port, timeout: options.connectTimeoutMs, noDelay: true, onread })
        : connectTls(withOnRead({ ...options.tls, host, port, timeout: options.connectTimeoutMs }, onread));
    this.socket.on("error", (error) => {
      this.ended ??= new BrokerConnectionError(`Connection to ${host}:${port} failed.`, { cause: error });
    });
    this.socket.on("close", () => {
      this.ended ??= new BrokerConnectionError("Connection closed");
      // An answer cut short: what its partitions took from the pool goes back.
      this.records?.release();
      this.records = undefined;
      this.parse?.return(undefined);
      this.parse = undefined;
      this.failAll(this.ended);
    });
    this.connected = new Promise((resolve, reject) => {
      const onTimeout = () => this.socket.destroy(new BrokerConnectionError(`Connection to ${host}:${port} timed out.`, { timedOut: true }));
      this.socket.once(options.tls === undefined ? "connect" : "secureConnect", () => {
        this.socket.setTimeout(0);
        this.socket.off("timeout", onTimeout);
        resolve();
      });
      this.socket.once("timeout", onTimeout);
      this.socket.once("close", () => reject(this.ended));
    });
    // A failed connect is reported by the first request; an unhandled rejection would end the process.
    this.connected.catch(() => {});
  }

  /** The connection ended (closed, failed, or timed out): a new one is needed. */
  get closed(): boolean {
    return this.ended !== undefined;
  }

  /** Sends one Fetch request (see fetch-request.ts) and resolves with its answer. */
  fetch(version: number, settings: FetchSettings, topics: readonly FetchTopic[]): Promise<FetchAnswer> {
    if (version < FETCH_MIN_VERSION || version > FETCH_MAX_VERSION) return Promise.reject(new RangeError(`Fetch v${version} is not supported`));
    return this.request({
      apiKey: FETCH_API_KEY,
      version,
      write: (writer) => writeFetchRequest(writer, version, settings, topics),
      parse: () => parseBody(version),
      taggedHeader: true,
    });
  }

  /** Sends a request and resolves with its parsed answer; rejects when the connection fails first or the answer is late. */
  async request<T>(request: BrokerRequest<T>): Promise<T> {
    await this.connected;
    if (this.ended !== undefined) throw this.ended;
    const correlationId = (this.correlationId = (this.correlationId + 1) & 0x7fffffff);
    const writer = RequestWriter.header(request.apiKey, request.version, correlationId, this.options.clientId);
    request.write(writer);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new BrokerConnectionError("Request timed out", { timedOut: true });
        this.ended ??= error;
        this.failAll(error);
        this.socket.destroy();
      }, this.options.requestTimeoutMs);
      this.pending.push({ correlationId, parse: request.parse, taggedHeader: request.taggedHeader, resolve: resolve as (answer: unknown) => void, reject, timer });
      // One write: each write is a packet (no Nagle).
      this.socket.write(writer.frame());
    });
  }

  /** Closes the connection; requests waiting for their answers fail with "Connection closed". */
  close(): void {
    this.socket.destroy();
  }

  private onRead(read: number): void {
    this.filled += read;
    if (this.firstAnswer && this.filled >= 3) {
      this.firstAnswer = false;
      if (isTlsRecord(this.target)) {
        this.ended ??= new TlsRequiredError();
        this.socket.destroy();
        return;
      }
    }
    if (this.filled < this.target.length) return;
    let step: IteratorResult<Need, unknown>;
    try {
      if (this.parse === undefined) {
        // An answer's size: its parser starts.
        const size = this.target.readInt32BE(0);
        const head = this.pending[0];
        if (head === undefined) return this.broken(`an answer of ${size} bytes to no request`);
        if (size < SIZE_BYTES || size > MAX_ANSWER_BYTES) return this.broken(`an answer of ${size} bytes`);
        this.remaining = size;
        this.parse = parseFrame(head.correlationId, head.taggedHeader, head.parse());
        step = this.parse.next();
      } else if (this.records !== undefined) {
        const backing = this.records;
        this.records = undefined;
        step = this.parse.next({ bytes: this.target, backing });
      } else {
        step = this.parse.next(this.target);
      }
    } catch (error) {
      return this.broken(error instanceof Error ? error.message : String(error));
    }
    this.filled = 0;
    if (step.done !== true) {
      const { bytes, records } = step.value;
      if (bytes > this.remaining) return this.broken(`an answer longer than its size`);
      this.remaining -= bytes;
      if (records) {
        this.records = new PooledBytes(bytes);
        this.target = this.records.buffer.subarray(0, bytes);
      } else {
        if (bytes > this.scratch.length) this.scratch = Buffer.allocUnsafe(bytes);
        this.target = this.scratch.subarray(0, bytes);
      }
      return;
    }
    this.parse = undefined;
    this.target = this.scratch.subarray(0, SIZE_BYTES);
    if (this.remaining !== 0) {
      for (const partition of (step.value as Partial<FetchAnswer>).partitions ?? []) partition.backing?.release();
      return this.broken(`${this.remaining} bytes after the answer`);
    }
    const answered = this.pending.shift()!;
    clearTimeout(answered.timer);
    answered.resolve(step.value);
  }

  /** The stream does not read as Kafka's: end the connection, and the requests with it. */
  private broken(what: string): void {
    this.ended ??= new BrokerConnectionError(`Connection to ${this.host}:${this.port}: unexpected data (${what})`);
    this.socket.destroy();
  }

  private failAll(error: unknown): void {
    for (const request of this.pending.splice(0)) {
      clearTimeout(request.timer);
      request.reject(error);
    }
  }
}

/** A TLS record's first bytes (alert, handshake, …, TLS 1.0 to 1.3), as the client checks them. */
function isTlsRecord(bytes: Buffer): boolean {
  return bytes[0]! >= 0x14 && bytes[0]! <= 0x17 && bytes[1] === 0x03 && bytes[2]! <= 0x04;
}

/** tls.connect takes `onread` as net.connect does (Node 14.5 and later); @types/node does not declare it. */
function withOnRead(options: ConnectionOptions, onread: OnReadOpts): ConnectionOptions {
  const withIt: ConnectionOptions & { onread: OnReadOpts } = { ...options, onread };
  return withIt;
}
