/** Something waiting in the queue: due at `due` (simulated ms); `seq` breaks ties first-in, first-out. */
export interface Timed {
  due: number;
  seq: number;
}

/**
 * Buckets of the ring: one per simulated millisecond, for the next RING_MS ms from the earliest.
 * 65,536 ms holds the seed's ordinary waits (at most 3.2 s) even when a real-clock run has fallen
 * a minute behind: the ring starts at the earliest item, an overdue one, while the engine pushes at
 * the time it really is plus the wait, and what lands beyond the ring waits in the overflow heap,
 * whose every push and pop is a walk over scattered items. With 4,096 ms, a run of a million in
 * flight that fell a second behind sent nearly every wake through that heap and fell further behind
 * for it (16,384 ms held until it fell 13 s behind). A longer wait waits in the overflow heap until
 * its millisecond comes within the ring. Only the buckets in use hold an array (see `spare`), so the
 * ring's length costs memory only while a run is that far behind.
 */
const RING_BITS = 16;
const RING_MS = 1 << RING_BITS;
const RING_MASK = RING_MS - 1;
/** Where a bucket without items points: never written (a bucket takes an array when its first item comes). */
const NO_ITEMS: never[] = [];

/** Queue lengths at which TimerQueue changes its structure (apart, so it does not flap between them). */
export interface TimerQueueThresholds {
  /** From the heap to the calendar when it holds more than this. */
  readonly toCalendarAbove: number;
  /** Back to the heap when the calendar holds fewer than this. */
  readonly toHeapBelow: number;
}

const DEFAULT_THRESHOLDS: TimerQueueThresholds = { toCalendarAbove: 16_384, toHeapBelow: 2_048 };

/**
 * The engine's timer queue: items leave in (due, seq) order, so ties at the same millisecond leave in
 * the order they were pushed, which is what makes the virtual clock's output the same on every run.
 *
 * A few items wait in a binary heap, which then stays in the processor's cache. Many wait in a
 * calendar (below): with a million transactions in flight a heap's pop walks 20 levels of items
 * scattered over memory, a cache miss at nearly every level, and that was most of a real-clock run's
 * time; a calendar's push and pop touch one bucket each, but a bucket touched once per turn of its
 * ring is cold, which costs a small queue more than the heap's few levels. Both give the same order,
 * so moving the items across as the queue grows or shrinks changes nothing in the output.
 */
export class TimerQueue<T extends Timed> {
  private readonly heap = new TimerHeap<T>();
  private calendar: CalendarQueue<T> | undefined;
  private inCalendar = false;
  private nextSeq = 0;
  private readonly thresholds: TimerQueueThresholds;

  constructor(thresholds: TimerQueueThresholds = DEFAULT_THRESHOLDS) {
    this.thresholds = thresholds;
  }

  get size(): number {
    return this.inCalendar ? this.calendar!.size : this.heap.size;
  }

  /** Due time of the earliest item; Infinity when empty. */
  peekDue(): number {
    return this.inCalendar ? this.calendar!.peekDue() : this.heap.peekDue();
  }

  push(item: T, due: number): void {
    item.due = due;
    item.seq = this.nextSeq++;
    if (this.inCalendar) {
      this.calendar!.push(item);
    } else {
      this.heap.push(item);
      if (this.heap.size > this.thresholds.toCalendarAbove) this.toCalendar();
    }
  }

  pop(): T | undefined {
    if (!this.inCalendar) return this.heap.pop();
    const calendar = this.calendar!;
    const item = calendar.pop();
    if (calendar.size < this.thresholds.toHeapBelow) this.toHeap();
    return item;
  }

  /** Every item still queued, in no particular order. */
  items(): readonly T[] {
    return this.inCalendar ? this.calendar!.items() : this.heap.items();
  }

  clear(): void {
    this.heap.clear();
    this.calendar?.clear();
    this.inCalendar = false;
  }

  private toCalendar(): void {
    this.calendar ??= new CalendarQueue<T>();
    // In (due, seq) order, so every bucket fills in order.
    for (let item = this.heap.pop(); item !== undefined; item = this.heap.pop()) this.calendar.push(item);
    this.inCalendar = true;
  }

  private toHeap(): void {
    const calendar = this.calendar!;
    for (const item of calendar.items()) this.heap.push(item);
    calendar.clear();
    this.inCalendar = false;
  }
}

