import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TimerQueue, type Timed, type TimerQueueThresholds } from "../../src/engine/timer-queue.ts";

interface Item extends Timed {
  readonly name: number;
}

const item = (name: number): Item => ({ name, due: 0, seq: 0 });

// The heap alone (the default's thresholds are above these tests' sizes), the calendar alone, and
// both with the items moving across as the queue grows and shrinks.
const STRUCTURES: readonly [string, TimerQueueThresholds | undefined][] = [
  ["heap", undefined],
  ["calendar", { toCalendarAbove: 0, toHeapBelow: 0 }],
  ["moving between them", { toCalendarAbove: 40, toHeapBelow: 10 }],
];

for (const [structure, thresholds] of STRUCTURES) describe(`TimerQueue (${structure})`, () => {
  it("pops in due order and, at equal due times, in the order pushed", () => {
    const queue = new TimerQueue<Item>(thresholds);
    const dues = [5, 3, 5, 1, 3, 5, 0, 9, 3];
    dues.forEach((due, name) => queue.push(item(name), due));
    const popped: number[] = [];
    while (queue.size > 0) popped.push(queue.pop()!.name);
    const expected = dues
      .map((due, name) => ({ due, name }))
      .sort((a, b) => a.due - b.due || a.name - b.name)
      .map((x) => x.name);
    assert.deepEqual(popped, expected);
  });

  it("agrees with a sorted list under random pushes and pops", () => {
    const queue = new TimerQueue<Item>(thresholds);
    const model: { due: number; order: number; name: number }[] = [];
    let order = 0;
    let state = 12345;
    const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) % 50;
    for (let step = 0; step < 20_000; step++) {
      if (next() < 30 || model.length === 0) {
        const due = next();
        queue.push(item(step), due);
        model.push({ due, order: order++, name: step });
      } else {
        model.sort((a, b) => a.due - b.due || a.order - b.order);
        assert.equal(queue.peekDue(), model[0]!.due);
        assert.equal(queue.pop()!.name, model.shift()!.name);
      }
      assert.equal(queue.size, model.length);
    }
  });

  // The calendar's special cases: fractions of a ms, dues already passed, dues beyond its 65,536 ms
  // ring (the overflow), epoch-sized and negative times, the queue running empty and starting over.
  for (const [name, origin, span, fraction] of [
    ["whole ms near the epoch's present", 1_764_000_000_000, 400, false],
    ["fractions of a ms", 1_764_000_000_000, 40, true],
    ["dues beyond the ring", 1_764_000_000_000, 300_000, false],
    ["negative times with fractions, beyond the ring", -150_000, 200_000, true],
  ] as const) {
    it(`agrees with a sorted list: ${name}`, () => {
      const queue = new TimerQueue<Item>(thresholds);
      const model: { due: number; order: number; name: number }[] = [];
      let order = 0;
      let state = 99;
      const next = (n: number) => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) % n;
      // Time moves as the engine moves it: pushes are mostly at or after the last due popped.
      let now: number = origin;
      for (let step = 0; step < 30_000; step++) {
        const action = next(100);
        if (action < 55 || model.length === 0) {
          const whole = action < 5 ? now - next(50) : now + next(span);
          const due = fraction && next(2) === 0 ? whole + next(1024) / 1024 : whole;
          queue.push(item(step), due);
          model.push({ due, order: order++, name: step });
        } else if (action < 99) {
          model.sort((a, b) => a.due - b.due || a.order - b.order);
          assert.equal(queue.peekDue(), model[0]!.due);
          const popped = queue.pop()!;
          const expected = model.shift()!;
          assert.equal(popped.name, expected.name);
          now = Math.max(now, Math.floor(expected.due));
        } else {
          // Drain it all, so the next push finds an empty queue.
          model.sort((a, b) => a.due - b.due || a.order - b.order);
          for (const expected of model.splice(0)) {
            assert.equal(queue.pop()!.name, expected.name);
            now = Math.max(now, Math.floor(expected.due));
          }
        }
        assert.equal(queue.size, model.length);
      }
      assert.deepEqual(new Set(queue.items().map((x) => x.name)), new Set(model.map((x) => x.name)));
    });
  }

  it("reports Infinity and undefined when empty", () => {
    const queue = new TimerQueue<Item>(thresholds);
    assert.equal(queue.peekDue(), Infinity);
    assert.equal(queue.pop(), undefined);
    queue.push(item(1), 4);
    queue.clear();
    assert.equal(queue.size, 0);
  });
});
