/** Smallest buffer handed out: a batch of a few records. */
const MIN_CAPACITY = 16 * 1024;

/**
 * Buffers for reuse, by power-of-two capacity. A producer's batch buffer comes back once Kafka has
 * the batch, a reader's fetched bytes once their records are read, so that a long run allocates its
 * memory once instead of hundreds of megabytes a second of large buffers for the garbage collector
 * (and the kernel, which zeroes fresh pages). A file of its own, free of the Kafka client: the
 * reader uses it without loading the client (see kafka-client.ts).
 */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private readonly maxBytes: number;
  private pooledBytes = 0;

  /** Keeps at most `maxBytes` of free buffers. */
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  take(atLeast: number): Buffer {
    let capacity = MIN_CAPACITY;
    while (capacity < atLeast) capacity *= 2;
    const buffer = this.free.get(capacity)?.pop();
    if (buffer === undefined) return Buffer.allocUnsafeSlow(capacity);
    this.pooledBytes -= capacity;
    return buffer;
  }

  give(buffer: Buffer): void {
    if (this.pooledBytes + buffer.length > this.maxBytes) return;
    const list = this.free.get(buffer.length);
    if (list === undefined) this.free.set(buffer.length, [buffer]);
    else list.push(buffer);
    this.pooledBytes += buffer.length;
  }
}
