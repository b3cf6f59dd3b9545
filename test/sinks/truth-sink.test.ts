/**
 * The truth file's sink writes fault records through the WebAssembly line writer and labels as their
 * JSON text in the same batch: every line must be serializeTruth's, byte for byte, in the order given
 * (the truth file of a run is part of its determinism), whatever the strings and numbers hold.
 */
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { FAULT_KINDS } from "../../src/config/scenario/model.ts";
import { serializeTruth, type FaultRecord, type TruthLine } from "../../src/events/truth.ts";
import { LineWriter } from "../../src/sinks/fast-jsonl/line-writer.ts";
import { TruthSink } from "../../src/sinks/truth-sink.ts";
import { SAMPLE_EVENTS } from "../events/serialize.test.ts";
import { serializeEvent } from "../../src/events/serialize.ts";

async function written(records: readonly TruthLine[]): Promise<string> {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  const sink = new TruthSink(stream);
  for (const record of records) sink.write(record);
  await sink.close({ end: true });
  assert.equal(sink.linesWritten, records.length);
  return Buffer.concat(chunks).toString("utf8");
}

const FAULTS: FaultRecord[] = [
  { kind: "drop", txn_id: "txn_abc", type: "transaction_open", seq: 0, ts_ms: 0, due_ms: 0 },
  { kind: "duplicate", txn_id: "txn_abc", type: "step_done", step: 2, workflow: "checkout", seq: 4, ts_ms: 1_772_409_600_123, due_ms: 1_772_409_600_123, emitted_ms: 1_772_409_602_123, delay_ms: 2000 },
  { kind: "delay", txn_id: "txn_ü\"\\x", type: "step_open", record: "Commandé «A»", step: 1, attempt: 2, workflow: "café\n", seq: 3, ts_ms: 5, due_ms: 5, emitted_ms: 30_005, delay_ms: 30_000 },
  { kind: "skew", txn_id: "txn_abc", type: "transaction_open", seq: 0, ts_ms: 0, due_ms: 60_000, emitted_ms: 60_000, offset_ms: -60_000 },
  { kind: "skew", txn_id: "txn_def", type: "transaction_open", seq: 0, ts_ms: 9_007_199_254_740_991, due_ms: 9_007_199_254_740_000, emitted_ms: 9_007_199_254_740_000, offset_ms: 991 },
  { kind: "corrupt", txn_id: "txn_def", type: "transaction_close", record: "OrderCompleted", workflow: "w", seq: 15, ts_ms: 77, due_ms: 77, emitted_ms: 77, as: "truncated" },
  { kind: "corrupt", txn_id: "txn_def", type: "step_failed", step: 3, attempt: 1, seq: 9, ts_ms: 78, due_ms: 78, emitted_ms: 78, as: "not_json" },
];

const LABELS: TruthLine[] = [
  { kind: "outlier", txn_id: "txn_abc", ts_ms: 1_772_409_600_000, from_step: 1, to_step: 2, extra_ms: 5000 },
  { kind: "step_failure", txn_id: "txn_ü", ts_ms: 12, step: 1, step_name: "pay", attempt: 1, reason: "déclin \"net\"", final: false, workflow: "café" },
];

