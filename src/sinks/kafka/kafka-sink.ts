import type { KafkaTopics } from "../../config/kafka-options.ts";
import type { EventSink } from "../../engine/simulation.ts";
import type { WfEvent } from "../../events/schema.ts";
import { DeliveryLedger, type DeliveryReport } from "./delivery.ts";
import { describeKafkaFailure, type KafkaFailure } from "../../kafka/errors.ts";
import type { BrokerErrorEvent, PartitionBatch, RecordSender } from "../../kafka/sender.ts";
import { BufferPool } from "../../kafka/buffer-pool.ts";
import { RecordBatchBuilder } from "../../kafka/record-batch.ts";
import { EventRecords, type KafkaRecordMapper } from "./records.ts";

export interface KafkaSinkSettings {
  /** wfsim's two topics, for its own events; not needed with `records`. */
  readonly topics?: KafkaTopics;
  /**
   * Partition count of each topic: a record's partition is its key's hash modulo this. For wfsim's
   * events by topic; with `records`, one per `records.topics`, in order.
   */
  readonly partitions: { readonly transactions: number; readonly steps: number } | readonly number[];
  /** How events become records (a shaped output's); default wfsim's events on `topics`. */
  readonly records?: KafkaRecordMapper;
  /** A request not acknowledged this long after it was sent (retries included) fails the sink. */
  readonly deliveryTimeoutMs: number;
  /** Most bytes per partition batch: below Kafka's default max.message.bytes (1 MiB). */
  readonly maxBatchBytes?: number;
  /** Most bytes per produce request. */
  readonly maxRequestBytes?: number;
  /** Bytes waiting to be sent above which the engine is asked to wait. */
  readonly highWaterBytes?: number;
  /** Called once when delivery fails; every event given after that is counted as undelivered. */
  readonly onFailure?: (failure: KafkaFailure) => void;
}

export const KAFKA_SINK_DEFAULTS = {
  maxBatchBytes: 512 * 1024,
  maxRequestBytes: 8 * 1024 * 1024,
  highWaterBytes: 16 * 1024 * 1024,
} as const;

/** A partition batch that is filling or waiting to be sent. */
interface Slot extends PartitionBatch {
  readonly topicIndex: number;
}

/**
 * Events to Kafka as records: by default transaction events to one topic, step events to the other,
 * keyed by txn_id; with a record mapper (a shaped output), whatever records it makes, on any number
 * of topics. Each record is encoded into its partition's batch as the event is written.
 *
 * One produce request is in flight at a time, with at most one batch per partition; the idempotent
 * producer keeps each partition's records in write order, without duplicates, whatever the retries
 * (see BatchProducer). While a request is in flight, events fill the partitions' next batches; when
 * it is acknowledged the full ones leave, and all of them after a flush() (the engine flushes before
 * it sleeps on the real clock, so events leave within a round trip).
 *
 * Memory is bounded: past highWaterBytes of records waiting, `backpressured` asks the engine to
 * wait, so a virtual-clock run goes at the broker's pace. A request not acknowledged within
 * deliveryTimeoutMs, or refused for good, fails the sink: what was not acknowledged is counted, the
 * reason kept, and `onFailure` called so that the run can stop.
 */