/**
 * A calendar queue keyed by the due millisecond. A push appends to the bucket of its millisecond and
 * a pop takes the next item of the current bucket; a bitmap of the buckets in use finds the next one
 * 32 milliseconds at a time. Dues are whole milliseconds in the seed's workload, so a bucket fills in
 * (due, seq) order by itself; a bucket that receives a due with a fraction (the open model's arrivals)
 * or a due already past is sorted by (due, seq) before its first item leaves, and an item pushed into
 * the bucket being emptied is inserted in its place. Items are pushed with their due and seq set.
 */
class CalendarQueue<T extends Timed> {
  // A bucket's array is kept from one turn of the ring to the next (allocating it again each
  // millisecond was a tenth of a small run's time); its items are `lengths[i]` long, and a slot is
  // emptied when its item leaves, so the queue holds on to nothing that has left.
  private readonly buckets: (T | undefined)[][] = Array.from({ length: RING_MS }, () => NO_ITEMS);
  /**
   * Arrays of buckets left behind, all slots emptied, for the next bucket to fill: the arrays in use
   * are as many as the milliseconds that hold items, however long the ring (each keeping the room
   * it grew to: allocating arrays each millisecond was a tenth of a small run's time).
   */
  private readonly spare: (T | undefined)[][] = [];
  private readonly lengths = new Int32Array(RING_MS);
  /** Bit b of word w: bucket 32w+b holds items. */
  private readonly occupied = new Uint32Array(RING_MS / 32);
  /** Buckets that may not be in (due, seq) order. */
  private readonly unsorted = new Uint8Array(RING_MS);
  /**
   * The due of each bucket's last item: whether a push keeps its bucket in order is told from here,
   * not from that item, another transaction's object and a cache miss with a million in flight.
   */
  private readonly lastDue = new Float64Array(RING_MS);
  /** Items due beyond the ring; every one of them has floor(due) >= base + RING_MS. */
  private readonly overflow = new TimerHeap<T>();
  /** The current millisecond: the ring holds items with floor(due) in [base, base + RING_MS), past dues in base's bucket. */
  private base = 0;
  /** Where the current bucket's items still waiting begin (those before have left). */
  private head = 0;
  private inRing = 0;
  /** No item in the ring is due at a later millisecond (since the ring was last empty). */
  private maxKey = 0;
  /** The current bucket holds an item due before its millisecond: the ring cannot start earlier. */
  private holdsPast = false;

  get size(): number {
    return this.inRing + this.overflow.size;
  }

  /** Due time of the earliest item; Infinity when empty. */
  peekDue(): number {
    const bucket = this.current();
    return bucket === undefined ? Infinity : bucket[this.head]!.due;
  }

  push(item: T): void {
    const key = Math.floor(item.due);
    if (this.inRing === 0) {
      // Nothing in the ring: start it at this item, whatever came before.
      this.maxKey = key;
      this.moveBase(Math.min(key, this.overflow.size > 0 ? Math.floor(this.overflow.peekDue()) : key));
    }
    if (key >= this.base + RING_MS) {
      this.overflow.push(item);
      return;
    }
    if (key < this.base && this.head === 0 && !this.holdsPast && this.maxKey - key < RING_MS) {
      // Earlier than every item, and nothing has left the current bucket yet: the ring starts
      // here instead (peeking moved it on to the first item, or the first push set it).
      this.base = key;
    }
    this.inRing++;
    if (key > this.maxKey) this.maxKey = key;
    if (key <= this.base) this.pushCurrent(item);
    else this.append(item, key);
  }

  pop(): T | undefined {
    const bucket = this.current();
    if (bucket === undefined) return undefined;
    this.inRing--;
    const item = bucket[this.head];
    bucket[this.head++] = undefined;
    return item;
  }

  /** Every item still queued, in no particular order. */
  items(): readonly T[] {
    const all: T[] = [];
    const start = this.base & RING_MASK;
    for (let i = 0; i < RING_MS; i++) {
      const index = (start + i) & RING_MASK;
      const bucket = this.buckets[index]!;
      for (let j = i === 0 ? this.head : 0; j < this.lengths[index]!; j++) all.push(bucket[j]!);
    }
    all.push(...this.overflow.items());
    return all;
  }

  clear(): void {
    this.buckets.fill(NO_ITEMS);
    this.spare.length = 0;
    this.lengths.fill(0);
    this.occupied.fill(0);
    this.unsorted.fill(0);
    this.overflow.clear();
    this.head = 0;
    this.inRing = 0;
    this.holdsPast = false;
  }

