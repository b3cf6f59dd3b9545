/**
 * What a KafkaSink needs of a producer, apart from the producer itself: these types are part of
 * wfsim's public declarations, so they import nothing from the Kafka client (whose own declarations
 * do not compile in a strict project without skipLibCheck).
 */
import type { RecordBatchBuilder } from "./record-batch.ts";

/** What the broker said about one partition of a request. */
export interface PartitionAnswer {
  readonly topic: string;
  readonly partition: number;
  /** 0: written. */
  readonly errorCode: number;
  /** Kafka's name for errorCode, e.g. NOT_LEADER_OR_FOLLOWER. */
  readonly errorId: string;
  readonly errorMessage: string | null;
  /** Whether Kafka says the error may go away (a new leader, replicas catching up). */
  readonly retriable: boolean;
}

/** One partition's batch of records, as the sink hands it over. */
export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  readonly builder: RecordBatchBuilder;
}

/** Where a KafkaSink hands its batches: the Kafka producer, or a stand-in in tests. */
export interface RecordSender {
  /**
   * Resolves once Kafka acknowledged every batch (as acks asks; with acks=0, once written to the
   * socket), retrying what can be retried, and calls `acknowledged` for each batch as it is. Rejects
   * with a DeliveryError when a batch cannot be delivered (the others may have been). The sink sends
   * one call's batches at a time, at most one batch per partition.
   */
  send(batches: readonly PartitionBatch[], acknowledged: (batch: PartitionBatch) => void): Promise<void>;
  /** The last error a connection of this producer met, to say why a batch is not acknowledged. */
  readonly lastConnectionError: unknown;
  /** Told of every error a broker's answer or connection brought (for metrics); unset, nothing is told. */
  onBrokerError?: ((error: BrokerErrorEvent) => void) | undefined;
  /** Stops retrying and closes the connections. */
  close(): Promise<void>;
}

/** A batch a broker did not take: the error, and whether the batch is sent again. */
export interface BrokerErrorEvent {
  /** The broker's node id; -1 when the error came before a broker was picked (metadata, bootstrap). */
  readonly nodeId: number;
  /** host:port of that broker; "" when none was picked. */
  readonly address: string;
  /** Kafka's error name (NOT_ENOUGH_REPLICAS), or the connection's (ECONNREFUSED, TIMEOUT, NETWORK). */
  readonly error: string;
  /** Batches it concerned. */
  readonly batches: number;
  /** The batches are sent again (false: the error ends delivery). */
  readonly retried: boolean;
}

/** Kafka refused a batch for good (the answer's error id is in `apiId`, as the client's errors have it). */
export class DeliveryError extends Error {
  readonly apiId: string;
  readonly serverErrorMessage: string | null;
  constructor(answer: PartitionAnswer) {
    super(`${answer.topic}-${answer.partition}: ${answer.errorId}`);
    this.name = "DeliveryError";
    this.apiId = answer.errorId;
    this.serverErrorMessage = answer.errorMessage;
  }
}
