/**
 * The value formats of the Kafka output. json is wfsim's plain JSON (no registry); the others are
 * written in the Confluent wire format with a schema held in a Schema Registry.
 */
export const VALUE_FORMATS = ["json", "avro", "json-schema", "protobuf"] as const;
export type ValueFormat = (typeof VALUE_FORMATS)[number];
export type RegistryFormat = Exclude<ValueFormat, "json">;

/** The registry's name for each format's schemas (`schemaType`). */
export const SCHEMA_TYPES = { avro: "AVRO", "json-schema": "JSON", protobuf: "PROTOBUF" } as const satisfies Record<RegistryFormat, string>;
export type SchemaType = (typeof SCHEMA_TYPES)[RegistryFormat];

export function isValueFormat(value: string): value is ValueFormat {
  return (VALUE_FORMATS as readonly string[]).includes(value);
}

/**
 * Where a record value's schema is registered (Confluent's subject name strategies): `topic`
 * (TopicNameStrategy, `<topic>-value`, one schema per topic), `record` (RecordNameStrategy, the
 * record's full name, one schema per record type whatever the topic), `topic-record`
 * (TopicRecordNameStrategy, `<topic>-<full name>`).
 */
export const SUBJECT_STRATEGIES = ["topic", "record", "topic-record"] as const;
export type SubjectStrategy = (typeof SUBJECT_STRATEGIES)[number];

export function valueSubjectOf(strategy: SubjectStrategy, topic: string, fullName: string): string {
  switch (strategy) {
    case "topic":
      return `${topic}-value`;
    case "record":
      return fullName;
    case "topic-record":
      return `${topic}-${fullName}`;
  }
}
