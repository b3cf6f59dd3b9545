import type { Writable } from "node:stream";
import type { EventSink } from "../engine/simulation.ts";
import type { WfEvent } from "../events/schema.ts";
import { serializeEvent } from "../events/serialize.ts";

/** Lines are gathered into chunks of about this many characters before they are written. */
const CHUNK_CHARS = 64 * 1024;

/**
 * JSON Lines onto a byte stream (stdout, a file). Lines are batched into chunks; when the stream's
 * buffer is full the sink reports backpressure and the engine waits for 'drain', so a slow reader
 * never makes memory grow. Only whole lines are ever written.
 *
 * If the stream fails (a closed pipe, a full disk) the sink drops everything after, reports the error
 * once through `onError`, and never blocks the engine again.
 */
export class JsonlSink implements EventSink {
  private readonly stream: Writable;
  private readonly onError: (error: Error) => void;
  private buffer = "";
  private waitingForDrain = false;
  private failure: Error | undefined;
  private written = 0;

  constructor(stream: Writable, onError: (error: Error) => void = () => {}) {
    this.stream = stream;
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

  write(event: WfEvent): void {
    if (this.failure !== undefined) return;
    this.buffer += serializeEvent(event);
    this.written++;
    if (this.buffer.length >= CHUNK_CHARS) this.flush();
  }

  flush(): void {
    if (this.buffer === "" || this.failure !== undefined) return;
    const chunk = this.buffer;
    this.buffer = "";
    if (!this.stream.write(chunk)) this.waitingForDrain = true;
  }

  drain(): Promise<void> {
    if (!this.backpressured) return Promise.resolve();
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
