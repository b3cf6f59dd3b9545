import type { KafkaTopics } from "../../../config/kafka-options.ts";
import { isTransactionEvent, type WfEvent } from "../../../events/schema.ts";
import type { RecordBatchBuilder } from "../../../kafka/record-batch.ts";
import { EVENT_HEADERS, TxnKeys, type KafkaRecordMapper, type TxnKey } from "../records.ts";
import type { KeyEncoder } from "./avro-keys.ts";
import type { ValueEncoder } from "./value-encoders.ts";

/**
 * wfsim's events as records whose values are in a Schema Registry's wire format: the same topics,
 * keys (txn_id as a UTF-8 string, so partitioning is the JSON output's), headers and timestamps as
 * EventRecords, only the value differs; with a key encoder (--key-format avro) the key too, its
 * hash (the partition) still the text's.
 */
export class RegistryEventRecords implements KafkaRecordMapper {
  readonly topics: readonly [string, string];
  private readonly encoders: readonly [ValueEncoder, ValueEncoder];
  private readonly keyEncoder: KeyEncoder | undefined;
  private readonly keys = new TxnKeys();
  private topicIndex: 0 | 1 = 0;
  private key: Buffer = Buffer.alloc(0);
  private value: Buffer = Buffer.alloc(0);
  private headers: Buffer = Buffer.alloc(0);
  private timestamp = 0;
  private keyHash = 0;

  constructor(topics: KafkaTopics, encoders: readonly [ValueEncoder, ValueEncoder], keyEncoder?: KeyEncoder) {
    this.topics = [topics.transactions, topics.steps];
    this.encoders = encoders;
    this.keyEncoder = keyEncoder;
  }

  prepare(event: WfEvent): number {
    const key = this.keys.of(event);
    this.topicIndex = isTransactionEvent(event) ? 0 : 1;
    this.key = this.keyEncoder === undefined ? key.key : this.wireKey(key);
    this.keyHash = key.hash;
    this.value = this.encoders[this.topicIndex].encode(event);
    this.headers = EVENT_HEADERS.get(event.type)!;
    this.timestamp = event.ts_ms;
    return 1;
  }

  /** The key's encoding for the prepared record's topic: made once per transaction and topic, as TxnKeys makes the text's bytes. */
  private wireKey(key: TxnKey): Buffer {
    return ((key.wire ??= [undefined, undefined])[this.topicIndex] ??= this.keyEncoder!.encode(this.topicIndex, key.key));
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
