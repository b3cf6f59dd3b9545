/**
 * The records an Avro container file holds: wfsim's events (a union of one record per event type,
 * as the Kafka topics' schemas), or a scenario's shaped records (a union of one record per record
 * type, written from the same JSON text as the JSON Lines).
 */
import { shapedAvroSchema, SHAPED_AVRO_NAMESPACE } from "../../config/shape/wire-schema.ts";
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
