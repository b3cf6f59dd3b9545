import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { setTimeout as sleep } from "node:timers/promises";
import type { Producer } from "@platformatic/kafka";
import type { Acks, Compression } from "../config/kafka-options.ts";
import { NO_PRODUCER, type BatchIdentity, type RecordBatchBuilder } from "./record-batch.ts";
import { pickProduceVersion, sendProduce, type PartitionPayload } from "./produce-request.ts";
import { describeKafkaFailure } from "./errors.ts";
import { DeliveryError, type BrokerErrorEvent, type PartitionBatch, type RecordSender } from "./sender.ts";

export { DeliveryError, type BrokerErrorEvent, type PartitionBatch, type RecordSender } from "./sender.ts";

/** The name an error goes by in metrics: Kafka's error id, else the connection's code. */
function errorName(error: unknown): string {
  const failure = describeKafkaFailure(error);
  return failure.apiIds[0] ?? failure.code ?? (failure.kind === "connect" ? "NETWORK" : "OTHER");
}

class ProducerClosedError extends Error {
  constructor() {
    super("the producer was closed");
    this.name = "ProducerClosedError";
  }
}

export interface BatchProducerOptions {
  readonly acks: Acks;
  readonly idempotent: boolean;
  readonly compression: Compression;
  /** Carried in produce requests: how long the leader may wait for the in-sync replicas. */
  readonly requestTimeoutMs: number;
}

/** @platformatic/kafka publishes failed connection attempts here (node:diagnostics_channel). */
const CONNECT_ERRORS = "tracing:plt:kafka:connections:connects:error";

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1_000;
const INT32_MAX = 2 ** 31 - 1;

/** Kafka's DefaultRecordBatch.incrementSequence: sequence numbers wrap to 0 after Integer.MAX_VALUE. */
function nextSequence(sequence: number, increment: number): number {
  return sequence > INT32_MAX - increment ? increment - (INT32_MAX - sequence) - 1 : sequence + increment;
}

/**
 * An idempotent producer for batches wfsim encoded itself, on @platformatic/kafka's connections,
 * metadata, InitProducerId and response parsers.
 *
 * Each batch gets its producer id, epoch and base sequence once, when first sent, and keeps them
 * through every retry: after a lost answer, a broker restart or a leader change the broker either
 * writes the batch or recognises it as one it already has, so nothing is lost or written twice.
 * The sink never has more than one batch of a partition in flight, so the order within a partition
 * is the order of the sink's writes. Answers that retrying cannot fix (OUT_OF_ORDER_SEQUENCE_NUMBER,
 * INVALID_TIMESTAMP, an authorization error, ...) reject with a DeliveryError; the sink's own timer
 * bounds the retrying. UNKNOWN_PRODUCER_ID (the broker forgot this producer, e.g. after retention
 * removed all its records) means the batch was not written: it is sent again under a new producer id.
 */
export class BatchProducer implements RecordSender {
  private readonly client: Producer<Buffer, Buffer, Buffer, Buffer>;
  private readonly options: BatchProducerOptions;
  private version = 0;
  private identity: { producerId: bigint; producerEpoch: number } | undefined;
  private readonly sequences = new Map<string, number>();
  private lastError: unknown;
  private closed = false;
  onBrokerError: ((error: BrokerErrorEvent) => void) | undefined;
  /** The broker forgot our producer id; a new one is needed before the next try. */
  private producerIdLost = false;
  private readonly onConnectError = (message: unknown): void => {
    const { connection, error } = message as { connection?: { ownerId?: number }; error?: unknown };
    if (connection?.ownerId === this.client.instanceId) this.lastError = error;
  };

  constructor(client: Producer<Buffer, Buffer, Buffer, Buffer>, options: BatchProducerOptions) {
    this.client = client;
    this.options = options;
    subscribe(CONNECT_ERRORS, this.onConnectError);
  }

  get lastConnectionError(): unknown {
    return this.lastError;
  }

  /** Negotiates the Produce version, loads the topics' metadata and gets a producer id. */
  async start(topics: readonly string[]): Promise<void> {
    const apis = await this.client.listApis();
    const produce = apis.find((api) => api.name === "Produce");
    const version = produce === undefined ? undefined : pickProduceVersion(produce.minVersion, produce.maxVersion);
    if (version === undefined) {
      throw new Error(`the broker offers Produce v${produce?.minVersion}..v${produce?.maxVersion}, wfsim speaks v3..v11`);
    }
    this.version = version;
    await this.client.metadata({ topics: [...topics] });
    if (this.options.idempotent) await this.newProducerId();
  }

