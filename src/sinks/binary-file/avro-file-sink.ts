/**
 * `wfsim run --format avro --output FILE`: an Avro object container file (the schema in its header,
 * then blocks of records), written by avsc's own container encoder, so Avro's tools (avro-tools
 * tojson, fastavro, Spark, DuckDB's read_avro) read it as it is. The schema is a union of one record
 * per event type (wfsim's events, as on Kafka) or per record type (a scenario's output section), the
 * same records the Schema Registry gets.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import avro from "avsc";
import type { EventSink } from "../../engine/simulation.ts";
import type { WfEvent } from "../../events/schema.ts";

/** What goes into the file: its Avro schema, and the records each event gives (as avsc values). */
export interface AvroFileRecords {
  readonly schema: object;
  /** Calls `emit` with each record the event gives, wrapped in its union branch when the schema is a union. */
  records(event: WfEvent, emit: (value: unknown) => void): void;
}

export class AvroFileSink implements EventSink {
  private readonly encoder: avro.streams.BlockEncoder;
  private readonly out: WriteStream;
  private readonly source: AvroFileRecords;
  private full = false;
  private failure: Error | undefined;
  private readonly emit = (value: unknown) => {
    if (!this.encoder.write(value)) this.full = true;
  };

  constructor(fd: number, source: AvroFileRecords, { closeAtEnd, onError }: { readonly closeAtEnd: boolean; readonly onError?: (error: Error) => void }) {
    this.source = source;
    this.encoder = new avro.streams.BlockEncoder(avro.Type.forSchema(source.schema as avro.Schema), { codec: "null" });
    this.out = createWriteStream("", { fd, autoClose: closeAtEnd });
    const fail = (error: Error) => {
      if (this.failure !== undefined) return;
      this.failure = error;
      onError?.(error);
    };
    this.encoder.on("error", fail);
    this.out.on("error", fail);
    this.encoder.pipe(this.out);
  }

  write(event: WfEvent): void {
    if (this.failure === undefined) this.source.records(event, this.emit);
  }

  get backpressured(): boolean {
    return this.full && this.failure === undefined;
  }

  async drain(): Promise<void> {
    if (!this.full) return;
    if (this.encoder.writableNeedDrain) await once(this.encoder, "drain");
    this.full = false;
  }

  /** Records leave in whole blocks (64 KiB): a block is written when full, and at the end. */
  flush(): void {}

  async close(): Promise<void> {
    this.encoder.end();
    await finished(this.out).catch(() => undefined);
  }
}
