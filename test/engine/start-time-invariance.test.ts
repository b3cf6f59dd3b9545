import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseScenario } from "../../src/config/scenario/load.ts";
import { simulate } from "../../src/api/simulate.ts";

// An open model that keeps hitting its cap: which arrivals are dropped depends on the exact order of
// arrivals and closes, the first thing floating-point rounding of absolute times would disturb.
const SCENARIO = parseScenario(
  `name: capped
load: { model: open, arrivals: poisson, rate: 3000, max_in_flight: 40 }
workflows:
  - name: w
    steps:
      - name: a
        work: { dist: lognormal, median: 9ms, p99: 40ms }
      - name: b
        work: { dist: exponential, mean: 3ms }
`,
  "capped.yaml",
);

const START_TIMES = [0, 1_000_003, Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 123, Date.UTC(2100, 5, 1)];

async function relativeStream(startTime: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const event of simulate({ scenario: SCENARIO, clock: "virtual", startTime, duration: "4s", seed: 5 })) {
    lines.push(`${event.type} ${event.txn_id} ${event.ts_ms - startTime}`);
  }
  return lines;
}

describe("an open-model run and its start time", () => {
  it("opens and drops the same arrivals, at the same offsets, whatever the start time", async () => {
    const [first, ...others] = await Promise.all(START_TIMES.map(relativeStream));
    const opened = first!.filter((line) => line.startsWith("transaction_open ")).length;
    assert.ok(opened > 1000 && opened < 3000 * 4, `some arrivals opened, others dropped at the cap: ${opened}`);
    others.forEach((stream, i) => {
      assert.equal(stream.length, first!.length, `start ${START_TIMES[i + 1]}: as many events`);
      const differ = stream.findIndex((line, k) => line !== first![k]);
      assert.equal(differ, -1, `start ${START_TIMES[i + 1]}: first difference at event ${differ}: ${stream[differ]} vs ${first![differ]}`);
    });
  });
});
