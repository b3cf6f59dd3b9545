import type { Writable } from "node:stream";
import type { LabelSink } from "../engine/simulation.ts";
import { serializeTruth, type TruthRecord } from "../events/truth.ts";

const CHUNK_CHARS = 64 * 1024;

/**
 * Ground-truth records as JSON Lines onto a byte stream (the --truth file). Lines are batched; when
 * the stream's buffer is full the engine is asked to wait, as for events. A failing stream is
 * reported once through `error` and everything after is dropped.
 */
export class TruthSink implements LabelSink {
  private readonly stream: Writable;
  private buffer = "";
  private failure: Error | undefined;
  private lines = 0;

  constructor(stream: Writable) {
    this.stream = stream;
    stream.on("error", (error: Error) => {
      this.failure ??= error;
      this.buffer = "";
    });
  }

  get backpressured(): boolean {
    return this.stream.writableNeedDrain && this.failure === undefined;
  }

  get error(): Error | undefined {
    return this.failure;
  }

  /** Records written so far. */
  get written(): number {
    return this.lines;
  }

  write(record: TruthRecord): void {
    if (this.failure !== undefined) return;
    this.buffer += serializeTruth(record);
    this.lines++;
    if (this.buffer.length >= CHUNK_CHARS) this.flush();
  }

  flush(): void {
    if (this.buffer === "" || this.failure !== undefined) return;
    const chunk = this.buffer;
    this.buffer = "";
    this.stream.write(chunk);
  }

  drain(): Promise<void> {
    if (!this.backpressured) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off("drain", done);
        this.stream.off("error", done);
        resolve();
      };
      this.stream.on("drain", done);
      this.stream.on("error", done);
    });
  }

  /** Writes what is left, ends the stream and waits until it is on its way to the file. */
  async close(): Promise<void> {
    this.flush();
    if (this.failure !== undefined) return;
    await new Promise<void>((resolve) => {
      this.stream.once("error", () => resolve());
      this.stream.end(() => resolve());
    });
  }
}
