import type { KafkaTopics } from "../../../config/kafka-options.ts";
import { EVENT_TYPES, isTransactionEvent, type EventType, type WfEvent } from "../../../events/schema.ts";
import { EVENT_TYPE_HEADER } from "../../../kafka/layout.ts";
import { keyHash } from "../../../kafka/partition.ts";
import { encodeHeaders, type RecordBatchBuilder } from "../../../kafka/record-batch.ts";
import type { KafkaRecordMapper } from "../records.ts";
import type { ValueEncoder } from "./value-encoders.ts";

const KEY_CACHE_LIMIT = 1 << 16;
const HEADERS = new Map<EventType, Buffer>(EVENT_TYPES.map((type) => [type, encodeHeaders([[EVENT_TYPE_HEADER, type]])]));

/**
 * wfsim's events as records whose values are in a Schema Registry's wire format: the same topics,
 * keys (txn_id as a UTF-8 string, so partitioning is the JSON output's), headers and timestamps as
 * EventRecords, only the value differs.
 */
export class RegistryEventRecords implements KafkaRecordMapper {
  readonly topics: readonly [string, string];
  private readonly encoders: readonly [ValueEncoder, ValueEncoder];
  private readonly keys = new Map<string, { key: Buffer; hash: number }>();
  private topicIndex: 0 | 1 = 0;
  private key: Buffer = Buffer.alloc(0);
  private value: Buffer = Buffer.alloc(0);
  private headers: Buffer = Buffer.alloc(0);
  private timestamp = 0;
  private keyHash = 0;

  constructor(topics: KafkaTopics, encoders: readonly [ValueEncoder, ValueEncoder]) {
    this.topics = [topics.transactions, topics.steps];
    this.encoders = encoders;
  }

  prepare(event: WfEvent): number {
    const id = event.txn_id;
    let key = this.keys.get(id);
    if (key === undefined) {
      const bytes = Buffer.from(id, "utf8");
      key = { key: bytes, hash: keyHash(bytes) };
      if (this.keys.size >= KEY_CACHE_LIMIT) this.keys.clear();
      this.keys.set(id, key);
    }
    const transactional = isTransactionEvent(event);
    if (transactional && event.type !== "transaction_open") this.keys.delete(id);
    this.topicIndex = transactional ? 0 : 1;
    this.key = key.key;
    this.keyHash = key.hash;
    this.value = this.encoders[this.topicIndex].encode(event);
    this.headers = HEADERS.get(event.type)!;
    this.timestamp = event.ts_ms;
    return 1;
  }

  select(_i: number): number {
    return this.topicIndex;
  }

  get hash(): number {
    return this.keyHash;
  }

  get size(): number {
    return this.key.length + this.value.length + this.headers.length + 16;
  }

  appendTo(batch: RecordBatchBuilder): void {
    batch.appendBytes(this.key, this.value, this.headers, this.timestamp);
  }
}
