import { isTransactionEvent, type EventType, type WfEvent } from "../schema.ts";
import { EVENT_SHAPES, type EventShape } from "./event-shapes.ts";

/** Which of wfsim's two topics an event goes to; the Kafka output splits them on this. */
export type TopicKind = "transactions" | "steps";

export const TOPIC_KINDS: readonly TopicKind[] = ["transactions", "steps"];

export function topicKindOf(type: EventType): TopicKind {
  return isTransactionEvent({ type } as WfEvent) ? "transactions" : "steps";
}

/**
 * The shapes of the events one topic carries, in the event union's order: a topic's schema is a
 * union of these (Avro), one message per shape (Protobuf), or an anyOf of them (JSON Schema).
 * The order is part of the schema: a new event type goes last, so old indexes keep their meaning.
 */
export function topicShapes(kind: TopicKind): readonly EventShape[] {
  return EVENT_SHAPES.filter((shape) => topicKindOf(shape.type) === kind);
}
