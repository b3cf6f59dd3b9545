/**
 * The worker thread of a bounded Kafka read (kafka-worker-source.ts starts it): connects, fetches,
 * checks and decodes the record batches and merges the partitions by time, with the same pieces as a
 * read in the main thread (TopicsReader, Slot, LineChunk), and hands the merged lines over in chunks
 * whose buffers are shared with it and go back and forth (neither copied nor transferred: see Buffers).
 * The main thread only analyses them, as it analyses a file's chunks, while this thread reads the next
 * ones on the other core.
 *
 * It may be started before the read is known (prestartWorkerRead): its Node.js start and module
 * loading then overlap the CLI's own, and it waits for `open` with what to read. Messages to the main
 * thread: `opened` (the ends are captured: what the read will cover), then `chunk`s, then `end` with
 * the report's `kafka` section, or `error` at any point. From it: `open`, `free` (a chunk's buffers,
 * analysed, to fill again) and `stop` (the analysis stopped early).
 */
import { parentPort } from "node:worker_threads";
import type { KafkaConnection, KafkaOptionsInput } from "../../config/kafka-options.ts";
import type { ErrorCode } from "../../errors.ts";
import type { MergeSettings, PartitionInput, InputRecord } from "../../kafka/read/record-merge.ts";
import { LineChunk } from "../../kafka/read/records.ts";
import { TopicsReader, type TopicList } from "../../kafka/read/topics-reader.ts";
import { MAGIC_BYTE, isWireFormat } from "../../kafka/registry/wire-format.ts";
import { kafkaReport, wireFormatWithoutRegistry } from "./kafka-source.ts";
import { failureOf } from "./kafka-worker-source.ts";
import type { KafkaInputReport } from "../report.ts";

/** What the main thread asks the worker to read (structured-cloned: no functions, hence `names` for nameOf). */
export interface ReadWorkerData {
  readonly connection: KafkaConnection;
  readonly list: TopicList;
  readonly clockOffsets: ReadonlyMap<string, number> | undefined;
  /** nameOf of every option a message may name. */
  readonly names: Readonly<Record<string, string>>;
  /** Chunks handed over and not yet given back before the worker waits: the ring that bounds memory. */
  readonly ring: number;
}

/** A chunk of merged lines: `bytes`' first `length` bytes, `lines` lines; per line its input's number and offset. */
export interface ChunkMessage {
  readonly type: "chunk";
  readonly bytes: SharedArrayBuffer;
  readonly length: number;
  readonly lines: number;
  readonly numbers: Uint16Array<SharedArrayBuffer>;
  readonly offsets: Float64Array<SharedArrayBuffer>;
  /** The report's `kafka` section as it stands (records fetched so far). */
  readonly kafka: KafkaInputReport;
}

/** A failure, as the main thread raises it again: a WfsimError's code and message, or another error's name, message and stack. */
export interface FailureMessage {
  readonly type: "error";
  readonly code?: ErrorCode;
  readonly name: string;
  readonly message: string;
  readonly stack?: string | undefined;
}

export type FromReadWorker =
  | { readonly type: "opened"; readonly inputs: readonly string[]; readonly kafka: KafkaInputReport }
  | ChunkMessage
  | { readonly type: "end"; readonly kafka: KafkaInputReport }
  | FailureMessage;

export type ToReadWorker =
  | { readonly type: "open"; readonly data: ReadWorkerData }
  | { readonly type: "free"; readonly bytes: SharedArrayBuffer; readonly numbers: Uint16Array<SharedArrayBuffer>; readonly offsets: Float64Array<SharedArrayBuffer> }
  | { readonly type: "stop" };

/** A bounded read waits this long for data from a broker that has none yet (it always has some). */
const FETCH_WAIT_MS = 100;
const BOUNDED: MergeSettings = { follow: false, mergeWaitMs: Infinity };

/**
 * One chunk's buffers: the lines, and per line its input's number and offset. Shared memory, so that
 * handing them over and back detaches no ArrayBuffer: the first ArrayBuffer an isolate detaches (as
 * transferring one does) invalidates V8's "array buffers are never detached" protector for good,
 * and from then on its optimised code checks every typed array access for a detached buffer. The
 * main thread's line scanning, byte access from end to end, was 10 to 20% slower for it (about 30
 * ms of CPU per 1.6 million lines; see docs/benchmarks.md).
 */
interface Buffers {
  bytes: Buffer<SharedArrayBuffer>;
  numbers: Uint16Array<SharedArrayBuffer>;
  offsets: Float64Array<SharedArrayBuffer>;
}

const port = parentPort!;
const stopping = new AbortController();
const free: Buffers[] = [];
let handedOver = 0;
let wake: (() => void) | undefined;
let opening: ((data: ReadWorkerData) => void) | undefined;
const asked = new Promise<ReadWorkerData>((resolve) => (opening = resolve));

port.on("message", (message: ToReadWorker) => {
  if (message.type === "open") opening!(message.data);
  else if (message.type === "stop") stopping.abort("stopped");
  else {
    handedOver--;
    free.push({ bytes: Buffer.from(message.bytes), numbers: message.numbers, offsets: message.offsets });
  }
  wake?.();
});

