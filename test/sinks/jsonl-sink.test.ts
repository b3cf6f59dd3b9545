import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createSimulation } from "../../src/api/simulate.ts";
import { resolveSimOptions } from "../../src/config/sim-options.ts";
import { serializeEvent } from "../../src/events/serialize.ts";
import { JsonlSink } from "../../src/sinks/jsonl-sink.ts";
import { CollectingSink } from "../helpers/events.ts";

/** A Writable that takes a chunk only every few turns of the event loop, like a slow reader. */
function slowWritable(received: Buffer[]): Writable {
  return new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk);
      setImmediate(() => setImmediate(callback));
    },
  });
}

describe("JsonlSink (any Writable)", () => {
  it("writes whole lines in order, waiting for the stream when it is full", async () => {
    const options = resolveSimOptions({ samples: 3000, clock: "virtual", startTime: 0 });
    const received: Buffer[] = [];
    const sink = new JsonlSink(slowWritable(received));
    let waits = 0;
    const drain = sink.drain.bind(sink);
    sink.drain = () => {
      waits++;
      return drain();
    };
    await createSimulation(options, { sink }).run();
    await sink.close({ end: true });

    const expected = new CollectingSink();
    await createSimulation(options, { sink: expected }).run();
    assert.equal(Buffer.concat(received).toString("utf8"), expected.events.map(serializeEvent).join(""));
    assert.ok(waits > 0, "the engine waited for the slow stream");
    assert.equal(sink.linesWritten, expected.events.length);
  });

  it("reports a failing stream once, then drops events instead of blocking", async () => {
    const errors: Error[] = [];
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error("EPIPE"), { code: "EPIPE" }));
      },
    });
    const sink = new JsonlSink(failing, (error) => errors.push(error));
    const options = resolveSimOptions({ samples: 2000, clock: "virtual", startTime: 0 });
    await createSimulation(options, { sink }).run();
    await sink.close({ end: false });
    assert.equal(errors.length, 1);
    assert.equal(sink.error?.message, "EPIPE");
    assert.equal(sink.backpressured, false);
  });
});
