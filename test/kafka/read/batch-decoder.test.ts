/** Record batches read in place: the records as written, CRC-32C checked, compressed, control and aborted batches. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32c } from "@platformatic/kafka";
import { COMPRESSIONS, zstdAvailable } from "../../../src/config/kafka-options.ts";
import { WfsimError } from "../../../src/errors.ts";
import { decodeBatches, type DecodedRecords, type DecodeSettings } from "../../../src/kafka/read/batch-decoder.ts";
import { RANK_END, RANK_OPEN, RANK_STEP } from "../../../src/kafka/read/record-merge.ts";
import { encodeHeaders, NO_PRODUCER, RecordBatchBuilder, type BatchIdentity } from "../../../src/kafka/record-batch.ts";

interface Sample {
  readonly key: string;
  readonly value: string;
  readonly type: string | undefined;
  readonly ts: number;
}

const T0 = 1_767_225_600_000;
const SAMPLES: Sample[] = [
  { key: "txn_a", value: '{"type":"transaction_open","txn_id":"txn_a"}', type: "transaction_open", ts: T0 },
  { key: "txn_a", value: '{"type":"step_open","note":"héllo ✓"}', type: "step_open", ts: T0 + 7 },
  // Earlier than the batch's first record: a negative timestamp delta.
  { key: "txn_b", value: '{"type":"transaction_close"}', type: "transaction_close", ts: T0 - 1_000 },
  // No header: the rank comes from the value (transactions topic).
  { key: "txn_c", value: '{"type":"transaction_open"}', type: undefined, ts: T0 + 40 * 86_400_000 },
  { key: "txn_d", value: '{"type":"step_done",\n"x":"a\rb"}', type: "step_done", ts: T0 + 9 },
];

function batch(samples: readonly Sample[], baseOffset: number, compression: (typeof COMPRESSIONS)[number] = "none", identity: BatchIdentity = NO_PRODUCER, attributes = 0): Buffer {
  const builder = new RecordBatchBuilder();
  for (const { key, value, type, ts } of samples) {
    builder.append(Buffer.from(key), `${value}\n`, Buffer.byteLength(value), encodeHeaders(type === undefined ? [] : [["event_type", type]]), ts);
  }
  const bytes = Buffer.from(builder.finish(identity, compression));
  bytes.writeBigInt64BE(BigInt(baseOffset), 0);
  if (attributes !== 0) {
    bytes.writeInt16BE(bytes.readInt16BE(21) | attributes, 21);
    bytes.writeUInt32BE(crc32c(bytes.subarray(21)) >>> 0, 17);
  }
  return bytes;
}

const SETTINGS: DecodeSettings = { where: "txn-0", from: 0, end: Infinity, topicIndex: 0, aborted: null, arrived: 5 };

function values(records: DecodedRecords | undefined): string[] {
  if (records === undefined) return [];
  return Array.from({ length: records.count }, (_, i) => records.buffers[records.buffer[i]!]!.toString("utf8", records.valueStart[i]!, records.valueEnd[i]!));
}

describe("record batch decoder", () => {
  it("reads the records as written: values, keys, timestamps, offsets, ranks, a newline after each value", () => {
    const { records, next } = decodeBatches(batch(SAMPLES, 100), SETTINGS);
    assert.equal(next, 105);
    assert.ok(records !== undefined);
    assert.deepEqual(values(records), SAMPLES.map((s) => s.value));
    assert.deepEqual([...records.ts.subarray(0, 5)], SAMPLES.map((s) => s.ts));
    assert.deepEqual([...records.offset.subarray(0, 5)], [100, 101, 102, 103, 104]);
    assert.deepEqual([...records.rank.subarray(0, 5)], [RANK_OPEN, RANK_STEP, RANK_END, RANK_OPEN, RANK_STEP]);
    assert.deepEqual([...records.lineBreaks.subarray(0, 5)], [0, 0, 0, 0, 1]);
    for (let i = 0; i < 5; i++) {
      const bytes: Buffer = records.buffers[records.buffer[i]!]!;
      assert.equal(bytes.toString("utf8", records.keyStart[i]!, records.keyEnd[i]!), SAMPLES[i]!.key);
      assert.equal(bytes[records.valueEnd[i]!], 10);
    }
    assert.equal(records.arrived, 5);
  });

  for (const compression of COMPRESSIONS.filter((c) => c !== "none" && (c !== "zstd" || zstdAvailable()))) {
    it(`reads ${compression}-compressed batches with the client's codecs`, () => {
      const bytes = Buffer.concat([batch(SAMPLES.slice(0, 2), 0, compression), batch(SAMPLES.slice(2), 2, compression)]);
      const { records, next } = decodeBatches(bytes, SETTINGS);
      assert.equal(next, 5);
      assert.deepEqual(values(records), SAMPLES.map((s) => s.value));
      assert.deepEqual([...records!.offset.subarray(0, 5)], [0, 1, 2, 3, 4]);
    });
  }

  it("refuses a batch whose bytes were changed: a CRC-32C mismatch, named by partition and offset", () => {
    const bytes = batch(SAMPLES, 40);
    bytes[bytes.length - 20]! ^= 0x01;
    assert.throws(
      () => decodeBatches(bytes, SETTINGS),
      (error: unknown) => error instanceof WfsimError && error.code === "KAFKA_RECORDS" && /^txn-0 offset 40: record batch fails its CRC-32C check/.test(error.message),
    );
  });

  it("keeps only the records in [from, end), and leaves a batch cut short for the next fetch", () => {
    const whole = Buffer.concat([batch(SAMPLES.slice(0, 3), 10), batch(SAMPLES.slice(3), 13)]);
    const cut = whole.subarray(0, whole.length - 7);
    const { records, next } = decodeBatches(cut, { ...SETTINGS, from: 11, end: 13 });
    assert.equal(next, 13);
    assert.deepEqual(values(records), [SAMPLES[1]!.value, SAMPLES[2]!.value]);
    assert.deepEqual(decodeBatches(whole.subarray(0, 30), SETTINGS), { records: undefined, next: 0 });
  });

  it("skips control batches and the batches of transactions listed as aborted", () => {
    const producer = (id: bigint): BatchIdentity => ({ producerId: id, producerEpoch: 0, baseSequence: 0 });
    const TRANSACTIONAL = 0x10;
    const CONTROL = 0x20;
    const bytes = Buffer.concat([
      batch(SAMPLES.slice(0, 1), 0, "none", producer(7n), TRANSACTIONAL), // aborted below
      batch(SAMPLES.slice(1, 2), 1, "none", producer(8n), TRANSACTIONAL), // committed
      batch([{ key: "", value: "\u0000\u0000\u0000\u0000", type: undefined, ts: T0 }], 2, "none", producer(7n), TRANSACTIONAL | CONTROL), // abort marker
      batch([{ key: "", value: "\u0000\u0000\u0000\u0001", type: undefined, ts: T0 }], 3, "none", producer(8n), TRANSACTIONAL | CONTROL), // commit marker
      batch(SAMPLES.slice(2, 3), 4, "none", producer(7n), TRANSACTIONAL), // producer 7's next transaction, committed
    ]);
    const { records, next } = decodeBatches(bytes, { ...SETTINGS, aborted: [{ producerId: 7n, firstOffset: 0 }] });
    assert.equal(next, 5);
    assert.deepEqual(values(records), [SAMPLES[1]!.value, SAMPLES[2]!.value]);
  });
});
