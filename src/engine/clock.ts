/**
 * Clocks tell the engine what time it is on the simulated timeline (epoch ms) and let it wait for a
 * later time. The engine is the same on every clock: that is what makes a virtual-clock test say
 * something about a real-clock run.
 */
export interface Clock {
  /** Current simulated time in epoch ms; real clocks return fractions of a millisecond. */
  now(): number;
  /**
   * Waits until simulated time reaches `due`, or `signal` aborts. A clock that can jump there at once
   * returns undefined and the engine carries on without giving up its turn.
   */
  waitUntil(due: number, signal: AbortSignal): Promise<void> | undefined;
  /** Real milliseconds per simulated millisecond: 1/speed on a real clock, 0 where time is not real. */
  readonly realMsPerSimMs: number;
}

/** Discrete-event time: jumps straight to the next due time, so a run takes no waiting at all. */
export class VirtualClock implements Clock {
  readonly realMsPerSimMs = 0;
  private current: number;

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  waitUntil(due: number): undefined {
    if (due > this.current) this.current = due;
    return undefined;
  }
}

export interface TimerApi {
  /** Monotonic real time in ms. */
  monotonicNow(): number;
  /** Calls `callback` after about `ms` real ms; returns a function that cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
}

export const systemTimers: TimerApi = {
  monotonicNow: () => performance.now(),
  setTimer(callback, ms) {
    const handle = setTimeout(callback, ms);
    return () => clearTimeout(handle);
  },
};

/**
 * Wall time, optionally sped up: the simulated timeline starts at `start` and runs `speed` times faster
 * than real time, so a sped-up run's timestamps look like a run at real speed.
 */
export class RealClock implements Clock {
  readonly realMsPerSimMs: number;
  private readonly start: number;
  private readonly speed: number;
  private readonly timers: TimerApi;
  private readonly origin: number;

  constructor(start: number, speed = 1, timers: TimerApi = systemTimers) {
    this.start = start;
    this.speed = speed;
    this.timers = timers;
    this.realMsPerSimMs = 1 / speed;
    this.origin = timers.monotonicNow();
  }

  now(): number {
    return this.start + (this.timers.monotonicNow() - this.origin) * this.speed;
  }

  waitUntil(due: number, signal: AbortSignal): Promise<void> | undefined {
    const realMs = (due - this.now()) / this.speed;
    if (realMs <= 0) return undefined;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const onAbort = () => {
        cancel();
        resolve();
      };
      // Round up: a timer that fires early finds nothing due and has to sleep again.
      const cancel = this.timers.setTimer(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, Math.ceil(realMs));
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * Time that moves only when told to: for tests of real-clock behaviour (lateness, stopping mid-wait)
 * without sleeping. `advanceTo` resolves every wait that has come due.
 */
export class ManualClock implements Clock {
  readonly realMsPerSimMs = 1;
  private current: number;
  private waiters: { due: number; resolve: () => void }[] = [];

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** How many waits are pending: lets a test know the engine is asleep before it moves time. */
  get pendingWaits(): number {
    return this.waiters.length;
  }

  waitUntil(due: number, signal: AbortSignal): Promise<void> | undefined {
    if (due <= this.current) return undefined;
    return new Promise((resolve) => {
      const waiter = { due, resolve };
      this.waiters.push(waiter);
      signal.addEventListener(
        "abort",
        () => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve();
        },
        { once: true },
      );
    });
  }

  advanceTo(time: number): void {
    if (time < this.current) throw new RangeError(`time cannot go back from ${this.current} to ${time}`);
    this.current = time;
    const due = this.waiters.filter((w) => w.due <= time);
    this.waiters = this.waiters.filter((w) => w.due > time);
    for (const waiter of due) waiter.resolve();
  }
}
