/**
 * The `limit` best items of a stream, in memory bounded by `limit`: a binary heap whose root is the
 * worst item kept, so a better newcomer replaces it in O(log limit).
 */
export class BoundedHeap<T> {
  private readonly items: T[] = [];
  private readonly limit: number;
  /** True when a ranks strictly better than b. */
  private readonly better: (a: T, b: T) => boolean;

  constructor(limit: number, better: (a: T, b: T) => boolean) {
    this.limit = limit;
    this.better = better;
  }

  /**
   * The worst item kept once the heap is full (a newcomer must rank better to get in); undefined
   * while there is room. Lets callers skip building items that would not be kept.
   */
  peek(): T | undefined {
    return this.items.length < this.limit ? undefined : this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    if (items.length < this.limit) {
      items.push(item);
      this.up(items.length - 1);
    } else if (this.limit > 0 && this.better(item, items[0]!)) {
      items[0] = item;
      this.down(0);
    }
  }

  /** The items kept, best first. */
  sorted(): T[] {
    return [...this.items].sort((a, b) => (this.better(a, b) ? -1 : this.better(b, a) ? 1 : 0));
  }

  private up(i: number): void {
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.better(items[parent]!, items[i]!)) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  private down(i: number): void {
    const items = this.items;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < items.length && this.better(items[worst]!, items[left]!)) worst = left;
      if (right < items.length && this.better(items[worst]!, items[right]!)) worst = right;
      if (worst === i) return;
      [items[worst], items[i]] = [items[i]!, items[worst]!];
      i = worst;
    }
  }
}
