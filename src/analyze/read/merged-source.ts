/**
 * Several sources read as one stream in event-time order: the outputs of N `wfsim run --instance i/N`
 * processes, each in time order, analyse as the one run they are parts of (concurrency included),
 * where reading them one after the other would start the clock again with every file.
 *
 * A k-way merge on `ts_ms`, one line ahead per source (memory bounded by the sources' longest
 * lines): the earliest head goes next, the earlier source first among equals. Each source's own order
 * is kept, so its reorderings still show. A line without a readable `ts_ms` keeps its place in its
 * source (it takes the time of the line before it). Lines keep their bytes; a locator names each
 * line's source and line number.
 */
import type { EventSource, LineLocator } from "./source.ts";

/** Bytes gathered before a chunk is handed on. */
const CHUNK_BYTES = 1 << 18;
const NEWLINE = 0x0a;
const TS_KEY = Buffer.from('"ts_ms"');

/** The lines of one source, copied out of its chunks (which the source may reuse). */
async function* byteLines(source: EventSource, signal?: AbortSignal): AsyncGenerator<Buffer> {
  let rest: Buffer | undefined;
  for await (const chunk of source.chunks(signal)) {
    let bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (rest !== undefined) {
      bytes = Buffer.concat([rest, bytes]);
      rest = undefined;
    }
    let from = 0;
    for (let newline = bytes.indexOf(NEWLINE, from); newline >= 0; newline = bytes.indexOf(NEWLINE, from)) {
      yield Buffer.from(bytes.subarray(from, newline + 1));
      from = newline + 1;
    }
    if (from < bytes.length) rest = Buffer.from(bytes.subarray(from));
  }
  if (rest !== undefined && rest.length > 0) yield Buffer.concat([rest, Buffer.from([NEWLINE])]);
}

/** The integer after `"ts_ms":`, or NaN. */
export function tsOf(line: Buffer): number {
  const at = line.indexOf(TS_KEY);
  if (at < 0) return NaN;
  let i = at + TS_KEY.length;
  while (i < line.length && (line[i] === 0x20 || line[i] === 0x09)) i++;
  if (line[i] !== 0x3a) return NaN;
  i++;
  while (i < line.length && (line[i] === 0x20 || line[i] === 0x09)) i++;
  let negative = false;
  if (line[i] === 0x2d) {
    negative = true;
    i++;
  }
  let value = 0;
  let digits = 0;
  for (; i < line.length && line[i]! >= 0x30 && line[i]! <= 0x39; i++, digits++) value = value * 10 + (line[i]! - 0x30);
  return digits === 0 ? NaN : negative ? -value : value;
}

class MergeLocator implements LineLocator {
  private firstLine = 1;
  readonly sources: number[] = [];
  readonly lines: number[] = [];
  private readonly names: readonly string[];
  constructor(names: readonly string[]) {
    this.names = names;
  }
  begin(firstLine: number): void {
    this.firstLine = firstLine;
    this.sources.length = 0;
    this.lines.length = 0;
  }
  sourceOf(line: number): string {
    return this.names[this.sources[line - this.firstLine] ?? 0] ?? "merged";
  }
  lineOf(line: number): number {
    return this.lines[line - this.firstLine] ?? line;
  }
}

interface Head {
  readonly index: number;
  readonly lines: AsyncGenerator<Buffer>;
  line: Buffer | undefined;
  ts: number;
  lineNumber: number;
}

export function mergedSource(sources: readonly EventSource[]): EventSource {
  const names = sources.map((source) => source.name);
  const locator = new MergeLocator(names);
  return {
    name: names.join(" + "),
    parts: names,
    locator,
    async *chunks(signal) {
      const heads: Head[] = sources.map((source, index) => ({ index, lines: byteLines(source, signal), line: undefined, ts: -Infinity, lineNumber: 0 }));
      const advance = async (head: Head) => {
        const next = await head.lines.next();
        head.line = next.done === true ? undefined : next.value;
        if (head.line === undefined) return;
        head.lineNumber++;
        const ts = tsOf(head.line);
        if (!Number.isNaN(ts)) head.ts = ts;
      };
      await Promise.all(heads.map(advance));
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let emitted = 0;
      locator.begin(1);
      try {
        for (;;) {
          let best: Head | undefined;
          for (const head of heads) if (head.line !== undefined && (best === undefined || head.ts < best.ts)) best = head;
          if (best === undefined) break;
          pending.push(best.line!);
          pendingBytes += best.line!.length;
          locator.sources.push(best.index);
          locator.lines.push(best.lineNumber);
          await advance(best);
          if (pendingBytes >= CHUNK_BYTES) {
            yield Buffer.concat(pending, pendingBytes);
            emitted += pending.length;
            pending = [];
            pendingBytes = 0;
            locator.begin(emitted + 1);
          }
        }
        if (pending.length > 0) yield Buffer.concat(pending, pendingBytes);
      } finally {
        await Promise.all(heads.map((head) => head.lines.return(undefined)));
      }
    },
  };
}
