import type { EventSink } from "../engine/simulation.ts";
import type { WfEvent } from "../events/schema.ts";

/**
 * Holds events for a consumer that pulls them (the library's async iterator). Past `highWater` events
 * it reports backpressure, so the engine runs only as far ahead of the consumer as that.
 */
export class QueueSink implements EventSink {
  private readonly highWater: number;
  private events: WfEvent[] = [];
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(highWater = 4096) {
    this.highWater = highWater;
  }

  get backpressured(): boolean {
    return this.events.length >= this.highWater;
  }

  write(event: WfEvent): void {
    this.events.push(event);
  }

  flush(): void {
    this.wakeConsumer?.();
  }

  drain(): Promise<void> {
    this.wakeConsumer?.();
    if (!this.backpressured) return Promise.resolve();
    return new Promise((resolve) => (this.wakeProducer = resolve));
  }

  /** Takes every event held so far (possibly none) and lets a waiting producer go on. */
  take(): WfEvent[] {
    const taken = this.events;
    this.events = [];
    const wake = this.wakeProducer;
    this.wakeProducer = undefined;
    wake?.();
    return taken;
  }

  /** Resolves when events arrive, or when `wake()` is called (the producer finished). */
  waitForEvents(): Promise<void> {
    if (this.events.length > 0) return Promise.resolve();
    return new Promise((resolve) => (this.wakeConsumer = resolve));
  }

  wake(): void {
    const wake = this.wakeConsumer;
    this.wakeConsumer = undefined;
    wake?.();
  }
}
