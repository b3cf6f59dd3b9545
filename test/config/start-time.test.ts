/**
 * Start times on the real clock: `now` is a value like any other; a scenario's start_time in the past
 * is refused (its events would be dated months back while they happen now) unless the start time is
 * given as an option, which is how a backfill on the real clock is asked for.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseScenario } from "../../src/config/scenario/load.ts";
import { resolveSimOptions } from "../../src/config/sim-options.ts";
import { WfsimError } from "../../src/errors.ts";

const NOW = Date.parse("2026-12-04T12:00:00Z");
const context = { now: () => NOW + 0.75 };
const scenario = (start: string) =>
  parseScenario(["name: s", `start_time: ${start}`, "workflows:", "  - { name: a, steps: [x] }"].join("\n"), "s.yaml");

describe("start time", () => {
  it("now is the wall clock's time, in whole milliseconds, on either clock and over a scenario's start_time", () => {
    assert.equal(resolveSimOptions({ startTime: "now" }, context).startTime, NOW);
    assert.equal(resolveSimOptions({ startTime: "now", clock: "virtual" }, context).startTime, NOW);
    assert.equal(resolveSimOptions({ startTime: "now", scenario: scenario("2026-03-02T08:00:00Z") }, context).startTime, NOW);
  });

  it("refuses a scenario's past start_time on the real clock, saying how to start now or keep it", () => {
    assert.throws(
      () => resolveSimOptions({ scenario: scenario("2026-03-02T08:00:00Z") }, { ...context, nameOf: (key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` }),
      (error: unknown) =>
        error instanceof WfsimError &&
        error.code === "INVALID_OPTION" &&
        error.message ===
          "s.yaml: start_time 2026-03-02T08:00:00Z is in the past, and on the real clock the events would be stamped from then on while they happen now; " +
            "give --start-time now to start now, or --start-time 2026-03-02T08:00:00Z to keep it (or --clock virtual)",
    );
  });

  it("takes a past start time given as an option, a future start_time, and any start_time on the virtual clock", () => {
    const past = scenario("2026-03-02T08:00:00Z");
    assert.equal(resolveSimOptions({ scenario: past, startTime: "2026-03-02T08:00:00Z" }, context).startTime, Date.parse("2026-03-02T08:00:00Z"));
    assert.equal(resolveSimOptions({ scenario: past, clock: "virtual" }, context).startTime, Date.parse("2026-03-02T08:00:00Z"));
    assert.equal(resolveSimOptions({ scenario: scenario("2027-01-01T00:00:00Z") }, context).startTime, Date.parse("2027-01-01T00:00:00Z"));
    assert.equal(resolveSimOptions({ startTime: "2020-01-01" }, context).startTime, Date.parse("2020-01-01T00:00:00Z"));
  });
});