describe("TruthSink", () => {
  it("writes fault records and labels, interleaved, exactly as serializeTruth does", async () => {
    const records: TruthLine[] = [LABELS[0]!, ...FAULTS.slice(0, 3), LABELS[1]!, ...FAULTS.slice(3), LABELS[0]!];
    assert.equal(await written(records), records.map(serializeTruth).join(""));
  });

  it("keeps the order over many batches of the line writer, labels before the first fault included", async () => {
    const records: TruthLine[] = [LABELS[1]!];
    for (let i = 0; i < 30_000; i++) {
      const fault = FAULTS[i % FAULTS.length]!;
      records.push({ ...fault, txn_id: `txn_${i.toString(36)}`, seq: i });
      if (i % 7 === 0) records.push(LABELS[i % 2]!);
    }
    assert.equal(await written(records), records.map(serializeTruth).join(""));
  });

  it("writes fault records with every field present (writeFault) as their sparse forms, among labels, whole or not", async () => {
    const full = (record: FaultRecord): FaultRecord => ({
      record: undefined, step: undefined, attempt: undefined, workflow: undefined,
      emitted_ms: undefined, delay_ms: undefined, offset_ms: undefined, as: undefined, ...record,
    });
    const faults = [...FAULTS, { ...FAULTS[1]!, delay_ms: 2000.5 }];
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    const sink = new TruthSink(stream);
    let expected = "";
    for (let i = 0; i < 20_000; i++) {
      const fault = { ...faults[i % faults.length]!, txn_id: `txn_${i.toString(36)}` };
      sink.writeFault(full(fault));
      expected += serializeTruth(fault);
      if (i % 5 === 0) {
        sink.write(LABELS[i % 2]!);
        expected += serializeTruth(LABELS[i % 2]!);
      }
    }
    await sink.close({ end: true });
    assert.equal(Buffer.concat(chunks).toString("utf8"), expected);
  });

  it("writes fault records given as fields (writeFaultFields) as serializeTruth writes them, among labels and records, and refuses a delay that is not whole", async () => {
    // The fields path carries wfsim's own events' records: no `record`, no `attempt`.
    const own = FAULTS.map(({ record: _record, attempt: _attempt, ...rest }) => rest as FaultRecord);
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    const sink = new TruthSink(stream);
    const num = (value: number | undefined) => value ?? NaN;
    let expected = "";
    for (let i = 0; i < 20_000; i++) {
      const fault = { ...own[i % own.length]!, txn_id: `txn_${i.toString(36)}${i % 7 === 0 ? "é" : ""}` };
      if (i % 3 === 0) {
        sink.writeFault({ record: undefined, attempt: undefined, step: undefined, workflow: undefined, emitted_ms: undefined, delay_ms: undefined, offset_ms: undefined, as: undefined, ...fault });
      } else {
        const taken = sink.writeFaultFields(
          FAULT_KINDS.indexOf(fault.kind), fault.txn_id, fault.type, num(fault.step), fault.workflow, fault.seq,
          fault.ts_ms, fault.due_ms, num(fault.emitted_ms), num(fault.delay_ms), num(fault.offset_ms), fault.as,
        );
        assert.equal(taken, true);
      }
      expected += serializeTruth(fault);
      if (i % 5 === 0) {
        sink.write(LABELS[i % 2]!);
        expected += serializeTruth(LABELS[i % 2]!);
      }
    }
    assert.equal(sink.writeFaultFields(FAULT_KINDS.indexOf("delay"), "txn_x", "step_open", 1, undefined, 0, 0, 0, 5, 2.5, NaN, undefined), false);
    assert.equal(sink.writeFaultFields(FAULT_KINDS.indexOf("skew"), "txn_x", "step_open", 1, undefined, 0, 0, 0, 0, NaN, -0.5, undefined), false);
    await sink.close({ end: true });
    assert.equal(Buffer.concat(chunks).toString("utf8"), expected);
  });

  it("writes a fault whose delay is not a whole number as serializeTruth does", async () => {
    const records: TruthLine[] = [{ ...FAULTS[1]!, delay_ms: 2000.5 }];
    assert.equal(await written(records), records.map(serializeTruth).join(""));
  });
});

describe("LineWriter.writeText", () => {
  it("puts text lines among the records, in order, as they are", () => {
    const chunks: Buffer[] = [];
    const writer = new LineWriter((chunk) => chunks.push(Buffer.from(chunk)));
    const texts = ["txn_id=txn_1 type=step_open ts_ms=5 step=1", '{"type":"step_do', "ünïcode \"text\" \\", "x".repeat(5000)];
    let expected = "";
    for (let i = 0; i < 20_000; i++) {
      const event = SAMPLE_EVENTS[i % SAMPLE_EVENTS.length]!;
      writer.write(event);
      expected += serializeEvent(event);
      if (i % 3 === 0) {
        const text = texts[i % texts.length]!;
        writer.writeText(text);
        expected += `${text}\n`;
      }
    }
    writer.flush();
    assert.ok(chunks.length > 1, "several batches");
    assert.equal(Buffer.concat(chunks).toString("utf8"), expected);
  });
});
