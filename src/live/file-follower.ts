/**
 * A file that grows, read like `tail -f`: what was appended since the last look, line by line, with
 * the line rules of the analyzer's `linesOf` (a byte order mark dropped, CRLF as LF, the last line
 * without a line break taken at the end), so that the lines are those `analyze --alerts FILE` reads.
 * A file that shrinks was truncated or replaced: it is read again from its start.
 */
import { open, type FileHandle } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { describeSystemError, WfsimError } from "../errors.ts";

const CHUNK = 256 * 1024;

export class FileFollower {
  readonly path: string;
  private readonly handle: FileHandle;
  private readonly buffer = Buffer.allocUnsafe(CHUNK);
  private decoder = new StringDecoder("utf8");
  private offset = 0;
  private rest = "";
  private first = true;
  private reading: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private onLine: (line: string) => void = () => {};

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.handle = handle;
  }

  /** Opens the file; one that cannot be read is the user's flag (`what` names it). */
  static async open(path: string, what: string): Promise<FileFollower> {
    try {
      const handle = await open(path, "r");
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        throw new WfsimError("FILE", `${what}: ${path} is not a regular file`);
      }
      return new FileFollower(path, handle);
    } catch (error) {
      if (error instanceof WfsimError) throw error;
      throw new WfsimError("FILE", `${what}: cannot read ${path}: ${describeSystemError(error)}`, { cause: error });
    }
  }

  /** Hands each complete line to `onLine`, looking for more every `everyMs` (the timer keeps no process alive). */
  follow(onLine: (line: string) => void, everyMs: number): void {
    this.onLine = onLine;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), everyMs);
    this.timer.unref();
  }

  /** Reads what was appended since the last look (one look at a time). */
  poll(): Promise<void> {
    this.reading = this.reading.then(() => this.readNew()).catch(() => {});
    return this.reading;
  }

  /** Reads to the end one last time, hands on a last line without a line break, and closes the file. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.poll();
    const last = this.rest + this.decoder.end();
    this.rest = "";
    if (last !== "") this.onLine(last);
    await this.handle.close();
  }

  private async readNew(): Promise<void> {
    const size = (await this.handle.stat()).size;
    if (size < this.offset) {
      this.offset = 0;
      this.rest = "";
      this.decoder = new StringDecoder("utf8");
      this.first = true;
    }
    while (this.offset < size) {
      const { bytesRead } = await this.handle.read(this.buffer, 0, CHUNK, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      this.take(this.decoder.write(this.buffer.subarray(0, bytesRead)));
    }
  }

  private take(decoded: string): void {
    let text = this.rest + decoded;
    if (this.first && text !== "") {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.first = false;
    }
    let from = 0;
    for (let newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n", from)) {
      this.onLine(text.charCodeAt(newline - 1) === 13 ? text.slice(from, newline - 1) : text.slice(from, newline));
      from = newline + 1;
    }
    this.rest = text.slice(from);
  }
}
