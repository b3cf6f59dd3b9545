import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32c, murmur2 as clientMurmur2, Reader, readRecordsBatch } from "@platformatic/kafka";
import { zstdAvailable } from "../../src/config/kafka-options.ts";
import { keyHash, murmur2 } from "../../src/kafka/partition.ts";
import { BATCH_HEADER_BYTES, encodeHeaders, NO_PRODUCER, RecordBatchBuilder } from "../../src/kafka/record-batch.ts";

describe("murmur2 partitioning", () => {
  it("matches Kafka's Utils.murmur2 on the Java client's own test vectors", () => {
    // From Kafka's UtilsTest.testMurmur2.
    const vectors: [string, number][] = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      ["abc", 479470107],
    ];
    for (const [text, expected] of vectors) assert.equal(murmur2(Buffer.from(text)), expected, text);
  });

  it("agrees with @platformatic/kafka's port on transaction ids of every length", () => {
    for (let i = 0; i < 5000; i++) {
      const key = Buffer.from(`txn_${i.toString(36).repeat(1 + (i % 5))}`);
      assert.equal(murmur2(key), clientMurmur2(key));
      assert.equal(keyHash(key), clientMurmur2(key) & 0x7fffffff);
    }
  });
});

interface Sample {
  key: string;
  value: string;
  type: string;
  ts: number;
}

function build(samples: readonly Sample[], capacity?: number): RecordBatchBuilder {
  const builder = new RecordBatchBuilder(undefined, capacity);
  for (const { key, value, type, ts } of samples) {
    builder.append(Buffer.from(key), `${value}\n`, Buffer.byteLength(value), encodeHeaders([["event_type", type]]), ts);
  }
  return builder;
}

const SAMPLES: Sample[] = [
  { key: "txn_a", value: '{"type":"transaction_open","ts_ms":1767225600000}', type: "transaction_open", ts: 1_767_225_600_000 },
  { key: "txn_b", value: '{"type":"step_open","note":"héllo ✓"}', type: "step_open", ts: 1_767_225_600_007 },
  // Earlier than the batch's first record: a negative timestamp delta.
  { key: "txn_a", value: '{"type":"step_done"}', type: "step_done", ts: 1_767_225_599_000 },
  // Days later: a delta beyond 32 bits of zigzag.
  { key: "txn_c", value: "x".repeat(300), type: "inter_step_wait", ts: 1_767_225_600_000 + 40 * 86_400_000 },
];

describe("record batches", () => {
  it("decode with @platformatic/kafka's reader to the records written, with a valid CRC-32C", () => {
    const builder = build(SAMPLES);
    const batch = builder.finish({ producerId: 4242n, producerEpoch: 3, baseSequence: 17 }, "none");
    const decoded = readRecordsBatch(Reader.from(batch));
    assert.equal(decoded.magic, 2);
    assert.equal(decoded.length, batch.length - 12);
    assert.equal(decoded.producerId, 4242n);
    assert.equal(decoded.producerEpoch, 3);
    assert.equal(decoded.firstSequence, 17);
    assert.equal(decoded.lastOffsetDelta, SAMPLES.length - 1);
    assert.equal(decoded.firstTimestamp, BigInt(SAMPLES[0]!.ts));
    assert.equal(decoded.maxTimestamp, BigInt(SAMPLES[3]!.ts));
    assert.equal(decoded.crc, crc32c(batch.subarray(21)) >>> 0);
    assert.equal(decoded.records.length, SAMPLES.length);
    decoded.records.forEach((record, i) => {
      const sample = SAMPLES[i]!;
      assert.equal(record.offsetDelta, i);
      assert.equal(decoded.firstTimestamp + record.timestampDelta, BigInt(sample.ts));
      assert.equal(String(record.key), sample.key);
      assert.equal(String(record.value), sample.value);
      assert.deepEqual(
        record.headers.map(([k, v]) => [String(k), String(v)]),
        [["event_type", sample.type]],
      );
    });
  });

  it("grows past its first buffer and can be finished again under another producer id", () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({ ...SAMPLES[i % SAMPLES.length]!, ts: 1_000 + i }));
    const builder = build(many, 128);
    assert.equal(builder.records, 2000);
    const first = Buffer.from(builder.finish({ producerId: 1n, producerEpoch: 0, baseSequence: 5 }, "none"));
    const again = builder.finish({ producerId: 2n, producerEpoch: 0, baseSequence: 0 }, "none");
    assert.equal(first.length, again.length);
    const decoded = readRecordsBatch(Reader.from(again));
    assert.equal(decoded.producerId, 2n);
    assert.equal(decoded.firstSequence, 0);
    assert.equal(decoded.crc, crc32c(again.subarray(21)) >>> 0);
    assert.equal(decoded.records.length, 2000);
    assert.equal(String(decoded.records[1999]!.value), many[1999]!.value);
  });

  it("gives back the keys of its records, in order, binary values and long keys included, after being finished", () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({ ...SAMPLES[i % SAMPLES.length]!, key: `txn_${"k".repeat(i % 200)}${i}`, ts: 1_000 + i * 7 }));
    const builder = build(many, 128);
    builder.appendBytes(Buffer.from("txn_binary"), new Uint8Array([0, 255, 128, 1]), encodeHeaders([]), 5);
    builder.finish(NO_PRODUCER, "gzip");
    const keys: string[] = [];
    builder.forEachKey((key) => keys.push(key.toString("utf8")));
    assert.deepEqual(keys, [...many.map((s) => s.key), "txn_binary"]);
  });

  it("carries -1 for producer id, epoch and sequence without idempotence", () => {
    const decoded = readRecordsBatch(Reader.from(build(SAMPLES).finish(NO_PRODUCER, "none")));
    assert.equal(decoded.producerId, -1n);
    assert.equal(decoded.producerEpoch, -1);
    assert.equal(decoded.firstSequence, -1);
  });

  const BITMASKS = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
  for (const compression of (Object.keys(BITMASKS) as (keyof typeof BITMASKS)[]).filter((c) => c !== "zstd" || zstdAvailable())) {
    it(`compresses its records with ${compression}, and the client decompresses them`, () => {
      const many = Array.from({ length: 500 }, (_, i) => ({ ...SAMPLES[i % SAMPLES.length]!, ts: 1_000 + i }));
      const plain = build(many).finish(NO_PRODUCER, "none").length;
      const batch = build(many).finish({ producerId: 9n, producerEpoch: 1, baseSequence: 0 }, compression);
      assert.ok(batch.length < plain, `${compression}: ${batch.length} bytes, uncompressed ${plain}`);
      assert.equal(batch.readInt16BE(21) & 0b111, BITMASKS[compression]);
      const decoded = readRecordsBatch(Reader.from(batch));
      assert.equal(decoded.crc, crc32c(batch.subarray(21)) >>> 0);
      assert.deepEqual(
        decoded.records.map((r) => String(r.value)),
        many.map((s) => s.value),
      );
    });
  }

  it("starts with the 61-byte v2 header", () => {
    const builder = new RecordBatchBuilder();
    assert.equal(builder.bytes, BATCH_HEADER_BYTES);
    assert.equal(BATCH_HEADER_BYTES, 61);
  });
});