function post(message: FromReadWorker): void {
  port.postMessage(message);
}

/** Until a chunk comes back, or the read is stopped. */
function handBack(): Promise<void> {
  return new Promise((resolve) => (wake = resolve));
}

async function read(data: ReadWorkerData): Promise<void> {
  const signal = stopping.signal;
  const nameOf = (key: keyof KafkaOptionsInput) => data.names[key] ?? key;
  let report: KafkaInputReport;
  const reader = await TopicsReader.open(data.connection, data.list, { signal, nameOf, bounded: true, role: "analyze" });
  try {
    reader.clockOffsets = data.clockOffsets;
    // One slot with every partition of every topic: the whole stream in event-time order (kafka-source.ts).
    const slots = [reader.slot(-1)];
    reader.setSlots(slots);
    const inputs = slots[0]!.inputs;
    post({ type: "opened", inputs: inputs.map((input) => `${input.topic}-${input.partition}`), kafka: kafkaReport(reader, slots) });
    const numberOf = new Map<PartitionInput, number>(inputs.map((input, i) => [input, i]));
    const chunk = new LineChunk();
    let buffers: Buffers | undefined;
    let count = 0;
    const emit = (input: PartitionInput, record: InputRecord) => {
      if (record.bytes[record.valueStart] === MAGIC_BYTE && isWireFormat(record.value)) throw wireFormatWithoutRegistry(input, record);
      chunk.appendRecord(record);
      const i = count++;
      if (i === buffers!.offsets.length) grow(buffers!);
      buffers!.numbers[i] = numberOf.get(input)!;
      buffers!.offsets[i] = record.offset;
    };
    const exhausted = () => slots.every((slot) => slot.exhausted);
    let fetching: Promise<number> | undefined = exhausted() ? undefined : reader.fetchRound(FETCH_WAIT_MS, signal);
    while (fetching !== undefined) {
      await fetching;
      fetching = undefined;
      if (signal.aborted) break;
      // At most `ring` chunks out: wait for one back before filling another (the fetch sent last goes on meanwhile).
      while (handedOver >= data.ring && !signal.aborted) await handBack();
      if (signal.aborted) break;
      buffers = free.pop() ?? newBuffers();
      chunk.use(buffers.bytes);
      count = 0;
      const now = performance.now();
      for (const slot of slots) slot.release(BOUNDED, now, emit);
      // The next fetch goes out before the lines are handed over: the broker reads and sends it meanwhile.
      if (!exhausted()) fetching = reader.fetchRound(FETCH_WAIT_MS, signal);
      // The chunk's buffer may have grown past the one taken: hand over the one that holds the lines
      // (in shared memory, as the others: a round of more than CHUNK_BYTES is rare).
      const taken = chunk.take();
      buffers.bytes = isShared(taken) ? taken : sharedCopy(taken, chunk.length);
      if (count === 0) {
        free.push(buffers);
        continue;
      }
      handedOver++;
      const { bytes, numbers, offsets } = buffers;
      post({ type: "chunk", bytes: bytes.buffer, length: chunk.length, lines: count, numbers, offsets, kafka: kafkaReport(reader, slots) });
    }
    report = kafkaReport(reader, slots);
  } finally {
    await reader.close();
  }
  post({ type: "end", kafka: report });
}

/** Lines of a chunk that the line arrays hold before they grow (about a fetch round's records). */
const LINES = 1 << 14;
/** A chunk's bytes before they grow: about a fetch round's lines. */
const CHUNK_BYTES = 3 << 19;

function newBuffers(): Buffers {
  return {
    bytes: Buffer.from(new SharedArrayBuffer(CHUNK_BYTES)),
    numbers: new Uint16Array(new SharedArrayBuffer(LINES * Uint16Array.BYTES_PER_ELEMENT)),
    offsets: new Float64Array(new SharedArrayBuffer(LINES * Float64Array.BYTES_PER_ELEMENT)),
  };
}

function isShared(buffer: Buffer): buffer is Buffer<SharedArrayBuffer> {
  return buffer.buffer instanceof SharedArrayBuffer && buffer.byteOffset === 0;
}

/** The first `length` bytes of `buffer` in a shared buffer of its size (a chunk grown past CHUNK_BYTES). */
function sharedCopy(buffer: Buffer, length: number): Buffer<SharedArrayBuffer> {
  const shared = Buffer.from(new SharedArrayBuffer(buffer.length));
  buffer.copy(shared, 0, 0, length);
  return shared;
}

function grow(buffers: Buffers): void {
  const numbers = new Uint16Array(new SharedArrayBuffer(buffers.numbers.length * 2 * Uint16Array.BYTES_PER_ELEMENT));
  numbers.set(buffers.numbers);
  buffers.numbers = numbers;
  const offsets = new Float64Array(new SharedArrayBuffer(buffers.offsets.length * 2 * Float64Array.BYTES_PER_ELEMENT));
  offsets.set(buffers.offsets);
  buffers.offsets = offsets;
}

try {
  await read(await asked);
} catch (error) {
  post(failureOf(error));
}
port.close();
