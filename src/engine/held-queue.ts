/**
 * Delivery faults' held records (delayed, or duplicated to go out again), in the order they come due:
 * by due time, then first pushed first, as the engine's TimerQueue orders its items, so the same
 * records leave at the same places. A binary heap of its own, with the keys beside the items: were
 * the held records in a TimerQueue, its code (the engine's timer queue, on every wake) would see a
 * second shape of item, and every read of `due` and `seq` in the engine's pushes, pops and peeks
 * would be polymorphic: several percent of a run with faults.
 */
export class HeldQueue<T> {
  private readonly items: T[] = [];
  private readonly dues: number[] = [];
  private readonly seqs: number[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  /** Due time of the earliest item; Infinity when empty. */
  peekDue(): number {
    return this.dues.length > 0 ? this.dues[0]! : Infinity;
  }

  push(item: T, due: number): void {
    const { items, dues, seqs } = this;
    const seq = this.nextSeq++;
    let index = items.length;
    items.push(item);
    dues.push(due);
    seqs.push(seq);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!(due < dues[parent]! || (due === dues[parent]! && seq < seqs[parent]!))) break;
      this.place(index, parent);
      index = parent;
    }
    items[index] = item;
    dues[index] = due;
    seqs[index] = seq;
  }

  pop(): T | undefined {
    const { items, dues, seqs } = this;
    const top = items[0];
    const last = items.pop();
    const lastDue = dues.pop()!;
    const lastSeq = seqs.pop()!;
    const size = items.length;
    if (size === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && this.before(right, left) ? right : left;
      if (!(dues[child]! < lastDue || (dues[child] === lastDue && seqs[child]! < lastSeq))) break;
      this.place(index, child);
      index = child;
    }
    items[index] = last!;
    dues[index] = lastDue;
    seqs[index] = lastSeq;
    return top;
  }

  /** Whether the item at `a` comes before the one at `b`. */
  private before(a: number, b: number): boolean {
    const dues = this.dues;
    return dues[a]! < dues[b]! || (dues[a] === dues[b] && this.seqs[a]! < this.seqs[b]!);
  }

  /** Moves the item at `from` to `to`. */
  private place(to: number, from: number): void {
    this.items[to] = this.items[from]!;
    this.dues[to] = this.dues[from]!;
    this.seqs[to] = this.seqs[from]!;
  }
}
