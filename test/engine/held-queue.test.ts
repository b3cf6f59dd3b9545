/**
 * The delivery faults' held records leave in the engine's order: by due time, then first pushed
 * first. The held queue is a heap of its own (see held-queue.ts), so it is checked against the
 * engine's TimerQueue on the same pushes and pops, ties at the same due time included.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HeldQueue } from "../../src/engine/held-queue.ts";
import { Random } from "../../src/engine/random.ts";
import { TimerQueue } from "../../src/engine/timer-queue.ts";

describe("HeldQueue", () => {
  it("gives items back in the TimerQueue's order, ties first-in first-out, pushes and pops mixed", () => {
    const random = new Random(1, 2, 3, 4);
    const held = new HeldQueue<number>();
    const timers = new TimerQueue<{ due: number; seq: number; id: number }>();
    const fromHeld: number[] = [];
    const fromTimers: number[] = [];
    for (let id = 0; id < 20_000; id++) {
      // Few distinct due times: many ties.
      const due = random.int(0, 300);
      held.push(id, due);
      timers.push({ due: 0, seq: 0, id }, due);
      assert.equal(held.peekDue(), timers.peekDue());
      if (random.int(0, 2) === 0) {
        fromHeld.push(held.pop()!);
        fromTimers.push(timers.pop()!.id);
      }
    }
    while (held.size > 0) fromHeld.push(held.pop()!);
    while (timers.size > 0) fromTimers.push(timers.pop()!.id);
    assert.deepEqual(fromHeld, fromTimers);
    assert.equal(held.pop(), undefined);
    assert.equal(held.peekDue(), Infinity);
  });
});
