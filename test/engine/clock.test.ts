import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock, RealClock, VirtualClock, type Clock, type TimerApi } from "../../src/engine/clock.ts";

/** Timers that fire only when the test says how much real time passed. */
class FakeTimers implements TimerApi {
  now = 1000;
  private pending: { at: number; callback: () => void; cancelled: boolean }[] = [];
  monotonicNow(): number {
    return this.now;
  }
  setTimer(callback: () => void, ms: number): () => void {
    const timer = { at: this.now + ms, callback, cancelled: false };
    this.pending.push(timer);
    return () => (timer.cancelled = true);
  }
  advance(ms: number): void {
    this.now += ms;
    const due = this.pending.filter((t) => t.at <= this.now && !t.cancelled);
    this.pending = this.pending.filter((t) => t.at > this.now && !t.cancelled);
    for (const timer of due) timer.callback();
  }
  get requested(): number[] {
    return this.pending.filter((t) => !t.cancelled).map((t) => t.at - this.now);
  }
}

describe("VirtualClock", () => {
  it("jumps to the due time at once, without a promise, and never goes back", () => {
    const clock: Clock = new VirtualClock(500);
    const signal = new AbortController().signal;
    assert.equal(clock.waitUntil(800, signal), undefined);
    assert.equal(clock.now(), 800);
    clock.waitUntil(700, signal);
    assert.equal(clock.now(), 800);
    assert.equal(clock.realMsPerSimMs, 0);
  });
});

describe("RealClock", () => {
  it("runs the simulated timeline from its start, `speed` times faster than real time", () => {
    const timers = new FakeTimers();
    const clock = new RealClock(1_700_000_000_000, 10, timers);
    timers.now += 250;
    assert.equal(clock.now(), 1_700_000_002_500);
    assert.equal(clock.realMsPerSimMs, 0.1);
  });

  it("sleeps the real time a simulated wait takes, rounded up, and wakes on the timer", async () => {
    const timers = new FakeTimers();
    const clock = new RealClock(0, 4, timers);
    let woke = false;
    const waiting = clock.waitUntil(10, new AbortController().signal)!.then(() => (woke = true));
    assert.deepEqual(timers.requested, [3]); // 10 simulated ms at speed 4 = 2.5 real ms
    timers.advance(2);
    await Promise.resolve();
    assert.equal(woke, false);
    timers.advance(1);
    await waiting;
    assert.equal(woke, true);
  });

  it("does not sleep for a time already reached, and an abort ends a sleep early", async () => {
    const timers = new FakeTimers();
    const clock = new RealClock(0, 1, timers);
    timers.now += 50;
    assert.equal(clock.waitUntil(40, new AbortController().signal), undefined);
    const controller = new AbortController();
    const waiting = clock.waitUntil(10_000, controller.signal)!;
    controller.abort();
    await waiting;
    assert.deepEqual(timers.requested, [], "the timer is cancelled");
  });
});

describe("ManualClock", () => {
  it("resolves waits only when time is moved past them", async () => {
    const clock = new ManualClock(0);
    const signal = new AbortController().signal;
    const order: number[] = [];
    const a = clock.waitUntil(20, signal)!.then(() => order.push(20));
    const b = clock.waitUntil(10, signal)!.then(() => order.push(10));
    assert.equal(clock.pendingWaits, 2);
    clock.advanceTo(15);
    await b;
    assert.deepEqual(order, [10]);
    clock.advanceTo(20);
    await a;
    assert.deepEqual(order, [10, 20]);
    assert.throws(() => clock.advanceTo(5), RangeError);
  });
});
