/**
 * Fetch requests over wfsim's own connection to a partition's leader, read straight into pooled
 * buffers: Node's `onread` with a buffer function reads the socket into the buffer it names, so
 * the answer's parser (fetch-answer.ts) is handed its fields a few bytes at a time, and each
 * partition's record bytes are read into a FETCH_BUFFERS buffer of their own, given back when those
 * records are read. Through the client's connection every socket read is a fresh Buffer (garbage,
 * most of a read's memory above a file's, docs/benchmarks.md) and records spanning reads are copied
 * once more; here neither happens. One buffer per partition, not per answer: a partition whose
 * records wait in the merge (the transactions topic's, far ahead in time) holds its own bytes only.
 *
 * Only metadata is needed to reach a leader: metadata, offsets and group membership stay on the
 * client. Plain TCP and TLS (node:tls takes `onread` too when it dials); not SASL: logging in is the
 * client's (SASL handshakes, SCRAM, re-authentication), so with SASL topics-reader.ts fetches through
 * the client's connections as before. One request at a time per connection, as the reader asks.
 */
import { connect as connectTcp, type OnReadOpts, type Socket } from "node:net";
import { connect as connectTls, type ConnectionOptions } from "node:tls";
import { NetworkError, TimeoutError, Writer } from "@platformatic/kafka";
import type { FetchAnswer } from "./fetched-partition.ts";
import { PooledBytes, parseFrame, type Need, type Parse } from "./fetch-answer.ts";
import { FETCH_API_KEY, FETCH_MAX_VERSION, FETCH_MIN_VERSION, encodeRequest, type FetchSettings, type FetchTopic } from "./fetch-request.ts";

export interface FetchSocketOptions {
  readonly host: string;
  readonly port: number;
  /** node:tls options (ca, cert, key), or undefined for plain TCP. */
  readonly tls: ConnectionOptions | undefined;
  readonly clientId: string;
  /** Longest a connect may take. */
  readonly connectTimeoutMs: number;
  /** Longest a request may wait for its answer; then it fails as the client's do (TimeoutError) and the connection is closed. */
  readonly requestTimeoutMs: number;
}

interface Pending {
  readonly correlationId: number;
  readonly version: number;
  readonly resolve: (answer: FetchAnswer) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

const SIZE_BYTES = 4;
/** Larger than any answer a Fetch of FETCH_MAX_BYTES gets (one batch beyond the bound at most): a broken stream. */
const MAX_ANSWER_BYTES = 1 << 30;

export class FetchSocket {
  readonly host: string;
  readonly port: number;
  private readonly options: FetchSocketOptions;
  private readonly socket: Socket;
  private readonly connected: Promise<void>;
  private readonly clientId: string;
  private correlationId = 0;
  private pending: Pending | undefined;
  /** Why the connection ended, once it has. */
  private ended: Error | undefined;
  /** Where fields are read (an answer's size, then what its parser asks for): its parser reads them before it asks again. */
  private scratch = Buffer.allocUnsafe(64);
  /** The answer being read, after its size; undefined between answers. */
  private parse: Parse<FetchAnswer> | undefined;
  /** Bytes of the answer its parser has not asked for yet. */
  private remaining = 0;
  /** The pooled buffer a partition's records are being read into. */
  private records: PooledBytes | undefined;
  /** What the socket reads into next, and how much of it is filled. */
  private target: Buffer = this.scratch.subarray(0, SIZE_BYTES);
  private filled = 0;

