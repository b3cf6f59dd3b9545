/**
 * Produce requests built around record batches wfsim encoded itself, sent and answered through
 * @platformatic/kafka's connections and its own response parsers (its exported low-level API).
 */
import {
  produceV3,
  produceV4,
  produceV5,
  produceV6,
  produceV7,
  produceV8,
  produceV10,
  produceV11,
  protocolErrors,
  protocolErrorsCodesById,
  Writer,
  type Connection,
} from "@platformatic/kafka";
import type { PartitionAnswer } from "./sender.ts";

const PRODUCE_API_KEY = 0;

/** The Produce versions @platformatic/kafka can parse the answers of, newest first. */
const PARSERS = new Map<number, typeof produceV11.parseResponse>([
  [11, produceV11.parseResponse],
  [10, produceV10.parseResponse],
  [8, produceV8.parseResponse as typeof produceV11.parseResponse],
  [7, produceV7.parseResponse as typeof produceV11.parseResponse],
  [6, produceV6.parseResponse as typeof produceV11.parseResponse],
  [5, produceV5.parseResponse as typeof produceV11.parseResponse],
  [4, produceV4.parseResponse as typeof produceV11.parseResponse],
  [3, produceV3.parseResponse as typeof produceV11.parseResponse],
]);

/** The newest Produce version both the broker and wfsim speak, or undefined. */
export function pickProduceVersion(minVersion: number, maxVersion: number): number | undefined {
  for (const version of PARSERS.keys()) if (version >= minVersion && version <= maxVersion) return version;
  return undefined;
}

export interface PartitionPayload {
  readonly topic: string;
  readonly partition: number;
  /** One finished record batch. */
  readonly batch: Buffer;
}

export type { PartitionAnswer } from "./sender.ts";

export type RequestOutcome =
  /** The broker answered: one answer per partition sent (acks=0: all written to the socket). */
  | { readonly answered: true; readonly partitions: readonly PartitionAnswer[] }
  /** No answer: the connection failed or the request timed out. The batches may or may not be written. */
  | { readonly answered: false; readonly error: unknown };

/** Sends one Produce request holding one batch per partition to a broker's connection. */
export function sendProduce(
  connection: Connection,
  version: number,
  acks: number,
  timeoutMs: number,
  payloads: readonly PartitionPayload[],
): Promise<RequestOutcome> {
  const parser = PARSERS.get(version);
  if (parser === undefined) throw new RangeError(`Produce v${version} is not supported`);
  const flexible = version >= 9;
  return new Promise((resolve) => {
    connection.send(
      PRODUCE_API_KEY,
      version,
      () => encodeRequest(flexible, acks, timeoutMs, payloads),
      parser,
      flexible,
      flexible,
      (error: unknown, response: unknown) => {
        if (acks === 0 && error == null) {
          resolve({ answered: true, partitions: payloads.map((p) => partitionAnswer(p.topic, p.partition, 0, null)) });
          return;
        }
        // A partition error comes as a ResponseError that still carries the parsed response.
        const parsed = (response ?? (error as { response?: unknown } | null)?.response) as ParsedResponse | undefined;
        if (parsed?.responses === undefined) {
          resolve({ answered: false, error });
          return;
        }
        const partitions: PartitionAnswer[] = [];
        for (const topic of parsed.responses) {
          for (const partition of topic.partitionResponses) {
            partitions.push(partitionAnswer(topic.name, partition.index, partition.errorCode, partition.errorMessage ?? null));
          }
        }
        resolve({ answered: true, partitions });
      },
    );
  });
}

interface ParsedResponse {
  responses?: { name: string; partitionResponses: { index: number; errorCode: number; errorMessage?: string | null }[] }[];
}

/**
 * A partition's answer, and whether the producer sends its batch again: as Kafka's protocol says of
 * the error (UNKNOWN_TOPIC_OR_PARTITION, for one, is retriable: a topic just created reaches every
 * broker's metadata a moment later), within the sink's delivery timeout.
 */
export function partitionAnswer(topic: string, partition: number, errorCode: number, errorMessage: string | null): PartitionAnswer {
  const id = errorCode === 0 ? "NONE" : ((protocolErrorsCodesById as Record<number, string>)[errorCode] ?? `ERROR_${errorCode}`);
  const known = (protocolErrors as Record<string, { canRetry?: boolean }>)[id];
  return { topic, partition, errorCode, errorId: id, errorMessage, retriable: known?.canRetry === true };
}

/** The request body (after the request header, which the connection writes). */
function encodeRequest(flexible: boolean, acks: number, timeoutMs: number, payloads: readonly PartitionPayload[]): Writer {
  const byTopic = new Map<string, PartitionPayload[]>();
  for (const payload of payloads) {
    const list = byTopic.get(payload.topic);
    if (list === undefined) byTopic.set(payload.topic, [payload]);
    else list.push(payload);
  }
  const writer = Writer.create();
  writer.appendString(null, flexible); // transactional_id: none
  writer.appendInt16(acks).appendInt32(timeoutMs);
  appendCount(writer, byTopic.size, flexible);
  for (const [topic, list] of byTopic) {
    writer.appendString(topic, flexible);
    appendCount(writer, list.length, flexible);
    for (const { partition, batch } of list) {
      writer.appendInt32(partition);
      // records: the batch bytes as they are, with no copy here.
      writer.appendBytes(batch, flexible);
      if (flexible) writer.appendUnsignedVarInt(0); // tagged fields
    }
    if (flexible) writer.appendUnsignedVarInt(0);
  }
  if (flexible) writer.appendUnsignedVarInt(0);
  if (acks === 0) writer.context.noResponse = true;
  return writer;
}

function appendCount(writer: Writer, count: number, flexible: boolean): void {
  if (flexible) writer.appendUnsignedVarInt(count + 1);
  else writer.appendInt32(count);
}