export class KafkaSink implements EventSink {
  private readonly sender: RecordSender;
  private readonly settings: KafkaSinkSettings;
  private readonly records: KafkaRecordMapper;
  private readonly pool: BufferPool;
  private readonly ledger: DeliveryLedger;
  private readonly maxBatchBytes: number;
  private readonly maxRequestBytes: number;
  private readonly highWater: number;
  private readonly topicNames: readonly string[];
  private readonly partitionCounts: readonly number[];
  /** Per topic and partition, the batches waiting, oldest first; the last one may still be filling. */
  private readonly queues: Slot[][][];
  /** Batches that are full: a request is worth sending. */
  private fullBatches = 0;
  private pendingBytes = 0;
  private pendingRecords = 0;
  private inFlight: readonly Slot[] | undefined;
  /** Batches of the request in flight that Kafka has acknowledged already. */
  private readonly acked = new Set<PartitionBatch>();
  private inFlightBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Everything written before the last flush() leaves with the next request. */
  private flushWanted = false;
  private closing = false;
  private closed: Promise<DeliveryReport> | undefined;
  /**
   * Keys of records that will never be acknowledged: gathered from the batches held when delivery
   * failed, and from records given after that (or after close). Undefined while nothing is lost.
   */
  private lostKeys: Set<string> | undefined;
  private drainWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  /** performance.now() when the request in flight was sent. */
  private sentAt = 0;
  /**
   * Told of each produce request Kafka acknowledged: how long it took from send (real ms, retries
   * included) and its records. Set by a metrics endpoint; unset, nothing is measured.
   */
  onAcknowledged: ((ms: number, records: number) => void) | undefined;

  /** Told of each error a broker's answer or connection brought, retried or not (metrics per broker). */
  set onBrokerError(listener: ((error: BrokerErrorEvent) => void) | undefined) {
    this.sender.onBrokerError = listener;
  }

  get onBrokerError(): ((error: BrokerErrorEvent) => void) | undefined {
    return this.sender.onBrokerError;
  }

  constructor(sender: RecordSender, settings: KafkaSinkSettings) {
    this.sender = sender;
    this.settings = settings;
    if (settings.records === undefined && settings.topics === undefined) throw new TypeError("a KafkaSink needs topics or records");
    this.records = settings.records ?? new EventRecords(settings.topics!);
    this.topicNames = this.records.topics;
    const partitions = settings.partitions;
    const counts = "transactions" in partitions ? [partitions.transactions, partitions.steps] : partitions;
    if (counts.length !== this.topicNames.length) throw new TypeError(`${this.topicNames.length} topics and ${counts.length} partition counts`);
    this.partitionCounts = counts.map((count) => Math.max(1, count));
    this.queues = this.partitionCounts.map((count) => Array.from({ length: count }, () => []));
    this.ledger = new DeliveryLedger(this.topicNames);
    this.maxBatchBytes = settings.maxBatchBytes ?? KAFKA_SINK_DEFAULTS.maxBatchBytes;
    this.maxRequestBytes = Math.max(this.maxBatchBytes, settings.maxRequestBytes ?? KAFKA_SINK_DEFAULTS.maxRequestBytes);
    this.highWater = settings.highWaterBytes ?? KAFKA_SINK_DEFAULTS.highWaterBytes;
    // Enough for what may wait plus a request in flight, at twice the bytes for growth's slack.
    this.pool = new BufferPool(2 * (this.highWater + this.maxRequestBytes));
  }

  get backpressured(): boolean {
    return this.pendingBytes >= this.highWater && this.ledger.failure === undefined;
  }

  /** Why delivery failed, if it did. */
  get failure(): KafkaFailure | undefined {
    return this.ledger.failure;
  }

  /** Records and bytes held: waiting to be sent, and in the request in flight. */
  /**
   * The request Kafka has not acknowledged yet, if one is out: since when it was sent
   * (performance.now(), retries included), the records waiting (its own and those behind it), and the
   * last connection error the retries met, in words; undefined when nothing is out.
   */
  get waiting(): { readonly sinceMs: number; readonly records: number; readonly lastError: string | undefined } | undefined {
    if (this.inFlight === undefined) return undefined;
    const last = this.sender.lastConnectionError;
    return { sinceMs: this.sentAt, records: this.buffered.records, lastError: last === undefined ? undefined : describeKafkaFailure(last).reason };
  }

  get buffered(): { readonly records: number; readonly bytes: number } {
    let inFlightRecords = 0;
    for (const slot of this.inFlight ?? []) inFlightRecords += slot.builder.records;
    return { records: this.pendingRecords + inFlightRecords, bytes: this.pendingBytes + this.inFlightBytes };
  }

