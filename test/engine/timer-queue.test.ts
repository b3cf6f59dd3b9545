import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TimerQueue, type Timed } from "../../src/engine/timer-queue.ts";

interface Item extends Timed {
  readonly name: number;
}

const item = (name: number): Item => ({ name, due: 0, seq: 0 });

describe("TimerQueue", () => {
  it("pops in due order and, at equal due times, in the order pushed", () => {
    const queue = new TimerQueue<Item>();
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
    const queue = new TimerQueue<Item>();
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

  it("reports Infinity and undefined when empty", () => {
    const queue = new TimerQueue<Item>();
    assert.equal(queue.peekDue(), Infinity);
    assert.equal(queue.pop(), undefined);
    queue.push(item(1), 4);
    queue.clear();
    assert.equal(queue.size, 0);
  });
});
