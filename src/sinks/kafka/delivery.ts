import type { KafkaFailure } from "../../kafka/errors.ts";

/** What became of the events a KafkaSink was given. */
export interface DeliveryReport {
  /** Events acknowledged by Kafka (as --acks asks), per topic. */
  readonly delivered: Readonly<Record<string, number>>;
  readonly deliveredTotal: number;
  /**
   * Events given to the sink that were not acknowledged: those of a batch that failed or timed out
   * (Kafka may or may not have written that one batch), and everything after it, which was never sent.
   */
  readonly undelivered: number;
  /** Why delivery stopped, when it did. */
  readonly failure?: KafkaFailure;
}

/** Counts acknowledged events per topic and the events that will never be. */
export class DeliveryLedger {
  private readonly perTopic = new Map<string, number>();
  private total = 0;
  private lost = 0;
  private why: KafkaFailure | undefined;

  constructor(topics: readonly string[]) {
    for (const topic of topics) this.perTopic.set(topic, 0);
  }

  acknowledged(topic: string, count: number): void {
    this.perTopic.set(topic, (this.perTopic.get(topic) ?? 0) + count);
    this.total += count;
  }

  notDelivered(count: number, failure?: KafkaFailure): void {
    this.lost += count;
    this.why ??= failure;
  }

  get failure(): KafkaFailure | undefined {
    return this.why;
  }

  get undelivered(): number {
    return this.lost;
  }

  report(): DeliveryReport {
    return {
      delivered: Object.fromEntries(this.perTopic),
      deliveredTotal: this.total,
      undelivered: this.lost,
      ...(this.why === undefined ? {} : { failure: this.why }),
    };
  }
}
