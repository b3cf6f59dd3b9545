import type { Writable } from "node:stream";
import type { EventSink } from "../engine/simulation.ts";
import type { WfEvent } from "../events/schema.ts";
import { serializeEvent } from "../events/serialize.ts";
import { LineStream } from "./line-stream.ts";

/**
 * Events as JSON Lines onto any Writable, for library users (the CLI writes files and stdout through
 * the faster FdJsonlSink). Backpressure and failures as in LineStream.
 */
export class JsonlSink extends LineStream<WfEvent> implements EventSink {
  constructor(stream: Writable, onError?: (error: Error) => void) {
    super(stream, serializeEvent, onError);
  }
}
