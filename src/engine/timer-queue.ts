/** Something waiting in the queue: due at `due` (simulated ms); `seq` breaks ties first-in, first-out. */
export interface Timed {
  due: number;
  seq: number;
}

/**
 * A binary min-heap on (due, seq). Ties at the same millisecond leave in the order they were pushed,
 * which is what makes the virtual clock's output the same on every run.
 */
export class TimerQueue<T extends Timed> {
  private readonly heap: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Due time of the earliest item; Infinity when empty. */
  peekDue(): number {
    return this.heap.length > 0 ? this.heap[0]!.due : Infinity;
  }

  push(item: T, due: number): void {
    item.due = due;
    item.seq = this.nextSeq++;
    const heap = this.heap;
    let index = heap.length;
    heap.push(item);
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!before(item, parent)) break;
      heap[index] = parent;
      index = parentIndex;
    }
    heap[index] = item;
  }

  pop(): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    const size = heap.length;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= size) break;
      const right = left + 1;
      let child = left;
      if (right < size && before(heap[right]!, heap[left]!)) child = right;
      if (!before(heap[child]!, last)) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
    return top;
  }

  /** Every item still queued, in no particular order. */
  items(): readonly T[] {
    return this.heap;
  }

  clear(): void {
    this.heap.length = 0;
  }
}

function before(a: Timed, b: Timed): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
