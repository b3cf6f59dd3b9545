/**
 * CRC-32C, as record batches carry it: @platformatic/kafka's own native implementation
 * (@node-rs/crc32, its optional dependency, SSE 4.2), called directly, because the client's wrapper
 * copies every input first, which makes it 15 times slower (900 ms against 60 for 200 MB); the
 * wrapper (with its WebAssembly fallback) where the native package is not installed (which loads the
 * client, kafka-client.ts: a reader does not otherwise). Shared by the producer (record-batch.ts)
 * and the reader (read/batch-decoder.ts).
 */
import { createRequire } from "node:module";
import { kafkaClient } from "./kafka-client.ts";

export const crc32c: (bytes: Uint8Array) => number = (() => {
  try {
    const native = createRequire(import.meta.url)("@node-rs/crc32") as { crc32c(input: Uint8Array): number };
    return (bytes: Uint8Array) => native.crc32c(bytes);
  } catch {
    return (bytes: Uint8Array) => kafkaClient().crc32c(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
})();
