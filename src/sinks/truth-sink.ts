import type { Writable } from "node:stream";
import type { LabelSink } from "../engine/simulation.ts";
import { serializeTruth, type TruthLine } from "../events/truth.ts";
import { LineStream } from "./line-stream.ts";

/**
 * Ground-truth records (labels and delivery faults) as JSON Lines onto a byte stream (the --truth file). The engine waits for it
 * when it is full, as for events; a failing stream is reported once through `error`.
 */
export class TruthSink extends LineStream<TruthLine> implements LabelSink {
  constructor(stream: Writable, onError?: (error: Error) => void) {
    super(stream, serializeTruth, onError);
  }
}
