/**
 * `wfsim analyze --kafka-bootstrap …`: a list of topics (wfsim's two, or a shaped output's) as one
 * EventSource, read from the beginning to the end each partition had when reading began (records
 * written later are left for the next run), every partition of every topic merged by record
 * timestamp (record-merge.ts).
 *
 * ```ts
 * const source = await openKafkaSource(resolveKafkaConnection({ kafkaBootstrap: "localhost:9092" }, {}, "analyze"));
 * const report = await analyze(source);
 * ```
 */
import type { KafkaConnection } from "../../config/kafka-options.ts";
import type { NameOf } from "../../kafka/connect.ts";
import type { KafkaInputReport } from "../report.ts";
import type { EventSource, LineLocator, LineRanges } from "./source.ts";
import { type InputRecord, type MergeSettings, type PartitionInput, type Slot } from "../../kafka/read/record-merge.ts";
import { LineChunk, RecordLines } from "../../kafka/read/records.ts";
import { TopicsReader, wfsimTopics, type TopicList } from "../../kafka/read/topics-reader.ts";
import type { RegistryValueDecoder } from "./registry-values.ts";
// Not registry-values.ts: it loads avsc and protobufjs, which a read without --schema-registry does not need.
import { MAGIC_BYTE, isWireFormat } from "../../kafka/registry/wire-format.ts";
import { WfsimError } from "../../errors.ts";

export interface KafkaSourceSettings {
  /** Gives up connecting when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** How options are named in messages: a flag on the command line, a key in the library. */
  readonly nameOf?: NameOf | undefined;
  /** Decodes values in a Schema Registry's wire format (--schema-registry); without it such values are refused. */
  readonly registry?: RegistryValueDecoder | undefined;
  /** The topics to read; wfsim's own two (--topic-txn, --topic-steps) unless given. */
  readonly topics?: TopicList | undefined;
  /**
   * Transactions whose producer clock was off (skew faults from --truth): transaction id to ms. Their
   * records are merged at their true time: merged at the time they carry, they would land among
   * other records out of their transaction's order.
   */
  readonly clockOffsets?: ReadonlyMap<string, number> | undefined;
}

/** A bounded read waits this long for data from a broker that has none yet (it always has some). */
const FETCH_WAIT_MS = 100;
const BOUNDED: MergeSettings = { follow: false, mergeWaitMs: Infinity };

/** "kafka://host:port/txn-topic,steps-topic": how a Kafka read is named in the report. */
export function kafkaSourceName(connection: KafkaConnection, list: TopicList = wfsimTopics(connection)): string {
  return `kafka://${connection.bootstrap.join(",")}/${list.topics.map((topic) => topic.name).join(",")}`;
}

/**
 * Connects, checks the topics and captures where each partition ends, within --kafka-timeout: a
 * missing topic, an unreachable broker or a refused login fail here, in one line, before anything
 * is read.
 */
export async function openKafkaSource(connection: KafkaConnection, settings: KafkaSourceSettings = {}): Promise<EventSource> {
  const list = settings.topics ?? wfsimTopics(connection);
  // In a worker thread where it can be (kafka-worker-source.ts: readsInWorker).
  const worker = await import("./kafka-worker-source.ts");
  if (worker.readsInWorker(settings.registry !== undefined, connection.sasl !== undefined)) {
    return worker.openWorkerRead(connection, list, kafkaSourceName(connection, list), settings);
  }
  const reader = await TopicsReader.open(connection, list, { signal: settings.signal, nameOf: settings.nameOf, bounded: true, role: "analyze" });
  reader.clockOffsets = settings.clockOffsets;
  return new KafkaSource(reader, settings.registry);
}

/**
 * Maps the lines of the chunk being analysed back to records. Per line, the input's number (in the
 * order inputs were first seen) and the offset, in typed arrays: a reference per line in a plain
 * array cost more than the rest of a line's bookkeeping (the garbage collector's write barrier).
 */
export class RecordLocator implements LineLocator {
  private firstLine = 1;
  private count = 0;
  /** The inputs seen, by number; a reader has a few (its partitions). */
  private readonly known: PartitionInput[] = [];
  private lastInput: PartitionInput | undefined;
  private lastNumber = 0;
  private numbers = new Uint16Array(1 << 14);
  private offsets = new Float64Array(1 << 14);

  /** A new chunk starts at `firstLine`. */
  begin(firstLine: number): void {
    this.firstLine = firstLine;
    // Kept, not emptied: refilled in place for the next chunk without reallocating.
    this.count = 0;
  }

  add(input: PartitionInput, offset: number): void {
    const i = this.count++;
    if (i === this.offsets.length) {
      const offsets = new Float64Array(i * 2);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const numbers = new Uint16Array(i * 2);
      numbers.set(this.numbers);
      this.numbers = numbers;
    }
    if (input !== this.lastInput) {
      let number = this.known.indexOf(input);
      if (number < 0) number = this.known.push(input) - 1;
      this.lastInput = input;
      this.lastNumber = number;
    }
    this.numbers[i] = this.lastNumber;
    this.offsets[i] = offset;
  }

  /** The input line `line` came from. */
  inputAt(line: number): PartitionInput | undefined {
    const i = line - this.firstLine;
    return i >= 0 && i < this.count ? this.known[this.numbers[i]!] : undefined;
  }

  sourceOf(line: number): string {
    const input = this.inputAt(line);
    return input === undefined ? "kafka" : `${input.topic}-${input.partition}`;
  }

  lineOf(line: number): number {
    const i = line - this.firstLine;
    return i >= 0 && i < this.count ? this.offsets[i]! : line;
  }
}