  /** The bucket of the earliest item, positioned at it (`head`), sorted; undefined when empty. */
  private current(): (T | undefined)[] | undefined {
    for (;;) {
      if (this.inRing === 0) {
        if (this.overflow.size === 0) return undefined;
        this.moveBase(Math.floor(this.overflow.peekDue()));
        continue;
      }
      const index = this.base & RING_MASK;
      const bucket = this.buckets[index]!;
      if (this.head < this.lengths[index]!) {
        if (this.unsorted[index] === 1) {
          sortBetween(bucket, this.head, this.lengths[index]!);
          this.unsorted[index] = 0;
          this.lastDue[index] = bucket[this.lengths[index]! - 1]!.due;
        }
        return bucket;
      }
      this.moveBase(this.nextOccupied());
    }
  }

  /** The millisecond of the next bucket in use after the current one (the ring holds items). */
  private nextOccupied(): number {
    const occupied = this.occupied;
    let index = (this.base + 1) & RING_MASK;
    let distance = 1;
    for (;;) {
      const bits = occupied[index >>> 5]! >>> (index & 31);
      if (bits !== 0) return this.base + distance + (31 - Math.clz32(bits & -bits));
      const skip = 32 - (index & 31);
      distance += skip;
      index = (index + skip) & RING_MASK;
    }
  }

  /** Makes `to` the current millisecond, emptying the buckets left behind and taking in the overflow's items that now fit. */
  private moveBase(to: number): void {
    if (to !== this.base) {
      const index = this.base & RING_MASK;
      if (this.head >= this.lengths[index]!) {
        if (this.lengths[index]! > 0) {
          this.spare.push(this.buckets[index]!);
          this.buckets[index] = NO_ITEMS;
        }
        this.lengths[index] = 0;
        this.occupied[index >>> 5]! &= ~(1 << (index & 31));
        this.unsorted[index] = 0;
      }
      this.head = 0;
      this.base = to;
      this.holdsPast = false;
    }
    const overflow = this.overflow;
    const end = to + RING_MS;
    while (overflow.size > 0 && overflow.peekDue() < end) {
      const item = overflow.pop()!;
      const key = Math.floor(item.due);
      this.inRing++;
      if (key > this.maxKey) this.maxKey = key;
      // In (due, seq) order, into buckets that hold nothing yet: every item pushed straight into
      // one came after its millisecond entered the ring, so after this.
      this.append(item, key);
    }
  }

  /**
   * Adds an item at the end of its bucket. Its seq is above those of the bucket's items, so the
   * bucket stays in (due, seq) order unless its due comes before the last one's.
   */
  private append(item: T, key: number): void {
    const index = key & RING_MASK;
    let bucket = this.buckets[index]!;
    const length = this.lengths[index]!;
    if (length === 0) {
      this.occupied[index >>> 5]! |= 1 << (index & 31);
      bucket = this.buckets[index] = this.spare.pop() ?? [];
    }
    // (In the bucket being emptied, once every item has left there is none to be out of order with.)
    else if (this.lastDue[index]! > item.due && !(key === this.base && this.head >= length)) this.unsorted[index] = 1;
    this.lastDue[index] = item.due;
    bucket[length] = item;
    this.lengths[index] = length + 1;
  }

  /** An item due at or before the current millisecond: into the current bucket, in its place. */
  private pushCurrent(item: T): void {
    const index = this.base & RING_MASK;
    const bucket = this.buckets[index]!;
    if (item.due < this.base) this.holdsPast = true;
    const length = this.lengths[index]!;
    if (this.unsorted[index] === 1 || this.head >= length || this.lastDue[index]! <= item.due) {
      this.append(item, this.base);
      return;
    }
    // Sorted and being emptied: after every waiting item due no later (they were all pushed before it).
    let low = this.head;
    let high = length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (bucket[middle]!.due <= item.due) low = middle + 1;
      else high = middle;
    }
    for (let i = length; i > low; i--) bucket[i] = bucket[i - 1];
    bucket[low] = item;
    this.lengths[index] = length + 1;
  }
}

/** Sorts bucket[from..to) by (due, seq). */
function sortBetween<T extends Timed>(bucket: (T | undefined)[], from: number, to: number): void {
  const waiting = (bucket.slice(from, to) as T[]).sort((a, b) => a.due - b.due || a.seq - b.seq);
  for (let i = 0; i < waiting.length; i++) bucket[from + i] = waiting[i];
}

/** A binary min-heap on (due, seq): the calendar's overflow, for items due beyond its ring. */
export class TimerHeap<T extends Timed> {
  private readonly heap: T[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** Due time of the earliest item; Infinity when empty. */
  peekDue(): number {
    return this.heap.length > 0 ? this.heap[0]!.due : Infinity;
  }

  /** Adds an item whose due and seq are set. */
  push(item: T): void {
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