  constructor(options: FetchSocketOptions) {
    this.options = options;
    this.host = options.host;
    this.port = options.port;
    this.clientId = options.clientId;
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
      this.ended ??= new NetworkError(`Connection to ${host}:${port} failed.`, { cause: error });
    });
    this.socket.on("close", () => {
      this.ended ??= new NetworkError("Connection closed");
      // An answer cut short: what its partitions took from the pool goes back.
      this.records?.release();
      this.records = undefined;
      this.parse?.return(undefined as never);
      this.parse = undefined;
      this.fail(this.ended);
    });
    this.connected = new Promise((resolve, reject) => {
      const onTimeout = () => this.socket.destroy(new TimeoutError(`Connection to ${host}:${port} timed out.`, { canRetry: true }));
      this.socket.once(options.tls === undefined ? "connect" : "secureConnect", () => {
        this.socket.setTimeout(0);
        this.socket.off("timeout", onTimeout);
        resolve();
      });
      this.socket.once("timeout", onTimeout);
      this.socket.once("close", () => reject(this.ended));
    });
    // A failed connect is reported by the first fetch; an unhandled rejection would end the process.
    this.connected.catch(() => {});
  }

  /** The connection ended (closed, failed, or timed out): a new one is needed. */
  get closed(): boolean {
    return this.ended !== undefined;
  }

  /** Sends one Fetch request (see fetch-request.ts) and resolves with its answer. */
  async fetch(version: number, settings: FetchSettings, topics: readonly FetchTopic[]): Promise<FetchAnswer> {
    if (version < FETCH_MIN_VERSION || version > FETCH_MAX_VERSION) throw new RangeError(`Fetch v${version} is not supported`);
    await this.connected;
    if (this.ended !== undefined) throw this.ended;
    if (this.pending !== undefined) throw new Error(`a Fetch request to ${this.host}:${this.port} is already waiting for its answer`);
    const correlationId = (this.correlationId = (this.correlationId + 1) & 0x7fffffff);
    const writer = Writer.create()
      .appendInt16(FETCH_API_KEY)
      .appendInt16(version)
      .appendInt32(correlationId)
      .appendString(this.clientId, false)
      .appendTaggedFields()
      .appendFrom(encodeRequest(version, settings, topics))
      .prependLength();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new TimeoutError("Request timed out", { canRetry: true });
        this.ended ??= error;
        this.fail(error);
        this.socket.destroy();
      }, this.options.requestTimeoutMs);
      this.pending = { correlationId, version, resolve, reject, timer };
      // One write: the writer holds a chunk per field, and each write is a packet (no Nagle).
      this.socket.write(writer.buffer);
    });
  }

  /** Closes the connection; a request waiting for its answer fails with "Connection closed". */
  close(): void {
    this.socket.destroy();
  }

  private onRead(read: number): void {
    this.filled += read;
    if (this.filled < this.target.length) return;
    let step: IteratorResult<Need, FetchAnswer>;
    try {
      if (this.parse === undefined) {
        // An answer's size: its parser starts.
        const size = this.target.readInt32BE(0);
        if (this.pending === undefined) return this.broken(`an answer of ${size} bytes to no request`);
        if (size < SIZE_BYTES || size > MAX_ANSWER_BYTES) return this.broken(`an answer of ${size} bytes`);
        this.remaining = size;
        this.parse = parseFrame(this.pending.version, this.pending.correlationId);
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
      for (const partition of step.value.partitions) partition.backing?.release();
      return this.broken(`${this.remaining} bytes after the answer`);
    }
    this.settle()?.resolve(step.value);
  }

  /** The stream does not read as Kafka's: end the connection, and the request with it. */
  private broken(what: string): void {
    this.ended ??= new NetworkError(`Connection to ${this.host}:${this.port}: unexpected data (${what})`);
    this.socket.destroy();
  }

  private fail(error: unknown): void {
    this.settle()?.reject(error);
  }

  private settle(): Pending | undefined {
    const pending = this.pending;
    if (pending !== undefined) clearTimeout(pending.timer);
    this.pending = undefined;
    return pending;
  }
}

/** tls.connect takes `onread` as net.connect does (Node 14.5 and later); @types/node does not declare it. */
function withOnRead(options: ConnectionOptions, onread: OnReadOpts): ConnectionOptions {
  const withIt: ConnectionOptions & { onread: OnReadOpts } = { ...options, onread };
  return withIt;
}