  async send(batches: readonly PartitionBatch[], acknowledged: (batch: PartitionBatch) => void): Promise<void> {
    const pending = new Map<PartitionBatch, Buffer>();
    for (const batch of batches) pending.set(batch, batch.builder.finish(this.assign(batch), this.options.compression));
    const topics = [...new Set(batches.map((batch) => batch.topic))];
    let refresh = false;
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new ProducerClosedError();
      const unknownProducer: PartitionBatch[] = [];
      // A refusal is reported after every answer is read, so that batches written alongside count.
      let refused: DeliveryError | undefined;
      try {
        if (this.producerIdLost) {
          await this.newProducerId();
          for (const [batch, bytes] of pending) {
            if (bytes.length === 0) pending.set(batch, batch.builder.finish(this.assign(batch), this.options.compression));
          }
        }
        const metadata = await this.client.metadata({ topics, forceUpdate: refresh });
        refresh = false;
        const byLeader = new Map<number, PartitionBatch[]>();
        for (const batch of pending.keys()) {
          const leader = metadata.topics.get(batch.topic)?.partitions[batch.partition]?.leader ?? -1;
          if (leader < 0 || !metadata.brokers.has(leader)) {
            refresh = true; // no leader right now (an election, a restarting broker)
            continue;
          }
          const list = byLeader.get(leader);
          if (list === undefined) byLeader.set(leader, [batch]);
          else list.push(batch);
        }
        const told = (leader: number, error: string, batches: number, retried: boolean) => {
          if (this.onBrokerError === undefined) return;
          const broker = metadata.brokers.get(leader);
          this.onBrokerError({ nodeId: leader, address: broker === undefined ? "" : `${broker.host}:${broker.port}`, error, batches, retried });
        };
        const requests = [...byLeader].map(async ([leader, list]) => {
          const connection = await this.client.connections.get(metadata.brokers.get(leader)!).catch((error: unknown) => {
            told(leader, errorName(error), list.length, true);
            throw error;
          });
          const payloads: PartitionPayload[] = list.map((batch) => ({ topic: batch.topic, partition: batch.partition, batch: pending.get(batch)! }));
          const outcome = await sendProduce(connection, this.version, this.options.acks, this.options.requestTimeoutMs, payloads);
          if (!outcome.answered) {
            told(leader, errorName(outcome.error), list.length, true);
            this.lastError = outcome.error;
            refresh = true;
            return;
          }
          for (const answer of outcome.partitions) {
            const batch = list.find((b) => b.topic === answer.topic && b.partition === answer.partition);
            if (batch === undefined) continue;
            // DUPLICATE_SEQUENCE_NUMBER: the broker has this batch already (an earlier try was written).
            if (answer.errorCode === 0 || answer.errorId === "DUPLICATE_SEQUENCE_NUMBER") {
              if (pending.delete(batch)) acknowledged(batch);
            } else if (answer.errorId === "UNKNOWN_PRODUCER_ID" && this.options.idempotent) {
              told(leader, answer.errorId, 1, true);
              unknownProducer.push(batch);
            } else if (answer.retriable) {
              told(leader, answer.errorId, 1, true);
              this.lastError = new DeliveryError(answer);
              refresh = true;
            } else {
              told(leader, answer.errorId, 1, false);
              refused ??= new DeliveryError(answer);
            }
          }
        });
        // Every request settles before anything is retried: no batch is ever in flight twice.
        for (const settled of await Promise.allSettled(requests)) {
          if (settled.status === "rejected") {
            this.lastError = settled.reason;
            refresh = true;
          }
        }
      } catch (error) {
        // Metadata or connection trouble: the broker may come back.
        this.onBrokerError?.({ nodeId: -1, address: "", error: errorName(error), batches: pending.size, retried: true });
        this.lastError = error;
        refresh = true;
      }
      if (refused !== undefined) throw refused;
      if (pending.size === 0) return;
      if (unknownProducer.length > 0) {
        // These batches were not written. Sequences start again from 0 under a new producer id;
        // a batch whose fate is unknown (no answer) keeps the old one, so the broker can still
        // recognise it if it was written.
        try {
          await this.newProducerId();
          for (const batch of unknownProducer) pending.set(batch, batch.builder.finish(this.assign(batch), this.options.compression));
        } catch (error) {
          this.lastError = error;
          this.producerIdLost = true;
          for (const batch of unknownProducer) pending.set(batch, Buffer.alloc(0));
        }
      }
      await sleep(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    unsubscribe(CONNECT_ERRORS, this.onConnectError);
    await this.client.close(true);
  }

  /** The batch's producer id, epoch and first sequence number. */
  private assign(batch: PartitionBatch): BatchIdentity {
    if (this.identity === undefined) return NO_PRODUCER;
    const key = `${batch.topic}\u0000${batch.partition}`;
    const baseSequence = this.sequences.get(key) ?? 0;
    this.sequences.set(key, nextSequence(baseSequence, batch.builder.records));
    return { ...this.identity, baseSequence };
  }

  private async newProducerId(): Promise<void> {
    const info = await this.client.initIdempotentProducer({});
    this.identity = { producerId: info.producerId, producerEpoch: info.producerEpoch };
    this.sequences.clear();
    this.producerIdLost = false;
  }
}
