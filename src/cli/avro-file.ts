/** `wfsim run --format avro` to a file or stdout: an Avro object container file (loaded only when asked for). */
import type { Shaper } from "../engine/shape/shaper.ts";
import { AvroFileSink } from "../sinks/binary-file/avro-file-sink.ts";
import { eventFileRecords, shapedFileRecords } from "../sinks/binary-file/file-records.ts";
import { ShapedPlans } from "../sinks/shaped/plans.ts";

export function openAvroFile(target: { readonly fd: number; readonly owned: boolean }, shaper: Shaper | undefined, onError: (error: Error) => void): AvroFileSink {
  const records = shaper === undefined ? eventFileRecords() : shapedFileRecords(new ShapedPlans(shaper));
  return new AvroFileSink(target.fd, records, { closeAtEnd: target.owned, onError });
}
