/**
 * What a Fetch answer holds for each partition, apart from the request that fetched it: readers of
 * fetched records (records.ts) and the library's declarations that reach them name no type of the
 * Kafka client this way (a strict consumer compiling without skipLibCheck would check the client's
 * own declarations otherwise).
 */
import type { AbortedTransaction } from "./batch-decoder.ts";

export interface FetchedPartition {
  /** The topic's name (v12) or id (v13 and later), as the request named it. */
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly highWatermark: number;
  /** -1 when the broker does not say. */
  readonly lastStableOffset: number;
  readonly logStartOffset: number;
  /** Transactions aborted in the fetched range (read committed): their records are not to be read. */
  readonly aborted: readonly AbortedTransaction[] | null;
  /** The record batches as they came (the last one may be cut short), or null. */
  readonly records: Buffer | null;
  /** The pooled bytes `records` is a view of: released when they are read. */
  readonly backing: FetchedBytes | null;
}

/**
 * A buffer of FETCH_BUFFERS (fetch-answer.ts) that fetched records are views of, given back when
 * they are read.
 */
export interface FetchedBytes {
  release(): void;
}

export interface FetchAnswer {
  readonly errorCode: number;
  readonly partitions: readonly FetchedPartition[];
}