  /**
   * The keys (for wfsim's events: the transaction ids) of the records given to the sink that Kafka
   * has not acknowledged: after a failure, those it will never acknowledge; before, those waiting
   * and in the request out (what a forced exit loses). Worked out from the batches held when asked,
   * so that delivery itself keeps no list. A key may also have records that were delivered.
   */
  undeliveredKeys(): Set<string> {
    const keys = new Set(this.lostKeys);
    if (this.ledger.failure === undefined) this.gatherKeys(keys);
    return keys;
  }

  /** Adds the keys of the records held: the request out (its batches not acknowledged) and those waiting. */
  private gatherKeys(keys: Set<string>): void {
    const add = (key: Buffer) => keys.add(key.toString("utf8"));
    for (const slot of this.inFlight ?? []) if (!this.acked.has(slot)) slot.builder.forEachKey(add);
    for (const topicQueues of this.queues) for (const queue of topicQueues) for (const slot of queue) slot.builder.forEachKey(add);
  }

  /** Delivery so far. */
  report(): DeliveryReport {
    return this.ledger.report();
  }

  write(event: WfEvent): void {
    const records = this.records;
    const count = records.prepare(event);
    if (this.ledger.failure !== undefined || this.closed !== undefined) {
      this.ledger.notDelivered(count);
      const lost = (this.lostKeys ??= new Set());
      for (let i = 0; i < count; i++) {
        records.select(i);
        lost.add(records.keyBytes?.toString("utf8") ?? event.txn_id);
      }
      return;
    }
    for (let i = 0; i < count; i++) this.add(records.select(i));
  }

  /** A delivery fault's malformed record in `event`'s place, when the mapper can make one (wfsim's own events). */
  writeMalformed(event: WfEvent, text: string): void {
    const records = this.records;
    if (records.prepareMalformed === undefined) throw new TypeError("this Kafka output cannot write a malformed record");
    const count = records.prepareMalformed(event, text);
    if (this.ledger.failure !== undefined || this.closed !== undefined) {
      this.ledger.notDelivered(count);
      return;
    }
    for (let i = 0; i < count; i++) this.add(records.select(i));
  }

  /** Encodes the record the mapper has selected into its partition's batch. */
  private add(topicIndex: number): void {
    const records = this.records;
    const partition = records.hash % this.partitionCounts[topicIndex]!;
    const queue = this.queues[topicIndex]![partition]!;
    let slot = queue.at(-1);
    let before: number;
    if (slot === undefined || slot.builder.bytes + records.size > this.maxBatchBytes) {
      if (slot !== undefined) this.fullBatches++;
      slot = { topic: this.topicNames[topicIndex]!, topicIndex, partition, builder: new RecordBatchBuilder(this.pool) };
      queue.push(slot);
      before = 0; // the batch header counts too
    } else {
      before = slot.builder.bytes;
    }
    records.appendTo(slot.builder);
    this.pendingBytes += slot.builder.bytes - before;
    this.pendingRecords++;
    if (this.inFlight === undefined && (this.fullBatches > 0 || this.pendingBytes >= this.highWater)) this.sendNext();
  }

  flush(): void {
    if (this.pendingRecords === 0 || this.ledger.failure !== undefined) return;
    this.flushWanted = true;
    if (this.inFlight === undefined) this.sendNext();
  }

