import { EVENT_TYPES, isTransactionEvent, type EventType, type WfEvent } from "../../events/schema.ts";
import { LineWriter } from "../fast-jsonl/line-writer.ts";
import { EVENT_TYPE_HEADER } from "../../kafka/layout.ts";
import { keyHash } from "../../kafka/partition.ts";
import { encodeHeaders, type RecordBatchBuilder } from "../../kafka/record-batch.ts";
import type { KafkaTopics } from "../../config/kafka-options.ts";

/**
 * How events become Kafka records: the KafkaSink's only view of what a record holds (its topic, key,
 * value, headers and timestamp). wfsim's own events make one record each (EventRecords); a shaped
 * output makes any number, to any of its topics (sinks/shaped/kafka-records.ts).
 */
export interface KafkaRecordMapper {
  /** The topics records go to; a record names its topic by its index here. */
  readonly topics: readonly string[];
  /** Prepares the records `event` makes and returns how many (0: the event makes none). */
  prepare(event: WfEvent): number;
  /** Selects the i-th record prepared (in order) and returns its topic's index; `hash`, `size` and `appendTo` then describe it. */
  select(i: number): number;
  /** The selected record's key hash (murmur2, positive): its partition is this modulo the partition count. */
  readonly hash: number;
  /** Bytes the selected record adds to a batch, about. */
  readonly size: number;
  appendTo(batch: RecordBatchBuilder): void;
  /**
   * The selected record's key, read only when a failed delivery lists what was lost; a mapper
   * without it keys its records by txn_id.
   */
  readonly keyBytes?: Buffer;
  /**
   * Prepares one record carrying `text` as its value in place of `event`'s (a delivery fault's
   * malformed record), with the key, headers and timestamp `event` would have had; returns 1.
   * Absent: this mapper cannot make one.
   */
  prepareMalformed?(event: WfEvent, text: string): number;
}

export { EVENT_TYPE_HEADER };

/** Lines longer than this get a view of their own (see EventRecords.valueView). */
const MAX_KEPT_VIEW = 4096;

/**
 * Keys kept at most. Transactions that never end (stuck ones, or a stream cut short) would otherwise
 * keep theirs forever; past this many the cache starts again, which costs one re-encoding per key.
 */
const KEY_CACHE_LIMIT = 1 << 16;

/** Each event type's encoded header list, built once. */
export const EVENT_HEADERS: ReadonlyMap<EventType, Buffer> = new Map(EVENT_TYPES.map((type) => [type, encodeHeaders([[EVENT_TYPE_HEADER, type]])]));

export interface TxnKey {
  readonly key: Buffer;
  readonly hash: number;
  /** The key's encodings by topic index (--key-format avro), made once per transaction by their user. */
  wire?: [Buffer | undefined, Buffer | undefined];
}

/**
 * Each open transaction's key (txn_id as UTF-8) and its hash, computed once and reused for its ~16
 * events; let go when the transaction ends, and bounded by KEY_CACHE_LIMIT whatever the stream.
 */
export class TxnKeys {
  private readonly keys = new Map<string, TxnKey>();

  /** The key of `event`'s transaction. */
  of(event: WfEvent): TxnKey {
    const id = event.txn_id;
    let key = this.keys.get(id);
    if (key === undefined) {
      const bytes = Buffer.from(id, "utf8");
      key = { key: bytes, hash: keyHash(bytes) };
      if (this.keys.size >= KEY_CACHE_LIMIT) this.keys.clear();
      this.keys.set(id, key);
    }
    // The transaction is over: its key will not be needed again.
    if (isTransactionEvent(event) && event.type !== "transaction_open") this.keys.delete(id);
    return key;
  }

  /** Keys held now. */
  get size(): number {
    return this.keys.size;
  }
}

/**
 * Turns events into records: key = txn_id (UTF-8), value = the JSON line without its newline (the
 * same bytes as the JSON Lines output), timestamp = ts_ms, the event_type header, the topic by kind.
 * A transaction's key bytes and hash are computed once and reused for its ~16 events. Each line is
 * formatted by the JSON Lines output's WebAssembly line writer, one event at a time, and copied
 * from there into its batch: no string per event (building, measuring and encoding those strings,
 * and collecting them, was half of the producer's time).
 */
export class EventRecords implements KafkaRecordMapper {
  readonly topics: readonly [string, string];
  private topicIndex: 0 | 1 = 0;
  private readonly keys = new TxnKeys();
  private key: Buffer = Buffer.alloc(0);
  private readonly lines = new LineWriter<WfEvent>(() => {});
  private readonly lineBytes = this.lines.lineBytes;
  /** A malformed record's value (a delivery fault), newline included; undefined: the line writer's line. */
  private malformed: string | undefined;
  private valueBytes = 0;
  private readonly views: Uint8Array[] = [];
  private headers: Buffer = Buffer.alloc(0);
  private timestamp = 0;
  private keyHash = 0;

  constructor(topics: KafkaTopics) {
    this.topics = [topics.transactions, topics.steps];
  }

  prepare(event: WfEvent): number {
    this.topicIndex = this.prepareEvent(event);
    return 1;
  }

  select(_i: number): number {
    return this.topicIndex;
  }

  /**
   * Prepares `event`'s record and says which topic it goes to: 0 the transactions topic, 1 the steps
   * topic. `hash` then holds the key's hash and appendTo() writes the record.
   */
  prepareEvent(event: WfEvent): 0 | 1 {
    const key = this.keys.of(event);
    this.key = key.key;
    this.malformed = undefined;
    this.valueBytes = this.lines.formatOne(event) - 1;
    this.headers = EVENT_HEADERS.get(event.type)!;
    this.timestamp = event.ts_ms;
    this.keyHash = key.hash;
    return isTransactionEvent(event) ? 0 : 1;
  }

  prepareMalformed(event: WfEvent, text: string): number {
    this.topicIndex = this.prepareEvent(event);
    this.malformed = `${text}\n`;
    this.valueBytes = Buffer.byteLength(this.malformed, "utf8") - 1;
    return 1;
  }

  /**
   * The formatted line's first `length` bytes, as a view kept for that length: a line is copied into
   * its batch by TypedArray.set, which costs less than Buffer.copy's call, and a view per length
   * (lines of a run have a few hundred lengths at most) spares making one per event.
   */
  private valueView(length: number): Uint8Array {
    if (length > MAX_KEPT_VIEW) return this.lineBytes.subarray(0, length);
    return (this.views[length] ??= this.lineBytes.subarray(0, length));
  }

  /** Keys held in the cache now (bounded, whatever the stream). */
  get cachedKeys(): number {
    return this.keys.size;
  }

  /** The prepared key's positive murmur2 hash: its partition is this modulo the partition count. */
  get hash(): number {
    return this.keyHash;
  }

  get keyBytes(): Buffer {
    return this.key;
  }

  /** Bytes the prepared record adds to a batch, about (for batch limits and memory accounting). */
  get size(): number {
    return this.key.length + this.valueBytes + this.headers.length + 16;
  }

  appendTo(batch: RecordBatchBuilder): void {
    if (this.malformed === undefined) batch.appendBytes(this.key, this.valueView(this.valueBytes), this.headers, this.timestamp);
    else batch.append(this.key, this.malformed, this.valueBytes, this.headers, this.timestamp);
  }
}
