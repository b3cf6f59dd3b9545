/**
 * Kafka's default partitioner for keyed records, as the Java client computes it:
 * `toPositive(murmur2(keyBytes)) % partitions`. wfsim hands @platformatic/kafka the positive hash as
 * the record's partition and the client takes it modulo the topic's current partition count, so a
 * transaction's events land where a Java producer (or Kafka Streams) would put the same key.
 *
 * @platformatic/kafka's own default partitioner takes the hash as unsigned (`>>> 0`) instead of
 * masking its sign bit, which sends about half of the keys to other partitions than Java's whenever
 * the partition count is not a power of two.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Java's `Utils.murmur2` (MurmurHash2, 32 bit, Kafka's seed) on the key's bytes, as a signed int. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length - (length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length - whole;
  if (rest > 0) {
    if (rest === 3) h ^= data[whole + 2]! << 16;
    if (rest >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The non-negative hash Kafka's default partitioner takes modulo the partition count. */
export function keyHash(key: Uint8Array): number {
  return murmur2(key) & 0x7fffffff;
}
