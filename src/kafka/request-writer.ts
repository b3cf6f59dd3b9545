/**
 * A Kafka request written into one growing buffer, size first: what wfsim's own connections send
 * (the reader's Fetch, Metadata, ListOffsets and ApiVersions), without the client's Writer (a chunk
 * per field, and the client's whole module loaded for it; see kafka-client.ts).
 */
const SIZE_BYTES = 4;

export class RequestWriter {
  private buffer = Buffer.allocUnsafe(256);
  private used = SIZE_BYTES;

  /** Request header v2 (flexible versions; ApiVersions v3 too): api key, version, correlation id, client id, no tagged fields. */
  static header(apiKey: number, version: number, correlationId: number, clientId: string): RequestWriter {
    const writer = new RequestWriter().int16(apiKey).int16(version).int32(correlationId);
    const id = Buffer.from(clientId, "utf8");
    writer.int16(id.length).bytes(id);
    return writer.taggedFields();
  }

  int8(value: number): this {
    this.room(1);
    this.used = this.buffer.writeInt8(value, this.used);
    return this;
  }

  boolean(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  int16(value: number): this {
    this.room(2);
    this.used = this.buffer.writeInt16BE(value, this.used);
    return this;
  }

  int32(value: number): this {
    this.room(4);
    this.used = this.buffer.writeInt32BE(value, this.used);
    return this;
  }

  /** A signed 64-bit integer given as a safe integer (offsets, timestamps). */
  int64(value: number): this {
    this.room(8);
    this.used = this.buffer.writeBigInt64BE(BigInt(value), this.used);
    return this;
  }

  unsignedVarInt(value: number): this {
    this.room(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      this.buffer[this.used++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buffer[this.used++] = v;
    return this;
  }

  /** A compact array's length (count + 1; 0 is null). */
  compactArrayLength(count: number): this {
    return this.unsignedVarInt(count + 1);
  }

  compactString(value: string): this {
    const bytes = Buffer.from(value, "utf8");
    return this.unsignedVarInt(bytes.length + 1).bytes(bytes);
  }

  /** A UUID written as 8-4-4-4-12 hex digits (a topic id). */
  uuid(value: string): this {
    const bytes = Buffer.from(value.replaceAll("-", ""), "hex");
    if (bytes.length !== 16) throw new RangeError(`not a UUID: ${value}`);
    return this.bytes(bytes);
  }

  /** No tagged fields. */
  taggedFields(): this {
    return this.unsignedVarInt(0);
  }

  bytes(bytes: Uint8Array): this {
    this.room(bytes.length);
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
    return this;
  }

  /** The bytes written, without the size (a body handed to the client's connection, which adds its header). */
  contents(): Buffer {
    return this.buffer.subarray(SIZE_BYTES, this.used);
  }

  /** The request as sent: its size, then its bytes. */
  frame(): Buffer {
    this.buffer.writeInt32BE(this.used - SIZE_BYTES, 0);
    return this.buffer.subarray(0, this.used);
  }

  private room(bytes: number): void {
    if (this.used + bytes <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.used + bytes, this.buffer.length * 2));
    this.buffer.copy(bigger, 0, 0, this.used);
    this.buffer = bigger;
  }
}
