/**
 * The Confluent wire format of a record's value: magic byte 0, the schema id (4 bytes, big-endian),
 * for Protobuf the index path of the message in its file, then the payload. Message indexes are a
 * count and the indexes as zigzag varints; the common path [0] (the file's first message) is the single
 * byte 0.
 */
export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

/** A value that may be in the wire format: magic byte 0 (a JSON line starts with `{` or a space). */
export function isWireFormat(value: Uint8Array): boolean {
  return value.length >= HEADER_BYTES && value[0] === MAGIC_BYTE;
}

export class WireFormatError extends Error {
  override readonly name = "WireFormatError";
}

function zigzagVarint(value: number, out: number[]): void {
  let n = value >= 0 ? value * 2 : -value * 2 - 1;
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

/** The bytes of a Protobuf message index path: [0] -> 00, [2] -> 02 04, [1, 0] -> 04 02 00. */
export function messageIndexBytes(path: readonly number[]): Buffer {
  if (path.length === 1 && path[0] === 0) return Buffer.from([0]);
  const out: number[] = [];
  zigzagVarint(path.length, out);
  for (const index of path) zigzagVarint(index, out);
  return Buffer.from(out);
}

/** The 5-byte header, plus the message index bytes when given (Protobuf). */
export function wireHeader(schemaId: number, indexes?: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES + (indexes?.length ?? 0));
  header[0] = MAGIC_BYTE;
  header.writeUInt32BE(schemaId, 1);
  indexes?.copy(header, HEADER_BYTES);
  return header;
}

export interface FramedValue {
  readonly schemaId: number;
  /** Where the payload (or for Protobuf the message indexes) starts. */
  readonly offset: number;
}

/** Reads the header of a value in the wire format; throws WireFormatError when it is not one. */
export function readWireHeader(value: Uint8Array): FramedValue {
  if (value.length < HEADER_BYTES || value[0] !== MAGIC_BYTE) {
    throw new WireFormatError(
      value.length === 0 ? "an empty value" : `a value that does not start with the magic byte 0 (first byte ${value[0]}, ${value.length} bytes)`,
    );
  }
  const schemaId = ((value[1]! << 24) >>> 0) + (value[2]! << 16) + (value[3]! << 8) + value[4]!;
  return { schemaId, offset: HEADER_BYTES };
}

function readZigzag(value: Uint8Array, at: number): { readonly value: number; readonly next: number } {
  let result = 0;
  let shift = 1;
  let i = at;
  for (;;) {
    if (i >= value.length) throw new WireFormatError("a Protobuf message index that runs past the value's end");
    const byte = value[i++]!;
    result += (byte & 0x7f) * shift;
    if ((byte & 0x80) === 0) break;
    shift *= 128;
  }
  return { value: result % 2 === 0 ? result / 2 : -(result + 1) / 2, next: i };
}

/** Reads the message index path at `offset` (Protobuf values): the path and where the message starts. */
export function readMessageIndexes(value: Uint8Array, offset: number): { readonly path: readonly number[]; readonly next: number } {
  const count = readZigzag(value, offset);
  if (count.value === 0) return { path: [0], next: count.next };
  const path: number[] = [];
  let at = count.next;
  for (let i = 0; i < count.value; i++) {
    const index = readZigzag(value, at);
    path.push(index.value);
    at = index.next;
  }
  return { path, next: at };
}
