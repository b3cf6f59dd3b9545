/**
 * A bounded Kafka read in a worker thread (kafka-read-worker.ts): the worker connects, fetches,
 * decodes and merges; this thread receives the merged lines in chunks and analyses them as it
 * analyses a file's. Why: the read (fetch, CRC, decode, merge by time) costs about half a second of
 * CPU per 1.6 million records on top of the analysis, and the machine has a second core; in one
 * thread the two take turns, in two they overlap, so the wall time comes near the file's.
 *
 * The chunks' buffers (shared memory, see kafka-read-worker.ts's Buffers for why not transferred ones)
 * go back to the worker once analysed, and the worker fills at most RING of them
 * before it waits for one back: memory stays bounded as in one thread (a few MiB of lines more).
 */
import { Worker } from "node:worker_threads";
import type { KafkaConnection, KafkaOptionsInput } from "../../config/kafka-options.ts";
import type { NameOf } from "../../kafka/connect.ts";
import type { TopicList } from "../../kafka/read/topics-reader.ts";
import { WfsimError } from "../../errors.ts";
import type { KafkaInputReport } from "../report.ts";
import type { EventSource, LineLocator } from "./source.ts";
import type { ChunkMessage, FailureMessage, FromReadWorker, ReadWorkerData, ToReadWorker } from "./kafka-read-worker.ts";

/** Chunks the worker may have handed over before it waits: one analysed, the others ready. At least 2 (one is held while the next is awaited). */
const RING = 2;

/**
 * The worker's heap holds the merge's columns and little else (the fetched bytes and the chunks are
 * outside it); a small young generation (V8's default is 16 MiB and more) keeps its resident size
 * low, as the read's few objects die young. A thread costs about 20 MB of resident memory anyway.
 */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 2 };

/** Every option a connection's messages may name, so that the worker names them as the caller does. */
const OPTION_KEYS: Record<keyof KafkaOptionsInput, true> = {
  kafkaBootstrap: true,
  topicTxn: true,
  topicSteps: true,
  acks: true,
  compression: true,
  partitions: true,
  replicationFactor: true,
  kafkaSsl: true,
  kafkaCa: true,
  kafkaCert: true,
  kafkaKey: true,
  kafkaSaslMechanism: true,
  kafkaUser: true,
  kafkaPasswordFile: true,
  kafkaPassword: true,
  kafkaTimeout: true,
  clientId: true,
};

/** The worker's entry beside this file: built JavaScript in dist, TypeScript when run from the sources (tests). */
const WORKER_URL = new URL(`./kafka-read-worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);

export interface WorkerReadSettings {
  readonly signal?: AbortSignal | undefined;
  readonly nameOf?: NameOf | undefined;
  readonly clockOffsets?: ReadonlyMap<string, number> | undefined;
}

interface Started {
  readonly worker: Worker;
  readonly messages: Messages;
}

let prestarted: Started | undefined;

/**
 * Whether a bounded read goes to a worker thread: not with the Schema Registry (its decoder and its
 * HTTP client live in the main thread), nor with a SASL login (through @platformatic/kafka's client,
 * whose options hold the password as a function, which cannot cross to a thread), nor when
 * WFSIM_KAFKA_READ_THREAD=main asks for the main thread (to measure one against the other).
 */
export function readsInWorker(registry: boolean, sasl: boolean): boolean {
  return !registry && !sasl && process.env["WFSIM_KAFKA_READ_THREAD"] !== "main";
}

function start(): Started {
  const worker = new Worker(WORKER_URL, { resourceLimits: RESOURCE_LIMITS });
  const messages = new Messages(worker);
  // It keeps the process alive only while a message is awaited (Messages.next); after the listeners,
  // since adding a "message" listener refs the worker again.
  worker.unref();
  return { worker, messages };
}

/**
 * Starts a worker for the bounded Kafka read the command is about to make, before it loads the rest
 * of itself: the thread's Node.js start and module loading (about 60 ms) overlap the CLI's instead
 * of delaying the first records. The read takes it (openWorkerRead); unused, it ends with the process.
 */
export function prestartWorkerRead(): void {
  prestarted ??= start();
}

/**
 * Starts the worker (or takes the one prestarted) and waits until it has connected, checked the
 * topics and captured where each partition ends (or failed: its error is raised here, as a read in
 * this thread raises it).
 */
export async function openWorkerRead(connection: KafkaConnection, list: TopicList, name: string, settings: WorkerReadSettings): Promise<EventSource> {
  const nameOf = settings.nameOf ?? ((key) => key);
  const names: Record<string, string> = {};
  for (const key of Object.keys(OPTION_KEYS) as (keyof KafkaOptionsInput)[]) names[key] = nameOf(key);
  const data: ReadWorkerData = { connection, list, clockOffsets: settings.clockOffsets, names, ring: RING };
  settings.signal?.throwIfAborted();
  const { worker, messages } = prestarted ?? start();
  prestarted = undefined;
  worker.postMessage({ type: "open", data } satisfies ToReadWorker);
  const opened = await messages.next(settings.signal);
  if (opened === undefined) {
    // Stopped while connecting: as in one thread, the signal's reason, and nothing read.
    void worker.terminate();
    throw settings.signal!.reason;
  }
  if (opened.type !== "opened") {
    void worker.terminate();
    throw unexpected(opened);
  }
  return new WorkerKafkaSource(name, worker, messages, opened.inputs, opened.kafka);
}

/**
 * The worker's messages, in order, awaited one at a time; its crash or exit without an end as a
 * failure. The worker keeps the process alive only while a message is awaited: a source left unread
 * (an analysis that failed before reading it) does not hold the process open.
 */
class Messages {
  private readonly queue: FromReadWorker[] = [];
  private waiting: (() => void) | undefined;
  private readonly worker: Worker;

  constructor(worker: Worker) {
    this.worker = worker;
    const arrive = (message: FromReadWorker) => {
      this.queue.push(message);
      this.waiting?.();
    };
    worker.on("message", arrive);
    worker.on("error", (error: unknown) => arrive(failureOf(error)));
    worker.on("exit", (code) => arrive({ type: "error", name: "Error", message: `the Kafka read's worker thread exited (code ${code}) before the read ended` }));
  }

  /** The next message, or undefined once `signal` aborts. */
  async next(signal?: AbortSignal): Promise<FromReadWorker | undefined> {
    while (this.queue.length === 0) {
      if (signal?.aborted) return undefined;
      this.worker.ref();
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiting = undefined;
          signal?.removeEventListener("abort", done);
          resolve();
        };
        this.waiting = done;
        signal?.addEventListener("abort", done, { once: true });
      });
      this.worker.unref();
    }
    return signal?.aborted ? undefined : this.queue.shift();
  }
}

