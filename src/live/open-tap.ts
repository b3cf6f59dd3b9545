import type { EventSink } from "../engine/simulation.ts";
import type { WfEvent } from "../events/schema.ts";

/** An EventSink in front of another that tells of each transaction opened (live scoring's membership test). */
export class OpenTap implements EventSink {
  private readonly inner: EventSink;
  private readonly opened: (txnId: string) => void;

  constructor(inner: EventSink, opened: (txnId: string) => void) {
    this.inner = inner;
    this.opened = opened;
  }

  write(event: WfEvent): void {
    if (event.type === "transaction_open") this.opened(event.txn_id);
    this.inner.write(event);
  }

  writeMalformed(event: WfEvent, text: string): void {
    if (this.inner.writeMalformed === undefined) throw new TypeError("the output cannot write a malformed record");
    this.inner.writeMalformed(event, text);
  }

  get backpressured(): boolean {
    return this.inner.backpressured;
  }

  drain(): Promise<void> {
    return this.inner.drain();
  }

  flush(): void {
    this.inner.flush();
  }
}
