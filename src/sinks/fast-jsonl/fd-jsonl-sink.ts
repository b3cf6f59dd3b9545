import { close as closeFd, writev } from "node:fs";
import type { EventSink } from "../../engine/simulation.ts";
import type { WfEvent } from "../../events/schema.ts";
import { LAYOUT } from "./layout.ts";
import { LineWriter } from "./line-writer.ts";

export interface FdJsonlSinkOptions {
  /** Called once if writing fails (closed pipe, full disk); everything after is dropped. */
  readonly onError?: (error: NodeJS.ErrnoException) => void;
  /** Bytes waiting to be written above which the engine is asked to wait. */
  readonly highWaterBytes?: number;
  /** Close the descriptor at the end (a file we opened; never stdout). */
  readonly closeAtEnd?: boolean;
  /**
   * What turns events into lines (default: wfsim's events, by the WebAssembly line writer). It hands
   * whole lines to `onChunk`, as a view the sink copies at once.
   */
  readonly lines?: (onChunk: (chunk: Uint8Array) => void) => EventLineWriter;
}

/** Turns events into JSON lines, handed on in chunks of whole lines. */
export interface EventLineWriter {
  write(event: WfEvent): void;
  /** A line of `text` as it is (no newline), in its place among the events'; absent: the sink flushes and writes it alone. */
  writeText?(text: string): void;
  /** See LineWriter.writeTruncated; absent: the caller cuts the text itself. */
  writeTruncated?(event: WfEvent, cut: (length: number) => number): boolean;
  /** See LineWriter.writeNotJson; absent: the caller writes the text. */
  writeNotJson?(txnId: string, type: string, tsMs: number, step: number | undefined): void;
  flush(): void;
}

const RETRY_MS = 2;
const MAX_CHUNKS_PER_WRITE = 64;
/** Output buffers kept for reuse once written: fresh memory for every chunk costs page faults. */
const POOLED_BUFFERS = 8;
/** The most the line writer hands over at once: a pooled buffer takes any chunk. */
const OUTPUT_AREA_BYTES = LAYOUT.outputEnd - LAYOUT.output;

/** Lines waiting to be written: `buffer[start, end)`; the buffer goes back to the pool once all of it is written. */
interface Pending {
  readonly buffer: Buffer;
  start: number;
  end: number;
}

/**
 * JSON Lines onto a file descriptor, formatted by the WebAssembly line writer and written with
 * asynchronous vectored writes. The engine is asked to wait while more than `highWaterBytes` are
 * queued, so a slow reader holds memory at that bound. A descriptor in non-blocking mode (a pipe
 * that Node.js has touched) answers EAGAIN when full: that is retried, not treated as an error.
 */
export class FdJsonlSink implements EventSink {
  private readonly fd: number;
  private readonly options: FdJsonlSinkOptions;
  private readonly highWater: number;
  private readonly lines: EventLineWriter;
  private readonly queue: Pending[] = [];
  private readonly pool: Buffer[] = [];
  private queuedBytes = 0;
  /** The last queued buffer while it is not being written: later chunks are appended to it while it has room. */
  private tail: Pending | undefined;
  private writing = false;
  private failure: NodeJS.ErrnoException | undefined;
  private waiters: (() => void)[] = [];

  constructor(fd: number, options: FdJsonlSinkOptions = {}) {
    this.fd = fd;
    this.options = options;
    this.highWater = options.highWaterBytes ?? 8 * 1024 * 1024;
    const onChunk = (chunk: Uint8Array) => this.enqueue(chunk);
    this.lines = options.lines?.(onChunk) ?? new LineWriter(onChunk);
  }

  get backpressured(): boolean {
    return this.queuedBytes >= this.highWater && this.failure === undefined;
  }

  get error(): NodeJS.ErrnoException | undefined {
    return this.failure;
  }

  write(event: WfEvent): void {
    if (this.failure === undefined) this.lines.write(event);
  }

  flush(): void {
    if (this.failure === undefined) this.lines.flush();
  }

  /** A malformed line (a delivery fault) in the event's place: the lines before it are handed on first, so order holds. */
  writeMalformed(_event: WfEvent, text: string): void {
    if (this.failure !== undefined) return;
    // In the line writer's batch where it can: a flush and a write of its own per malformed line cost
    // more than the faults' other work together (the faults bench).
    if (this.lines.writeText !== undefined) return this.lines.writeText(text);
    this.lines.flush();
    this.enqueue(Buffer.from(`${text}\n`, "utf8"));
  }

