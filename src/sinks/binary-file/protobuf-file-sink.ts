/**
 * `wfsim run --format protobuf --output FILE`: length-delimited Protobuf messages, each a `Record`
 * (a oneof of the event types, or of a scenario's record types) preceded by its length as a varint:
 * what Java's parseDelimitedFrom, protobufjs's decodeDelimited and Go's protodelim read. The .proto
 * is `wfsim schema --format protobuf [--scenario FILE]`.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import type { EventSink } from "../../engine/simulation.ts";
import type { WfEvent } from "../../events/schema.ts";

/** The messages each event gives: the Record's field number for the message's type, and the message's bytes. */
export interface ProtobufFileRecords {
  records(event: WfEvent, emit: (field: number, message: Uint8Array) => void): void;
}

/** Bytes gathered before they are handed to the file. */
const CHUNK_BYTES = 64 * 1024;

function varint(value: number, out: number[]): void {
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

export class ProtobufFileSink implements EventSink {
  private readonly out: WriteStream;
  private readonly source: ProtobufFileRecords;
  private parts: Uint8Array[] = [];
  private bytes = 0;
  private full = false;
  private failure: Error | undefined;
  private readonly emit = (field: number, message: Uint8Array) => {
    // Record { oneof: field `field`, length-delimited } inside its own length prefix.
    const inner: number[] = [];
    varint((field << 3) | 2, inner);
    varint(message.length, inner);
    const prefix: number[] = [];
    varint(inner.length + message.length, prefix);
    const head = Buffer.from([...prefix, ...inner]);
    this.parts.push(head, message);
    this.bytes += head.length + message.length;
    if (this.bytes >= CHUNK_BYTES) this.flush();
  };

  constructor(fd: number, source: ProtobufFileRecords, { closeAtEnd, onError }: { readonly closeAtEnd: boolean; readonly onError?: (error: Error) => void }) {
    this.source = source;
    this.out = createWriteStream("", { fd, autoClose: closeAtEnd });
    this.out.on("error", (error) => {
      if (this.failure !== undefined) return;
      this.failure = error;
      onError?.(error);
    });
  }

  write(event: WfEvent): void {
    if (this.failure === undefined) this.source.records(event, this.emit);
  }

  get backpressured(): boolean {
    return this.full && this.failure === undefined;
  }

  async drain(): Promise<void> {
    if (!this.full) return;
    if (this.out.writableNeedDrain) await once(this.out, "drain");
    this.full = false;
  }

  flush(): void {
    if (this.bytes === 0 || this.failure !== undefined) return;
    const chunk = Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    if (!this.out.write(chunk)) this.full = true;
  }

  async close(): Promise<void> {
    this.flush();
    this.out.end();
    await finished(this.out).catch(() => undefined);
  }
}