  drain(): Promise<void> {
    if (!this.backpressured) return Promise.resolve();
    if (this.inFlight === undefined) this.sendNext();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Sends everything written so far and waits for Kafka to acknowledge it (each request bounded by
   * deliveryTimeoutMs), then closes the producer. Later writes count as undelivered.
   */
  close(): Promise<DeliveryReport> {
    this.closed ??= this.finish();
    return this.closed;
  }

  private async finish(): Promise<DeliveryReport> {
    this.closing = true;
    if (this.inFlight === undefined && this.ledger.failure === undefined) this.sendNext();
    while ((this.inFlight !== undefined || this.pendingRecords > 0) && this.ledger.failure === undefined) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    await this.sender.close().catch(() => {});
    return this.ledger.report();
  }

  /**
   * Sends the oldest batch of each partition: full ones always, filling ones too after a flush, at
   * close, or under backpressure; up to maxRequestBytes.
   */
  private sendNext(): void {
    const takeFilling = this.flushWanted || this.closing || this.pendingBytes >= this.highWater;
    const request: Slot[] = [];
    let bytes = 0;
    let left = false;
    for (const topicQueues of this.queues) {
      for (const queue of topicQueues) {
        const slot = queue[0];
        if (slot === undefined || (queue.length === 1 && !takeFilling)) continue;
        if (bytes + slot.builder.bytes > this.maxRequestBytes && request.length > 0) {
          left = true;
          continue;
        }
        queue.shift();
        if (queue.length > 0) {
          this.fullBatches--; // it was full: a newer batch had started behind it
          left = true;
        }
        request.push(slot);
        bytes += slot.builder.bytes;
      }
    }
    if (request.length === 0) return;
    // A flush is done once no batch written before it is left behind.
    if (takeFilling && !left) this.flushWanted = false;
    for (const slot of request) {
      this.pendingRecords -= slot.builder.records;
      this.pendingBytes -= slot.builder.bytes;
    }
    this.inFlight = request;
    this.inFlightBytes = bytes;
    this.sentAt = performance.now();
    this.timer = setTimeout(() => this.fail(this.timeoutFailure(), request), this.settings.deliveryTimeoutMs);
    this.acked.clear();
    this.sender.send(request, (batch) => this.batchAcknowledged(request, batch)).then(
      () => this.acknowledged(request),
      (error: unknown) => this.fail(describeKafkaFailure(error), request),
    );
    this.wake();
  }

  private batchAcknowledged(request: readonly Slot[], batch: PartitionBatch): void {
    if (this.inFlight !== request || this.acked.has(batch)) return; // timed out: counted as undelivered
    this.acked.add(batch);
    this.ledger.acknowledged(batch.topic, batch.builder.records);
  }

  private acknowledged(request: readonly Slot[]): void {
    if (this.inFlight !== request) return; // it had timed out: already counted as undelivered
    clearTimeout(this.timer);
    for (const slot of request) this.batchAcknowledged(request, slot);
    if (this.onAcknowledged !== undefined) {
      let records = 0;
      for (const slot of request) records += slot.builder.records;
      this.onAcknowledged(performance.now() - this.sentAt, records);
    }
    for (const slot of request) slot.builder.release();
    this.inFlight = undefined;
    this.inFlightBytes = 0;
    if (this.pendingRecords > 0 && (this.fullBatches > 0 || this.flushWanted || this.closing || this.pendingBytes >= this.highWater)) {
      this.sendNext();
    }
    this.wake();
  }

  private fail(failure: KafkaFailure, request: readonly Slot[]): void {
    if (this.inFlight !== request || this.ledger.failure !== undefined) return;
    clearTimeout(this.timer);
    this.gatherKeys((this.lostKeys ??= new Set()));
    this.inFlight = undefined;
    this.inFlightBytes = 0;
    let lost = this.pendingRecords;
    for (const slot of request) if (!this.acked.has(slot)) lost += slot.builder.records;
    this.ledger.notDelivered(lost, failure);
    for (const topicQueues of this.queues) for (const queue of topicQueues) queue.length = 0;
    this.fullBatches = 0;
    this.pendingBytes = 0;
    this.pendingRecords = 0;
    this.wake();
    this.settings.onFailure?.(failure);
  }

  private timeoutFailure(): KafkaFailure {
    const seconds = this.settings.deliveryTimeoutMs / 1000;
    const last = this.sender.lastConnectionError;
    const cause = last === undefined ? "" : ` (last error: ${describeKafkaFailure(last).reason})`;
    return { kind: "connect", reason: `no acknowledgement within ${seconds} s${cause}`, retriable: false, apiIds: [] };
  }

  private wake(): void {
    const failed = this.ledger.failure !== undefined;
    if (failed || this.pendingBytes < this.highWater / 2) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (failed || (this.inFlight === undefined && this.pendingRecords === 0)) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