  /** A corrupt fault's truncated line made from the event's line bytes (see FaultOutput.writeTruncated). */
  writeTruncated(event: WfEvent, cut: (length: number) => number): boolean {
    if (this.lines.writeTruncated === undefined) return false;
    // After a failure nothing is written, but the cut is drawn all the same, as with the text.
    if (this.failure !== undefined) return false;
    return this.lines.writeTruncated(event, cut);
  }

  /** A corrupt fault's not_json line written from the event's fields (see FaultOutput.writeNotJson). */
  writeNotJson(event: WfEvent): boolean {
    const lines = this.lines;
    if (lines.writeNotJson === undefined) return false;
    const step = "step" in event ? event.step : undefined;
    // The line writer writes safe integers only; anything else (never an event of wfsim's) as text.
    if (!Number.isSafeInteger(event.ts_ms) || ("step" in event && !Number.isSafeInteger(step))) return false;
    if (this.failure === undefined) lines.writeNotJson(event.txn_id, event.type, event.ts_ms, step);
    return true;
  }

  drain(): Promise<void> {
    if (!this.backpressured) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Writes everything left, waits for it to reach the descriptor, and closes it if asked. */
  async close(): Promise<void> {
    this.flush();
    while ((this.queue.length > 0 || this.writing) && this.failure === undefined) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.options.closeAtEnd) {
      await new Promise<void>((resolve) => closeFd(this.fd, () => resolve()));
    }
  }

  /** Copies the lines (a view, valid now only) into a buffer of the pool, and queues them. */
  private enqueue(lines: Uint8Array): void {
    const tail = this.tail;
    // Chunks that come while a write is out (a malformed line's, and the lines flushed before it)
    // join the last buffer waiting: one buffer and one write for many small chunks.
    if (tail !== undefined && tail.buffer.length - tail.end >= lines.length) {
      tail.buffer.set(lines, tail.end);
      tail.end += lines.length;
      this.queuedBytes += lines.length;
      this.pump();
      return;
    }
    let buffer = this.pool.pop();
    if (buffer === undefined || buffer.length < lines.length) buffer = Buffer.allocUnsafeSlow(Math.max(lines.length, OUTPUT_AREA_BYTES));
    buffer.set(lines);
    this.tail = { buffer, start: 0, end: lines.length };
    this.queue.push(this.tail);
    this.queuedBytes += lines.length;
    this.pump();
  }

  private pump(): void {
    if (this.writing || this.queue.length === 0 || this.failure !== undefined) return;
    this.writing = true;
    const pending = this.queue.splice(0, MAX_CHUNKS_PER_WRITE);
    // Being written now: nothing may be appended to it any more.
    if (pending.includes(this.tail!)) this.tail = undefined;
    writev(
      this.fd,
      pending.map((p) => p.buffer.subarray(p.start, p.end)),
      (error, written) => {
        this.writing = false;
        if (error && error.code !== "EAGAIN") return this.fail(error);
        const wrote = error ? 0 : written;
        this.queuedBytes -= wrote;
        // What was written goes back to the pool; a partial write or a full non-blocking pipe leaves
        // the rest, put back in order and retried.
        let done = wrote;
        const left: Pending[] = [];
        for (const p of pending) {
          const length = p.end - p.start;
          if (done >= length) {
            done -= length;
            if (this.pool.length < POOLED_BUFFERS) this.pool.push(p.buffer);
            continue;
          }
          p.start += done;
          done = 0;
          left.push(p);
        }
        this.queue.unshift(...left);
        if (wrote === 0) {
          setTimeout(() => this.pump(), RETRY_MS);
          return;
        }
        this.wakeWaiters();
        this.pump();
      },
    );
  }

  private wakeWaiters(): void {
    if (this.queuedBytes >= this.highWater / 2 && this.queue.length > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private fail(error: NodeJS.ErrnoException): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.queue.length = 0;
    this.tail = undefined;
    this.queuedBytes = 0;
    this.wakeWaiters();
    this.options.onError?.(error);
  }
}

