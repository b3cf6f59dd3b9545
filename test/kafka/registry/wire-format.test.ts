// The Confluent wire format's header and Protobuf message indexes, against bytes worked out by hand
// from the format's description (zigzag varints; the path [0] is the single byte 0).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { messageIndexBytes, readMessageIndexes, readWireHeader, wireHeader, WireFormatError } from "../../../src/kafka/registry/wire-format.ts";

describe("Confluent wire format", () => {
  test("header: magic byte 0 and the schema id big-endian", () => {
    assert.deepEqual([...wireHeader(1)], [0, 0, 0, 0, 1]);
    assert.deepEqual([...wireHeader(0x01020304)], [0, 1, 2, 3, 4]);
    assert.deepEqual(readWireHeader(Buffer.from([0, 0x80, 0, 0, 7, 42])), { schemaId: 0x80000007, offset: 5 });
  });

  test("message indexes: [0] is 00, others a zigzag count then zigzag indexes", () => {
    assert.deepEqual([...messageIndexBytes([0])], [0x00]);
    assert.deepEqual([...messageIndexBytes([2])], [0x02, 0x04]);
    assert.deepEqual([...messageIndexBytes([1, 0])], [0x04, 0x02, 0x00]);
    assert.deepEqual([...messageIndexBytes([64])], [0x02, 0x80, 0x01]);
    assert.deepEqual([...wireHeader(9, messageIndexBytes([3]))], [0, 0, 0, 0, 9, 0x02, 0x06]);
  });

  test("message indexes read back", () => {
    for (const path of [[0], [1], [5], [1, 0], [64], [2, 3, 4]]) {
      const bytes = Buffer.concat([Buffer.from([0xaa]), messageIndexBytes(path), Buffer.from([0xff])]);
      assert.deepEqual(readMessageIndexes(bytes, 1), { path, next: bytes.length - 1 });
    }
  });

  test("a value that is not in the wire format is refused by name", () => {
    assert.throws(() => readWireHeader(Buffer.from('{"type":"x"}')), (error) => error instanceof WireFormatError && /first byte 123/.test(error.message));
    assert.throws(() => readWireHeader(Buffer.from([0, 0, 0])), WireFormatError);
    assert.throws(() => readMessageIndexes(Buffer.from([0x02]), 0), WireFormatError);
  });
});
