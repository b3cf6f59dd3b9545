/**
 * `wfsim run --format avro|protobuf` to a file or stdout: an Avro object container file, or
 * length-delimited Protobuf Records (loaded only when asked for).
 */
import type { Shape } from "../config/shape/model.ts";
import { shapedAvroSchema, shapedProtoFile } from "../config/shape/wire-schema.ts";
import type { Shaper } from "../engine/shape/shaper.ts";
import type { EventSink } from "../engine/simulation.ts";
import { AvroFileSink } from "../sinks/binary-file/avro-file-sink.ts";
import { eventFileRecords, eventProtobufRecords, shapedFileRecords, shapedProtobufRecords } from "../sinks/binary-file/file-records.ts";
import { ProtobufFileSink } from "../sinks/binary-file/protobuf-file-sink.ts";
import { ShapedPlans } from "../sinks/shaped/plans.ts";

export type FileFormat = "avro" | "protobuf";

/** Refuses, before any file is opened, a shape the format cannot hold (one line naming the field). */
export function checkFileShape(format: FileFormat, shape: Shape | undefined): void {
  if (shape === undefined) return;
  if (format === "avro") shapedAvroSchema(shape.records, shape);
  else shapedProtoFile(shape.records, shape);
}

export function openBinaryFile(
  format: FileFormat,
  target: { readonly fd: number; readonly owned: boolean },
  shaper: Shaper | undefined,
  onError: (error: Error) => void,
): EventSink & { close(): Promise<void> } {
  const plans = shaper === undefined ? undefined : new ShapedPlans(shaper);
  const options = { closeAtEnd: target.owned, onError };
  if (format === "avro") return new AvroFileSink(target.fd, plans === undefined ? eventFileRecords() : shapedFileRecords(plans), options);
  return new ProtobufFileSink(target.fd, plans === undefined ? eventProtobufRecords() : shapedProtobufRecords(plans), options);
}
