import type { Writable } from "node:stream";
import type { LabelSink } from "../engine/simulation.ts";
import { serializeFault, serializeTruth, type FaultRecord, type TruthLine } from "../events/truth.ts";
import { FaultLineWriter } from "./fast-jsonl/line-writer.ts";
import { LineStream } from "./line-stream.ts";

const FAULT_KINDS: ReadonlySet<string> = new Set(["drop", "duplicate", "delay", "skew", "corrupt"]);

/**
 * Ground-truth records (labels and delivery faults) as JSON Lines onto a byte stream (the --truth file). The engine waits for it
 * when it is full, as for events; a failing stream is reported once through `error`.
 *
 * A run with delivery faults writes a truth line for every one (a hundred thousand and more), so
 * they go through the WebAssembly line writer, as events do, the labels between them as their
 * JSON text in the same batch: the lines are serializeTruth's, byte for byte.
 */
export class TruthSink extends LineStream<TruthLine> implements LabelSink {
  private lines: FaultLineWriter | undefined;

  constructor(stream: Writable, onError?: (error: Error) => void) {
    super(stream, serializeTruth, onError);
  }

  override write(record: TruthLine): void {
    if (this.error !== undefined) return;
    // Only once a fault comes: a run without them writes few lines, and needs no line writer.
    if (this.lines === undefined && !FAULT_KINDS.has(record.kind)) return super.write(record);
    const lines = this.faultLines();
    if (FAULT_KINDS.has(record.kind) && wholeNumbers(record as FaultRecord)) lines.write(record as FaultRecord);
    else lines.writeText(serializeLine(record));
    this.written++;
  }

  /** A delivery fault's record with every field present (see LabelSink.writeFault): encoded at once, not kept. */
  writeFault(record: FaultRecord): void {
    if (this.error !== undefined) return;
    const lines = this.faultLines();
    if (wholeNumbers(record)) lines.write(record);
    else lines.writeText(serializeFault(record).slice(0, -1));
    this.written++;
  }

  /**
   * A delivery fault's record as its fields (see FaultTruth.writeFields in delivery.ts): encoded at
   * once, no object made. False, with nothing written, when a delay or offset is not a whole number
   * (the line writer writes integers): the record then comes to writeFault.
   */
  writeFaultFields(
    kind: number, txnId: string, type: string, step: number, workflow: string | undefined, seq: number,
    tsMs: number, dueMs: number, emittedMs: number, delayMs: number, offsetMs: number, as: string | undefined,
  ): boolean {
    if (!wholeOrAbsent(delayMs) || !wholeOrAbsent(offsetMs)) return false;
    if (this.error !== undefined) return true;
    this.faultLines().writeFields(kind, txnId, type, step, workflow, seq, tsMs, dueMs, emittedMs, delayMs, offsetMs, as);
    this.written++;
    return true;
  }

  /** The line writer, made when the first fault comes. */
  private faultLines(): FaultLineWriter {
    return (this.lines ??= new FaultLineWriter((chunk) => this.writeBytes(Buffer.copyBytesFrom(chunk))));
  }

  override flush(): void {
    this.lines?.flush();
    super.flush();
  }
}

/** The line writer writes integers; a fault's drawn delay or offset always is one, but a line must never depend on it. */
function wholeNumbers(record: FaultRecord): boolean {
  return (record.delay_ms === undefined || Number.isInteger(record.delay_ms)) && (record.offset_ms === undefined || Number.isInteger(record.offset_ms));
}

/** writeFaultFields' numbers: NaN is absent. */
function wholeOrAbsent(value: number): boolean {
  return Number.isInteger(value) || Number.isNaN(value);
}

function serializeLine(record: TruthLine): string {
  const line = FAULT_KINDS.has(record.kind) ? serializeFault(record as FaultRecord) : serializeTruth(record);
  return line.slice(0, -1);
}
