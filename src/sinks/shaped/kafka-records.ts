/**
 * A shaped output's records for the KafkaSink: for each record an event's moment produces, its topic
 * (one of the shape's), its key (its text's UTF-8 bytes, worked out once per transaction, with
 * Kafka's murmur2 hash), its value (the same JSON text as the JSON Lines, by the same compiled
 * serializer), its headers and its timestamp (the event time). With a Schema Registry, the value is
 * that JSON in the registry's wire format instead (registry-values.ts).
 */
import type { Emission, TxnContext } from "../../engine/shape/shaper.ts";
import type { WfEvent } from "../../events/schema.ts";
import { keyHash } from "../../kafka/partition.ts";
import { encodeHeaders, type RecordBatchBuilder } from "../../kafka/record-batch.ts";
import type { KafkaRecordMapper } from "../kafka/records.ts";
import type { KeyEncoder } from "../kafka/registry/avro-keys.ts";
import type { EmissionPlan, ShapedPlans } from "./plans.ts";
import type { ShapedValueEncoder } from "./registry-values.ts";

interface Key {
  readonly bytes: Buffer;
  readonly hash: number;
  /** Its encodings by topic index (--key-format avro), made once per transaction. */
  wire?: (Buffer | undefined)[];
}

export class ShapedKafkaRecords implements KafkaRecordMapper {
  readonly topics: readonly string[];
  private readonly plans: ShapedPlans;
  /** Per emission, its headers encoded once when they are the same at every event, else undefined. */
  private readonly fixedHeaders: readonly (Buffer | undefined)[];
  private event: WfEvent | undefined;
  private emissions: readonly Emission[] = [];
  private context: TxnContext | undefined;
  private key: Key = { bytes: Buffer.alloc(0), hash: 0 };
  /** The key as the record carries it: the text's bytes, or with a key encoder (--key-format avro) its encoding. */
  private wireKey: Buffer = Buffer.alloc(0);
  private readonly keyEncoder: KeyEncoder | undefined;
  private value = "";
  private valueBytes = 0;
  private headers: Buffer = Buffer.alloc(0);
  private readonly values: ShapedValueEncoder | undefined;
  /** The value in the wire format, when there is a registry. */
  private valueBuffer: Buffer | undefined;
  /** A delivery fault's malformed value in place of the prepared record's (prepareMalformed), or undefined. */
  private malformed: string | undefined;

  constructor(plans: ShapedPlans, values?: ShapedValueEncoder, keyEncoder?: KeyEncoder) {
    this.plans = plans;
    this.values = values;
    this.keyEncoder = keyEncoder;
    this.topics = plans.shaper.shape.topics;
    this.fixedHeaders = plans.plans.map((plan) =>
      plan.headers.every((h) => h.constant !== undefined) ? encodeHeaders(plan.headers.map((h) => [h.name, h.constant!])) : undefined,
    );
  }

  prepare(event: WfEvent): number {
    this.malformed = undefined;
    this.event = event;
    this.emissions = this.plans.shaper.enter(event);
    this.context = this.plans.shaper.current;
    return this.emissions.length;
  }

  select(i: number): number {
    const emission = this.emissions[i]!;
    const shaper = this.plans.shaper;
    if (shaper.drawsPerRecord) shaper.beforeRecord(emission);
    const plan = this.plans.plans[emission.index]!;
    const event = this.event!;
    const context = this.context!;
    this.key = this.keyOf(plan, event, context);
    this.wireKey = this.keyEncoder === undefined ? this.key.bytes : ((this.key.wire ??= [])[plan.topicIndex] ??= this.keyEncoder.encode(plan.topicIndex, this.key.bytes));
    this.value = this.malformed ?? plan.serialize(event, context, this.plans.helpers);
    if (this.values === undefined || this.malformed !== undefined) this.valueBytes = Buffer.byteLength(this.value, "utf8");
    else {
      this.valueBuffer = this.values.encode(emission.index, this.value);
      this.valueBytes = this.valueBuffer.length;
    }
    this.headers = this.fixedHeaders[emission.index] ?? this.headersOf(plan, event, context);
    return plan.topicIndex;
  }

  /**
   * A delivery fault's malformed record: `text` as the value of the one record delivery faults have
   * pinned on the shaper (Shaper.pin), with its topic, key, headers and timestamp. Never in a
   * registry's wire format: a malformed record is what a consumer could not decode.
   */
  prepareMalformed(event: WfEvent, text: string): number {
    const count = this.prepare(event);
    this.malformed = text;
    return count;
  }

  private keyOf(plan: EmissionPlan, event: WfEvent, context: TxnContext): Key {
    const cache = context.writerCache;
    let key = cache[plan.keyIndex] as Key | undefined;
    if (key === undefined) {
      const bytes = Buffer.from(plan.key(event, context, this.plans.helpers), "utf8");
      key = { bytes, hash: keyHash(bytes) };
      cache[plan.keyIndex] = key;
    }
    return key;
  }

  private headersOf(plan: EmissionPlan, event: WfEvent, context: TxnContext): Buffer {
    return encodeHeaders(plan.headers.map((h) => [h.name, h.constant ?? h.render!(event, context, this.plans.helpers)]));
  }

  get hash(): number {
    return this.key.hash;
  }

  get keyBytes(): Buffer {
    return this.key.bytes;
  }

  get size(): number {
    return this.wireKey.length + this.valueBytes + this.headers.length + 16;
  }

  appendTo(batch: RecordBatchBuilder): void {
    if (this.values === undefined || this.malformed !== undefined) batch.append(this.wireKey, this.value, this.valueBytes, this.headers, this.event!.ts_ms);
    else batch.appendBytes(this.wireKey, this.valueBuffer!, this.headers, this.event!.ts_ms);
  }
}