class KafkaSource implements EventSource {
  readonly name: string;
  readonly locator = new RecordLocator();
  private readonly reader: TopicsReader;
  private readonly slots: Slot[];
  private readonly registry: RegistryValueDecoder | undefined;
  /** Without a registry, values are lines as they are: read in place. */
  readonly lines?: (signal?: AbortSignal) => AsyncIterable<LineRanges>;

  constructor(reader: TopicsReader, registry?: RegistryValueDecoder) {
    this.reader = reader;
    this.registry = registry;
    this.name = kafkaSourceName(reader.connection, reader.list);
    // One slot with every partition of every topic: the whole stream in event-time order, so that
    // figures that depend on the order across transactions (concurrency) come out as from a file.
    this.slots = [reader.slot(-1)];
    reader.setSlots(this.slots);
    if (registry === undefined) this.lines = (signal) => this.recordLines(signal);
  }

  private async *recordLines(signal?: AbortSignal): AsyncIterable<LineRanges> {
    const lines = new RecordLines();
    let read = 0;
    const emit = (input: PartitionInput, record: InputRecord) => {
      if (record.bytes[record.valueStart] === MAGIC_BYTE && isWireFormat(record.value)) throw wireFormatWithoutRegistry(input, record);
      lines.add(record);
      this.locator.add(input, record.offset);
    };
    let fetching: Promise<number> | undefined;
    try {
      if (!this.exhausted) fetching = this.reader.fetchRound(FETCH_WAIT_MS, signal);
      while (fetching !== undefined) {
        await fetching;
        fetching = undefined;
        if (signal?.aborted) return;
        lines.reset();
        this.locator.begin(read + 1);
        const now = performance.now();
        for (const slot of this.slots) slot.release(BOUNDED, now, emit);
        // The next fetch goes out before the analysis reads these lines, so that the broker reads
        // and sends it (on another core) meanwhile. Its answer is read at the next await, never
        // while the analysis holds these lines (sockets are read by the event loop only, and the
        // analysis of a round is synchronous), so the fetched bytes this release gave back to the
        // pool are not overwritten under them.
        if (!this.exhausted) fetching = this.reader.fetchRound(FETCH_WAIT_MS, signal);
        if (lines.count === 0) continue;
        read += lines.count;
        yield lines;
      }
    } finally {
      // A fetch still out when the analysis stops early: its failure, if any, is no one's.
      fetching?.catch(() => {});
      await this.reader.close();
    }
  }

  private get exhausted(): boolean {
    return this.slots.every((slot) => slot.exhausted);
  }

  async *chunks(signal?: AbortSignal): AsyncIterable<Uint8Array> {
    const chunk = new LineChunk();
    let lines = 0;
    const registry = this.registry;
    // With a registry, the schemas of a round's new ids are fetched before the merge releases its
    // records, so each value is decoded in place as it is released.
    const emit =
      registry === undefined
        ? (input: PartitionInput, record: InputRecord) => {
            if (record.bytes[record.valueStart] === MAGIC_BYTE && isWireFormat(record.value)) throw wireFormatWithoutRegistry(input, record);
            chunk.appendRecord(record);
            this.locator.add(input, record.offset);
          }
        : (input: PartitionInput, record: InputRecord) => {
            if (record.bytes[record.valueStart] === MAGIC_BYTE) registry.appendTo(chunk, record.bytes, record.valueStart, record.valueEnd);
            else chunk.appendRecord(record);
            this.locator.add(input, record.offset);
          };
    try {
      while (!this.slots.every((slot) => slot.exhausted)) {
        if (signal?.aborted) return;
        await this.reader.fetchRound(FETCH_WAIT_MS, signal);
        if (registry !== undefined) await registry.prepareWaiting(this.slots.flatMap((slot) => slot.inputs));
        chunk.reset();
        this.locator.begin(lines + 1);
        const now = performance.now();
        for (const slot of this.slots) slot.release(BOUNDED, now, emit);
        if (chunk.lines === 0) continue;
        lines += chunk.lines;
        yield chunk.bytes();
      }
    } finally {
      await this.reader.close();
    }
  }

  kafka(): KafkaInputReport {
    return kafkaReport(this.reader, this.slots);
  }
}

/** A value in the wire format read without --schema-registry (bounded or followed): one line naming the record. */
export function wireFormatWithoutRegistry(input: PartitionInput, record: InputRecord): WfsimError {
  return new WfsimError(
    "INVALID_OPTION",
    `${input.topic}-${input.partition} offset ${record.offset} holds a value in a Schema Registry's wire format (schema id ${record.value.readUInt32BE(1)}): add --schema-registry URL to decode it`,
  );
}

/** Records fetched per topic of the reader's list, over `slots`. */
export function fetchedPerTopic(reader: TopicsReader, slots: readonly Slot[]): number[] {
  const records = reader.layout.topics.map(() => 0);
  for (const slot of slots) for (const input of slot.inputs) records[input.topicIndex]! += input.fetched;
  return records;
}

/** The report's `kafka` section: topics (by role), records read per topic, how they were merged. */
export function kafkaReport(reader: TopicsReader, slots: readonly Slot[], fetched?: readonly number[]): KafkaInputReport {
  const records = fetched ?? fetchedPerTopic(reader, slots);
  return {
    bootstrap: reader.connection.bootstrap.join(","),
    topics: Object.fromEntries(reader.layout.topics.map((topic, t) => [topic.role, { name: topic.name, partitions: topic.partitions, records: records[t] ?? 0 }])),
    merge: slots.some((slot) => slot.index < 0) ? "all-partitions" : "per-partition",
    skipped_by_retention: reader.skippedByRetention,
    deleted_before_read: reader.deletedBeforeRead,
  };
}
