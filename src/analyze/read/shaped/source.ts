/**
 * A source of shaped records read as a source of wfsim's events: each chunk of records becomes a
 * chunk of the lifecycle lines they stand for (rebuild.ts), and line references in the report point
 * at the records (a file's line, a topic-partition's offset), not at the rebuilt lines.
 */
import { StringDecoder } from "node:string_decoder";
import type { Scenario } from "../../../config/scenario/model.ts";
import type { EventSource, LineLocator } from "../source.ts";
import { readPlan, type ReadPlan } from "./plan.ts";
import { SameMillisecondOrder } from "./order.ts";
import { ShapedRebuilder } from "./rebuild.ts";

/**
 * How analyze reads the streams of `scenario`'s output section; throws the one-line SCENARIO error
 * when they could not be read back. Undefined for a scenario without one (wfsim's own events).
 */
export function shapedReadPlan(scenario: Scenario | undefined): ReadPlan | undefined {
  return scenario?.output === undefined ? undefined : readPlan(scenario);
}

/**
 * `source`'s records as lifecycle events. One rebuilder may follow several sources read as one
 * stream. A source merged from several topics (a Kafka source) has each millisecond's records put
 * back in the order wfsim wrote them first (order.ts); a file is in that order already.
 */
export function shapedSource(source: EventSource, rebuilder: ShapedRebuilder): EventSource {
  const locator = new ShapedLocator(source);
  const order = source.kafka === undefined ? undefined : new SameMillisecondOrder<number>(rebuilder.lostMoments);
  return {
    name: source.name,
    locator,
    ...(source.kafka === undefined ? {} : { kafka: () => source.kafka!() }),
    async *chunks(signal) {
      const decoder = new StringDecoder("utf8");
      let rest = "";
      let first = true;
      let sourceLine = 0;
      for await (const chunk of source.chunks(signal)) {
        let text = rest + decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if (first && text !== "") {
          if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
          first = false;
        }
        const last = text.lastIndexOf("\n");
        rest = text.slice(last + 1);
        if (last < 0) continue;
        const out = convert(text.slice(0, last), rebuilder, locator, sourceLine, order);
        sourceLine += out.records;
        if (out.text !== "") yield Buffer.from(out.text, "utf8");
      }
      rest += decoder.end();
      const out = rest.trim() === "" ? { text: "" } : convert(rest, rebuilder, locator, sourceLine, order);
      let text = out.text;
      order?.flush(({ parsed, place }) =>
        rebuilder.rebuildParsed(parsed, (rebuilt) => {
          text += rebuilt;
          locator.add(place);
        }),
      );
      rebuilder.finish((rebuilt) => {
        text += rebuilt;
        locator.add(sourceLine);
      });
      if (text !== "") yield Buffer.from(text, "utf8");
    },
  };
}

function convert(text: string, rebuilder: ShapedRebuilder, locator: ShapedLocator, firstLine: number, order: SameMillisecondOrder<number> | undefined): { text: string; records: number } {
  let out = "";
  let line = firstLine;
  const lines = text.split("\n");
  for (const raw of lines) {
    line++;
    const record = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (order === undefined) {
      rebuilder.record(record, (rebuilt) => {
        out += rebuilt;
        locator.add(line);
      });
      continue;
    }
    const parsed = rebuilder.parse(record);
    if (parsed === undefined) continue;
    order.push({ parsed, place: line }, (placed) =>
      rebuilder.rebuildParsed(placed.parsed, (rebuilt) => {
        out += rebuilt;
        locator.add(placed.place);
      }),
    );
  }
  return { text: out, records: lines.length };
}

/** Rebuilt line N (counted over the whole source) → the record's line, and through the source's own locator its place. */
class ShapedLocator implements LineLocator {
  private readonly inner: EventSource;
  private readonly records: number[] = [];
  /** Rebuilt lines handed over before `records` starts. */
  private offset = 0;

  constructor(inner: EventSource) {
    this.inner = inner;
  }

  add(recordLine: number): void {
    // Only the lines of recent chunks are asked about: keep memory bounded.
    if (this.records.length >= 1 << 20) {
      this.offset += this.records.length;
      this.records.length = 0;
    }
    this.records.push(recordLine);
  }

  private recordOf(line: number): number {
    return this.records[line - 1 - this.offset] ?? line;
  }

  sourceOf(line: number): string {
    const record = this.recordOf(line);
    return this.inner.locator?.sourceOf(record) ?? this.inner.name;
  }

  lineOf(line: number): number {
    const record = this.recordOf(line);
    return this.inner.locator?.lineOf(record) ?? record;
  }
}
