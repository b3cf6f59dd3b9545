/**
 * Where events come from: anything that yields JSON Lines as byte chunks, in order, with chunk
 * boundaries anywhere. Files and stdin; a Kafka source (kafka/kafka-source.ts) yields each record's
 * value followed by a newline, and the analysis does not know the difference.
 */
import { open, type FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { describeSystemError, WfsimError } from "../../errors.ts";
import type { KafkaInputReport } from "../report.ts";

export interface EventSource {
  /** How the source is named in the report and in line references: a path, "stdin", Kafka topics. */
  readonly name: string;
  /** Names the place of line N otherwise than "name:N" (Kafka: a record's topic-partition and offset). */
  readonly locator?: LineLocator;
  /** The sources a merged source reads (read/merged-source.ts), listed in the report instead of its name. */
  readonly parts?: readonly string[];
  /** A Kafka source's account of what it read, for the report. */
  readonly kafka?: () => KafkaInputReport;
  /**
   * The bytes, chunk by chunk; a source that cannot be read throws a WfsimError (FILE). A chunk is
   * only valid until the next one is asked for: sources may reuse their buffers. When `signal`
   * aborts, a source that may wait for data (a pipe, later a topic) stops waiting and ends.
   */
  chunks(signal?: AbortSignal): AsyncIterable<Uint8Array>;
  /**
   * The same lines, where a source has them in place (Kafka: each record's value in the fetched
   * bytes), read instead of `chunks` by the analysis so that they are not copied. The same rules.
   */
  lines?(signal?: AbortSignal): AsyncIterable<LineRanges>;
}

/**
 * Lines as byte ranges: line i is the bytes [start[i], end[i]) of bytes[i], followed there by a
 * newline (bytes[i][end[i]] is 10), holding no other line feed or carriage return.
 */
export interface LineRanges {
  readonly count: number;
  readonly bytes: readonly Buffer[];
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** Bytes of the lines, newlines included. */
  readonly byteLength: number;
}

/** Where line N of a source is, for sources whose lines are not lines of a file. */
export interface LineLocator {
  sourceOf(line: number): string;
  lineOf(line: number): number;
}

/** Large reads: fewer system calls and fewer partial lines to carry over. */
const CHUNK_BYTES = 1 << 20;

/** A JSON Lines file, or stdin for "-". */
export function fileSource(path: string): EventSource {
  if (path === "-") return streamSource("stdin", () => process.stdin);
  return {
    name: path,
    async *chunks() {
      // One buffer, read into again and again: reading a 10 GB file allocates nothing per chunk.
      const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      let handle: FileHandle;
      try {
        handle = await open(path, "r");
      } catch (error) {
        throw new WfsimError("FILE", `${path}: cannot read (${describeSystemError(error)})`, { cause: error });
      }
      try {
        for (;;) {
          let bytesRead: number;
          try {
            ({ bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null));
          } catch (error) {
            throw new WfsimError("FILE", `${path}: cannot read (${describeSystemError(error)})`, { cause: error });
          }
          if (bytesRead === 0) return;
          yield buffer.subarray(0, bytesRead);
        }
      } finally {
        await handle.close();
      }
    },
  };
}

/** Any readable byte stream (a pipe, a socket, a test's stream). */
export function streamSource(name: string, stream: () => Readable | NodeJS.ReadableStream): EventSource {
  return {
    name,
    async *chunks(signal) {
      const readable = stream() as NodeJS.ReadableStream & AsyncIterable<Buffer | string>;
      const stop = () => (readable as Partial<Readable>).destroy?.();
      if (signal?.aborted) return;
      signal?.addEventListener("abort", stop, { once: true });
      try {
        for await (const chunk of readable) {
          if (signal?.aborted) return;
          yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        }
      } catch (error) {
        // Destroyed because the caller stopped: the end of this source, not a failure.
        if (signal?.aborted) return;
        throw error;
      } finally {
        signal?.removeEventListener("abort", stop);
      }
    },
  };
}

/** Text held in memory, e.g. a hand-made stream in a test. */
export function textSource(name: string, text: string | Uint8Array): EventSource {
  return {
    name,
    async *chunks() {
      yield typeof text === "string" ? Buffer.from(text) : text;
    },
  };
}

/**
 * Checks up front that every file can be opened for reading, so that a typo in the third file fails
 * at once, in one line, rather than after the first two were read.
 */
export async function checkReadable(path: string, what = "input"): Promise<void> {
  if (path === "-") return;
  try {
    const handle = await open(path, "r");
    try {
      if ((await handle.stat()).isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new WfsimError("FILE", `${what} ${path}: cannot read (${describeSystemError(error)})`, { cause: error });
  }
}
