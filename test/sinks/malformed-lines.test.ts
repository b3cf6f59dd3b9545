/**
 * A corrupt fault's malformed lines written by the line writer from the event's bytes and fields
 * (LineWriter.writeTruncated, writeNotJson) must be the text delivery writes otherwise, byte for
 * byte: serializeEvent's line cut short, notJsonText's key=value text.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { notJsonText } from "../../src/engine/delivery.ts";
import { serializeEvent } from "../../src/events/serialize.ts";
import { LineWriter } from "../../src/sinks/fast-jsonl/line-writer.ts";
import { simulateVirtual } from "../helpers/events.ts";
import { SAMPLE_EVENTS } from "../events/serialize.test.ts";

const isAscii = (text: string) => [...text].every((c) => c.charCodeAt(0) < 128);

describe("LineWriter's malformed lines", () => {
  it("cuts an ASCII line as its text would be cut, and leaves any other to the caller without a draw", () => {
    const chunks: Buffer[] = [];
    const writer = new LineWriter((chunk) => chunks.push(Buffer.from(chunk)));
    let expected = "";
    let refused = 0;
    // Enough lines for several batches and string tables started over.
    for (let i = 0; i < 40_000; i++) {
      const event = SAMPLE_EVENTS[i % SAMPLE_EVENTS.length]!;
      const json = serializeEvent(event).slice(0, -1);
      writer.write(event);
      expected += `${json}\n`;
      let asked = -1;
      const written = writer.writeTruncated(event, (length) => {
        asked = length;
        return 1 + (i % (length - 1));
      });
      if (isAscii(json)) {
        assert.equal(written, true);
        assert.equal(asked, json.length);
        expected += `${json.slice(0, 1 + (i % (json.length - 1)))}\n`;
      } else {
        assert.equal(written, false);
        assert.equal(asked, -1, "no cut drawn");
        refused++;
      }
    }
    writer.flush();
    assert.ok(refused > 0 && refused < 40_000, "both kinds of line seen");
    assert.ok(chunks.length > 1, "several batches");
    assert.equal(Buffer.concat(chunks).toString("utf8"), expected);
  });

  it("writes notJsonText's line for every event of a run, among the events", async () => {
    const { events } = await simulateVirtual({ samples: 3000, outlierProb: 0.2, concurrency: 50 });
    const chunks: Buffer[] = [];
    const writer = new LineWriter((chunk) => chunks.push(Buffer.from(chunk)));
    let expected = "";
    for (const event of [...events, ...SAMPLE_EVENTS]) {
      writer.write(event);
      expected += serializeEvent(event);
      writer.writeNotJson(event.txn_id, event.type, event.ts_ms, "step" in event ? event.step : undefined);
      expected += `${notJsonText(event)}\n`;
    }
    writer.flush();
    assert.equal(Buffer.concat(chunks).toString("utf8"), expected);
  });
});
