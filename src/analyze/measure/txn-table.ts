/**
 * Open transactions by id, looked up straight from the bytes of a line: no string is made for an id
 * unless it is a new transaction. Open addressing with linear probing and backward-shift deletion,
 * so a table that stays busy never fills up with tombstones; it grows with the transactions open at
 * once and nothing else.
 */

export interface Keyed {
  /** The id's UTF-8 bytes, one char per byte (latin1), so that it compares with raw bytes. */
  readonly key: string;
  readonly hash: number;
}

/** The key of an id given as a string: its UTF-8 bytes, one char per byte. */
export function tableKey(txnId: string): string {
  return Buffer.from(txnId, "utf8").toString("latin1");
}

export class TxnTable<V extends Keyed> {
  private slots: (V | undefined)[];
  private hashes: Int32Array;
  private mask: number;
  private count = 0;
  /** Slot of the last successful `find`, for an O(1) `removeFound`. */
  private found = -1;

  constructor(capacity = 1024) {
    const size = 1 << Math.ceil(Math.log2(Math.max(16, capacity)));
    this.slots = new Array<V | undefined>(size).fill(undefined);
    this.hashes = new Int32Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  find(bytes: Uint8Array, start: number, end: number, hash: number): V | undefined {
    const length = end - start;
    let i = hash & this.mask;
    for (;;) {
      const value = this.slots[i];
      if (value === undefined) return undefined;
      if (this.hashes[i] === hash) {
        const key = value.key;
        if (key.length === length) {
          let same = true;
          for (let k = 0; k < length; k++) {
            if (key.charCodeAt(k) !== bytes[start + k]) {
              same = false;
              break;
            }
          }
          if (same) {
            this.found = i;
            return value;
          }
        }
      }
      i = (i + 1) & this.mask;
    }
  }

  /** The same lookup by key string (see Keyed.key). */
  findKey(key: string, hash: number): V | undefined {
    let i = hash & this.mask;
    for (;;) {
      const value = this.slots[i];
      if (value === undefined) return undefined;
      if (this.hashes[i] === hash && value.key === key) {
        this.found = i;
        return value;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Adds a value whose key is not in the table. */
  insert(value: V): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    this.place(value);
    this.count++;
  }

  /** Removes the value the last `find` returned. */
  removeFound(): void {
    const slots = this.slots;
    const hashes = this.hashes;
    const mask = this.mask;
    let hole = this.found;
    this.found = -1;
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const value = slots[j];
      if (value === undefined) break;
      const home = hashes[j]! & mask;
      // Move the entry back into the hole unless its home lies cyclically in (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        slots[hole] = value;
        hashes[hole] = hashes[j]!;
        hole = j;
      }
    }
    slots[hole] = undefined;
    this.count--;
  }

  values(): IterableIterator<V> {
    return (this.slots.filter((value) => value !== undefined) as V[])[Symbol.iterator]();
  }

  private place(value: V): void {
    let i = value.hash & this.mask;
    while (this.slots[i] !== undefined) i = (i + 1) & this.mask;
    this.slots[i] = value;
    this.hashes[i] = value.hash;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Array<V | undefined>(old.length * 2).fill(undefined);
    this.hashes = new Int32Array(old.length * 2);
    this.mask = old.length * 2 - 1;
    this.found = -1;
    for (const value of old) if (value !== undefined) this.place(value);
  }
}
