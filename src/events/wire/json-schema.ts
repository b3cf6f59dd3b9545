import type { EventShape } from "./event-shapes.ts";

/**
 * The JSON Schema of a topic carrying these events: an anyOf of their own schemas, exactly as
 * schema.ts defines them. Draft-07, the draft every Schema Registry and its clients read.
 */
export function topicJsonSchema(shapes: readonly EventShape[], title: string): object {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title,
    description: "wfsim events, one per record (the same JSON as wfsim's JSON Lines output).",
    anyOf: shapes.map((shape) => shape.jsonSchema),
  };
}
