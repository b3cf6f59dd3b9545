import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StallWatch, type Waiting } from "../../src/cli/kafka-stall.ts";

/** A watch over a hand-set sink state, on a hand-set clock. */
function watch(): { lines: string[]; at: (ms: number, state: Waiting | "failed" | undefined) => void } {
  let now = 0;
  let state: Waiting | "failed" | undefined;
  const lines: string[] = [];
  const w = new StallWatch(
    () => state,
    { stallMs: 2000, repeatMs: 10_000, timeoutMs: 30_000, timeoutFlag: "--kafka-timeout", now: () => now, wallNow: () => Date.UTC(2026, 11, 5, 8, 0, 0) + now },
    (line) => lines.push(line),
  );
  return {
    lines,
    at: (ms, s) => {
      now = ms;
      state = s;
      w.check();
    },
  };
}

describe("Kafka stall lines", () => {
  it("tell a request out for 2 s, again every 10 s while it lasts, and its end; none for a request answered in time", () => {
    const { lines, at } = watch();
    at(500, { sinceMs: 0, records: 10, lastError: undefined });
    at(1500, undefined); // answered in 1.5 s: no stall
    at(3000, { sinceMs: 2000, records: 1200, lastError: undefined });
    assert.deepEqual(lines, []);
    at(4100, { sinceMs: 2000, records: 1500, lastError: "connection refused" });
    at(9000, { sinceMs: 2000, records: 1500, lastError: "connection refused" });
    at(14_200, { sinceMs: 2000, records: 1600, lastError: "connection refused" });
    at(15_000, { sinceMs: 14_900, records: 40, lastError: undefined }); // a newer request: the old one was answered
    assert.deepEqual(lines, [
      "wfsim: Kafka delivery stalled for 2.1 s: 1,500 records waiting (last error: connection refused); retrying until 08:00:32 UTC (--kafka-timeout)",
      "wfsim: Kafka delivery stalled for 12.2 s: 1,600 records waiting (last error: connection refused); retrying until 08:00:32 UTC (--kafka-timeout)",
      "wfsim: Kafka delivery resumed after 13.0 s",
    ]);
  });

  it("says nothing of a resumption when the sink gave up (its summary says why)", () => {
    const { lines, at } = watch();
    at(2500, { sinceMs: 0, records: 5, lastError: undefined });
    at(30_001, "failed");
    at(30_500, undefined);
    assert.deepEqual(lines, ["wfsim: Kafka delivery stalled for 2.5 s: 5 records waiting (no answer); retrying until 08:00:30 UTC (--kafka-timeout)"]);
  });
});
