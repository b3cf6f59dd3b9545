/**
 * The records a binary file holds (an Avro container file, or length-delimited Protobuf): wfsim's events (a union of one record per event type,
 * as the Kafka topics' schemas), or a scenario's shaped records (a union of one record per record
 * type, written from the same JSON text as the JSON Lines).
 */
import protobuf from "protobufjs";
import type { Shape } from "../../config/shape/model.ts";
import { shapedAvroSchema, shapedProtoFile, SHAPED_AVRO_NAMESPACE, SHAPED_PROTO_PACKAGE } from "../../config/shape/wire-schema.ts";
import { ProtobufEventEncoder, protoSchema } from "../../events/wire/protobuf.ts";
import type { ProtobufFileRecords } from "./protobuf-file-sink.ts";
import { avroSchema, AVRO_NAMESPACE } from "../../events/wire/avro.ts";
import { EVENT_SHAPES } from "../../events/wire/event-shapes.ts";
import type { ShapedPlans } from "../shaped/plans.ts";
import type { AvroFileRecords } from "./avro-file-sink.ts";

export function eventFileRecords(): AvroFileRecords {
  const names = new Map(EVENT_SHAPES.map((shape) => [shape.type as string, `${AVRO_NAMESPACE}.${shape.name}`]));
  return {
    schema: avroSchema(EVENT_SHAPES) as object,
    records: (event, emit) => emit({ [names.get(event.type)!]: event }),
  };
}

export function shapedFileRecords(plans: ShapedPlans): AvroFileRecords {
  const shape = plans.shaper.shape;
  const union = shape.records.length > 1;
  const names = shape.records.map((record) => `${SHAPED_AVRO_NAMESPACE}.${record.name}`);
  return {
    schema: shapedAvroSchema(shape.records, shape) as object,
    records(event, emit) {
      const shaper = plans.shaper;
      const emissions = shaper.enter(event);
      if (emissions.length === 0) return;
      const context = shaper.current;
      for (const emission of emissions) {
        if (shaper.drawsPerRecord) shaper.beforeRecord(emission);
        const value = JSON.parse(plans.plans[emission.index]!.serialize(event, context, plans.helpers)) as unknown;
        emit(union ? { [names[emission.record.index]!]: value } : value);
      }
    },
  };
}

/** The `Record` message of a length-delimited file: a oneof of the file's messages, field n+1 for the n-th. */
function recordMessage(fields: readonly { readonly field: string; readonly message: string }[]): string {
  const lines = fields.map(({ field, message }, index) => `    ${message} ${field} = ${index + 1};`);
  return `// One record of a length-delimited file (wfsim run --format protobuf --output FILE): each Record is\n// preceded by its length as a varint.\nmessage Record {\n  oneof record {\n${lines.join("\n")}\n  }\n}\n`;
}

/** The .proto of wfsim's events in a length-delimited file. */
export function eventFileProto(): string {
  return `${protoSchema(EVENT_SHAPES)}\n${recordMessage(EVENT_SHAPES.map((shape) => ({ field: shape.type, message: shape.name })))}`;
}

/** The .proto of a scenario's shaped records in a length-delimited file. */
export function shapedFileProto(shape: Shape): string {
  return `${shapedProtoFile(shape.records, shape)}\n${recordMessage(shape.records.map((record) => ({ field: snakeCase(record.name), message: record.name })))}`;
}

export function eventProtobufRecords(): ProtobufFileRecords {
  const encoder = new ProtobufEventEncoder(EVENT_SHAPES);
  return { records: (event, emit) => emit(encoder.indexOf(event) + 1, encoder.encode(event)) };
}

export function shapedProtobufRecords(plans: ShapedPlans): ProtobufFileRecords {
  const shape = plans.shaper.shape;
  const root = protobuf.parse(shapedProtoFile(shape.records, shape), { keepCase: true }).root;
  const messages = shape.records.map((record) => root.lookupType(`${SHAPED_PROTO_PACKAGE}.${record.name}`));
  return {
    records(event, emit) {
      const shaper = plans.shaper;
      const emissions = shaper.enter(event);
      if (emissions.length === 0) return;
      const context = shaper.current;
      for (const emission of emissions) {
        if (shaper.drawsPerRecord) shaper.beforeRecord(emission);
        const value = JSON.parse(plans.plans[emission.index]!.serialize(event, context, plans.helpers)) as Record<string, unknown>;
        emit(emission.record.index + 1, messages[emission.record.index]!.encode(value).finish());
      }
    },
  };
}

/** OrderPlaced -> order_placed: a oneof field's name beside its message's. */
function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}
