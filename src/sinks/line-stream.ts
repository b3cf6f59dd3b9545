import type { Writable } from "node:stream";

/** Lines are gathered into chunks of about this many characters before they are written. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Records as JSON Lines onto a byte stream (a file, a socket, stdout). Lines are batched into chunks;
 * when the stream's buffer is full it reports backpressure and its producer waits for 'drain', so a
 * slow reader never makes memory grow. Only whole lines are ever written.
 *
 * If the stream fails (a closed pipe, a full disk) everything after is dropped, the error is reported
 * once through `onError`, and the producer is never blocked again.
 */
export class LineStream<T> {
  private readonly stream: Writable;
  private readonly serialize: (item: T) => string;
  private readonly onError: (error: Error) => void;
  private buffer = "";
  private waitingForDrain = false;
  private failure: Error | undefined;
  protected written = 0;

  constructor(stream: Writable, serialize: (item: T) => string, onError: (error: Error) => void = () => {}) {
    this.stream = stream;
    this.serialize = serialize;
    this.onError = onError;
    stream.on("error", (error: Error) => this.fail(error));
  }

  get backpressured(): boolean {
    return this.waitingForDrain && this.failure === undefined;
  }

  /** Lines handed to the stream so far. */
  get linesWritten(): number {
    return this.written;
  }

  get error(): Error | undefined {
    return this.failure;
  }

  write(item: T): void {
    if (this.failure !== undefined) return;
    this.buffer += this.serialize(item);
    this.written++;
    if (this.buffer.length >= CHUNK_CHARS) this.flush();
  }

  flush(): void {
    this.flushText();
  }

  private flushText(): void {
    if (this.buffer === "" || this.failure !== undefined) return;
    const chunk = this.buffer;
    this.buffer = "";
    if (!this.stream.write(chunk)) this.waitingForDrain = true;
  }

  /** Hands whole lines already in bytes to the stream, after the lines written before them. */
  protected writeBytes(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    this.flushText();
    if (!this.stream.write(chunk)) this.waitingForDrain = true;
  }

  drain(): Promise<void> {
    if (!this.backpressured) return Promise.resolve();
    // The stream may have drained while its producer waited for something else (the event sink):
    // its 'drain' then came and went, and waiting for another would wait for ever.
    if (!this.stream.writableNeedDrain) {
      this.waitingForDrain = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off("drain", done);
        this.stream.off("error", done);
        this.stream.off("close", done);
        this.waitingForDrain = false;
        resolve();
      };
      this.stream.on("drain", done);
      this.stream.on("error", done);
      this.stream.on("close", done);
    });
  }

  /**
   * Writes what is left and waits until the stream has taken it all. Ends the stream when `end` is
   * set (a file we opened); stdout is left open for whoever owns it.
   */
  async close({ end }: { end: boolean }): Promise<void> {
    this.flush();
    if (this.failure !== undefined) return;
    const stream = this.stream;
    await new Promise<void>((resolve) => {
      const finish = () => resolve();
      stream.once("error", finish);
      if (end) stream.end(finish);
      else stream.write("", finish);
    });
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.buffer = "";
    this.onError(error);
  }
}