/** Names the place of each line of the chunk being analysed: its topic-partition and offset (as kafka-source.ts's RecordLocator). */
class ChunkLocator implements LineLocator {
  private firstLine = 1;
  private count = 0;
  private numbers = new Uint16Array(new SharedArrayBuffer(0));
  private offsets = new Float64Array(new SharedArrayBuffer(0));
  /** "topic-partition" of each input, by number. */
  private readonly inputs: readonly string[];

  constructor(inputs: readonly string[]) {
    this.inputs = inputs;
  }

  begin(firstLine: number, chunk: ChunkMessage): void {
    this.firstLine = firstLine;
    this.count = chunk.lines;
    this.numbers = chunk.numbers;
    this.offsets = chunk.offsets;
  }

  sourceOf(line: number): string {
    const i = line - this.firstLine;
    return i >= 0 && i < this.count ? this.inputs[this.numbers[i]!]! : "kafka";
  }

  lineOf(line: number): number {
    const i = line - this.firstLine;
    return i >= 0 && i < this.count ? this.offsets[i]! : line;
  }
}

class WorkerKafkaSource implements EventSource {
  readonly name: string;
  readonly locator: ChunkLocator;
  private readonly worker: Worker;
  private readonly messages: Messages;
  private report: KafkaInputReport;

  constructor(name: string, worker: Worker, messages: Messages, inputs: readonly string[], report: KafkaInputReport) {
    this.name = name;
    this.worker = worker;
    this.messages = messages;
    this.locator = new ChunkLocator(inputs);
    this.report = report;
  }

  async *chunks(signal?: AbortSignal): AsyncIterable<Uint8Array> {
    let lines = 0;
    let held: ChunkMessage | undefined;
    let ended = false;
    try {
      for (;;) {
        const message = await this.messages.next(signal);
        if (message === undefined) return;
        if (message.type === "end") {
          this.report = message.kafka;
          ended = true;
          return;
        }
        if (message.type !== "chunk") throw unexpected(message);
        // The chunk before it was analysed: its buffers go back to be filled again.
        if (held !== undefined) this.give(held);
        held = message;
        this.report = message.kafka;
        this.locator.begin(lines + 1, message);
        lines += message.lines;
        yield new Uint8Array(message.bytes, 0, message.length);
      }
    } finally {
      // Stopped early (aborted, or the analysis failed): the worker stops fetching and closes its
      // connections; it is not waited for, nor does it keep the process alive.
      if (!ended) this.post({ type: "stop" });
    }
  }

  private give(chunk: ChunkMessage): void {
    this.post({ type: "free", bytes: chunk.bytes, numbers: chunk.numbers, offsets: chunk.offsets });
  }

  private post(message: ToReadWorker): void {
    this.worker.postMessage(message);
  }

  kafka(): KafkaInputReport {
    return this.report;
  }
}

/** The worker's failure raised again: a WfsimError as one (the same line and exit code), anything else with its stack. */
function unexpected(message: FromReadWorker): Error {
  if (message.type !== "error") return new WfsimError("INTERNAL", `the Kafka read's worker thread sent ${message.type} out of turn`);
  const failure = message as FailureMessage;
  if (failure.code !== undefined) return new WfsimError(failure.code, failure.message);
  const error = new Error(failure.message);
  error.name = failure.name;
  if (failure.stack !== undefined) error.stack = failure.stack;
  return error;
}

/** How a failure crosses to the main thread (structured clone keeps no class): see `unexpected`. */
export function failureOf(error: unknown): FailureMessage {
  if (error instanceof WfsimError) return { type: "error", code: error.code, name: error.name, message: error.message };
  if (error instanceof Error) return { type: "error", name: error.name, message: error.message, stack: error.stack };
  return { type: "error", name: "Error", message: String(error) };
}
